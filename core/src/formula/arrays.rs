//! Arrays in formulas: indexing (`Prices[0]`) and the one-argument functions over an array
//! (`len`, `sum`, `avg`, `min`, `max`), compiled and evaluated here so that the rest of the
//! formula code only hooks in.
//!
//! Semantics are Deephaven's (`io.deephaven.function.Basic` and `Numeric`, and `Vector.get`):
//! - `A[i]` is element `i` (an int or long index); out of range, a null index or a null array give
//!   null;
//! - `len(A)` is a long, null for a null array;
//! - `sum(A)` is a long for integer elements and a double for doubles, over the non-null elements;
//!   null for a null array or one with no non-null element; a NaN element makes it NaN;
//! - `avg(A)` is a double: null for a null array, NaN for an empty or all-null one (0 / 0), NaN
//!   when an element is NaN;
//! - `min(A)` and `max(A)` are of the element type, over the non-null (and non-NaN) elements; null
//!   when there are none.
//!
//! An array value reaches the evaluator only as a column reference ([`Vector::Array`] borrows the
//! column's flat elements); arrays cannot be compared, combined by `?:` or computed.

use std::borrow::Cow;

use super::eval::{Strings, Vector};
use super::{Kind, Node, err, show};
use crate::Result;
use crate::column::strings::NULL_CODE;
use crate::column::{
    ArrayColumn, Chunked, Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, StringColumn,
};

/// A one-argument function over an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayFn {
    Len,
    Sum,
    Avg,
    Min,
    Max,
}

/// Whether formulas can read arrays of `element`.
fn element_supported(element: ColumnType) -> bool {
    matches!(
        element,
        ColumnType::Bool
            | ColumnType::I32
            | ColumnType::I64
            | ColumnType::F64
            | ColumnType::Timestamp
            | ColumnType::String
    )
}

/// Refuses a column of an array type formulas cannot read (dates, times, bytes).
pub(crate) fn check_column(name: &str, ty: ColumnType, position: usize) -> Result<()> {
    match ty.element() {
        Some(element) if !element_supported(element) => err(
            position,
            format!("column {name} is a {ty}, which formulas do not support yet"),
        ),
        _ => Ok(()),
    }
}

/// Refuses arrays where two operands must be brought to one type (comparisons, `?:`, `max(a, b)`).
pub(crate) fn refuse_in(what: &str, a: &Node, b: &Node, position: usize) -> Result<()> {
    match [a.ty, b.ty]
        .into_iter()
        .flatten()
        .find(|t| t.element().is_some())
    {
        Some(ty) => err(
            position,
            format!(
                "'{what}' does not apply to arrays ({ty}); index one (A[0]) or reduce it (sum(A))"
            ),
        ),
        None => Ok(()),
    }
}

/// `array[index]`.
pub(crate) fn index(array: Node, index: Node, position: usize) -> Result<Node> {
    let Some(element) = array.ty.and_then(ColumnType::element) else {
        return err(
            position,
            format!("'[]' indexes an array, not {}", show(array.ty)),
        );
    };
    if !matches!(index.ty, Some(ColumnType::I32 | ColumnType::I64) | None) {
        return err(
            position,
            format!("an array index is an int or a long, not {}", show(index.ty)),
        );
    }
    Ok(Node {
        kind: Kind::Index(Box::new(array), Box::new(index)),
        ty: Some(element),
    })
}

/// `name(arg)`, one of the one-argument array functions (see [`is_array_function`]).
pub(crate) fn call(name: &str, arg: Node, position: usize) -> Result<Node> {
    let function = match name {
        "len" => ArrayFn::Len,
        "sum" => ArrayFn::Sum,
        "avg" => ArrayFn::Avg,
        "min" => ArrayFn::Min,
        "max" => ArrayFn::Max,
        _ => return err(position, format!("unknown function {name}")),
    };
    let Some(element) = arg.ty.and_then(ColumnType::element) else {
        return err(
            position,
            format!(
                "{name}() of one argument takes an array, not {}",
                show(arg.ty)
            ),
        );
    };
    let numeric = element.is_numeric();
    let ty = match function {
        ArrayFn::Len => ColumnType::I64,
        ArrayFn::Sum if element == ColumnType::F64 => ColumnType::F64,
        ArrayFn::Sum if numeric => ColumnType::I64,
        ArrayFn::Avg if numeric => ColumnType::F64,
        ArrayFn::Min | ArrayFn::Max if numeric || element == ColumnType::Timestamp => element,
        _ => {
            return err(
                position,
                format!("{name}() needs an array of numbers, not {element}[]"),
            );
        }
    };
    Ok(Node {
        kind: Kind::ArrayFn(function, Box::new(arg)),
        ty: Some(ty),
    })
}

/// Whether `name` of one argument is an array function (`min(a, b)` of two is the scalar one).
pub(crate) fn is_array_function(name: &str) -> bool {
    matches!(name, "len" | "sum" | "avg" | "min" | "max")
}

/// A vector of `count` null arrays of `element` (what a constant of an array type evaluates to).
pub(crate) fn nulls<'a>(element: ColumnType, count: usize) -> Vector<'a> {
    Vector::Array {
        values: Cow::Owned(Column::new(element)),
        ranges: vec![None; count],
    }
}

/// Rows of an array column as a vector that borrows its elements.
pub(crate) fn column<'a>(column: &'a ArrayColumn, start: usize, count: usize) -> Vector<'a> {
    let mut ranges = Vec::with_capacity(count);
    column.ranges(start, count, &mut ranges);
    Vector::Array {
        values: Cow::Borrowed(column.values()),
        ranges,
    }
}

/// The values at `picks` (`None`, or past the end: `null`).
fn read<T: Copy>(c: &Chunked<T>, picks: &[Option<usize>], null: T) -> Vec<T> {
    picks
        .iter()
        .map(|p| p.and_then(|p| c.get(p)).unwrap_or(null))
        .collect()
}

/// Element positions → a vector of the element type (`None` is null).
fn gather<'a>(values: Cow<'a, Column>, picks: &[Option<usize>]) -> Vector<'a> {
    match values {
        Cow::Borrowed(Column::String(s)) => match (s.dictionary(), s.codes()) {
            (Some(dict), Some(codes)) => Some(Vector::Str {
                codes: read(codes, picks, NULL_CODE),
                strings: Strings::Dict(dict),
            }),
            _ => owned_strings(s, picks),
        },
        Cow::Borrowed(c) => gather_owned(c, picks),
        Cow::Owned(c) => gather_owned(&c, picks),
    }
    .unwrap_or_else(|| Vector::Bool(vec![NULL_BOOL; picks.len()]))
}

fn owned_strings<'a>(s: &StringColumn, picks: &[Option<usize>]) -> Option<Vector<'a>> {
    Some(Vector::Str {
        codes: (0..picks.len() as u32).collect(),
        strings: Strings::Owned(
            picks
                .iter()
                .map(|p| p.and_then(|p| s.get(p).flatten()).map(str::to_owned))
                .collect(),
        ),
    })
}

fn gather_owned<'a>(values: &Column, picks: &[Option<usize>]) -> Option<Vector<'a>> {
    Some(match values {
        Column::Bool(c) => Vector::Bool(read(c, picks, NULL_BOOL)),
        Column::I32(c) => Vector::I32(read(c, picks, NULL_I32)),
        Column::I64(c) => Vector::I64(read(c, picks, NULL_I64)),
        Column::F64(c) => Vector::F64(read(c, picks, NULL_F64)),
        Column::Timestamp(c) => Vector::Timestamp(read(c, picks, NULL_I64)),
        Column::String(s) => return owned_strings(s, picks),
        // Refused when the formula compiles.
        _ => return None,
    })
}

/// `array[index]` over a batch.
pub(crate) fn eval_index<'a>(array: Vector<'a>, index: Vector<'a>) -> Vector<'a> {
    let Vector::Array { values, ranges } = array else {
        return array;
    };
    let at = |i: usize| -> Option<i64> {
        match &index {
            Vector::I32(v) => v.get(i).filter(|&&x| x != NULL_I32).map(|&x| i64::from(x)),
            Vector::I64(v) => v.get(i).filter(|&&x| x != NULL_I64).copied(),
            _ => None,
        }
    };
    let picks: Vec<Option<usize>> = ranges
        .iter()
        .enumerate()
        .map(|(i, range)| {
            let (first, len) = (*range)?;
            let k = usize::try_from(at(i)?).ok().filter(|&k| k < len)?;
            Some(first + k)
        })
        .collect();
    gather(values, &picks)
}

/// A one-argument array function over a batch.
pub(crate) fn eval_fn<'a>(function: ArrayFn, array: Vector<'a>) -> Vector<'a> {
    let Vector::Array { values, ranges } = array else {
        return array;
    };
    if function == ArrayFn::Len {
        return Vector::I64(
            ranges
                .iter()
                .map(|r| r.map_or(NULL_I64, |(_, len)| len as i64))
                .collect(),
        );
    }
    let mut scratch = Vec::new();
    match values.as_ref() {
        Column::F64(c) => {
            let per_row = ranges.iter().map(|r| {
                r.map(|(first, len)| {
                    scratch.clear();
                    c.copy_range(first, len, &mut scratch);
                    reduce_f64(function, &scratch)
                })
            });
            let out: Vec<f64> = per_row.map(|v| v.unwrap_or(NULL_F64)).collect();
            Vector::F64(out)
        }
        Column::I32(c) => {
            let mut ints = Vec::new();
            let wide = reduce_ints(function, &ranges, |first, len, out| {
                ints.clear();
                c.copy_range(first, len, &mut ints);
                out.clear();
                out.extend(ints.iter().map(|&v| {
                    if v == NULL_I32 {
                        NULL_I64
                    } else {
                        i64::from(v)
                    }
                }));
            });
            narrow(function, wide)
        }
        Column::I64(c) => reduce_ints(function, &ranges, |first, len, out| {
            out.clear();
            c.copy_range(first, len, out);
        }),
        Column::Timestamp(c) => match reduce_ints(function, &ranges, |first, len, out| {
            out.clear();
            c.copy_range(first, len, out);
        }) {
            Vector::I64(v) => Vector::Timestamp(v),
            other => other,
        },
        // Refused when the formula compiles.
        _ => Vector::I64(vec![NULL_I64; ranges.len()]),
    }
}

/// `sum`, `avg`, `min` or `max` of one array of doubles.
fn reduce_f64(function: ArrayFn, values: &[f64]) -> f64 {
    let present = values.iter().copied().filter(|&v| v != NULL_F64);
    match function {
        ArrayFn::Sum | ArrayFn::Avg => {
            let (mut sum, mut n) = (0.0, 0usize);
            for v in present {
                sum += v;
                n += 1;
            }
            match function {
                ArrayFn::Sum if n == 0 => NULL_F64,
                ArrayFn::Sum => sum,
                _ => sum / n as f64,
            }
        }
        // NaN compares false either way, so it never becomes the extreme.
        ArrayFn::Min => present
            .filter(|v| !v.is_nan())
            .reduce(f64::min)
            .unwrap_or(NULL_F64),
        _ => present
            .filter(|v| !v.is_nan())
            .reduce(f64::max)
            .unwrap_or(NULL_F64),
    }
}

/// `sum`, `avg`, `min` or `max` of arrays of integers read as `i64` (nulls as `NULL_I64`) by
/// `read(first, len, out)`: longs for sum, min and max, doubles for avg.
fn reduce_ints<'a>(
    function: ArrayFn,
    ranges: &[Option<(usize, usize)>],
    mut read: impl FnMut(usize, usize, &mut Vec<i64>),
) -> Vector<'a> {
    let mut values = Vec::new();
    if function == ArrayFn::Avg {
        return Vector::F64(
            ranges
                .iter()
                .map(|r| {
                    let Some((first, len)) = *r else {
                        return NULL_F64;
                    };
                    read(first, len, &mut values);
                    let present: Vec<i64> =
                        values.iter().copied().filter(|&v| v != NULL_I64).collect();
                    present.iter().map(|&v| v as f64).sum::<f64>() / present.len() as f64
                })
                .collect(),
        );
    }
    Vector::I64(
        ranges
            .iter()
            .map(|r| {
                let Some((first, len)) = *r else {
                    return NULL_I64;
                };
                read(first, len, &mut values);
                let present = values.iter().copied().filter(|&v| v != NULL_I64);
                match function {
                    ArrayFn::Sum => present.reduce(i64::wrapping_add),
                    ArrayFn::Min => present.min(),
                    _ => present.max(),
                }
                .unwrap_or(NULL_I64)
            })
            .collect(),
    )
}

/// `min` and `max` of int arrays are ints (sums are longs, averages doubles).
fn narrow(function: ArrayFn, wide: Vector<'_>) -> Vector<'_> {
    match (function, wide) {
        (ArrayFn::Min | ArrayFn::Max, Vector::I64(v)) => Vector::I32(
            v.iter()
                .map(|&x| if x == NULL_I64 { NULL_I32 } else { x as i32 })
                .collect(),
        ),
        (_, v) => v,
    }
}

#[cfg(test)]
mod tests {
    use crate::column::Value::{self, *};
    use crate::column::{ColumnType, NULL_F64};
    use crate::formula::{Variables, compile};
    use crate::table::{Batch, Schema, TableData};

    /// Rows: a full array, one with nulls (and a NaN), an empty one, a null one.
    fn data() -> TableData {
        let schema = Schema::of(&[
            ("P", ColumnType::F64.array_of().unwrap()),
            ("Q", ColumnType::I32.array_of().unwrap()),
            ("S", ColumnType::String.array_of().unwrap()),
            ("T", ColumnType::Timestamp.array_of().unwrap()),
            ("I", ColumnType::I64),
        ])
        .unwrap();
        let floats = |v: &[f64]| {
            Array(
                v.iter()
                    .map(|&x| if x == NULL_F64 { Null } else { F64(x) })
                    .collect(),
            )
        };
        let rows = vec![
            vec![
                floats(&[1.5, -2.0, 4.0]),
                Array(vec![I32(3), I32(-1), I32(7)]),
                Array(vec![String("b".into()), String("a".into())]),
                Array(vec![Timestamp(5), Timestamp(9)]),
                I64(1),
            ],
            vec![
                floats(&[NULL_F64, 2.0, f64::NAN]),
                Array(vec![Null, I32(4), Null]),
                Array(vec![Null, String("c".into())]),
                Array(vec![Null]),
                I64(2),
            ],
            vec![
                Array(vec![]),
                Array(vec![]),
                Array(vec![]),
                Array(vec![]),
                I64(0),
            ],
            vec![Null, Null, Null, Null, Null],
        ];
        let batch = Batch::from_rows(&schema, &rows).unwrap();
        let mut data = TableData::new(schema);
        for (c, b) in data.columns.iter_mut().zip(batch.columns()) {
            c.extend_from(b);
        }
        data
    }

    fn eval(text: &str) -> Vec<Value> {
        let data = data();
        let f = compile(text, &data.schema, &Variables::default())
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let v = f.eval(&data, 0, data.len());
        (0..v.len()).map(|i| v.get(i)).collect()
    }

    fn error(text: &str) -> std::string::String {
        let data = data();
        match compile(text, &data.schema, &Variables::default()) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text} compiled"),
        }
    }

    #[test]
    fn indexing_gives_null_out_of_range_and_for_null_arrays_or_indexes() {
        assert_eq!(eval("P[0]"), [F64(1.5), Null, Null, Null]);
        assert_eq!(eval("Q[2]"), [I32(7), Null, Null, Null]);
        assert_eq!(eval("Q[-1]"), [Null, Null, Null, Null]);
        assert_eq!(eval("Q[3]"), [Null, Null, Null, Null]);
        // A column as the index (long), and a null index.
        assert_eq!(eval("Q[I]"), [I32(-1), Null, Null, Null]);
        assert_eq!(eval("S[1]"), [s("a"), s("c"), Null, Null]);
        assert_eq!(eval("T[1]"), [Timestamp(9), Null, Null, Null]);
        // Indexed values are ordinary values.
        assert_eq!(eval("Q[0] * 2 + 1"), [I32(7), Null, Null, Null]);
        assert_eq!(
            eval("S[0] + `!`"),
            [s("b!"), s("null!"), s("null!"), s("null!")]
        );
        assert_eq!(eval("Q[len(Q) - 1]"), [I32(7), Null, Null, Null]);
    }

    fn s(x: &str) -> Value {
        String(x.into())
    }

    #[test]
    fn reductions_follow_deephavens_null_rules() {
        assert_eq!(eval("len(P)"), [I64(3), I64(3), I64(0), Null]);
        assert_eq!(eval("len(S)"), [I64(2), I64(2), I64(0), Null]);
        // Ints sum to a long; nothing to sum is null.
        assert_eq!(eval("sum(Q)"), [I64(9), I64(4), Null, Null]);
        assert_eq!(eval("min(Q)"), [I32(-1), I32(4), Null, Null]);
        assert_eq!(eval("max(Q)"), [I32(7), I32(4), Null, Null]);
        assert_eq!(eval("max(T)"), [Timestamp(9), Null, Null, Null]);
        let avg = eval("avg(Q)");
        assert_eq!(avg[0], F64(3.0));
        assert_eq!(avg[1], F64(4.0));
        assert!(
            matches!(avg[2], F64(x) if x.is_nan()),
            "0 / 0: {:?}",
            avg[2]
        );
        assert_eq!(avg[3], Null);
        // A NaN element makes a sum or a mean NaN; min and max pass it over.
        let sums = eval("sum(P)");
        assert_eq!(sums[0], F64(3.5));
        assert!(matches!(sums[1], F64(x) if x.is_nan()));
        assert_eq!(&sums[2..], [Null, Null]);
        assert!(matches!(eval("avg(P)")[1], F64(x) if x.is_nan()));
        assert_eq!(eval("min(P)"), [F64(-2.0), F64(2.0), Null, Null]);
        assert_eq!(eval("max(P)"), [F64(4.0), F64(2.0), Null, Null]);
        // The two-argument forms are still the scalar ones.
        assert_eq!(eval("max(I, 1)"), [I64(1), I64(2), I64(1), Null]);
    }

    #[test]
    fn an_array_column_copies_and_prints() {
        assert_eq!(
            eval("Copy = S"),
            [
                Array(vec![s("b"), s("a")]),
                Array(vec![Null, s("c")]),
                Array(vec![]),
                Null
            ]
        );
        assert_eq!(
            eval("`q=` + Q"),
            [
                s("q=[3, -1, 7]"),
                s("q=[null, 4, null]"),
                s("q=[]"),
                s("q=null")
            ]
        );
        assert_eq!(
            eval("isNull(Q)"),
            [Bool(false), Bool(false), Bool(false), Bool(true)]
        );
    }

    #[test]
    fn bad_array_formulas_say_what_is_wrong() {
        for (text, wants) in [
            ("I[0]", "'[]' indexes an array, not long"),
            ("P[1.5]", "an array index is an int or a long, not double"),
            ("sum(S)", "sum() needs an array of numbers, not string[]"),
            ("avg(I)", "avg() of one argument takes an array, not long"),
            ("len(I)", "len() of one argument takes an array"),
            ("P + 1", "needs numbers"),
            ("P == P", "'==' does not apply to arrays (double[])"),
            ("I > 0 ? P : P", "'?:' does not apply to arrays"),
            ("P[0", "expected ']'"),
            ("P[]", "expected a value"),
        ] {
            let e = error(text);
            assert!(e.contains(wants), "{text}: {e:?} should say {wants:?}");
        }
    }
}
