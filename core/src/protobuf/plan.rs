//! [`Plan`]: one writer message (a schema id and message index) compiled against the reader's
//! columns, which reads a record's body into per-column [`Slots`].
//!
//! The plan is a tree of levels (the message, then each nested message some column reads), each
//! a table from field numbers to what they fill: a column (read as the writer declares it), a
//! nested level, or nothing (skipped: a field no column reads, or one the writer schema lacks).
//! A field seen again overwrites its slot (Protobuf's "last one wins"; a nested message seen
//! again merges into the same slots); a repeated field appends.
//!
//! Invariant: [`Plan::read`] only writes slots, stamped with the record's epoch; it never
//! touches the columns, so a record that fails half way leaves nothing behind.

use std::sync::Arc;

use super::columns::{Leaf, Read, Scalar};
use super::descriptor::EnumDesc;
use super::flat::Flat;
use super::wire::{self, Reader, zigzag32, zigzag64};
use crate::DecodeReason;
use crate::column::ColumnType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Skip,
    Leaf {
        col: u32,
        read: Read,
        repeated: bool,
    },
    Level(u32),
}

/// Field numbers below this are looked up by index; others by a search.
const DIRECT: usize = 32;

#[derive(Debug, Clone)]
struct Level {
    direct: Vec<Target>,
    sparse: Vec<(u32, Target)>,
}

impl Level {
    fn new() -> Self {
        Self {
            direct: vec![Target::Skip; DIRECT],
            sparse: Vec::new(),
        }
    }

    #[inline(always)]
    fn get(&self, number: u32) -> Target {
        match self.direct.get(number as usize) {
            Some(t) => *t,
            None => self
                .sparse
                .iter()
                .find(|(n, _)| *n == number)
                .map_or(Target::Skip, |(_, t)| *t),
        }
    }

    fn set(&mut self, number: u32, target: Target) {
        match self.direct.get_mut(number as usize) {
            Some(t) => *t = target,
            None => match self.sparse.iter_mut().find(|(n, _)| *n == number) {
                Some((_, t)) => *t = target,
                None => self.sparse.push((number, target)),
            },
        }
    }
}

/// What a reader column takes from a record of this writer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// The writer message has no such field: null.
    Null,
    /// A field of level `parent`: its value, else its default (implicit presence, parent
    /// present) or null.
    Field {
        parent: u32,
        read: Read,
        repeated: bool,
        explicit: bool,
    },
}

/// A record's values before they go into the stages: per column, the epoch of the record that
/// set it, its bits (a number, or a string's `start << 32 | end` in the body) and, for a repeated
/// column, its elements.
#[derive(Debug, Default)]
pub struct Slots {
    pub epoch: u64,
    pub stamps: Vec<u64>,
    pub bits: Vec<u64>,
    pub arrays: Vec<Vec<u64>>,
}

impl Slots {
    pub fn new(width: usize) -> Self {
        Self {
            epoch: 0,
            stamps: vec![0; width],
            bits: vec![0; width],
            arrays: vec![Vec::new(); width],
        }
    }
}

/// A compiled writer message (see the module's doc).
#[derive(Debug, Clone)]
pub struct Plan {
    levels: Vec<Level>,
    /// Per level, the epoch of the last record in which it was present.
    present: Vec<u64>,
    /// Per reader column.
    pub emit: Vec<Emit>,
    /// The writer's enums, for their names.
    pub enums: Arc<[EnumDesc]>,
    /// The one-pass form, for a message whose columns are its own fields.
    pub flat: Option<Flat>,
}

/// Packs a string's or bytes' range in the body.
#[inline(always)]
fn range(start: usize, end: usize) -> u64 {
    ((start as u64) << 32) | end as u64
}

/// A packed range's bounds.
#[inline(always)]
pub fn unrange(bits: u64) -> (usize, usize) {
    ((bits >> 32) as usize, (bits & 0xffff_ffff) as usize)
}

fn wrong_wire() -> DecodeReason {
    DecodeReason::BadProtobuf("a field of another wire type than its schema's")
}

/// One scalar of kind `s` whose wire type was checked: the field read once by its wire type
/// (one copy of each reader), then converted.
#[inline]
fn scalar(r: &mut Reader<'_>, s: Scalar) -> Result<u64, DecodeReason> {
    let raw = match s.wire_type() {
        wire::FIXED64 => r.fixed64()?,
        wire::FIXED32 => u64::from(r.fixed32()?),
        wire::LEN => {
            let (start, end) = r.len_delimited()?;
            if end > u32::MAX as usize {
                return Err(DecodeReason::OutOfRange("a string past 4 GiB"));
            }
            return Ok(range(start, end));
        }
        _ => r.varint()?,
    };
    Ok(match s {
        Scalar::Float => f64::from(f32::from_bits(raw as u32)).to_bits(),
        Scalar::Sfixed32 => raw as u32 as i32 as i64 as u64,
        Scalar::Int32 | Scalar::Enum(_) => raw as i32 as i64 as u64,
        Scalar::Uint32 => u64::from(raw as u32),
        Scalar::Sint32 => zigzag32(raw) as i64 as u64,
        Scalar::Sint64 => zigzag64(raw) as u64,
        Scalar::Bool => u64::from(raw != 0),
        // Double, Fixed64, Sfixed64, Fixed32, Int64, Uint64: the bits as read.
        _ => raw,
    })
}

impl Plan {
    /// Compiles the writer's `leaves` against the reader's columns (`names` and `types`): each
    /// leaf fills the column of its name; a leaf of another type than its column's is an error.
    pub fn compile(
        leaves: &[Leaf],
        names: &[Arc<str>],
        types: &[ColumnType],
        enums: Arc<[EnumDesc]>,
    ) -> Result<Self, String> {
        let mut levels = vec![Level::new()];
        let mut emit = vec![Emit::Null; names.len()];
        let mut read = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let Some(col) = names.iter().position(|n| **n == *leaf.name) else {
                continue;
            };
            read.push((leaf, col as u32));
            if types.get(col) != Some(&leaf.ty) {
                return Err(format!(
                    "field {} is {} in the writer schema and {} in the reader's",
                    leaf.name,
                    leaf.ty,
                    types.get(col).map_or("absent".into(), ToString::to_string)
                ));
            }
            let Some((last, path)) = leaf.numbers.split_last() else {
                continue;
            };
            let mut level = 0usize;
            for n in path {
                level = match levels[level].get(*n) {
                    Target::Level(l) => l as usize,
                    _ => {
                        levels.push(Level::new());
                        let l = levels.len() - 1;
                        levels[level].set(*n, Target::Level(l as u32));
                        l
                    }
                };
            }
            levels[level].set(
                *last,
                Target::Leaf {
                    col: col as u32,
                    read: leaf.read,
                    repeated: leaf.repeated,
                },
            );
            emit[col] = Emit::Field {
                parent: level as u32,
                read: leaf.read,
                repeated: leaf.repeated,
                explicit: leaf.explicit,
            };
        }
        Ok(Self {
            present: vec![0; levels.len()],
            levels,
            emit,
            flat: Flat::of(&read, names.len(), &enums),
            enums,
        })
    }

    /// Whether level `level` was present in the record of `epoch` (the message itself always is).
    #[inline(always)]
    pub fn present(&self, level: u32, epoch: u64) -> bool {
        self.present.get(level as usize) == Some(&epoch)
    }

    /// Reads a record's body into `slots`, under a new epoch.
    pub fn read(&mut self, body: &[u8], slots: &mut Slots) -> Result<(), DecodeReason> {
        slots.epoch += 1;
        let mut r = Reader::new(body);
        self.message(&mut r, 0, slots)
    }

    fn message(
        &mut self,
        r: &mut Reader<'_>,
        level: usize,
        slots: &mut Slots,
    ) -> Result<(), DecodeReason> {
        let epoch = slots.epoch;
        if let Some(p) = self.present.get_mut(level) {
            *p = epoch;
        }
        while !r.at_end() {
            let (number, wire) = r.tag()?;
            let target = match self.levels.get(level) {
                Some(l) => l.get(number),
                None => return Err(DecodeReason::PlanMismatch),
            };
            match target {
                Target::Skip => r.skip(wire, number, 0)?,
                Target::Level(inner) => {
                    if wire != wire::LEN {
                        return Err(wrong_wire());
                    }
                    let mut inner_reader = r.sub()?;
                    self.message(&mut inner_reader, inner as usize, slots)?;
                }
                Target::Leaf {
                    col,
                    read,
                    repeated,
                } => {
                    let col = col as usize;
                    if col >= slots.stamps.len() {
                        return Err(DecodeReason::PlanMismatch);
                    }
                    match read {
                        Read::Scalar(s) if repeated => {
                            if slots.stamps[col] != epoch {
                                slots.stamps[col] = epoch;
                                slots.arrays[col].clear();
                            }
                            let elements = &mut slots.arrays[col];
                            if wire == wire::LEN && s.wire_type() != wire::LEN {
                                let mut packed = r.sub()?;
                                while !packed.at_end() {
                                    elements.push(scalar(&mut packed, s)?);
                                }
                            } else if wire == s.wire_type() {
                                elements.push(scalar(r, s)?);
                            } else {
                                return Err(wrong_wire());
                            }
                        }
                        read => {
                            slots.bits[col] = value(r, read, wire)?;
                            slots.stamps[col] = epoch;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// One value of a leaf read as `read` from a field of wire type `wire` (not a repeated one): a
/// number's bits, a string's range, a Timestamp's nanoseconds.
#[inline]
pub fn value(r: &mut Reader<'_>, read: Read, wire: u8) -> Result<u64, DecodeReason> {
    let s = match read {
        Read::Scalar(s) if wire == s.wire_type() => return scalar(r, s),
        Read::Scalar(_) => return Err(wrong_wire()),
        _ if wire != wire::LEN => return Err(wrong_wire()),
        Read::Timestamp => return Ok(timestamp(&mut r.sub()?)? as u64),
        Read::Wrapper(s) => s,
    };
    let mut inner = r.sub()?;
    let mut value = match s {
        Scalar::String | Scalar::Bytes => range(inner.at, inner.at),
        _ => 0,
    };
    while !inner.at_end() {
        let (n, w) = inner.tag()?;
        if n != 1 {
            inner.skip(w, n, 0)?;
        } else if w == s.wire_type() {
            value = scalar(&mut inner, s)?;
        } else {
            return Err(wrong_wire());
        }
    }
    Ok(value)
}

/// A `google.protobuf.Timestamp` (seconds and nanos) as nanoseconds since the epoch.
pub fn timestamp(r: &mut Reader<'_>) -> Result<i64, DecodeReason> {
    let (mut seconds, mut nanos) = (0i64, 0i64);
    while !r.at_end() {
        let (n, w) = r.tag()?;
        match (n, w) {
            (1, wire::VARINT) => seconds = r.varint()? as i64,
            (2, wire::VARINT) => nanos = i64::from(r.varint()? as i32),
            (1 | 2, _) => return Err(wrong_wire()),
            _ => r.skip(w, n, 0)?,
        }
    }
    // Bounds rather than checked_mul (a 128-bit multiply on wasm32); i64::MIN is the null.
    const LIMIT: i64 = i64::MAX / 1_000_000_000 - 1;
    if !(-LIMIT..=LIMIT).contains(&seconds) || !(-999_999_999..=999_999_999).contains(&nanos) {
        return Err(DecodeReason::OutOfRange("a Timestamp"));
    }
    Ok(seconds * 1_000_000_000 + nanos)
}
