//! Deephaven's time functions in formulas: their signatures (checked when a formula compiles)
//! and their kernels (one pass over a batch's vectors).
//!
//! Names, argument orders and null rules are `DateTimeUtils`': a null argument gives a null
//! result (`isBefore`/`isAfter` give false). A time zone argument is a compile-time constant (a
//! zone literal `'ET'`, a string `` `America/New_York` ``, or `timeZone(...)` of one), resolved
//! once; a kernel takes the zone's offset cache once per batch, so a part of 1M rows costs a
//! binary search per row, not a host call. Where Java throws (an overflow, a non-positive bin
//! interval at run time) the result is null instead.
//!
//! Invariant: every kernel is exact over the whole range of an instant. Bins, sums and
//! differences are computed so that they cannot overflow (bins in `i128`, sums checked), and a
//! result beyond the range of an instant or a long (or on its null sentinel) is null; a local
//! date-time is a day and a time of day, so parts and formats of instants within 18 hours of
//! either end (whose local date-time or day start lies outside the range) are still right.
//! `+` and `-` on instants compile to `plus`, `minus` (see `instant_arith`), with their rules.
//!
//! `hourOfDay`, `minuteOfDay` and `secondOfDay` with two arguments count the time elapsed since
//! the local day's start, as `DateTimeUtils.nanosOfDay` does (on a DST day, 12:00 in New York is
//! 11 hours after midnight in March); a third argument `true` (Deephaven's `localTime`) reads the
//! wall clock instead.

use std::sync::Arc;

use super::eval::{Strings, Vector};
use super::parser::Expr;
use super::{Compiler, Kind, Node, a_pos, err, null_of, show, widen};
use crate::Result;
use crate::column::{ColumnType, NULL_F64, NULL_I32, NULL_I64, Value};
use crate::time::calendar::{self, civil_from_days};
use crate::time::zone::{Zone, zone};
use crate::time::{DAY, HOUR, MICRO, MILLI, MINUTE, SECOND, instant_in_range};

/// A part of a local date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Year,
    MonthOfYear,
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    HourOfDay,
    MinuteOfHour,
    MinuteOfDay,
    SecondOfMinute,
    SecondOfDay,
    NanosOfSecond,
    MillisOfSecond,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFn {
    LowerBin,
    UpperBin,
    /// `epochNanos` … `epochSeconds`: the divisor, and whether it floors (`toEpochMilli`,
    /// `getEpochSecond`) or truncates (`nanosToMicros`).
    Epoch(i64, bool),
    /// `epochNanosToInstant` …: the multiplier.
    ToInstant(i64),
    Plus,
    Minus,
    /// `minus(t1, t2)`, `diffNanos(start, end)` = end − start: the divisor to a long.
    Diff(i64),
    /// `diffSeconds`, `diffMinutes`, `diffDays`: the divisor to a double.
    DiffF(i64),
    IsBefore,
    IsAfter,
    /// A part in a zone; `true` to read the wall clock for `…OfDay`.
    Part(Part, bool),
    ToLocalDate,
    ToLocalTime,
    FormatDate,
    FormatDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Arg {
    Instant,
    Long,
    Zone,
    /// A constant `true` or `false` (Deephaven's `localTime`).
    Flag,
}

type Signature = (&'static str, TimeFn, &'static [Arg], ColumnType);

/// Every time function's signatures: (name, function, argument kinds, result type). A table,
/// not code: it costs the bundle a few hundred bytes.
const SIGNATURES: &[Signature] = {
    use Arg::{Flag, Instant, Long, Zone};
    use ColumnType as T;
    use Part as P;
    use TimeFn as F;
    const IZ: &[Arg] = &[Instant, Zone];
    const IZF: &[Arg] = &[Instant, Zone, Flag];
    const II: &[Arg] = &[Instant, Instant];
    const IL: &[Arg] = &[Instant, Long];
    &[
        ("lowerBin", F::LowerBin, IL, T::Timestamp),
        (
            "lowerBin",
            F::LowerBin,
            &[Instant, Long, Long],
            T::Timestamp,
        ),
        ("upperBin", F::UpperBin, IL, T::Timestamp),
        (
            "upperBin",
            F::UpperBin,
            &[Instant, Long, Long],
            T::Timestamp,
        ),
        ("epochNanos", F::Epoch(1, false), &[Instant], T::I64),
        ("epochMicros", F::Epoch(MICRO, false), &[Instant], T::I64),
        ("epochMillis", F::Epoch(MILLI, true), &[Instant], T::I64),
        ("epochSeconds", F::Epoch(SECOND, true), &[Instant], T::I64),
        (
            "epochNanosToInstant",
            F::ToInstant(1),
            &[Long],
            T::Timestamp,
        ),
        (
            "epochMicrosToInstant",
            F::ToInstant(MICRO),
            &[Long],
            T::Timestamp,
        ),
        (
            "epochMillisToInstant",
            F::ToInstant(MILLI),
            &[Long],
            T::Timestamp,
        ),
        (
            "epochSecondsToInstant",
            F::ToInstant(SECOND),
            &[Long],
            T::Timestamp,
        ),
        ("plus", F::Plus, IL, T::Timestamp),
        ("minus", F::Minus, IL, T::Timestamp),
        ("minus", F::Diff(0), II, T::I64),
        ("diffNanos", F::Diff(1), II, T::I64),
        ("diffMicros", F::Diff(MICRO), II, T::I64),
        ("diffMillis", F::Diff(MILLI), II, T::I64),
        ("diffSeconds", F::DiffF(SECOND), II, T::F64),
        ("diffMinutes", F::DiffF(MINUTE), II, T::F64),
        ("diffDays", F::DiffF(DAY), II, T::F64),
        ("isBefore", F::IsBefore, II, T::Bool),
        ("isAfter", F::IsAfter, II, T::Bool),
        ("year", F::Part(P::Year, false), IZ, T::I32),
        ("monthOfYear", F::Part(P::MonthOfYear, false), IZ, T::I32),
        ("dayOfMonth", F::Part(P::DayOfMonth, false), IZ, T::I32),
        ("dayOfWeek", F::Part(P::DayOfWeek, false), IZ, T::I32),
        ("dayOfYear", F::Part(P::DayOfYear, false), IZ, T::I32),
        ("hourOfDay", F::Part(P::HourOfDay, false), IZ, T::I32),
        ("hourOfDay", F::Part(P::HourOfDay, false), IZF, T::I32),
        ("minuteOfHour", F::Part(P::MinuteOfHour, false), IZ, T::I32),
        ("minuteOfDay", F::Part(P::MinuteOfDay, false), IZ, T::I32),
        ("minuteOfDay", F::Part(P::MinuteOfDay, false), IZF, T::I32),
        (
            "secondOfMinute",
            F::Part(P::SecondOfMinute, false),
            IZ,
            T::I32,
        ),
        ("secondOfDay", F::Part(P::SecondOfDay, false), IZ, T::I32),
        ("secondOfDay", F::Part(P::SecondOfDay, false), IZF, T::I32),
        (
            "nanosOfSecond",
            F::Part(P::NanosOfSecond, false),
            IZ,
            T::I64,
        ),
        (
            "millisOfSecond",
            F::Part(P::MillisOfSecond, false),
            IZ,
            T::I32,
        ),
        ("toLocalDate", F::ToLocalDate, IZ, T::Date),
        ("toLocalTime", F::ToLocalTime, IZ, T::Time),
        ("formatDate", F::FormatDate, IZ, T::String),
        ("formatDateTime", F::FormatDateTime, IZ, T::String),
    ]
};

/// The signatures of a time function by name; `None` for a name that is not one.
fn signatures(name: &str) -> Option<Vec<(TimeFn, &'static [Arg], ColumnType)>> {
    let found: Vec<_> = SIGNATURES
        .iter()
        .filter(|s| s.0 == name)
        .map(|&(_, f, args, ty)| (f, args, ty))
        .collect();
    (!found.is_empty()).then_some(found)
}

/// The zone a zone argument names: `'ET'`, `` `ET` ``, `"ET"`, `timeZone(`ET`)`.
fn zone_arg(expr: &Expr) -> Result<Arc<Zone>> {
    let name = match expr {
        Expr::Time(s, p) | Expr::Str(s, p) => (s.trim(), *p),
        Expr::Call(f, args, p) if f == "timeZone" => match args.as_slice() {
            [Expr::Time(s, p) | Expr::Str(s, p)] => (s.trim(), *p),
            [other] => {
                return err(
                    other.position(),
                    "timeZone() takes a zone name: timeZone(`America/New_York`)",
                );
            }
            _ => {
                return err(
                    *p,
                    format!("timeZone() takes 1 argument, not {}", args.len()),
                );
            }
        },
        other => {
            return err(
                other.position(),
                "a time zone here is a constant: 'America/New_York', `ET` or timeZone(`UTC`)",
            );
        }
    };
    zone(name.0).or_else(|m| err(name.1, m))
}

fn describe(args: &[Arg]) -> String {
    let names: Vec<&str> = args
        .iter()
        .map(|a| match a {
            Arg::Instant => "instant",
            Arg::Long => "long",
            Arg::Zone => "time zone",
            Arg::Flag => "boolean",
        })
        .collect();
    names.join(", ")
}

/// Compiles a call of a time function; `None` if `name` is not one.
pub(super) fn compile(
    c: &mut Compiler<'_>,
    name: &str,
    args: &[Expr],
    p: usize,
) -> Option<Result<Node>> {
    if name == "timeZone" {
        return Some(err(
            p,
            "timeZone() is a time zone: it is only an argument of a time function",
        ));
    }
    let signatures = signatures(name)?;
    Some(compile_call(c, name, args, p, signatures))
}

fn compile_call(
    c: &mut Compiler<'_>,
    name: &str,
    args: &[Expr],
    p: usize,
    signatures: Vec<(TimeFn, &'static [Arg], ColumnType)>,
) -> Result<Node> {
    let arities: Vec<usize> = signatures.iter().map(|s| s.1.len()).collect();
    let candidates: Vec<_> = signatures
        .into_iter()
        .filter(|s| s.1.len() == args.len())
        .collect();
    if candidates.is_empty() {
        let wanted = arities
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return err(
            p,
            format!("{name}() takes {wanted} argument(s), not {}", args.len()),
        );
    }
    // Value arguments are compiled once; zone and flag arguments are read from the syntax.
    let kinds = candidates[0].1;
    let mut compiled: Vec<Option<Node>> = Vec::with_capacity(args.len());
    for (arg, kind) in args.iter().zip(kinds) {
        compiled.push(match kind {
            Arg::Instant | Arg::Long => Some(c.node(arg)?),
            Arg::Zone | Arg::Flag => None,
        });
    }
    let fits = |kind: Arg, node: &Option<Node>| {
        matches!(
            (kind, node.as_ref().map(|n| n.ty)),
            (Arg::Instant, Some(None | Some(ColumnType::Timestamp)))
                | (
                    Arg::Long,
                    Some(None | Some(ColumnType::I32 | ColumnType::I64))
                )
                | (Arg::Zone | Arg::Flag, None)
        )
    };
    let Some((func, kinds, ty)) = candidates
        .iter()
        .find(|(_, kinds, _)| kinds.iter().zip(&compiled).all(|(k, n)| fits(*k, n)))
        .cloned()
    else {
        let i = kinds
            .iter()
            .zip(&compiled)
            .position(|(k, n)| !fits(*k, n))
            .unwrap_or(0);
        let got = compiled[i].as_ref().map(|n| n.ty).unwrap_or(None);
        let wanted = candidates
            .iter()
            .map(|s| format!("({})", describe(s.1)))
            .collect::<Vec<_>>()
            .join(" or ");
        return err(
            args[i].position(),
            format!(
                "{name}() takes {wanted}; argument {} is {}",
                i + 1,
                show(got)
            ),
        );
    };
    let mut nodes = Vec::new();
    let mut zone = None;
    let mut func = func;
    for ((arg, kind), node) in args.iter().zip(kinds).zip(compiled) {
        match kind {
            Arg::Instant => nodes.push(match node {
                Some(n) if n.ty.is_some() => n,
                _ => null_of(ColumnType::Timestamp),
            }),
            Arg::Long => nodes.push(match node {
                Some(n) if n.ty.is_some() => widen(n, ColumnType::I64),
                _ => null_of(ColumnType::I64),
            }),
            Arg::Zone => zone = Some(zone_arg(arg)?),
            Arg::Flag => {
                let Expr::Bool(local, _) = arg else {
                    return err(
                        arg.position(),
                        format!("{name}()'s third argument (localTime) is true or false"),
                    );
                };
                if let TimeFn::Part(part, _) = func {
                    func = TimeFn::Part(part, *local);
                }
            }
        }
    }
    let constant = |node: &Node| match &node.kind {
        Kind::Const(Value::I64(v)) => Some(*v),
        Kind::Cast(inner) => match inner.kind {
            Kind::Const(Value::I32(v)) => Some(i64::from(v)),
            _ => None,
        },
        _ => None,
    };
    if matches!(func, TimeFn::LowerBin | TimeFn::UpperBin)
        && let Some(v) = constant(&nodes[1])
        && v <= 0
    {
        return err(
            a_pos(&args[1..]),
            format!("{name}()'s interval must be positive, not {v}"),
        );
    }
    Ok(Node {
        kind: Kind::Time(func, nodes, zone),
        ty: Some(ty),
    })
}

fn longs(v: Vector<'_>) -> Vec<i64> {
    match v {
        Vector::I64(v) | Vector::Timestamp(v) | Vector::Time(v) => v,
        other => vec![NULL_I64; other.len()],
    }
}

/// The start of the bin holding `t`: the largest `offset + k · interval` at or below it,
/// exactly (as `i128`: near the ends of the range it may lie beyond an `i64`). `interval` > 0.
fn bin_start(t: i64, interval: i64, offset: i64) -> i128 {
    let x = i128::from(t) - i128::from(offset);
    x - x.rem_euclid(i128::from(interval)) + i128::from(offset)
}

/// Deephaven's `lowerBin(t, interval, offset)` (`upper`: `upperBin`), or null where the bin
/// leaves the range of an instant (Java overflows there) or the interval is not positive.
fn bin(t: i64, interval: i64, offset: i64, upper: bool) -> i64 {
    if t == NULL_I64 || interval == NULL_I64 || offset == NULL_I64 || interval <= 0 {
        return NULL_I64;
    }
    let lo = bin_start(t, interval, offset);
    let bin = if upper && lo != i128::from(t) {
        lo + i128::from(interval)
    } else {
        lo
    };
    instant_in_range(bin).unwrap_or(NULL_I64)
}

fn map1(a: &[i64], mut f: impl FnMut(i64) -> Option<i64>) -> Vec<i64> {
    a.iter()
        .map(|&x| {
            if x == NULL_I64 {
                NULL_I64
            } else {
                f(x).unwrap_or(NULL_I64)
            }
        })
        .collect()
}

fn map2(a: &[i64], b: &[i64], f: impl Fn(i64, i64) -> Option<i64>) -> Vec<i64> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            if x == NULL_I64 || y == NULL_I64 {
                NULL_I64
            } else {
                f(x, y).filter(|&v| v != NULL_I64).unwrap_or(NULL_I64)
            }
        })
        .collect()
}

/// An argument's values for a batch: a constant (not spread over the rows), or one per row.
pub(super) enum Input {
    Const(i64),
    Rows(Vec<i64>),
}

impl Input {
    /// The argument `node`, evaluated by `rows` unless it is a constant.
    pub(super) fn of<'a>(node: &Node, rows: impl FnOnce(&Node) -> Vector<'a>) -> Input {
        match &node.kind {
            Kind::Const(Value::I64(v) | Value::Timestamp(v)) => Input::Const(*v),
            Kind::Const(Value::Null) => Input::Const(NULL_I64),
            Kind::Cast(inner) if matches!(inner.kind, Kind::Const(Value::I32(_))) => {
                match inner.kind {
                    Kind::Const(Value::I32(v)) => Input::Const(i64::from(v)),
                    _ => Input::Const(NULL_I64),
                }
            }
            _ => Input::Rows(longs(rows(node))),
        }
    }

    fn rows(self, count: usize) -> Vec<i64> {
        match self {
            Input::Const(v) => vec![v; count],
            Input::Rows(v) => v,
        }
    }
}

/// `lowerBin`/`upperBin` of each instant, with a constant interval and offset: timestamps that
/// rise stay in one bin for many rows, so the last bin `[lo, hi)` is kept (exact, as `i128`)
/// and a division is paid only when a row leaves it.
fn bins(t: &[i64], interval: i64, offset: i64, upper: bool) -> Vec<i64> {
    if interval == NULL_I64 || offset == NULL_I64 || interval <= 0 {
        return vec![NULL_I64; t.len()];
    }
    let (mut lo, mut hi) = (1i128, 0i128); // an empty bin
    let (mut lower, mut higher) = (NULL_I64, NULL_I64); // its ends as instants (null beyond)
    t.iter()
        .map(|&t| {
            if t == NULL_I64 {
                return NULL_I64;
            }
            let x = i128::from(t);
            if !(lo <= x && x < hi) {
                lo = bin_start(t, interval, offset);
                hi = lo + i128::from(interval);
                lower = instant_in_range(lo).unwrap_or(NULL_I64);
                higher = instant_in_range(hi).unwrap_or(NULL_I64);
            }
            if upper && x != lo { higher } else { lower }
        })
        .collect()
}

/// Evaluates a time function over a batch's arguments.
pub(super) fn eval<'a>(
    func: TimeFn,
    args: Vec<Input>,
    zone: Option<&Zone>,
    count: usize,
) -> Vector<'a> {
    let arity = args.len();
    let mut args = args.into_iter();
    if let TimeFn::LowerBin | TimeFn::UpperBin = func {
        let mut next = || args.next().unwrap_or(Input::Const(NULL_I64));
        let (t, interval) = (next().rows(count), next());
        let offset = if arity == 3 { next() } else { Input::Const(0) };
        let upper = func == TimeFn::UpperBin;
        if let (Input::Const(i), Input::Const(o)) = (&interval, &offset) {
            return Vector::Timestamp(bins(&t, *i, *o, upper));
        }
        let (interval, offset) = (interval.rows(count), offset.rows(count));
        let out = t
            .iter()
            .zip(&interval)
            .zip(&offset)
            .map(|((&t, &i), &o)| bin(t, i, o, upper))
            .collect();
        return Vector::Timestamp(out);
    }
    let mut args = args.map(|a| a.rows(count));
    let mut next = || args.next().unwrap_or_else(|| vec![NULL_I64; count]);
    match func {
        TimeFn::LowerBin | TimeFn::UpperBin => Vector::Timestamp(vec![NULL_I64; count]),
        TimeFn::Epoch(unit, floor) => Vector::I64(map1(&next(), |t| {
            Some(if floor { t.div_euclid(unit) } else { t / unit })
        })),
        TimeFn::ToInstant(unit) => Vector::Timestamp(map1(&next(), |n| n.checked_mul(unit))),
        TimeFn::Plus => Vector::Timestamp(map2(&next(), &next(), i64::checked_add)),
        TimeFn::Minus => Vector::Timestamp(map2(&next(), &next(), i64::checked_sub)),
        TimeFn::Diff(unit) => {
            let (a, b) = (next(), next());
            // minus(t1, t2) is t1 − t2; diffNanos(start, end) is end − start.
            let (x, y) = if unit == 0 { (&a, &b) } else { (&b, &a) };
            // A difference of exactly i64::MIN is Java's NULL_LONG, which stays null.
            Vector::I64(map2(x, y, |x, y| {
                x.checked_sub(y)
                    .filter(|&d| d != NULL_I64)
                    .map(|d| d / unit.max(1))
            }))
        }
        TimeFn::DiffF(unit) => {
            let (a, b) = (next(), next());
            Vector::F64(
                map2(&b, &a, i64::checked_sub)
                    .iter()
                    .map(|&d| {
                        if d == NULL_I64 {
                            NULL_F64
                        } else {
                            d as f64 / unit as f64
                        }
                    })
                    .collect(),
            )
        }
        TimeFn::IsBefore | TimeFn::IsAfter => {
            let (a, b) = (next(), next());
            Vector::Bool(
                a.iter()
                    .zip(&b)
                    .map(|(&x, &y)| {
                        i8::from(
                            x != NULL_I64
                                && y != NULL_I64
                                && if func == TimeFn::IsBefore {
                                    x < y
                                } else {
                                    x > y
                                },
                        )
                    })
                    .collect(),
            )
        }
        TimeFn::Part(part, wall_clock) => {
            let Some(zone) = zone else {
                return Vector::I32(vec![NULL_I32; count]);
            };
            parts(part, wall_clock, &next(), zone)
        }
        TimeFn::ToLocalDate | TimeFn::ToLocalTime => {
            let t = next();
            let Some(zone) = zone else {
                return Vector::Date(vec![NULL_I32; count]);
            };
            let mut offsets = zone.offsets();
            if func == TimeFn::ToLocalTime {
                return Vector::Time(map1(&t, |t| Some(offsets.local(t).1)));
            }
            Vector::Date(
                t.iter()
                    .map(|&t| {
                        if t == NULL_I64 {
                            NULL_I32
                        } else {
                            i32::try_from(offsets.local(t).0).unwrap_or(NULL_I32)
                        }
                    })
                    .collect(),
            )
        }
        TimeFn::FormatDate | TimeFn::FormatDateTime => {
            let t = next();
            let values: Vec<Option<String>> = match zone {
                None => vec![None; count],
                Some(zone) => {
                    let mut offsets = zone.offsets();
                    t.iter()
                        .map(|&t| {
                            if t == NULL_I64 {
                                return None;
                            }
                            let (days, nod) = offsets.local(t);
                            let mut s = String::with_capacity(40);
                            if func == TimeFn::FormatDate {
                                calendar::format_date(days, &mut s);
                            } else {
                                calendar::format_date_time(days, nod, zone.name(), &mut s);
                            }
                            Some(s)
                        })
                        .collect()
                }
            };
            Vector::Str {
                codes: (0..values.len() as u32).collect(),
                strings: Strings::Owned(values),
            }
        }
    }
}

/// A part of each instant in `zone`.
fn parts<'a>(part: Part, wall_clock: bool, t: &[i64], zone: &Zone) -> Vector<'a> {
    let mut offsets = zone.offsets();
    // The start of the local day (exact: near the ends of the range it may precede every
    // instant), kept while rows stay in one day.
    let mut day_start: Option<(i64, i128)> = None;
    let mut value = |t: i64| -> i64 {
        let (days, nod) = offsets.local(t);
        let elapsed = |offsets: &mut crate::time::zone::Offsets<'_>,
                       day_start: &mut Option<(i64, i128)>| {
            if wall_clock {
                return nod;
            }
            let start = match *day_start {
                Some((d, s)) if d == days => s,
                _ => {
                    let s = offsets.instant(days, 0);
                    *day_start = Some((days, s));
                    s
                }
            };
            // Within a day or so of the day's start, whatever the offsets.
            i64::try_from(i128::from(t) - start).unwrap_or(NULL_I64)
        };
        match part {
            Part::Year => civil_from_days(days).0,
            Part::MonthOfYear => i64::from(civil_from_days(days).1),
            Part::DayOfMonth => i64::from(civil_from_days(days).2),
            Part::DayOfWeek => i64::from(calendar::day_of_week(days)),
            Part::DayOfYear => i64::from(calendar::day_of_year(days)),
            Part::MinuteOfHour => nod / MINUTE % 60,
            Part::SecondOfMinute => nod / SECOND % 60,
            Part::NanosOfSecond => nod % SECOND,
            Part::MillisOfSecond => nod % SECOND / MILLI,
            Part::HourOfDay => elapsed(&mut offsets, &mut day_start) / HOUR,
            Part::MinuteOfDay => elapsed(&mut offsets, &mut day_start) / MINUTE,
            Part::SecondOfDay => elapsed(&mut offsets, &mut day_start) / SECOND,
        }
    };
    if part == Part::NanosOfSecond {
        return Vector::I64(map1(t, |t| Some(value(t))));
    }
    Vector::I32(
        t.iter()
            .map(|&t| {
                if t == NULL_I64 {
                    NULL_I32
                } else {
                    i32::try_from(value(t)).unwrap_or(NULL_I32)
                }
            })
            .collect(),
    )
}
