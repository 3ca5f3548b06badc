//! [`Flat`]: the one-pass form of a plan whose columns are all fields of the message itself (no
//! nested message but Timestamps and wrappers, nothing repeated): each field's value goes
//! straight into its column's stage, with no slots and no second pass.
//!
//! Writers put fields in field-number order, so the steps are in that order and each record is
//! read expecting the next step's tag: a match costs one compare. A field past the expected one
//! stages the defaults (or nulls) of the fields skipped over; an unknown field is skipped.
//!
//! Invariant: [`Flat::read`] either stages exactly one row in every stage and returns true, or
//! returns false having staged part of a row, which the caller truncates before reading the
//! record with the general path ([`super::plan::Plan::read`]). So a field seen twice, a field
//! before one already read, and every error (which the general path then reports) take the
//! general path, and whatever this one stages is what that one would have.

use super::columns::{Leaf, Read, Scalar};
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

/// A plan's one-pass form (see the module's doc).
#[derive(Debug, Clone)]
pub struct Flat {
    /// In field-number order.
    steps: Box<[Step]>,
    /// The columns the writer message lacks (always null).
    nulls: Box<[u32]>,
}

impl Flat {
    /// The one-pass form of `leaves` (the writer's that columns read, each with its column) over
    /// `width` columns, if the plan has one.
    pub fn of(leaves: &[(&Leaf, u32)], width: usize) -> Option<Self> {
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
            steps.push(Step {
                tag: number.checked_mul(8)? | u32::from(wire),
                col,
                read: leaf.read,
                explicit: leaf.explicit,
            });
        }
        steps.sort_by_key(|s| s.tag >> 3);
        let nulls = (0..width as u32).filter(|c| !read[*c as usize]).collect();
        Some(Self {
            steps: steps.into(),
            nulls,
        })
    }

    /// Stages one record's `body` (see the module's doc): true with one row in every stage, or
    /// false to take the general path.
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
        let mut r = Reader::new(body);
        let mut next = 0;
        while !r.at_end() {
            let Ok(tag) = r.varint() else { return false };
            let k = match steps.get(next) {
                Some(step) if u64::from(step.tag) == tag => next,
                _ => match seek(steps, next, tag, &mut r) {
                    Seek::At(k) => k,
                    Seek::Skipped => continue,
                    Seek::General => return false,
                },
            };
            // The fields skipped over are absent.
            for step in steps.get(next..k).unwrap_or_default() {
                if !absent(step, plan, body, stages, cols, number) {
                    return false;
                }
            }
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
            let done = match (step.read, stage) {
                (Read::Scalar(Scalar::Double), Out::Scalar(Stage::F64(lane))) => {
                    r.fixed64().map(|v| lane.push(f64::from_bits(v))).is_ok()
                }
                (Read::Scalar(Scalar::String), Out::Scalar(stage)) => match r.len_delimited() {
                    Ok((start, end)) => {
                        let window = body.get(start..).and_then(<[u8]>::first_chunk::<16>);
                        body.get(start..end)
                            .is_some_and(|bytes| stage.push_bytes(bytes, window, col).is_ok())
                    }
                    Err(_) => false,
                },
                (Read::Timestamp, Out::Scalar(Stage::Timestamp(lane))) => {
                    match r.sub().and_then(|mut t| timestamp(&mut t)) {
                        Ok(nanos) => {
                            lane.push(nanos);
                            true
                        }
                        Err(_) => false,
                    }
                }
                (read, stage) => match value(&mut r, read, (tag & 7) as u8) {
                    Ok(bits) => push(stage, read, bits, body, plan, col, number).is_ok(),
                    Err(_) => false,
                },
            };
            if !done {
                return false;
            }
            next = k + 1;
        }
        for step in steps.get(next..).unwrap_or_default() {
            if !absent(step, plan, body, stages, cols, number) {
                return false;
            }
        }
        for &c in &*self.nulls {
            match stages.get_mut(c as usize) {
                Some(stage) => stage.push_null(),
                None => return false,
            }
        }
        true
    }
}

/// Stages the value of a field the record lacks: null, or (proto3's implicit presence) the type's
/// default.
#[inline(never)]
fn absent(
    step: &Step,
    plan: &Plan,
    body: &[u8],
    stages: &mut [Out],
    cols: &mut [Column],
    number: &mut String,
) -> bool {
    let (Some(stage), Some(col)) = (
        stages.get_mut(step.col as usize),
        cols.get_mut(step.col as usize),
    ) else {
        return false;
    };
    if step.explicit {
        stage.push_null();
        return true;
    }
    push(stage, step.read, 0, body, plan, col, number).is_ok()
}

/// Where a tag that is not the expected one leads.
enum Seek {
    /// The step of that tag, past the expected one.
    At(usize),
    /// An unknown field, skipped.
    Skipped,
    /// The general path's case: a field seen again or out of order, another wire type, an error.
    General,
}

#[inline(never)]
fn seek(steps: &[Step], next: usize, tag: u64, r: &mut Reader<'_>) -> Seek {
    let number = tag >> 3;
    if number == 0 || number > u64::from(u32::MAX >> 3) {
        return Seek::General;
    }
    match steps.iter().position(|s| u64::from(s.tag >> 3) == number) {
        Some(k) if k >= next && u64::from(steps[k].tag) == tag => Seek::At(k),
        Some(_) => Seek::General,
        None => match r.skip((tag & 7) as u8, number as u32, 0) {
            Ok(()) => Seek::Skipped,
            Err(_) => Seek::General,
        },
    }
}
