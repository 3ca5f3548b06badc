//! [`Cells`]: one column's values at this cycle, read out of its storage once, in row order, so a
//! text writer can visit a table row by row at O(1) a cell and the Arrow writer can lay a column
//! out; and the text of one cell, which the CSV and JSON-lines writers share.
//!
//! Invariant: a cell equal to its type's null sentinel (see [`crate::column`]) is written as null,
//! never as the sentinel's number; every other value is written so it reads back exactly (doubles
//! in their shortest round-trip form, longs as all their digits, times to the nanosecond).

use std::fmt::Write;

use crate::column::{Column, Dictionary, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64};
use crate::time::calendar;

/// One column's values, in row order.
pub(super) enum Cells<'a> {
    Bool(Vec<i8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Timestamp(Vec<i64>),
    Date(Vec<i32>),
    Time(Vec<i64>),
    String(Vec<Option<&'a str>>),
    /// Dictionary-coded strings: each row's code
    /// ([`NULL_CODE`](crate::column::strings::NULL_CODE) for a null) in `dict`.
    Codes {
        codes: Vec<u32>,
        dict: &'a Dictionary,
    },
    Binary {
        bytes: Vec<u8>,
        ranges: Vec<Option<(usize, usize)>>,
    },
    /// Each row's range of `values`, which holds every row's elements back to back.
    Array {
        values: Box<Cells<'a>>,
        ranges: Vec<Option<(usize, usize)>>,
    },
}

/// Values `start .. start + count` (clamped) of `c`.
fn some<T: Copy>(c: &crate::column::Chunked<T>, start: usize, count: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(count.min(c.len().saturating_sub(start)));
    c.copy_range(start, count, &mut out);
    out
}

impl<'a> Cells<'a> {
    pub(super) fn read(column: &'a Column) -> Self {
        Self::read_rows(column, 0, column.len())
    }

    /// Rows `start .. start + count` (clamped) of `column`, as [`Cells::read`] reads them all:
    /// row `i` here is the column's row `start + i`. Reads only those rows (and, for arrays and
    /// binary, only the values they span), so a caller that prints rows as they come pays for
    /// them alone.
    pub(super) fn read_rows(column: &'a Column, start: usize, count: usize) -> Self {
        let count = count.min(column.len().saturating_sub(start));
        match column {
            Column::Bool(c) => Self::Bool(some(c, start, count)),
            Column::I32(c) => Self::I32(some(c, start, count)),
            Column::I64(c) => Self::I64(some(c, start, count)),
            Column::F64(c) => Self::F64(some(c, start, count)),
            Column::Timestamp(c) => Self::Timestamp(some(c, start, count)),
            Column::Date(c) => Self::Date(some(c, start, count)),
            Column::Time(c) => Self::Time(some(c, start, count)),
            Column::String(c) => match (c.codes(), c.dictionary()) {
                (Some(codes), Some(dict)) => Self::Codes {
                    codes: some(codes, start, count),
                    dict,
                },
                _ if start == 0 && count == c.len() => {
                    let mut out = Vec::with_capacity(count);
                    c.for_each(|s| out.push(s));
                    Self::String(out)
                }
                _ => Self::String((start..start + count).map(|i| c.get(i).flatten()).collect()),
            },
            Column::Binary(c) => {
                let (bytes, ranges) = c.contiguous_rows(start, count);
                Self::Binary { bytes, ranges }
            }
            Column::Array(c) => {
                let mut ranges = Vec::with_capacity(count);
                c.ranges(start, count, &mut ranges);
                let (first, end) = crate::column::row_ends::rebase(&mut ranges);
                Self::Array {
                    values: Box::new(Self::read_rows(c.values(), first, end - first)),
                    ranges,
                }
            }
        }
    }

    /// The string at `row` of a string column (`None` for a null, or another type).
    pub(super) fn str(&self, row: usize) -> Option<&'a str> {
        match self {
            Self::String(v) => v[row],
            Self::Codes { codes, dict } => dict.get(codes[row]),
            _ => None,
        }
    }

    /// Writes row `row`'s value as `style` wants it; `false` (and nothing written) for a null.
    pub(super) fn write(&self, row: usize, style: Style, out: &mut String) -> bool {
        // Times and binary are JSON strings.
        let quote = if style == Style::Json { "\"" } else { "" };
        match self {
            Self::Bool(v) => match v[row] {
                NULL_BOOL => return false,
                b => out.push_str(if b != 0 { "true" } else { "false" }),
            },
            Self::I32(v) | Self::Date(v) => match v[row] {
                NULL_I32 => return false,
                n if matches!(self, Self::I32(_)) => _ = write!(out, "{n}"),
                d => {
                    out.push_str(quote);
                    calendar::format_date(d as i64, out);
                    out.push_str(quote);
                }
            },
            Self::I64(v) | Self::Timestamp(v) | Self::Time(v) => match v[row] {
                NULL_I64 => return false,
                n if matches!(self, Self::I64(_)) => _ = write!(out, "{n}"),
                t => {
                    out.push_str(quote);
                    match self {
                        Self::Time(_) => format_time(t, out),
                        _ => calendar::format_instant(t, out),
                    }
                    out.push_str(quote);
                }
            },
            Self::F64(v) => match v[row] {
                x if x == NULL_F64 => return false,
                x => write_f64(x, style, out),
            },
            Self::String(_) | Self::Codes { .. } => match self.str(row) {
                None => return false,
                Some(s) => match style {
                    Style::Json => write_json_str(s, out),
                    Style::Csv => write_csv_field(s, out),
                },
            },
            Self::Binary { bytes, ranges } => match ranges[row] {
                None => return false,
                // An empty value is `""` in CSV too (an empty field is a null).
                Some((_, 0)) if style == Style::Csv => out.push_str("\"\""),
                Some((first, count)) => {
                    out.push_str(quote);
                    write_hex(&bytes[first..first + count], out);
                    out.push_str(quote);
                }
            },
            Self::Array { values, ranges } => match ranges[row] {
                None => return false,
                Some((first, count)) => {
                    let mut text = String::from("[");
                    for i in first..first + count {
                        if i > first {
                            text.push(',');
                        }
                        if !values.write(i, Style::Json, &mut text) {
                            text.push_str("null");
                        }
                    }
                    text.push(']');
                    match style {
                        Style::Json => out.push_str(&text),
                        Style::Csv => write_csv_field(&text, out),
                    }
                }
            },
        }
        true
    }
}

/// How a cell is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// A CSV field: text as it is (quoted only when RFC 4180 needs it), arrays as JSON text.
    Csv,
    /// A JSON value: times, binary and non-finite doubles as strings.
    Json,
}

/// A double in its shortest round-trip form (`1.5`, `1e300`, `-0.0`); NaN and the infinities as
/// `NaN`, `Infinity` and `-Infinity` (JSON strings in [`Style::Json`], as protobuf's JSON
/// mapping writes them: JSON has no literal for them).
fn write_f64(x: f64, style: Style, out: &mut String) {
    let word = if x.is_nan() {
        "NaN"
    } else if x == f64::INFINITY {
        "Infinity"
    } else if x == f64::NEG_INFINITY {
        "-Infinity"
    } else {
        // Not `{x:?}`: std's float formatting is 20 KB of the page's bundle (float_text.rs).
        crate::float_text::push_debug(out, x);
        return;
    };
    if style == Style::Json {
        _ = write!(out, "\"{word}\"");
    } else {
        out.push_str(word);
    }
}

/// A time of day as ISO-8601's `HH:mm:ss`, then a fraction of 3, 6 or 9 digits when it has one
/// (`17:00:00`, `17:00:05.250`): always the seconds, which Java's `LocalTime.toString` drops when
/// zero, since readers such as pandas' `to_timedelta` want them.
fn format_time(nanos_of_day: i64, out: &mut String) {
    let (h, m, s, f) = calendar::hms(nanos_of_day);
    _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if f != 0 {
        let (digits, value) = match f {
            f if f % 1_000_000 == 0 => (3, f / 1_000_000),
            f if f % 1000 == 0 => (6, f / 1000),
            f => (9, f),
        };
        _ = write!(out, ".{value:0digits$}");
    }
}

fn write_hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

/// A CSV field (RFC 4180): quoted, its quotes doubled, when it holds a comma, a quote, a line
/// break, or nothing at all (so an empty string is `""` and a null an empty field).
pub(super) fn write_csv_field(s: &str, out: &mut String) {
    if !s.is_empty() && !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part.1);
    }
    out.push('"');
}

/// A JSON string (RFC 8259): quotes, backslashes and control characters escaped.
pub(super) fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b >= b' ' && b != b'"' && b != b'\\' {
            continue;
        }
        // ASCII bytes are whole characters: `start..i` is a str's boundaries.
        out.push_str(&s[start..i]);
        start = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => _ = write!(out, "\\u{b:04x}"),
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}
