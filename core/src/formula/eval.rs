//! Evaluating a compiled formula over a range of rows, one node at a time over whole vectors.
//!
//! Strings stay dictionary codes as long as they can: a column reference to a dictionary column
//! borrows the dictionary, and a string method runs once per dictionary entry (not per row) when
//! the dictionary is no larger than the batch, then gathers the results by code.

use std::borrow::Cow;

use super::{Formula, Func, Kind, Node, StrMethod, arrays};
use crate::column::strings::NULL_CODE;
use crate::column::{
    Chunked, Column, ColumnType, Dictionary, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, Value,
};
use crate::table::TableData;

/// The strings a [`Vector::Str`]'s codes refer to.
#[derive(Debug, Clone)]
pub enum Strings<'a> {
    Dict(&'a Dictionary),
    Owned(Vec<Option<String>>),
}

impl Strings<'_> {
    pub(super) fn get(&self, code: u32) -> Option<&str> {
        if code == NULL_CODE {
            return None;
        }
        match self {
            Strings::Dict(d) => d.get(code),
            Strings::Owned(v) => v.get(code as usize).and_then(|s| s.as_deref()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Strings::Dict(d) => d.len(),
            Strings::Owned(v) => v.len(),
        }
    }
}

/// A formula's values for a range of rows (nulls as the type's sentinel).
#[derive(Debug, Clone)]
pub enum Vector<'a> {
    Bool(Vec<i8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Timestamp(Vec<i64>),
    /// Days since the epoch.
    Date(Vec<i32>),
    /// Nanoseconds since midnight.
    Time(Vec<i64>),
    Str {
        codes: Vec<u32>,
        strings: Strings<'a>,
    },
    /// Arrays: each row's `(first, count)` in `values` (its elements back to back), or `None`
    /// for a null array.
    Array {
        values: Cow<'a, Column>,
        ranges: Vec<Option<(usize, usize)>>,
    },
}

impl Vector<'_> {
    pub fn len(&self) -> usize {
        match self {
            Vector::Bool(v) => v.len(),
            Vector::I32(v) => v.len(),
            Vector::I64(v) | Vector::Timestamp(v) | Vector::Time(v) => v.len(),
            Vector::Date(v) => v.len(),
            Vector::F64(v) => v.len(),
            Vector::Str { codes, .. } => codes.len(),
            Vector::Array { ranges, .. } => ranges.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the values to a column of the same type.
    pub fn append_to(&self, column: &mut Column) {
        match (self, column) {
            (Vector::Bool(v), Column::Bool(c)) => c.extend_from_slice(v),
            (Vector::I32(v), Column::I32(c)) => c.extend_from_slice(v),
            (Vector::I64(v), Column::I64(c))
            | (Vector::Timestamp(v), Column::Timestamp(c))
            | (Vector::Time(v), Column::Time(c)) => c.extend_from_slice(v),
            (Vector::Date(v), Column::Date(c)) => c.extend_from_slice(v),
            (Vector::F64(v), Column::F64(c)) => c.extend_from_slice(v),
            (
                Vector::Str {
                    codes,
                    strings: Strings::Dict(d),
                },
                Column::String(c),
            ) => c.extend_from_codes(d, codes),
            (Vector::Str { codes, strings }, Column::String(c)) => {
                codes.iter().for_each(|&code| c.push(strings.get(code)))
            }
            (Vector::Array { values, ranges }, Column::Array(c)) => {
                for range in ranges {
                    match range {
                        Some((first, count))
                            if c.values_mut().extend_from_range(values, *first, *count) =>
                        {
                            c.end_row()
                        }
                        _ => c.push_null(),
                    }
                }
            }
            (v, c) => (0..v.len()).for_each(|_| c.push_null()),
        }
    }

    /// The value at `i`.
    pub fn get(&self, i: usize) -> Value {
        match self {
            Vector::Bool(v) => match v[i] {
                NULL_BOOL => Value::Null,
                b => Value::Bool(b != 0),
            },
            Vector::I32(v) if v[i] == NULL_I32 => Value::Null,
            Vector::I32(v) => Value::I32(v[i]),
            Vector::I64(v) if v[i] == NULL_I64 => Value::Null,
            Vector::I64(v) => Value::I64(v[i]),
            Vector::Timestamp(v) if v[i] == NULL_I64 => Value::Null,
            Vector::Timestamp(v) => Value::Timestamp(v[i]),
            Vector::Date(v) if v[i] == NULL_I32 => Value::Null,
            Vector::Date(v) => Value::Date(v[i]),
            Vector::Time(v) if v[i] == NULL_I64 => Value::Null,
            Vector::Time(v) => Value::Time(v[i]),
            Vector::F64(v) if v[i] == NULL_F64 => Value::Null,
            Vector::F64(v) => Value::F64(v[i]),
            Vector::Str { codes, strings } => strings
                .get(codes[i])
                .map_or(Value::Null, |s| Value::String(s.into())),
            Vector::Array { values, ranges } => match ranges[i] {
                None => Value::Null,
                Some((first, count)) => Value::Array(
                    (first..first + count)
                        .map(|k| values.get(k).unwrap_or(Value::Null))
                        .collect(),
                ),
            },
        }
    }
}

fn bool_of(b: bool) -> i8 {
    i8::from(b)
}

impl Formula {
    /// Evaluates over rows `start .. start + count` of `data`.
    pub fn eval<'a>(&self, data: &'a TableData, start: usize, count: usize) -> Vector<'a> {
        self.eval_at(data, start, count, start)
    }

    /// Evaluates over rows `start .. start + count` of `data`, which are the table's rows from
    /// position `position` on (what `i` and `ii` read; `data` may hold a copy of just those rows).
    pub fn eval_at<'a>(
        &self,
        data: &'a TableData,
        start: usize,
        count: usize,
        position: usize,
    ) -> Vector<'a> {
        let count = count.min(data.len().saturating_sub(start));
        eval(&self.root, data, start, count, position)
    }

    /// The rows of `start .. start + count` where the (boolean) formula is true, as offsets from
    /// `start`.
    pub fn select_rows(&self, data: &TableData, start: usize, count: usize, out: &mut Vec<u32>) {
        out.clear();
        // A match or range on a column: straight off the column's storage.
        if super::matching::select(&self.root, data, start, count, out) {
            return;
        }
        if let Vector::Bool(v) = self.eval(data, start, count) {
            super::matching::push_where(out, 0, v.len(), |i| v[i] == 1);
        }
    }
}

fn constant<'a>(value: &Value, ty: ColumnType, count: usize) -> Vector<'a> {
    match (ty, value) {
        (ColumnType::Bool, Value::Bool(b)) => Vector::Bool(vec![bool_of(*b); count]),
        (ColumnType::Bool, _) => Vector::Bool(vec![NULL_BOOL; count]),
        (ColumnType::I32, Value::I32(v)) => Vector::I32(vec![*v; count]),
        (ColumnType::I32, _) => Vector::I32(vec![NULL_I32; count]),
        (ColumnType::I64, Value::I64(v)) => Vector::I64(vec![*v; count]),
        (ColumnType::I64, Value::I32(v)) => Vector::I64(vec![i64::from(*v); count]),
        (ColumnType::I64, _) => Vector::I64(vec![NULL_I64; count]),
        (ColumnType::F64, Value::F64(v)) => Vector::F64(vec![*v; count]),
        (ColumnType::F64, _) => Vector::F64(vec![NULL_F64; count]),
        (ColumnType::Timestamp, Value::Timestamp(v)) => Vector::Timestamp(vec![*v; count]),
        (ColumnType::Timestamp, _) => Vector::Timestamp(vec![NULL_I64; count]),
        (ColumnType::Date, Value::Date(v)) => Vector::Date(vec![*v; count]),
        (ColumnType::Date, _) => Vector::Date(vec![NULL_I32; count]),
        (ColumnType::Time, Value::Time(v)) => Vector::Time(vec![*v; count]),
        (ColumnType::Time, _) => Vector::Time(vec![NULL_I64; count]),
        (ColumnType::String, Value::String(s)) => Vector::Str {
            codes: vec![0; count],
            strings: Strings::Owned(vec![Some(s.clone())]),
        },
        (ColumnType::Array(element), _) => arrays::nulls(*element, count),
        // Binary columns are refused when a formula compiles; nulls if ever here.
        (ColumnType::String | ColumnType::Binary, _) => Vector::Str {
            codes: vec![NULL_CODE; count],
            strings: Strings::Owned(Vec::new()),
        },
    }
}

/// Rows `start .. start + count` of `column`, copied into one vector.
fn copied<T: Copy>(column: &Chunked<T>, start: usize, count: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(count);
    column.copy_range(start, count, &mut v);
    v
}

fn column<'a>(column: &'a Column, start: usize, count: usize) -> Vector<'a> {
    match column {
        Column::Bool(c) => Vector::Bool(copied(c, start, count)),
        Column::I32(c) => Vector::I32(copied(c, start, count)),
        Column::I64(c) => Vector::I64(copied(c, start, count)),
        Column::Timestamp(c) => Vector::Timestamp(copied(c, start, count)),
        Column::F64(c) => Vector::F64(copied(c, start, count)),
        Column::String(c) => match (c.dictionary(), c.codes()) {
            (Some(dict), Some(codes)) => {
                let mut v = Vec::with_capacity(count);
                codes.copy_range(start, count, &mut v);
                Vector::Str {
                    codes: v,
                    strings: Strings::Dict(dict),
                }
            }
            _ => Vector::Str {
                codes: (0..count as u32).collect(),
                strings: Strings::Owned(
                    (start..start + count)
                        .map(|i| c.get(i).flatten().map(str::to_owned))
                        .collect(),
                ),
            },
        },
        Column::Date(c) => Vector::Date(copied(c, start, count)),
        Column::Time(c) => Vector::Time(copied(c, start, count)),
        Column::Array(c) => arrays::column(c, start, count),
        // Refused when a formula compiles (see `formula::Compiler`); nulls if ever here.
        Column::Binary(_) => Vector::Str {
            codes: vec![NULL_CODE; count],
            strings: Strings::Owned(Vec::new()),
        },
    }
}

macro_rules! zip_map {
    ($a:expr, $b:expr, $null:expr, |$x:ident, $y:ident| $body:expr) => {
        $a.iter()
            .zip($b.iter())
            .map(|(&$x, &$y)| {
                if $x == $null || $y == $null {
                    $null
                } else {
                    $body
                }
            })
            .collect()
    };
}

fn arith<'a>(op: &str, l: Vector<'a>, r: Vector<'a>) -> Vector<'a> {
    match (l, r) {
        (Vector::I32(a), Vector::I32(b)) => Vector::I32(match op {
            "+" => zip_map!(a, b, NULL_I32, |x, y| x.wrapping_add(y)),
            "-" => zip_map!(a, b, NULL_I32, |x, y| x.wrapping_sub(y)),
            "*" => zip_map!(a, b, NULL_I32, |x, y| x.wrapping_mul(y)),
            _ => zip_map!(a, b, NULL_I32, |x, y| x.checked_rem(y).unwrap_or(NULL_I32)),
        }),
        (Vector::I64(a), Vector::I64(b)) => Vector::I64(match op {
            "+" => zip_map!(a, b, NULL_I64, |x, y| x.wrapping_add(y)),
            "-" => zip_map!(a, b, NULL_I64, |x, y| x.wrapping_sub(y)),
            "*" => zip_map!(a, b, NULL_I64, |x, y| x.wrapping_mul(y)),
            _ => zip_map!(a, b, NULL_I64, |x, y| x.checked_rem(y).unwrap_or(NULL_I64)),
        }),
        (Vector::F64(a), Vector::F64(b)) => Vector::F64(match op {
            "+" => zip_map!(a, b, NULL_F64, |x, y| x + y),
            "-" => zip_map!(a, b, NULL_F64, |x, y| x - y),
            "*" => zip_map!(a, b, NULL_F64, |x, y| x * y),
            "/" => zip_map!(a, b, NULL_F64, |x, y| x / y),
            _ => zip_map!(a, b, NULL_F64, |x, y| x % y),
        }),
        (l, _) => l,
    }
}

fn compare<T: PartialOrd + Copy>(
    op: &str,
    a: &[T],
    b: &[T],
    is_null: impl Fn(T) -> bool,
) -> Vec<i8> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let (nx, ny) = (is_null(x), is_null(y));
            bool_of(match op {
                "==" => (nx && ny) || (!nx && !ny && x == y),
                "!=" => !((nx && ny) || (!nx && !ny && x == y)),
                _ if nx || ny => false,
                "<" => x < y,
                "<=" => x <= y,
                ">" => x > y,
                _ => x >= y,
            })
        })
        .collect()
}

fn compare_strings(op: &str, l: &Vector<'_>, r: &Vector<'_>) -> Vec<i8> {
    let (
        Vector::Str {
            codes: a,
            strings: sa,
        },
        Vector::Str {
            codes: b,
            strings: sb,
        },
    ) = (l, r)
    else {
        return Vec::new();
    };
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let (x, y) = (sa.get(x), sb.get(y));
            bool_of(match (op, x, y) {
                ("==", x, y) => x == y,
                ("!=", x, y) => x != y,
                (_, None, _) | (_, _, None) => false,
                ("<", Some(x), Some(y)) => x < y,
                ("<=", Some(x), Some(y)) => x <= y,
                (">", Some(x), Some(y)) => x > y,
                (_, Some(x), Some(y)) => x >= y,
            })
        })
        .collect()
}

fn text(v: &Vector<'_>, i: usize) -> Option<String> {
    use crate::time::calendar;
    let mut s = String::new();
    match v.get(i) {
        Value::Null => None,
        Value::F64(x) => Some(java_double(x)),
        // As Java's toString of Instant, LocalDate and LocalTime.
        Value::Timestamp(t) => {
            calendar::format_instant(t, &mut s);
            Some(s)
        }
        Value::Date(d) => {
            calendar::format_date(i64::from(d), &mut s);
            Some(s)
        }
        Value::Time(t) => {
            calendar::format_time(t, &mut s);
            Some(s)
        }
        other => Some(other.to_string()),
    }
}

/// A double as Java's `Double.toString` writes it (what Deephaven's string `+` shows): `1.0`,
/// `0.001`, `1.0E7`, `1.234E-5`, `NaN`, `Infinity`.
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = x.abs();
    let mut text = String::new();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        // Plain, with a fraction always: Rust's `{:?}` in this range.
        crate::float_text::push_debug(&mut text, x);
    } else {
        // Scientific: Rust's shortest digits, Java's shape (a fraction always, `E`).
        crate::float_text::push_java_scientific(&mut text, x);
    }
    text
}

fn string_method<'a>(method: StrMethod, recv: Vector<'a>, arg: Option<Vector<'a>>) -> Vector<'a> {
    let Vector::Str { codes, strings } = recv else {
        return Vector::Bool(Vec::new());
    };
    let count = codes.len();
    // A constant argument (the usual case) lets the method run once per distinct string.
    let constant_arg = match &arg {
        None => Some(None),
        Some(Vector::Str {
            codes: ac,
            strings: sa,
        }) if ac.iter().all(|&c| c == ac.first().copied().unwrap_or(0)) => {
            Some(ac.first().and_then(|&c| sa.get(c)).map(str::to_owned))
        }
        Some(_) => None,
    };
    let apply = |s: Option<&str>, a: Option<&str>| -> Value {
        let (Some(s), a) = (s, a) else {
            return Value::Null;
        };
        match method {
            StrMethod::StartsWith => a.map_or(Value::Null, |a| Value::Bool(s.starts_with(a))),
            StrMethod::EndsWith => a.map_or(Value::Null, |a| Value::Bool(s.ends_with(a))),
            StrMethod::Contains => a.map_or(Value::Null, |a| Value::Bool(s.contains(a))),
            StrMethod::Length => Value::I32(s.chars().map(char::len_utf16).sum::<usize>() as i32),
            // The compiler made sure there is a host for non-ASCII text.
            StrMethod::ToUpper => crate::text::to_uppercase(s).map_or(Value::Null, Value::String),
            StrMethod::ToLower => crate::text::to_lowercase(s).map_or(Value::Null, Value::String),
        }
    };
    let bool_method = matches!(
        method,
        StrMethod::StartsWith | StrMethod::EndsWith | StrMethod::Contains
    );
    if let (Some(a), true) = (&constant_arg, bool_method && strings.len() <= count) {
        // Once per distinct string, then gathered by code: the fast path for filters.
        let per_entry: Vec<i8> = (0..strings.len() as u32)
            .map(|c| match apply(strings.get(c), a.as_deref()) {
                Value::Bool(b) => bool_of(b),
                _ => NULL_BOOL,
            })
            .collect();
        return Vector::Bool(
            codes
                .iter()
                .map(|&c| per_entry.get(c as usize).copied().unwrap_or(NULL_BOOL))
                .collect(),
        );
    }
    let results: Vec<Value> = match &constant_arg {
        Some(a) if strings.len() <= count => {
            // Once per distinct string, then gathered by code.
            let per_entry: Vec<Value> = (0..strings.len() as u32)
                .map(|c| apply(strings.get(c), a.as_deref()))
                .collect();
            codes
                .iter()
                .map(|&c| {
                    if c == NULL_CODE {
                        Value::Null
                    } else {
                        per_entry.get(c as usize).cloned().unwrap_or(Value::Null)
                    }
                })
                .collect()
        }
        _ => (0..count)
            .map(|i| {
                let a = arg.as_ref().and_then(|a| match a {
                    Vector::Str { codes, strings } => strings.get(codes[i]).map(str::to_owned),
                    _ => None,
                });
                apply(strings.get(codes[i]), a.as_deref())
            })
            .collect(),
    };
    match method {
        StrMethod::Length => Vector::I32(
            results
                .iter()
                .map(|v| if let Value::I32(n) = v { *n } else { NULL_I32 })
                .collect(),
        ),
        StrMethod::ToUpper | StrMethod::ToLower => {
            let values: Vec<Option<String>> = results
                .into_iter()
                .map(|v| {
                    if let Value::String(s) = v {
                        Some(s)
                    } else {
                        None
                    }
                })
                .collect();
            Vector::Str {
                codes: (0..count as u32).collect(),
                strings: Strings::Owned(values),
            }
        }
        _ => Vector::Bool(
            results
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => bool_of(*b),
                    _ => NULL_BOOL,
                })
                .collect(),
        ),
    }
}

pub(super) fn eval<'a>(
    node: &Node,
    data: &'a TableData,
    start: usize,
    count: usize,
    position: usize,
) -> Vector<'a> {
    let ty = node.ty.unwrap_or(ColumnType::Bool);
    match &node.kind {
        Kind::Column(i) => column(&data.columns[*i], start, count),
        Kind::Const(v) => constant(v, ty, count),
        // Deephaven's `i` (int) and `ii` (long): each row's position in the table.
        Kind::RowIndex => {
            let positions = position..position + count;
            match ty {
                ColumnType::I32 => Vector::I32(
                    positions
                        .map(|p| i32::try_from(p).unwrap_or(NULL_I32))
                        .collect(),
                ),
                _ => Vector::I64(positions.map(|p| p as i64).collect()),
            }
        }
        Kind::Cast(inner) => match (eval(inner, data, start, count, position), ty) {
            (Vector::I32(v), ColumnType::I64) => Vector::I64(
                v.iter()
                    .map(|&x| {
                        if x == NULL_I32 {
                            NULL_I64
                        } else {
                            i64::from(x)
                        }
                    })
                    .collect(),
            ),
            (Vector::I32(v), ColumnType::F64) => Vector::F64(
                v.iter()
                    .map(|&x| {
                        if x == NULL_I32 {
                            NULL_F64
                        } else {
                            f64::from(x)
                        }
                    })
                    .collect(),
            ),
            (Vector::I64(v), ColumnType::F64) => Vector::F64(
                v.iter()
                    .map(|&x| if x == NULL_I64 { NULL_F64 } else { x as f64 })
                    .collect(),
            ),
            (v, _) => v,
        },
        Kind::Neg(inner) => match eval(inner, data, start, count, position) {
            Vector::I32(v) => Vector::I32(
                v.iter()
                    .map(|&x| if x == NULL_I32 { x } else { x.wrapping_neg() })
                    .collect(),
            ),
            Vector::I64(v) => Vector::I64(
                v.iter()
                    .map(|&x| if x == NULL_I64 { x } else { x.wrapping_neg() })
                    .collect(),
            ),
            Vector::F64(v) => Vector::F64(
                v.iter()
                    .map(|&x| if x == NULL_F64 { x } else { -x })
                    .collect(),
            ),
            v => v,
        },
        Kind::Not(inner) => match eval(inner, data, start, count, position) {
            Vector::Bool(v) => Vector::Bool(
                v.iter()
                    .map(|&b| if b == NULL_BOOL { b } else { 1 - b })
                    .collect(),
            ),
            v => v,
        },
        Kind::Arith(op, l, r) => arith(
            op,
            eval(l, data, start, count, position),
            eval(r, data, start, count, position),
        ),
        Kind::Concat(l, r) => {
            let (l, r) = (
                eval(l, data, start, count, position),
                eval(r, data, start, count, position),
            );
            let values: Vec<Option<String>> = (0..count)
                .map(|i| match (text(&l, i), text(&r, i)) {
                    (None, None) => None,
                    (a, b) => Some(format!(
                        "{}{}",
                        a.as_deref().unwrap_or("null"),
                        b.as_deref().unwrap_or("null")
                    )),
                })
                .collect();
            Vector::Str {
                codes: (0..count as u32).collect(),
                strings: Strings::Owned(values),
            }
        }
        Kind::Cmp(op, l, r) => {
            let (l, r) = (
                eval(l, data, start, count, position),
                eval(r, data, start, count, position),
            );
            Vector::Bool(match (&l, &r) {
                (Vector::Bool(a), Vector::Bool(b)) => compare(op, a, b, |x| x == NULL_BOOL),
                (Vector::I32(a), Vector::I32(b)) => compare(op, a, b, |x| x == NULL_I32),
                (Vector::I64(a), Vector::I64(b))
                | (Vector::Timestamp(a), Vector::Timestamp(b))
                | (Vector::Time(a), Vector::Time(b)) => compare(op, a, b, |x| x == NULL_I64),
                (Vector::Date(a), Vector::Date(b)) => compare(op, a, b, |x| x == NULL_I32),
                (Vector::F64(a), Vector::F64(b)) => compare(op, a, b, |x| x == NULL_F64),
                _ => compare_strings(op, &l, &r),
            })
        }
        Kind::And(l, r) | Kind::Or(l, r) => {
            let and = matches!(node.kind, Kind::And(..));
            match (
                eval(l, data, start, count, position),
                eval(r, data, start, count, position),
            ) {
                (Vector::Bool(a), Vector::Bool(b)) => Vector::Bool(
                    a.iter()
                        .zip(&b)
                        .map(|(&x, &y)| {
                            bool_of(if and {
                                x == 1 && y == 1
                            } else {
                                x == 1 || y == 1
                            })
                        })
                        .collect(),
                ),
                (v, _) => v,
            }
        }
        Kind::Ternary(c, a, b) => {
            let Vector::Bool(c) = eval(c, data, start, count, position) else {
                return constant(&Value::Null, ty, count);
            };
            let (a, b) = (
                eval(a, data, start, count, position),
                eval(b, data, start, count, position),
            );
            let pick = |i: usize| if c[i] == 1 { &a } else { &b };
            match (&a, &b) {
                (Vector::Bool(_), _)
                | (Vector::I32(_), _)
                | (Vector::I64(_), _)
                | (Vector::F64(_), _)
                | (Vector::Timestamp(_), _)
                | (Vector::Date(_), _)
                | (Vector::Time(_), _) => {
                    let mut out = Column::new(ty);
                    for i in 0..count {
                        out.push(&pick(i).get(i));
                    }
                    column_owned(out, count)
                }
                _ => Vector::Str {
                    codes: (0..count as u32).collect(),
                    strings: Strings::Owned(
                        (0..count)
                            .map(|i| match pick(i).get(i) {
                                Value::String(s) => Some(s),
                                _ => None,
                            })
                            .collect(),
                    ),
                },
            }
        }
        Kind::Call(func, args) => {
            let mut values: Vec<Vector<'a>> = args
                .iter()
                .map(|a| eval(a, data, start, count, position))
                .collect();
            match func {
                Func::IsNull => {
                    let v = &values[0];
                    Vector::Bool((0..count).map(|i| bool_of(v.get(i).is_null())).collect())
                }
                Func::Max | Func::Min => {
                    let max = *func == Func::Max;
                    let (b, a) = (values.pop(), values.pop());
                    match (a, b) {
                        (Some(Vector::I32(a)), Some(Vector::I32(b))) => {
                            Vector::I32(zip_map!(a, b, NULL_I32, |x, y| if (x > y) == max {
                                x
                            } else {
                                y
                            }))
                        }
                        (Some(Vector::I64(a)), Some(Vector::I64(b))) => {
                            Vector::I64(zip_map!(a, b, NULL_I64, |x, y| if (x > y) == max {
                                x
                            } else {
                                y
                            }))
                        }
                        (Some(Vector::F64(a)), Some(Vector::F64(b))) => {
                            Vector::F64(zip_map!(a, b, NULL_F64, |x, y| if max {
                                x.max(y)
                            } else {
                                x.min(y)
                            }))
                        }
                        _ => constant(&Value::Null, ty, count),
                    }
                }
                Func::Abs => match values.pop() {
                    Some(Vector::I32(v)) => Vector::I32(
                        v.iter()
                            .map(|&x| if x == NULL_I32 { x } else { x.wrapping_abs() })
                            .collect(),
                    ),
                    Some(Vector::I64(v)) => Vector::I64(
                        v.iter()
                            .map(|&x| if x == NULL_I64 { x } else { x.wrapping_abs() })
                            .collect(),
                    ),
                    Some(Vector::F64(v)) => Vector::F64(
                        v.iter()
                            .map(|&x| if x == NULL_F64 { x } else { x.abs() })
                            .collect(),
                    ),
                    _ => constant(&Value::Null, ty, count),
                },
                Func::Round => match values.pop() {
                    // Java's Math.round: floor(x + 0.5).
                    Some(Vector::F64(v)) => Vector::I64(
                        v.iter()
                            .map(|&x| {
                                if x == NULL_F64 {
                                    NULL_I64
                                } else {
                                    (x + 0.5).floor() as i64
                                }
                            })
                            .collect(),
                    ),
                    _ => constant(&Value::Null, ty, count),
                },
                Func::Sqrt | Func::Floor | Func::Ceil => match values.pop() {
                    Some(Vector::F64(v)) => Vector::F64(
                        v.iter()
                            .map(|&x| match func {
                                _ if x == NULL_F64 => x,
                                Func::Sqrt => x.sqrt(),
                                Func::Floor => x.floor(),
                                _ => x.ceil(),
                            })
                            .collect(),
                    ),
                    _ => constant(&Value::Null, ty, count),
                },
            }
        }
        Kind::Time(func, args, zone) => {
            let inputs = args
                .iter()
                .map(|a| super::time::Input::of(a, |a| eval(a, data, start, count, position)))
                .collect();
            super::time::eval(*func, inputs, zone.as_deref(), count)
        }
        Kind::Index(array, index) => arrays::eval_index(
            eval(array, data, start, count, position),
            eval(index, data, start, count, position),
        ),
        Kind::ArrayFn(function, array) => {
            arrays::eval_fn(*function, eval(array, data, start, count, position))
        }
        Kind::Method(method, recv, arg) => {
            let recv = eval(recv, data, start, count, position);
            let arg = arg.as_ref().map(|a| eval(a, data, start, count, position));
            string_method(*method, recv, arg)
        }
        Kind::Match(m) => {
            super::matching::eval_match(m, eval(&m.target, data, start, count, position))
        }
        Kind::InRange(args) => super::matching::eval_in_range(args, data, start, count, position),
        Kind::Now(clock) => Vector::Timestamp(vec![clock.get(); count]),
    }
}

/// A freshly built numeric column as a vector.
fn column_owned<'a>(c: Column, count: usize) -> Vector<'a> {
    match column(&c, 0, count) {
        Vector::Str { .. } | Vector::Array { .. } => Vector::Str {
            codes: Vec::new(),
            strings: Strings::Owned(Vec::new()),
        },
        // Numeric vectors own their values; only the lifetime changes.
        Vector::Bool(v) => Vector::Bool(v),
        Vector::I32(v) => Vector::I32(v),
        Vector::I64(v) => Vector::I64(v),
        Vector::Timestamp(v) => Vector::Timestamp(v),
        Vector::Date(v) => Vector::Date(v),
        Vector::Time(v) => Vector::Time(v),
        Vector::F64(v) => Vector::F64(v),
    }
}
