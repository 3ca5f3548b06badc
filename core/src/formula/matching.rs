//! Match and range filters, and the engine's clock: `X in v1, v2`, `X [icase] [not] in ...`,
//! `X = v` / `X == v` / `X != v` against a constant, `inRange(X, low, high)` and `now()`.
//!
//! The values of a match are constants, folded when the formula compiles (a literal, a variable,
//! `-1`, `2 * 3`, whatever reads no column, no `i`/`ii` and no clock) and converted to the
//! tested expression's type, widened as `==` widens numbers. So evaluation compares raw lanes,
//! null sentinels included (`X in 1, null` matches nulls), with no per-row type dispatch: a small
//! set is scanned, a large one hashed. On a dictionary-coded string column a match runs once per
//! dictionary entry, kept across batches (codes are stable within a dictionary's id), and rows are
//! then selected by code. `in` matches NaN with NaN, as Deephaven's `in` does; `=`, `==` and `!=`
//! follow IEEE (NaN equals nothing), as Deephaven's match filter for `=` does. `icase` compares
//! Unicode case folds (upper then lower case), so it needs the text services of [`crate::text`].
//!
//! `inRange(x, low, high)` is Deephaven's: both bounds inclusive, false for a null `x`; a null
//! bound (where Deephaven's primitive overloads compare the sentinel and its object one throws) is
//! false here too.
//!
//! `now()` reads a [`Clock`] that the operator running the formula sets before each cycle to the
//! engine's ([`crate::Engine::set_clock`]); a `where` that calls it is time-dependent (see
//! `ops::rowwise`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rustc_hash::FxHashSet;

use super::eval::{Strings, Vector, eval};
use super::parser::Expr;
use super::{Compiler, Kind, Node, err, null_of, rank, show, widen};
use crate::Result;
use crate::column::strings::NULL_CODE;
use crate::column::{
    Chunked, Column, ColumnType, Dictionary, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, Value,
};
use crate::table::{Schema, TableData};

/// `target [icase] [not] in values...`, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchExpr {
    pub target: Expr,
    pub values: Vec<Expr>,
    pub icase: bool,
    pub inverted: bool,
}

/// The clock a formula's `now()` reads: nanoseconds since the epoch, null until first set.
#[derive(Debug, Clone)]
pub(crate) struct Clock(Rc<Cell<i64>>);

impl Clock {
    pub(crate) fn new() -> Self {
        Self(Rc::new(Cell::new(NULL_I64)))
    }

    pub(crate) fn get(&self) -> i64 {
        self.0.get()
    }

    pub(crate) fn set(&self, nanos: i64) {
        self.0.set(nanos);
    }
}

/// A compiled match: the tested expression (already of the values' common type), the values,
/// and whether the result is inverted (`not in`, `!=`).
#[derive(Debug, Clone)]
pub(crate) struct Match {
    pub target: Node,
    set: ValueSet,
    inverted: bool,
    /// Per dictionary entry, whether it matches: for the dictionary of id `.0`, entries
    /// `0 .. .1.len()`.
    entries: RefCell<(u64, Vec<bool>)>,
}

/// Values to match above this many are hashed; below, scanned.
const SCAN_MAX: usize = 8;

/// The values of one lane type.
#[derive(Debug, Clone)]
struct Lane<T> {
    values: Vec<T>,
    hashed: Option<FxHashSet<T>>,
}

impl<T: Copy + Eq + std::hash::Hash> Lane<T> {
    /// Whether `x` is one of the values.
    #[inline]
    fn has(&self, x: T) -> bool {
        match (&self.hashed, self.values.as_slice()) {
            (Some(set), _) => set.contains(&x),
            (None, [a]) => x == *a,
            (None, [a, b]) => (x == *a) | (x == *b),
            (None, values) => values.contains(&x),
        }
    }

    fn new(mut values: Vec<T>) -> Self {
        values.dedup();
        let hashed = (values.len() > SCAN_MAX).then(|| values.iter().copied().collect());
        Self { values, hashed }
    }

    /// Whether each of `rows` is a value, xor `inverted`.
    fn select(&self, rows: &[T], inverted: bool) -> Vec<i8> {
        let flip = i8::from(inverted);
        match (&self.hashed, self.values.as_slice()) {
            (Some(set), _) => rows
                .iter()
                .map(|x| i8::from(set.contains(x)) ^ flip)
                .collect(),
            (None, [a]) => rows.iter().map(|x| i8::from(x == a) ^ flip).collect(),
            (None, [a, b]) => rows
                .iter()
                .map(|x| (i8::from(x == a) | i8::from(x == b)) ^ flip)
                .collect(),
            (None, values) => rows
                .iter()
                .map(|x| i8::from(values.contains(x)) ^ flip)
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
enum ValueSet {
    Bool(Vec<i8>),
    I32(Lane<i32>),
    /// `long` and timestamps.
    I64(Lane<i64>),
    /// Doubles by their keys ([`f64_key`]); whether NaN matches NaN.
    F64 {
        bits: Lane<u64>,
        nan: bool,
    },
    /// Strings (case folded for `icase`); whether null is one of the values.
    Str {
        values: FxHashSet<String>,
        null: bool,
        icase: bool,
    },
    /// Any other type, compared as values.
    Values(Vec<Value>),
}

/// A double's key in a set: its bits (`-0.0` as `0.0`, so the two zeros are equal as `==` has
/// them), mixed (SplitMix64's finaliser, a bijection): the bits of round numbers end in zeros,
/// which an Fx hash spreads badly.
fn f64_key(x: f64) -> u64 {
    let mut z = (x + 0.0).to_bits();
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A string's case fold for `icase`: upper then lower case (Unicode's, through the host).
fn fold(s: &str) -> Option<String> {
    if s.is_ascii() {
        return Some(s.to_ascii_lowercase());
    }
    crate::text::to_uppercase(s).and_then(|u| crate::text::to_lowercase(&u))
}

impl ValueSet {
    /// The set of `values` (each `Null` or of a type that converts to `ty`).
    fn new(ty: ColumnType, values: &[Value], nan: bool, icase: bool) -> Self {
        let int = |v: &Value| match v {
            Value::I32(x) => Some(i64::from(*x)),
            Value::I64(x) | Value::Timestamp(x) => Some(*x),
            _ => None,
        };
        match ty {
            ColumnType::Bool => ValueSet::Bool(
                values
                    .iter()
                    .map(|v| match v {
                        Value::Bool(b) => i8::from(*b),
                        _ => NULL_BOOL,
                    })
                    .collect(),
            ),
            ColumnType::I32 => ValueSet::I32(Lane::new(
                values
                    .iter()
                    .map(|v| {
                        int(v)
                            .and_then(|x| i32::try_from(x).ok())
                            .unwrap_or(NULL_I32)
                    })
                    .collect(),
            )),
            ColumnType::I64 | ColumnType::Timestamp => ValueSet::I64(Lane::new(
                values.iter().map(|v| int(v).unwrap_or(NULL_I64)).collect(),
            )),
            ColumnType::F64 => {
                let doubles: Vec<f64> = values
                    .iter()
                    .map(|v| match v {
                        Value::F64(x) => *x,
                        v => int(v).map_or(NULL_F64, |x| x as f64),
                    })
                    .collect();
                ValueSet::F64 {
                    nan: nan && doubles.iter().any(|x| x.is_nan()),
                    bits: Lane::new(
                        doubles
                            .iter()
                            .filter(|x| !x.is_nan())
                            .map(|&x| f64_key(x))
                            .collect(),
                    ),
                }
            }
            ColumnType::String => ValueSet::Str {
                values: values
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) if icase => fold(s),
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                null: values.iter().any(Value::is_null),
                icase,
            },
            _ => ValueSet::Values(values.to_vec()),
        }
    }

    fn has_str(&self, s: Option<&str>) -> bool {
        let ValueSet::Str {
            values,
            null,
            icase,
        } = self
        else {
            return false;
        };
        match s {
            None => *null,
            Some(s) if *icase => fold(s).is_some_and(|f| values.contains(&f)),
            Some(s) => values.contains(s),
        }
    }
}

impl Match {
    /// Whether each entry of `dict` matches (not inverted), computed for the entries not seen yet.
    fn entries(&self, dict: &Dictionary) -> std::cell::Ref<'_, (u64, Vec<bool>)> {
        {
            let mut entries = self.entries.borrow_mut();
            // Dictionaries only grow; one that did not is another's.
            if entries.0 != dict.id() || entries.1.len() > dict.len() {
                *entries = (dict.id(), Vec::new());
            }
            let seen = entries.1.len();
            let exact = match &self.set {
                ValueSet::Str { values, icase, .. } if !*icase => Some(values),
                _ => None,
            };
            match exact {
                // Exact values: looked up in the dictionary, not compared with every entry.
                Some(values) if dict.len() - seen > values.len() => {
                    entries.1.resize(dict.len(), false);
                    for code in values.iter().filter_map(|v| dict.code(v)) {
                        if code as usize >= seen {
                            entries.1[code as usize] = true;
                        }
                    }
                }
                _ => {
                    for code in seen..dict.len() {
                        let hit = self.set.has_str(dict.get(code as u32));
                        entries.1.push(hit);
                    }
                }
            }
        }
        self.entries.borrow()
    }
}

/// A match's result over `target`'s values (never null: a row matches or not).
pub(super) fn eval_match<'a>(m: &Match, target: Vector<'a>) -> Vector<'a> {
    let flip = i8::from(m.inverted);
    Vector::Bool(match (&m.set, &target) {
        (ValueSet::Bool(values), Vector::Bool(rows)) => rows
            .iter()
            .map(|x| i8::from(values.contains(x)) ^ flip)
            .collect(),
        (ValueSet::I32(lane), Vector::I32(rows)) => lane.select(rows, m.inverted),
        (ValueSet::I64(lane), Vector::I64(rows) | Vector::Timestamp(rows)) => {
            lane.select(rows, m.inverted)
        }
        (ValueSet::F64 { bits, nan }, Vector::F64(rows)) => {
            let mut hits = if bits.values.is_empty() {
                vec![flip; rows.len()]
            } else {
                let as_bits: Vec<u64> = rows.iter().map(|&x| f64_key(x)).collect();
                bits.select(&as_bits, m.inverted)
            };
            if *nan {
                for (hit, x) in hits.iter_mut().zip(rows) {
                    if x.is_nan() {
                        *hit = 1 ^ flip;
                    }
                }
            }
            hits
        }
        (
            ValueSet::Str { null, .. },
            Vector::Str {
                codes,
                strings: Strings::Dict(dict),
            },
        ) => {
            let entries = m.entries(dict);
            let null_hit = i8::from(*null) ^ flip;
            codes
                .iter()
                .map(|&c| {
                    entries
                        .1
                        .get(c as usize)
                        .map_or(null_hit, |&hit| i8::from(hit) ^ flip)
                })
                .collect()
        }
        (ValueSet::Str { .. }, Vector::Str { codes, strings }) => codes
            .iter()
            .map(|&c| {
                let s = if c == NULL_CODE { None } else { strings.get(c) };
                i8::from(m.set.has_str(s)) ^ flip
            })
            .collect(),
        (ValueSet::Values(values), rows) => (0..rows.len())
            .map(|i| i8::from(values.contains(&rows.get(i))) ^ flip)
            .collect(),
        // The compiler gives a match the lane of its target's type.
        (_, rows) => vec![NULL_BOOL; rows.len()],
    })
}

/// Appends `base + i` to `out` for each `i < n` where `hit(i)`, without a branch per row.
#[inline]
pub(super) fn push_where(out: &mut Vec<u32>, base: usize, n: usize, hit: impl Fn(usize) -> bool) {
    let len = out.len();
    out.resize(len + n, 0);
    let buf = &mut out[len..];
    let mut k = 0;
    for i in 0..n {
        // k <= i < n: always in bounds.
        buf[k] = (base + i) as u32;
        k += usize::from(hit(i));
    }
    out.truncate(len + k);
}

/// Each slice of rows `start .. start + count` of `column` with its offset from `start`.
fn slices<T: Copy>(
    column: &Chunked<T>,
    start: usize,
    count: usize,
) -> impl Iterator<Item = (usize, &[T])> {
    column.slices_range(start, count).scan(0, |base, slice| {
        let at = *base;
        *base += slice.len();
        Some((at, slice))
    })
}

/// The rows of `start .. start + count` where `node` holds, as offsets from `start`, straight
/// off the column's storage, for a match or a range with constant bounds on a column; `false`
/// (and `out` untouched) for any other node.
pub(super) fn select(
    node: &Node,
    data: &TableData,
    start: usize,
    count: usize,
    out: &mut Vec<u32>,
) -> bool {
    let count = count.min(data.len().saturating_sub(start));
    match &node.kind {
        Kind::Match(m) => {
            let Kind::Column(c) = m.target.kind else {
                return false;
            };
            let Some(column) = data.columns.get(c) else {
                return false;
            };
            let flip = m.inverted;
            match (&m.set, column) {
                (ValueSet::I32(lane), Column::I32(rows)) => {
                    for (at, s) in slices(rows, start, count) {
                        push_where(out, at, s.len(), |i| lane.has(s[i]) != flip);
                    }
                }
                (ValueSet::I64(lane), Column::I64(rows) | Column::Timestamp(rows)) => {
                    for (at, s) in slices(rows, start, count) {
                        push_where(out, at, s.len(), |i| lane.has(s[i]) != flip);
                    }
                }
                (ValueSet::F64 { bits, nan }, Column::F64(rows)) => {
                    for (at, s) in slices(rows, start, count) {
                        push_where(out, at, s.len(), |i| {
                            let x = s[i];
                            (bits.has(f64_key(x)) | (*nan & x.is_nan())) != flip
                        });
                    }
                }
                (ValueSet::Str { null, .. }, Column::String(strings)) => {
                    let (Some(dict), Some(codes)) = (strings.dictionary(), strings.codes()) else {
                        return false;
                    };
                    let entries = m.entries(dict);
                    let entries = &entries.1;
                    for (at, s) in slices(codes, start, count) {
                        push_where(out, at, s.len(), |i| {
                            entries.get(s[i] as usize).copied().unwrap_or(*null) != flip
                        });
                    }
                }
                _ => return false,
            }
            true
        }
        Kind::InRange(args) => {
            let [value, low, high] = &**args;
            let (Kind::Column(c), Kind::Const(lo), Kind::Const(hi)) =
                (&value.kind, &low.kind, &high.kind)
            else {
                return false;
            };
            macro_rules! range {
                ($rows:expr, $null:expr, $lo:expr, $hi:expr) => {{
                    for (at, s) in slices($rows, start, count) {
                        push_where(out, at, s.len(), |i| {
                            let x = s[i];
                            (x != $null) & ($lo <= x) & (x <= $hi)
                        });
                    }
                    true
                }};
            }
            match (data.columns.get(*c), lo, hi) {
                (Some(Column::I32(rows)), Value::I32(lo), Value::I32(hi)) => {
                    range!(rows, NULL_I32, *lo, *hi)
                }
                (Some(Column::I64(rows)), Value::I64(lo), Value::I64(hi))
                | (Some(Column::Timestamp(rows)), Value::Timestamp(lo), Value::Timestamp(hi)) => {
                    range!(rows, NULL_I64, *lo, *hi)
                }
                (Some(Column::F64(rows)), Value::F64(lo), Value::F64(hi)) => {
                    range!(rows, NULL_F64, *lo, *hi)
                }
                _ => false,
            }
        }
        // A conjunction with a side that selects fast: that side's rows, kept where the other
        // holds too.
        Kind::And(l, r) => {
            let other = if select(l, data, start, count, out) {
                r
            } else if select(r, data, start, count, out) {
                l
            } else {
                return false;
            };
            let mut also = Vec::new();
            if select(other, data, start, count, &mut also) {
                let mut j = 0;
                out.retain(|&i| {
                    j += also[j..].partition_point(|&s| s < i);
                    also.get(j) == Some(&i)
                });
            } else if let Vector::Bool(holds) = eval(other, data, start, count, start) {
                out.retain(|&i| holds.get(i as usize) == Some(&1));
            } else {
                out.clear();
            }
            true
        }
        _ => false,
    }
}

/// A bound of `inRange`: one value for every row (a constant), or a value per row.
enum Bound<'a> {
    One(Value),
    Rows(Vector<'a>),
}

impl Bound<'_> {
    fn get(&self, i: usize) -> Value {
        match self {
            Bound::One(v) => v.clone(),
            Bound::Rows(v) => v.get(i),
        }
    }
}

fn bound<'a>(
    node: &Node,
    data: &'a TableData,
    start: usize,
    count: usize,
    pos: usize,
) -> Bound<'a> {
    match &node.kind {
        Kind::Const(v) => Bound::One(lane_value(node.ty, v)),
        _ => Bound::Rows(eval(node, data, start, count, pos)),
    }
}

/// A constant as its vector would give it back (a null as `Null`, an int widened to `ty`).
fn lane_value(ty: Option<ColumnType>, v: &Value) -> Value {
    match (ty, v) {
        (Some(ColumnType::I64), Value::I32(x)) => Value::I64(i64::from(*x)),
        (Some(ColumnType::F64), Value::I32(x)) => Value::F64(f64::from(*x)),
        (Some(ColumnType::F64), Value::I64(x)) => Value::F64(*x as f64),
        _ => v.clone(),
    }
}

/// Orders two values of one type; `None` when either is null or they do not order (NaN).
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::I32(x), Value::I32(y)) | (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::I64(x), Value::I64(y))
        | (Value::Timestamp(x), Value::Timestamp(y))
        | (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        (Value::F64(x), Value::F64(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `inRange(value, low, high)` over rows `start .. start + count`.
pub(super) fn eval_in_range<'a>(
    args: &[Node; 3],
    data: &'a TableData,
    start: usize,
    count: usize,
    pos: usize,
) -> Vector<'a> {
    let [value, low, high] = args;
    let rows = eval(value, data, start, count, pos);
    let (low, high) = (
        bound(low, data, start, count, pos),
        bound(high, data, start, count, pos),
    );
    // The fast lanes: constant bounds over numbers.
    macro_rules! lane {
        ($rows:expr, $null:expr, $lo:expr, $hi:expr) => {
            $rows
                .iter()
                .map(|&x| i8::from(x != $null && $lo <= x && x <= $hi))
                .collect()
        };
    }
    Vector::Bool(match (&rows, &low, &high) {
        (Vector::I32(v), Bound::One(Value::I32(lo)), Bound::One(Value::I32(hi))) => {
            lane!(v, NULL_I32, *lo, *hi)
        }
        (Vector::I64(v), Bound::One(Value::I64(lo)), Bound::One(Value::I64(hi)))
        | (
            Vector::Timestamp(v),
            Bound::One(Value::Timestamp(lo)),
            Bound::One(Value::Timestamp(hi)),
        ) => lane!(v, NULL_I64, *lo, *hi),
        (Vector::F64(v), Bound::One(Value::F64(lo)), Bound::One(Value::F64(hi))) => {
            lane!(v, NULL_F64, *lo, *hi)
        }
        _ => (0..rows.len())
            .map(|i| {
                let x = rows.get(i);
                let above = order(&x, &low.get(i)).is_some_and(|o| o.is_ge());
                let below = order(&x, &high.get(i)).is_some_and(|o| o.is_le());
                i8::from(above && below)
            })
            .collect(),
    })
}

/// A constant node's value, if `node` is one: what it evaluates to on a row of no columns.
fn folded(node: &Node) -> Value {
    let empty = TableData {
        schema: Schema::default(),
        columns: Vec::new(),
        first_key: 0,
        bare_rows: 1,
    };
    let value = eval(node, &empty, 0, 1, 0).get(0);
    lane_value(node.ty, &value)
}

/// Whether two types may be compared by a match (numbers widen; null goes with anything).
fn comparable(a: Option<ColumnType>, b: Option<ColumnType>) -> bool {
    match (a, b) {
        (None, _) | (_, None) => true,
        (Some(a), Some(b)) => a == b || (a.is_numeric() && b.is_numeric()),
    }
}

/// Rewrites `X == c`, `c == X` and `X != c` (a constant `c`, a non-constant `X`) as a match, so
/// that a dictionary column compares once per entry. Anything else is returned as it is.
pub(super) fn lower_equality(node: Node) -> Node {
    let Node {
        kind: Kind::Cmp(op @ ("==" | "!="), left, right),
        ty,
    } = node
    else {
        return node;
    };
    let is_const = |n: &Node| match &n.kind {
        Kind::Const(_) => true,
        Kind::Cast(inner) | Kind::Neg(inner) => matches!(inner.kind, Kind::Const(_)),
        _ => false,
    };
    let (target, value) = match (is_const(&left), is_const(&right)) {
        (false, true) => (*left, *right),
        (true, false) => (*right, *left),
        _ => {
            return Node {
                kind: Kind::Cmp(op, left, right),
                ty,
            };
        }
    };
    let Some(target_ty) = target.ty else {
        return Node {
            kind: Kind::Cmp(op, Box::new(target), Box::new(value)),
            ty,
        };
    };
    let set = ValueSet::new(target_ty, &[folded(&value)], false, false);
    Node {
        kind: Kind::Match(Box::new(Match {
            target,
            set,
            inverted: op == "!=",
            entries: RefCell::new((0, Vec::new())),
        })),
        ty,
    }
}

impl Compiler<'_> {
    /// Compiles `expr` and folds it to a value; `None` if it reads a column, `i`/`ii` or the
    /// clock.
    fn constant(&mut self, expr: &Expr) -> Result<(Node, Option<Value>)> {
        let columns = std::mem::take(&mut self.columns);
        let position = std::mem::replace(&mut self.reads_position, false);
        let clock = self.clock.take();
        let node = self.node(expr);
        let constant = self.columns.is_empty() && !self.reads_position && self.clock.is_none();
        for c in columns {
            if !self.columns.contains(&c) {
                self.columns.push(c);
            }
        }
        self.reads_position |= position;
        if clock.is_some() {
            self.clock = clock;
        }
        let node = node?;
        let value = constant.then(|| folded(&node));
        Ok((node, value))
    }

    /// `target [icase] [not] in values...`.
    pub(super) fn match_filter(&mut self, m: &MatchExpr, p: usize) -> Result<Node> {
        let target = self.node(&m.target)?;
        let Some(mut ty) = target.ty else {
            return err(m.target.position(), "'in' cannot test a bare null");
        };
        if m.icase {
            if ty != ColumnType::String {
                return err(
                    p,
                    format!("icase compares strings; the value tested is {ty}"),
                );
            }
            crate::text::require("icase").or_else(|message| err(p, message))?;
        }
        let mut values = Vec::with_capacity(m.values.len());
        for expr in &m.values {
            let (node, value) = self.constant(expr)?;
            let Some(value) = value else {
                return err(
                    expr.position(),
                    "the values of 'in' must be constants (literals or variables), \
                     not an expression of columns, i, ii or now()",
                );
            };
            if !comparable(Some(ty), node.ty) {
                return err(
                    expr.position(),
                    format!("'in' on {ty} cannot take a value of type {}", show(node.ty)),
                );
            }
            if let Some(t) = node.ty.filter(|t| t.is_numeric() && rank(*t) > rank(ty)) {
                ty = t;
            }
            values.push(value);
        }
        let target = widen(target, ty);
        Ok(Node {
            kind: Kind::Match(Box::new(Match {
                target,
                set: ValueSet::new(ty, &values, true, m.icase),
                inverted: m.inverted,
                entries: RefCell::new((0, Vec::new())),
            })),
            ty: Some(ColumnType::Bool),
        })
    }

    /// `inRange(...)` and `now()`; `None` for any other function.
    pub(super) fn match_call(
        &mut self,
        name: &str,
        args: &[Expr],
        p: usize,
    ) -> Result<Option<Node>> {
        match name {
            "now" => {
                if !args.is_empty() {
                    return err(p, format!("now() takes no arguments, not {}", args.len()));
                }
                let clock = self.clock.get_or_insert_with(Clock::new).clone();
                Ok(Some(Node {
                    kind: Kind::Now(clock),
                    ty: Some(ColumnType::Timestamp),
                }))
            }
            "inRange" => {
                if args.len() != 3 {
                    return err(
                        p,
                        format!(
                            "inRange() takes 3 arguments (value, low, high), not {}",
                            args.len()
                        ),
                    );
                }
                let nodes = args
                    .iter()
                    .map(|a| self.constant(a))
                    .collect::<Result<Vec<_>>>()?;
                let mut ty = None;
                for ((node, _), arg) in nodes.iter().zip(args) {
                    if !comparable(ty, node.ty) {
                        return err(
                            arg.position(),
                            format!(
                                "inRange() cannot compare {} with {}",
                                show(ty),
                                show(node.ty)
                            ),
                        );
                    }
                    ty = match (ty, node.ty) {
                        (Some(a), Some(b)) if rank(b) > rank(a) => Some(b),
                        (None, b) => b,
                        (a, _) => a,
                    };
                }
                let Some(ty) = ty else {
                    return err(p, "inRange() needs at least one typed argument");
                };
                if matches!(ty, ColumnType::Bool | ColumnType::Binary) {
                    return err(p, format!("inRange() does not order {ty} values"));
                }
                // Constant bounds become constants of the common type (the fast lanes).
                let typed = |(node, value): (Node, Option<Value>)| {
                    let node = if node.ty.is_none() {
                        null_of(ty)
                    } else {
                        widen(node, ty)
                    };
                    match value {
                        Some(_) => Node {
                            kind: Kind::Const(folded(&node)),
                            ty: Some(ty),
                        },
                        None => node,
                    }
                };
                let [value, low, high] = <[(Node, Option<Value>); 3]>::try_from(nodes)
                    .map_err(|_| crate::Error::Invalid("inRange arity".into()))?
                    .map(typed);
                Ok(Some(Node {
                    kind: Kind::InRange(Box::new([value, low, high])),
                    ty: Some(ColumnType::Bool),
                }))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
#[path = "match_tests.rs"]
mod tests;
