//! [`Flat`]: the one-pass form of a plan whose columns are all fields of the message itself (no
//! nested message but Timestamps and wrappers, nothing repeated): each field's value goes
//! straight into its column's stage, with no slots and no second pass.
//!
//! Writers put fields in field-number order, so the steps are in that order and each record is
//! read expecting the next step's tag: a match costs one compare. A field past the expected one
//! stages the defaults (or nulls) of the fields skipped over (an implicit string's or enum's
//! default inline, as a value of its own, the tag then read again; others out of line); an
//! unknown field is skipped.
//!
//! Invariant: [`Flat::read`] either stages exactly one row in every stage and returns true, or
//! returns false having staged part of a row, which the caller truncates before reading the
//! record with the general path ([`super::plan::Plan::read`]). So a field seen twice, a field
//! before one already read, and every error (which the general path then reports) take the
//! general path, and whatever this one stages is what that one would have.

use super::columns::{Leaf, Read, Scalar};
use super::descriptor::EnumDesc;
use super::plan::{Plan, timestamp, value};
use super::side::{Out, push};
use super::wire::Reader;
use crate::column::Column;
use crate::json_format::stage::Stage;

/// One column's field: its expected tag (number and wire type), its column, and how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    tag: u32,
    col: u32,
    read: Read,
    /// Absent reads as null, not as the default.
    explicit: bool,
}

/// An enum value's name of up to 16 bytes, zero-padded (a string window, see
/// [`Stage::push_bytes`]), and its length.
type Name = Option<([u8; 16], u8)>;

/// The enum numbers whose names [`Flat`] keeps (others take the general path's look-up).
const NAMED: i32 = 64;

/// A plan's one-pass form (see the module's doc).
#[derive(Debug, Clone)]
pub struct Flat {
    /// In field-number order.
    steps: Box<[Step]>,
    /// The columns the writer message lacks (always null).
    nulls: Box<[u32]>,
    /// Per writer enum, the names of its numbers 0 to [`NAMED`] − 1.
    names: Box<[Box<[Name]>]>,
}

impl Flat {
    /// The one-pass form of `leaves` (the writer's that columns read, each with its column) over
    /// `width` columns, if the plan has one; `enums` are the writer's.
    pub fn of(leaves: &[(&Leaf, u32)], width: usize, enums: &[EnumDesc]) -> Option<Self> {
        let mut steps = Vec::new();
        let mut read = vec![false; width];
        for &(leaf, col) in leaves {
            let ([number], false) = (&leaf.numbers[..], leaf.repeated) else {
                return None;
            };
            let wire = match leaf.read {
                Read::Scalar(s) => s.wire_type(),
                Read::Timestamp | Read::Wrapper(_) => super::wire::LEN,
            };
            if std::mem::replace(read.get_mut(col as usize)?, true) {
                return None;
            }
            // In field-number order (an insertion: a slice sort would bring its own code).
            let at = steps.partition_point(|s: &Step| s.tag >> 3 < *number);
            steps.insert(
                at,
                Step {
                    tag: number.checked_mul(8)? | u32::from(wire),
                    col,
                    read: leaf.read,
                    explicit: leaf.explicit,
                },
            );
        }
        let nulls = (0..width as u32).filter(|c| !read[*c as usize]).collect();
        let names = enums
            .iter()
            .map(|e| {
                (0..NAMED)
                    .map(|n| {
                        let name = e.name(n)?.as_bytes();
                        let mut window = [0; 16];
                        window.get_mut(..name.len())?.copy_from_slice(name);
                        Some((window, name.len() as u8))
                    })
                    .collect()
            })
            .collect();
        Some(Self {
            steps: steps.into(),
            nulls,
            names,
        })
    }

    /// Stages one record's `body` (see the module's doc): true with one row in every stage, or
    /// false to take the general path. The position is a local passed by value (a reader passed
    /// by reference to a call would live in memory: in wasm32, every read a store and a load).
    #[inline(always)]
    pub fn read(
        &self,
        plan: &Plan,
        body: &[u8],
        stages: &mut [Out],
        cols: &mut [Column],
        number: &mut String,
    ) -> bool {
        let steps = &*self.steps;
        let mut at = 0;
        let mut next = 0;
        while at < body.len() {
            let Some((tag, after)) = varint(body, at) else {
                return false;
            };
            let start = at;
            at = after;
            // Whether the expected field is absent and its default (an implicit string's "",
            // an enum's 0) is staged this round; the next reads this tag again.
            let mut default = false;
            let k = match steps.get(next) {
                Some(step) if u64::from(step.tag) == tag => next,
                Some(step)
                    if tag >> 3 > u64::from(step.tag >> 3)
                        && !step.explicit
                        && matches!(step.read, Read::Scalar(Scalar::Enum(_) | Scalar::String)) =>
                {
                    default = true;
                    at = start;
                    next
                }
                _ => match seek(steps, next, tag, body, at) {
                    // The fields skipped over are absent.
                    Seek::At(k) if self.absent(next..k, plan, stages, cols, number) => k,
                    Seek::Skipped(after) => {
                        at = after;
                        continue;
                    }
                    Seek::At(_) | Seek::General => return false,
                },
            };
            let Some(step) = steps.get(k) else {
                return false;
            };
            let (Some(stage), Some(col)) = (
                stages.get_mut(step.col as usize),
                cols.get_mut(step.col as usize),
            ) else {
                return false;
            };
            // The values a trade has inline; the others through the general path's reader.
            // Strings and enum names share one inline push (a string window and its bytes).
            let (stage, bytes, window, after) = match (step.read, stage) {
                (read, stage) if default => match (read, stage) {
                    (Read::Scalar(Scalar::Enum(e)), Out::Scalar(stage)) => {
                        match self.window(e, 0) {
                            Some((window, bytes)) => (stage, bytes, Some(window), at),
                            None => return false,
                        }
                    }
                    (Read::Scalar(Scalar::String), Out::Scalar(stage)) => {
                        (stage, &[][..], Some(&[0; 16]), at)
                    }
                    _ => return false,
                },
                (Read::Scalar(Scalar::Double), Out::Scalar(Stage::F64(lane))) => {
                    match body.get(at..).and_then(<[u8]>::first_chunk::<8>) {
                        Some(v) => {
                            lane.push(f64::from_le_bytes(*v));
                            at += 8;
                            next = k + 1;
                            continue;
                        }
                        None => return false,
                    }
                }
                (Read::Scalar(Scalar::String), Out::Scalar(stage)) => match length(body, at) {
                    Some((start, end)) => match body.get(start..end) {
                        Some(bytes) => (
                            stage,
                            bytes,
                            body.get(start..).and_then(<[u8]>::first_chunk::<16>),
                            end,
                        ),
                        None => return false,
                    },
                    None => return false,
                },
                (Read::Scalar(Scalar::Enum(e)), stage) => match varint(body, at) {
                    Some((n, after)) => match (self.window(e, n as i32), stage) {
                        (Some((window, bytes)), Out::Scalar(stage)) => {
                            (stage, bytes, Some(window), after)
                        }
                        (_, stage) => {
                            if !enum_cold(stage, e, n, plan, col, number) {
                                return false;
                            }
                            at = after;
                            next = k + 1;
                            continue;
                        }
                    },
                    None => return false,
                },
                (Read::Timestamp, Out::Scalar(Stage::Timestamp(lane))) => {
                    match timestamp_of(body, at) {
                        Some((nanos, after)) => {
                            lane.push(nanos);
                            at = after;
                            next = k + 1;
                            continue;
                        }
                        None => return false,
                    }
                }
                (_, stage) => match other(body, at, step, tag, stage, plan, col, number) {
                    Some(after) => {
                        at = after;
                        next = k + 1;
                        continue;
                    }
                    None => return false,
                },
            };
            // Only the Ok arm is kept on the hot path (no drop of a `Result` per value).
            match stage.push_bytes_inline(bytes, window, col) {
                Ok(()) => at = after,
                Err(_) => return false,
            }
            next = k + 1;
        }
        next == steps.len() && self.nulls.is_empty()
            || self.absent(next..steps.len(), plan, stages, cols, number)
    }

    /// The name of number `n` of writer enum `e` as a string window and its bytes, if kept.
    #[inline(always)]
    fn window(&self, e: u32, n: i32) -> Option<(&[u8; 16], &[u8])> {
        let (window, len) = self
            .names
            .get(e as usize)?
            .get(usize::try_from(n).ok()?)?
            .as_ref()?;
        Some((window, window.get(..usize::from(*len))?))
    }

    /// Stages the name of number `n` of writer enum `e`, out of line.
    #[inline(never)]
    fn name(
        &self,
        e: u32,
        n: i32,
        stage: &mut Out,
        col: &mut Column,
        plan: &Plan,
        number: &mut String,
    ) -> bool {
        match (self.window(e, n), stage) {
            (Some((window, bytes)), Out::Scalar(stage)) => {
                stage.push_bytes(bytes, Some(window), col).is_ok()
            }
            (_, stage) => enum_cold(stage, e, n as i64 as u64, plan, col, number),
        }
    }

    /// Stages the values of the fields of steps `range`, which the record lacks: null, or
    /// (proto3's implicit presence) the type's default; at the record's end, the nulls of the
    /// columns the writer lacks too.
    #[inline(never)]
    fn absent(
        &self,
        range: std::ops::Range<usize>,
        plan: &Plan,
        stages: &mut [Out],
        cols: &mut [Column],
        number: &mut String,
    ) -> bool {
        let end = range.end == self.steps.len();
        for step in self.steps.get(range).unwrap_or_default() {
            let (Some(stage), Some(col)) = (
                stages.get_mut(step.col as usize),
                cols.get_mut(step.col as usize),
            ) else {
                return false;
            };
            let staged = match step.read {
                _ if step.explicit => {
                    stage.push_null();
                    true
                }
                Read::Scalar(Scalar::Enum(e)) => self.name(e, 0, stage, col, plan, number),
                read => push(stage, read, 0, &[], plan, col, number).is_ok(),
            };
            if !staged {
                return false;
            }
        }
        if end {
            for &c in &*self.nulls {
                match stages.get_mut(c as usize) {
                    Some(stage) => stage.push_null(),
                    None => return false,
                }
            }
        }
        true
    }
}

/// A varint at `at` and the position past it; `None` on any error.
#[inline(always)]
fn varint(body: &[u8], at: usize) -> Option<(u64, usize)> {
    if let Some(&b) = body.get(at)
        && b < 0x80
    {
        return Some((u64::from(b), at + 1));
    }
    varint_long(body, at)
}

/// [`varint`] of more than one byte (timestamps, large numbers), out of line: one copy of the
/// word-at-a-time reader.
#[inline(never)]
fn varint_long(body: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut pos = at;
    let v = crate::avro::vlq::read_u64(body, &mut pos).ok()?;
    Some((v, pos))
}

/// A length-delimited field's bounds, at `at`.
#[inline(always)]
fn length(body: &[u8], at: usize) -> Option<(usize, usize)> {
    let (n, start) = varint(body, at)?;
    let end = start.checked_add(usize::try_from(n).ok()?)?;
    (end <= body.len()).then_some((start, end))
}

/// A value of a kind [`Flat::read`] does not inline, through the general path's reader; the
/// position past it.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn other(
    body: &[u8],
    at: usize,
    step: &Step,
    tag: u64,
    stage: &mut Out,
    plan: &Plan,
    col: &mut Column,
    number: &mut String,
) -> Option<usize> {
    let read = step.read;
    let mut r = Reader::new(body);
    r.at = at;
    let bits = value(&mut r, read, (tag & 7) as u8).ok()?;
    push(stage, read, bits, body, plan, col, number)
        .ok()
        .map(|_| r.at)
}

/// [`push`] of number `n` of writer enum `e` (one without a kept name), out of line. Its
/// arguments are numbers: a `Read` built for the call would sit in wasm32's memory stack.
#[inline(never)]
fn enum_cold(
    stage: &mut Out,
    e: u32,
    n: u64,
    plan: &Plan,
    col: &mut Column,
    number: &mut String,
) -> bool {
    let read = Read::Scalar(Scalar::Enum(e));
    push(stage, read, n as i32 as i64 as u64, &[], plan, col, number).is_ok()
}

/// A `google.protobuf.Timestamp`'s nanoseconds and the position past it, its fields expected in
/// order (seconds, then nanos, either absent); anything else through the general path's reader.
#[inline(always)]
fn timestamp_of(body: &[u8], at: usize) -> Option<(i64, usize)> {
    let (start, end) = length(body, at)?;
    let (seconds, at) = timestamp_field(body, 0x08, start, end)?;
    let (nanos, at) = timestamp_field(body, 0x10, at, end)?;
    let (seconds, nanos) = (seconds as i64, nanos as i32);
    // Bounds rather than checked_mul (a 128-bit multiply on wasm32); i64::MIN is the null.
    const LIMIT: i64 = i64::MAX / 1_000_000_000 - 1;
    if at == end && (-LIMIT..=LIMIT).contains(&seconds) && (0..1_000_000_000).contains(&nanos) {
        return Some((seconds * 1_000_000_000 + i64::from(nanos), end));
    }
    timestamp_cold(body, start, end)
}

/// A Timestamp's field of `tag` at `at` (before `end`), or 0 there if it is not.
#[inline(always)]
fn timestamp_field(body: &[u8], tag: u8, at: usize, end: usize) -> Option<(u64, usize)> {
    match body.get(at) {
        Some(b) if *b == tag && at < end => {
            let mut pos = at + 1;
            let v = crate::avro::vlq::read_u64(body, &mut pos).ok()?;
            Some((v, pos))
        }
        _ => Some((0, at)),
    }
}

/// [`timestamp`] of the message at `start..end`, out of line.
#[inline(never)]
fn timestamp_cold(body: &[u8], start: usize, end: usize) -> Option<(i64, usize)> {
    let mut r = Reader::new(body.get(..end)?);
    r.at = start;
    Some((timestamp(&mut r).ok()?, end))
}

/// Where a tag that is not the expected one leads.
enum Seek {
    /// The step of that tag, past the expected one.
    At(usize),
    /// An unknown field, skipped: the position past it.
    Skipped(usize),
    /// The general path's case: a field seen again or out of order, another wire type, an error.
    General,
}

#[inline(never)]
fn seek(steps: &[Step], next: usize, tag: u64, body: &[u8], at: usize) -> Seek {
    let number = tag >> 3;
    if number == 0 || number > u64::from(u32::MAX >> 3) {
        return Seek::General;
    }
    match steps.iter().position(|s| u64::from(s.tag >> 3) == number) {
        Some(k) if k >= next && steps.get(k).map(|s| u64::from(s.tag)) == Some(tag) => Seek::At(k),
        Some(_) => Seek::General,
        None => {
            let mut r = Reader::new(body);
            r.at = at;
            match r.skip((tag & 7) as u8, number as u32, 0) {
                Ok(()) => Seek::Skipped(r.at),
                Err(_) => Seek::General,
            }
        }
    }
}
