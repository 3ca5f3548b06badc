//! The one-pass form of a flat JSON plan (all its columns members of the top object): a
//! document's members matched on their raw bytes and their values staged straight from the
//! bytes, with the position a local (as [`crate::protobuf`]'s one-pass form), no up-front UTF-8
//! check, and no per-column stamps.
//!
//! Every byte it accepts is checked on the way: the structure and numbers are ASCII, a member
//! name is a plan's (valid) name or, for a member no column reads, checked as UTF-8 with its
//! value (`unknown`), an instant's text is digits and fixed ASCII, and a string goes through
//! [`Stage::push_bytes`], which checks what it has not seen before. So a document it takes is
//! valid UTF-8, as the general path requires up front.
//!
//! Invariant: [`read`] either stages exactly one row in every stage and returns true, having
//! staged what the general path ([`super::JsonPlan::stage`]) would have, or returns false having
//! staged part of a row, which the caller cuts ([`Stage::cut`]: the rows, and the dictionary
//! entries they added) before reading the document the general way. A member no column reads is
//! skipped when its value is a string without escapes, a number or a literal. Whatever else is
//! unusual takes the general path, which decides and reports: such a member with escapes in its
//! name or an object or array as its value, a nested object's member, a member seen twice,
//! escapes in a string, a value of another kind than its column's usual one, and every error.

use super::instant::{LastDate, fast};
use super::plan::{Member, Target};
use super::scan::{number, string_end, ws};
use super::spec::JsonType;
use super::stage::Stage;
use crate::column::Column;

/// Whether the name at the start of `rest` (just past its `"`) is `m`'s, raw: its bytes then `"`.
#[inline(always)]
fn named(m: &Member, rest: &[u8]) -> bool {
    let name = m.name.as_bytes();
    m.plain && rest.get(name.len()) == Some(&b'"') && super::plan::same_bytes(name, rest)
}

/// Stages `doc` through `members` (the plan's top level, all leaves of columns below 64), see
/// the module's doc: true with a row in every stage, or false for the general path.
#[inline(always)]
pub(super) fn read(
    members: &[Member],
    doc: &[u8],
    stages: &mut [Stage],
    cols: &mut [Column],
    last_date: &mut LastDate,
) -> bool {
    let b = doc;
    let mut at = ws(b, 0);
    if b.get(at) != Some(&b'{') {
        return false;
    }
    at = ws(b, at + 1);
    // The columns given a value, a bit each.
    let mut seen = 0u64;
    let mut next = 0;
    if b.get(at) == Some(&b'}') {
        at += 1;
    } else {
        loop {
            if b.get(at) != Some(&b'"') {
                return false;
            }
            let rest = b.get(at + 1..).unwrap_or_default();
            // The member expected next (the plan's order, from the last one found), else any.
            // From the member expected next, round to the one before it.
            let mut k = next;
            let mut tried = 0;
            let found = loop {
                if tried == members.len() {
                    break None;
                }
                if k >= members.len() {
                    k = 0;
                }
                if let Some(m) = members.get(k).filter(|m| named(m, rest)) {
                    break Some(m);
                }
                k += 1;
                tried += 1;
            };
            // Where the member's value ends: a column's staged, or one no column reads skipped.
            let after = match found {
                None => unknown(b, at),
                Some(m) => {
                    next = k + 1;
                    let Target::Leaf(col, ty) = m.target else {
                        return false;
                    };
                    let bit = 1u64.checked_shl(col).unwrap_or(0);
                    if bit == 0 || seen & bit != 0 {
                        return false;
                    }
                    seen |= bit;
                    at = ws(b, at + m.name.len() + 2);
                    if b.get(at) != Some(&b':') {
                        return false;
                    }
                    at = ws(b, at + 1);
                    let col = col as usize;
                    let (Some(stage), Some(column)) = (stages.get_mut(col), cols.get_mut(col))
                    else {
                        return false;
                    };
                    value(b, at, ty, stage, column, last_date)
                }
            };
            at = match after {
                Some(after) => ws(b, after),
                None => return false,
            };
            match b.get(at) {
                Some(b',') => at = ws(b, at + 1),
                Some(b'}') => {
                    at += 1;
                    break;
                }
                _ => return false,
            }
        }
    }
    if ws(b, at) != b.len() {
        return false;
    }
    if seen.count_ones() as usize != stages.len() {
        absent(seen, stages);
    }
    true
}

/// A member no column reads, at its name's `"`: skipped, to where its value ends, when its name
/// has no escapes (an escaped name may be a column's) and its value is a string without escapes,
/// a number or a literal, all valid UTF-8 (as the general path requires of the whole document);
/// `None` for the general path (objects, arrays, and anything it must judge). Out of line: a
/// producer's extra members are few.
#[inline(never)]
fn unknown(b: &[u8], at: usize) -> Option<usize> {
    let (name_end, false) = string_end(b, at + 1).ok()? else {
        return None;
    };
    let colon = ws(b, name_end + 1);
    if b.get(colon) != Some(&b':') {
        return None;
    }
    let v = ws(b, colon + 1);
    let end = match *b.get(v)? {
        b'"' => match string_end(b, v + 1).ok()? {
            (end, false) => end + 1,
            _ => return None,
        },
        b'-' | b'0'..=b'9' => number(b, v).ok()?.1,
        c @ (b't' | b'f' | b'n') => {
            let word: &[u8] = match c {
                b't' => b"true",
                b'f' => b"false",
                _ => b"null",
            };
            b.get(v..)?.starts_with(word).then_some(v + word.len())?
        }
        _ => return None,
    };
    std::str::from_utf8(b.get(at..end)?).ok()?;
    Some(end)
}

/// Nulls into the stages of the columns not `seen`.
#[inline(never)]
fn absent(seen: u64, stages: &mut [Stage]) {
    for (i, stage) in stages.iter_mut().enumerate() {
        if seen & 1u64.checked_shl(i as u32).unwrap_or(0) == 0 {
            stage.push_null();
        }
    }
}

/// The value at `at` into `stage` (its column `column`, of type `ty`): where it ends, or `None`
/// for the general path.
#[inline(always)]
fn value(
    b: &[u8],
    at: usize,
    ty: JsonType,
    stage: &mut Stage,
    column: &mut Column,
    last_date: &mut LastDate,
) -> Option<usize> {
    let literal = |word: &[u8]| b.get(at..)?.starts_with(word).then_some(at + word.len());
    match (b.get(at)?, ty, stage) {
        (b'"', _, stage) => {
            let start = at + 1;
            let (end, escaped) = string_end(b, start).ok()?;
            let bytes = b.get(start..end).filter(|_| !escaped)?;
            match (ty, stage) {
                (JsonType::String, stage) => {
                    let window = b.get(start..).and_then(<[u8]>::first_chunk::<16>);
                    stage.push_bytes(bytes, window, column).ok()?;
                }
                (JsonType::Instant(_), Stage::Timestamp(lane)) => {
                    lane.push(fast(bytes, last_date)?)
                }
                _ => return None,
            }
            Some(end + 1)
        }
        (b'-' | b'0'..=b'9', _, stage) => {
            let (n, end) = number(b, at).ok()?;
            match (ty, stage) {
                (JsonType::Double, Stage::F64(lane)) => lane.push(n.as_f64(b)?),
                // i64::MIN is the column's null: the general path refuses it.
                (JsonType::Long, Stage::I64(lane)) => {
                    lane.push(n.as_integral_i64().filter(|v| *v != i64::MIN)?)
                }
                (JsonType::Int { min, max }, Stage::I32(lane)) => {
                    let v = n.as_integral_i64().filter(|v| {
                        *v >= i64::from(min) && *v <= i64::from(max) && *v != i64::from(i32::MIN)
                    })?;
                    lane.push(v as i32)
                }
                _ => return None,
            }
            Some(end)
        }
        (&c @ (b't' | b'f'), JsonType::Bool, Stage::Bool(lane)) => {
            lane.push(i8::from(c == b't'));
            literal(if c == b't' { &b"true"[..] } else { b"false" })
        }
        (b'n', _, stage) => {
            stage.push_null();
            literal(b"null")
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "flat_tests.rs"]
mod tests;
