//! [`DecodePlan`]: the program that decodes one writer schema's records into the columns of one
//! reader schema, compiled once per (writer schema id, reader schema) pair.
//!
//! The shape follows arrow-avro's `reader/record.rs`: resolution (Avro's rules: promotions,
//! defaults, skipped fields, enum defaults, unions) happens once, when the plan is compiled, and
//! leaves a flat list of [`Op`]s in the writer's field order. Each op reads one value from the
//! body and appends it to one column, converted to the column's type; unions run a branch's
//! sub-program from a side table. There is no `Value` tree and no allocation per record: strings
//! are validated and interned straight from the input slice, and JSON renderings (arrays and maps)
//! reuse one buffer.
//!
//! Invariant: running the plan over a record appends exactly one value to each of its columns, or
//! fails; on failure the caller truncates the columns back to the row start.

use rustc_hash::FxHashMap;
use std::ops::Range;
use std::sync::Arc;

use super::schema::Schema;

use super::cursor::{Cursor, mismatch};
use super::mapping::{self, decimal_to_f64, non_null_branches, width};
use super::shape::{
    Names, Shape, Shapes, enum_index, enum_index_hot, union_index, union_index_hot,
};
use crate::column::strings::NULL_CODE;
use crate::column::{
    ChunkLane, Chunked, Column, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, StrLane, StringColumn,
    Value,
};
use crate::{DecodeReason, Error, Result};

/// What a writer enum symbol becomes in the reader.
#[derive(Debug, Clone)]
pub enum Symbol {
    /// This reader symbol (the writer's own, or the reader's default).
    Reader(Box<str>),
    /// A symbol the reader lacks, with no default to fall back on.
    Unknown(Arc<str>),
}

/// A value read from the body and appended to one column, converted to the column's type.
/// `u32`s are column indexes relative to the plan's first column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaf {
    Bool(u32),
    Int(u32),
    IntToLong(u32),
    IntToDouble(u32),
    Long(u32),
    LongToDouble(u32),
    FloatToDouble(u32),
    Double(u32),
    /// A string, or bytes read as a string (validated as UTF-8); `cache` indexes the plan's
    /// per-string-op cache of recent byte strings and their dictionary codes.
    String {
        col: u32,
        cache: u32,
    },
    /// Bytes, or a string read as bytes.
    Binary(u32),
    Fixed {
        col: u32,
        size: u32,
    },
    /// An enum, as its symbol; `cache` indexes the plan's enum symbols and per-enum dictionary
    /// codes.
    Enum {
        col: u32,
        cache: u32,
    },
    /// A long in units of `nanos` nanoseconds, as a timestamp.
    Timestamp {
        col: u32,
        nanos: u32,
    },
    Date(u32),
    /// An int of milliseconds since midnight.
    TimeMillis(u32),
    /// A long of microseconds since midnight.
    TimeMicros(u32),
    /// A decimal on bytes (`size` None) or on a fixed of `size` bytes.
    Decimal {
        col: u32,
        size: Option<u32>,
        scale: i32,
    },
}

/// The type of values a leaf pushes: which [`Lanes`] it writes in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    I32,
    I64,
    F64,
    Str,
}

impl Leaf {
    /// The lane kind of the leaf's values, if it has one (bytes have none).
    fn kind(&self) -> Option<Kind> {
        Some(match self {
            Leaf::Bool(_) => Kind::Bool,
            Leaf::Int(_) | Leaf::Date(_) => Kind::I32,
            Leaf::IntToLong(_)
            | Leaf::Long(_)
            | Leaf::Timestamp { .. }
            | Leaf::TimeMillis(_)
            | Leaf::TimeMicros(_) => Kind::I64,
            Leaf::IntToDouble(_)
            | Leaf::LongToDouble(_)
            | Leaf::FloatToDouble(_)
            | Leaf::Double(_)
            | Leaf::Decimal { .. } => Kind::F64,
            Leaf::String { .. } | Leaf::Enum { .. } => Kind::Str,
            Leaf::Binary(_) | Leaf::Fixed { .. } => return None,
        })
    }

    /// The same leaf into column (or lane) `to`.
    fn with_col(mut self, to: u32) -> Leaf {
        *self.col_mut() = to;
        self
    }

    /// The column the value goes to.
    fn col(&self) -> u32 {
        let mut leaf = *self;
        *leaf.col_mut()
    }

    fn col_mut(&mut self) -> &mut u32 {
        match self {
            Leaf::Bool(c)
            | Leaf::Int(c)
            | Leaf::IntToLong(c)
            | Leaf::IntToDouble(c)
            | Leaf::Long(c)
            | Leaf::LongToDouble(c)
            | Leaf::FloatToDouble(c)
            | Leaf::Double(c)
            | Leaf::Binary(c)
            | Leaf::Date(c)
            | Leaf::TimeMillis(c)
            | Leaf::TimeMicros(c) => c,
            Leaf::String { col, .. }
            | Leaf::Fixed { col, .. }
            | Leaf::Enum { col, .. }
            | Leaf::Timestamp { col, .. }
            | Leaf::Decimal { col, .. } => col,
        }
    }
}

/// One step of a plan. `u32`s are column indexes relative to the plan's first column.
#[derive(Debug, Clone)]
pub enum Op {
    /// One value into one column.
    Leaf(Leaf),
    /// A writer union of null and one value, into one column (`["null", T]` or `[T, "null"]`):
    /// the general [`Op::Union`] with both branches fused in. `value` is the value's branch
    /// index (0 or 1); the other branch is the null.
    Nullable { leaf: Leaf, value: u8 },
    /// A value rendered as JSON text (arrays and maps).
    Json { col: u32, shape: Box<Shape> },
    /// A value the reader does not have.
    Skip(Box<Shape>),
    /// Reader fields the writer lacks: their defaults.
    Defaults(Box<[(u32, Value)]>),
    /// Nulls in a range of columns.
    Nulls(Range<u32>),
    /// A writer union: read the branch index, run that branch, and fill the rest of `cols` with
    /// nulls.
    Union {
        branches: Box<[Branch]>,
        cols: Range<u32>,
    },
}

/// What a writer union branch does.
#[derive(Debug, Clone)]
pub enum Branch {
    /// A null: every column of the union is null.
    Null,
    /// Runs `ops` (in the plan's side table), which fill `cols`; the union's other columns get nulls.
    Run { ops: Range<u32>, cols: Range<u32> },
    /// The reader has nothing this branch can become.
    Unmatched,
}

/// The immutable part of a plan: its ops, the shapes they skip or render, and each enum op's
/// symbols.
#[derive(Debug, Clone)]
struct Program {
    main: Box<[Op]>,
    subs: Box<[Op]>,
    shapes: Shapes,
    symbols: Box<[Box<[Symbol]>]>,
    /// The batch form, for plans whose every column gets one value from one leaf.
    lanes: Option<LaneProgram>,
}

/// A plan's ops for batches ([`DecodePlan::decode_lanes`]): `main` with each leaf writing to a
/// lane (its index among the lanes of its [`Kind`]) instead of a column. A lane is a column's
/// growing chunk, checked out for the batch, so a value is a store ([`ChunkLane::put`]): no column lookup, no
/// enum-tag check, no chunk bookkeeping per value, no dictionary-id check per string.
#[derive(Debug, Clone)]
struct LaneProgram {
    ops: Box<[LaneOp]>,
    /// The shapes that [`LaneOp::SKIP`] ops skip.
    skips: Box<[Box<Shape>]>,
    /// Each lane's column, by kind.
    bools: Box<[u32]>,
    i32s: Box<[u32]>,
    i64s: Box<[u32]>,
    f64s: Box<[u32]>,
    strs: Box<[u32]>,
    /// The string caches and enum caches, with their lane.
    string_caches: Box<[(u32, u32)]>,
    enum_caches: Box<[(u32, u32)]>,
}

/// One step of a [`LaneProgram`]: a leaf into a lane, unless `null` says otherwise. One struct
/// rather than [`Op`]'s variants, so a step is one dispatch (on the leaf).
#[derive(Debug, Clone, Copy)]
struct LaneOp {
    leaf: Leaf,
    /// [`LaneOp::ALWAYS`]; for a nullable leaf, the value's branch index (0 or 1);
    /// [`LaneOp::SKIP`], with the index of the shape to skip as the leaf's column; or
    /// [`LaneOp::DOUBLES`], two doubles (the leaf's, then `second`'s lane).
    null: u8,
    second: u32,
}

impl LaneOp {
    const ALWAYS: u8 = 2;
    const SKIP: u8 = 3;
    const DOUBLES: u8 = 4;

    fn new(leaf: Leaf, null: u8) -> Self {
        Self {
            leaf,
            null,
            second: 0,
        }
    }
}

impl LaneProgram {
    /// The batch form of `main` (over `width` columns), if it has one: only leaves, nullable
    /// leaves and skips, every column written by exactly one of them.
    fn of(main: &[Op], width: usize) -> Option<Self> {
        let mut cols: [Vec<u32>; 5] = Default::default();
        let (mut string_caches, mut enum_caches) = (Vec::new(), Vec::new());
        let mut written = vec![false; width];
        let mut ops = Vec::with_capacity(main.len());
        let mut skips = Vec::new();
        for op in main {
            let (leaf, null) = match op {
                Op::Leaf(leaf) => (leaf, LaneOp::ALWAYS),
                Op::Nullable { leaf, value } => (leaf, *value),
                Op::Skip(shape) => {
                    ops.push(LaneOp::new(Leaf::Bool(skips.len() as u32), LaneOp::SKIP));
                    skips.push(shape.clone());
                    continue;
                }
                Op::Nulls(range) if range.is_empty() => continue,
                _ => return None,
            };
            let kind = leaf.kind()?;
            let col = leaf.col();
            let seen = written.get_mut(col as usize)?;
            if std::mem::replace(seen, true) {
                return None;
            }
            let lanes = &mut cols[kind as usize];
            let lane = lanes.len() as u32;
            lanes.push(col);
            match *leaf {
                Leaf::String { cache, .. } => string_caches.push((cache, lane)),
                Leaf::Enum { cache, .. } => enum_caches.push((cache, lane)),
                _ => {}
            }
            let leaf = leaf.with_col(lane);
            // Two doubles in a row (a price and a size): one step.
            match (ops.last_mut(), leaf) {
                (
                    Some(
                        last @ LaneOp {
                            leaf: Leaf::Double(_),
                            null: LaneOp::ALWAYS,
                            ..
                        },
                    ),
                    Leaf::Double(second),
                ) if null == LaneOp::ALWAYS => {
                    last.null = LaneOp::DOUBLES;
                    last.second = second;
                }
                _ => ops.push(LaneOp::new(leaf, null)),
            }
        }
        if !written.iter().all(|w| *w) {
            return None;
        }
        let [bools, i32s, i64s, f64s, strs] = cols.map(Vec::into_boxed_slice);
        Some(Self {
            ops: ops.into(),
            skips: skips.into(),
            bools,
            i32s,
            i64s,
            f64s,
            strs,
            string_caches: string_caches.into(),
            enum_caches: enum_caches.into(),
        })
    }
}

/// A type of values with a lane: its null, and the columns that store it.
trait Lane: Copy + Default {
    const NULL: Self;
    fn chunked(column: &mut Column) -> Option<&mut Chunked<Self>>;
}

impl Lane for i8 {
    const NULL: Self = NULL_BOOL;
    fn chunked(column: &mut Column) -> Option<&mut Chunked<Self>> {
        match column {
            Column::Bool(c) => Some(c),
            _ => None,
        }
    }
}

impl Lane for i32 {
    const NULL: Self = NULL_I32;
    fn chunked(column: &mut Column) -> Option<&mut Chunked<Self>> {
        match column {
            Column::I32(c) | Column::Date(c) => Some(c),
            _ => None,
        }
    }
}

impl Lane for i64 {
    const NULL: Self = NULL_I64;
    fn chunked(column: &mut Column) -> Option<&mut Chunked<Self>> {
        match column {
            Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => Some(c),
            _ => None,
        }
    }
}

impl Lane for f64 {
    const NULL: Self = NULL_F64;
    fn chunked(column: &mut Column) -> Option<&mut Chunked<Self>> {
        match column {
            Column::F64(c) => Some(c),
            _ => None,
        }
    }
}

fn string_column(cols: &mut [Column], col: u32) -> Result<&mut StringColumn, DecodeReason> {
    match cols.get_mut(col as usize) {
        Some(Column::String(c)) => Ok(c),
        _ => Err(DecodeReason::PlanMismatch),
    }
}

/// Appends `v` to lane `k` (of the columns `of`), checking a full lane in and another out.
#[inline(always)]
fn put<T: Lane>(lanes: &mut [ChunkLane<T>], of: &[u32], k: u32, v: T, cols: &mut [Column]) -> Step {
    let lane = lanes.get_mut(k as usize).ok_or_else(mismatch)?;
    match lane.put(v) {
        true => Ok(()),
        false => renew(lane, v, of.get(k as usize).copied(), cols),
    }
}

/// Checks a full lane in and another out, and appends `v` to it.
#[cold]
#[inline(never)]
fn renew<T: Lane>(lane: &mut ChunkLane<T>, v: T, col: Option<u32>, cols: &mut [Column]) -> Step {
    let chunked = col
        .and_then(|c| cols.get_mut(c as usize))
        .and_then(T::chunked)
        .ok_or_else(mismatch)?;
    chunked.check_in(lane.take());
    *lane = ChunkLane::new(chunked.check_out());
    match lane.put(v) {
        true => Ok(()),
        false => Err(mismatch().into()),
    }
}

/// Appends a dictionary code to a string lane.
#[inline(always)]
fn put_code(lane: &mut StrLane, code: u32, col: u32, cols: &mut [Column]) -> Step {
    if let StrLane::Codes(codes) = lane
        && codes.put(code)
    {
        return Ok(());
    }
    put_code_slow(lane, code, col, cols)
}

#[cold]
#[inline(never)]
fn put_code_slow(lane: &mut StrLane, code: u32, col: u32, cols: &mut [Column]) -> Step {
    string_column(cols, col)?.renew(lane);
    if let StrLane::Codes(codes) = lane
        && codes.put(code)
    {
        return Ok(());
    }
    Err(DecodeReason::PlanMismatch.into())
}

/// Appends a string (UTF-8, checked by the caller) or a null to a plain string lane.
#[inline(always)]
fn put_plain(lane: &mut StrLane, value: Option<&[u8]>, col: u32, cols: &mut [Column]) -> Step {
    if let StrLane::Plain(chunk) = lane
        && match value {
            Some(v) => chunk.try_push(v),
            None => chunk.try_push_null(),
        }
    {
        return Ok(());
    }
    put_plain_slow(lane, value, col, cols)
}

/// [`put_plain`] of a string read with its window ([`Cursor::bytes_window`]).
#[inline(always)]
fn put_plain_window(
    lane: &mut StrLane,
    value: &[u8],
    window: Option<&[u8; 16]>,
    col: u32,
    cols: &mut [Column],
) -> Step {
    if let StrLane::Plain(chunk) = lane
        && chunk.try_push_window(value, window)
    {
        return Ok(());
    }
    put_plain_slow(lane, Some(value), col, cols)
}

/// Whether `bytes` are ASCII, from their window when they have one (a mask, no loop).
#[inline(always)]
fn is_ascii(bytes: &[u8], window: Option<&[u8; 16]>) -> bool {
    match window {
        Some(w) if bytes.len() <= KEY_BYTES => {
            let (lo, hi) = masked(w, bytes.len());
            (lo | hi) & 0x8080_8080_8080_8080 == 0
        }
        _ => bytes.is_ascii(),
    }
}

#[cold]
#[inline(never)]
fn put_plain_slow(lane: &mut StrLane, value: Option<&[u8]>, col: u32, cols: &mut [Column]) -> Step {
    string_column(cols, col)?.renew(lane);
    let pushed = match (lane, value) {
        (StrLane::Plain(chunk), Some(v)) => chunk.try_push(v),
        (StrLane::Plain(chunk), None) => chunk.try_push_null(),
        _ => false,
    };
    match pushed {
        true => Ok(()),
        false => Err(DecodeReason::PlanMismatch.into()),
    }
}

/// The result of a step into lanes: a pointer-sized `Result` (the reason boxed, as errors are
/// rare), so the steps' results merge in a register rather than through memory.
type Step = Result<(), Box<DecodeReason>>;

/// The lanes of a batch in progress: each the checked-out growing chunk of one column.
#[derive(Debug, Clone, Default)]
struct Lanes {
    bools: Vec<ChunkLane<i8>>,
    i32s: Vec<ChunkLane<i32>>,
    i64s: Vec<ChunkLane<i64>>,
    f64s: Vec<ChunkLane<f64>>,
    /// String lanes, each with its column.
    strs: Vec<(StrLane, u32)>,
    /// Whether the lanes are checked out.
    out: bool,
    /// A dictionary column would have turned plain: the lanes are to be checked in.
    plain_due: bool,
}

fn check_out<T: Lane>(lanes: &mut Vec<ChunkLane<T>>, of: &[u32], cols: &mut [Column]) {
    lanes.clear();
    lanes.extend(of.iter().map(|&c| {
        ChunkLane::new(
            cols.get_mut(c as usize)
                .and_then(T::chunked)
                .map_or_else(Vec::new, Chunked::check_out),
        )
    }));
}

fn check_in<T: Lane>(lanes: &mut [ChunkLane<T>], of: &[u32], cols: &mut [Column]) {
    for (lane, &c) in lanes.iter_mut().zip(of) {
        if let Some(chunked) = cols.get_mut(c as usize).and_then(T::chunked) {
            chunked.check_in(lane.take());
        }
    }
}

/// What a plan keeps between records: the JSON buffer, and for each enum the dictionary codes
/// its symbols got in its column (so a symbol is hashed once per dictionary, not once per record).
#[derive(Debug, Clone, Default)]
struct State {
    json: String,
    enums: Vec<EnumCodes>,
    strings: Vec<StringCodes>,
    lanes: Lanes,
}

#[derive(Debug, Clone, Default)]
struct StringCodes {
    dictionary: u64,
    /// Direct-mapped: a byte string's key and its code in the column's dictionary.
    slots: Vec<Slot>,
    /// The bytes of each slot's string, for strings longer than [`KEY_BYTES`].
    long: Vec<Option<Box<[u8]>>>,
}

/// A byte string as its length and two words: up to 16 bytes, the words are the bytes (zero
/// padded), so equal keys mean equal strings; longer strings' words are their first and last
/// eight bytes, and the cache also compares their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    /// The length, saturated below `u32::MAX` (longer strings compare bytes anyway).
    len: u32,
    head: u64,
    tail: u64,
}

/// The first `len` (at most 16) bytes of `window` as two little-endian words, the rest zeroed:
/// in 64-bit halves, as a `u128` shift is a library call on wasm32.
#[inline(always)]
fn masked(window: &[u8; 16], len: usize) -> (u64, u64) {
    let (lo, hi) = window.split_at(8);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
    // A shift by 64 or more keeps everything.
    let keep = |bytes: usize| !u64::MAX.checked_shl(8 * bytes as u32).unwrap_or(0);
    (word(lo) & keep(len), word(hi) & keep(len.saturating_sub(8)))
}

/// The longest byte string a [`Key`] alone identifies.
const KEY_BYTES: usize = 16;

impl Key {
    /// No byte string has this key (lengths saturate below `u32::MAX`): an empty slot's.
    const EMPTY: Key = Key {
        len: u32::MAX,
        head: 0,
        tail: 0,
    };

    /// The key of `bytes`, from `window` (16 bytes from their start, see
    /// [`Cursor::bytes_window`]) when there is one: a load and a mask, with no branch on the
    /// length for strings of up to 16 bytes.
    #[inline(always)]
    fn of(bytes: &[u8], window: Option<&[u8; 16]>) -> Key {
        let len = bytes.len();
        let (head, tail) = match window {
            Some(w) if len <= KEY_BYTES => masked(w, len),
            _ => {
                let words = Self::words(bytes);
                (words as u64, (words >> 64) as u64)
            }
        };
        Key {
            len: u32::try_from(len).unwrap_or(u32::MAX - 1).min(u32::MAX - 1),
            head,
            tail,
        }
    }

    /// The words of a key, from the bytes alone.
    #[cold]
    fn words(bytes: &[u8]) -> u128 {
        let mut padded = [0u8; KEY_BYTES];
        match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            (Some(head), Some(tail)) if bytes.len() > KEY_BYTES => {
                padded[..8].copy_from_slice(head);
                padded[8..].copy_from_slice(tail);
            }
            _ => padded.iter_mut().zip(bytes).for_each(|(p, b)| *p = *b),
        }
        u128::from_le_bytes(padded)
    }

    /// A slot of a [`StringCodes`] cache.
    #[inline(always)]
    fn slot(&self) -> usize {
        let h = (self.head ^ self.tail.rotate_left(29) ^ u64::from(self.len))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> (64 - STRING_SLOT_BITS)) as usize
    }
}

/// A cached byte string's key and dictionary code (32 bytes with padding: a cache of 256 is 8 KiB).
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Key,
    code: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        key: Key::EMPTY,
        code: 0,
    };
}

impl StringCodes {
    /// The code cached for `bytes` (whose key is `key`, in `slot`), if any.
    #[inline(always)]
    fn get(&self, slot: usize, key: &Key, bytes: &[u8]) -> Option<u32> {
        let cached = self.slots.get(slot)?;
        let same = cached.key == *key
            && (bytes.len() <= KEY_BYTES
                || self.long.get(slot).and_then(Option::as_deref) == Some(bytes));
        same.then_some(cached.code)
    }

    #[cold]
    fn set(&mut self, slot: usize, key: Key, bytes: &[u8], code: u32) {
        if let (Some(entry), Some(long)) = (self.slots.get_mut(slot), self.long.get_mut(slot)) {
            *entry = Slot { key, code };
            *long = (bytes.len() > KEY_BYTES).then(|| bytes.into());
        }
    }

    /// Empties the cache for a new dictionary.
    #[cold]
    fn reset(&mut self, dictionary: u64) {
        self.dictionary = dictionary;
        self.slots.clear();
        self.slots.resize(STRING_SLOTS, Slot::EMPTY);
        self.long.clear();
        self.long.resize(STRING_SLOTS, None);
    }
}

/// Slots of a [`StringCodes`] cache: [`Key::slot`] takes the top bits of a hash. Enough that
/// the few distinct values of a low-cardinality column rarely share one.
const STRING_SLOT_BITS: u32 = 8;
const STRING_SLOTS: usize = 1 << STRING_SLOT_BITS;

#[derive(Debug, Clone, Default)]
struct EnumCodes {
    dictionary: u64,
    codes: Vec<Option<u32>>,
}

/// A compiled plan.
#[derive(Debug, Clone)]
pub struct DecodePlan {
    program: Program,
    state: State,
    width: usize,
}

impl DecodePlan {
    /// Compiles the plan that reads data written with `writer` into the columns of `reader`.
    pub fn compile(writer: &Schema, reader: &Schema) -> Result<Self> {
        let (wn, rn) = (Names::of(writer)?, Names::of(reader)?);
        let mut compiler = Compiler {
            wn: &wn,
            rn: &rn,
            subs: Vec::new(),
            shapes: Shapes::default(),
            symbols: Vec::new(),
            strings: 0,
        };
        let mut main = Vec::new();
        compiler.value(writer, reader, 0, "", &mut main)?;
        let width = width(reader, &rn)?;
        Ok(Self {
            state: State {
                json: String::new(),
                enums: vec![EnumCodes::default(); compiler.symbols.len()],
                strings: vec![StringCodes::default(); compiler.strings as usize],
                lanes: Lanes::default(),
            },
            program: Program {
                lanes: LaneProgram::of(&main, width),
                main: main.into(),
                subs: compiler.subs.into(),
                shapes: compiler.shapes,
                symbols: compiler.symbols.into(),
            },
            width,
        })
    }

    /// The number of columns the plan fills.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Decodes one body into `cols` (the plan's columns, in order). The whole body must be read.
    /// On error, some columns may have grown: the caller truncates them.
    #[inline]
    pub fn decode(&mut self, body: &[u8], cols: &mut [Column]) -> Result<(), DecodeReason> {
        let mut cur = Cursor::new(body);
        let program = &self.program;
        program.run(&program.main, &mut cur, cols, &mut self.state)?;
        match cur.remaining() {
            0 => Ok(()),
            n => Err(DecodeReason::TrailingBytes(n)),
        }
    }

    /// Whether the plan decodes batches through lanes ([`DecodePlan::decode_lanes`]).
    pub fn has_lanes(&self) -> bool {
        self.program.lanes.is_some()
    }

    /// Checks out a lane of each of `cols` (the plan's columns) for a batch: until
    /// [`DecodePlan::check_in`], the columns do not count the rows decoded, and nothing but this
    /// plan may change them. Returns false, checking nothing out, for a plan without lanes or
    /// columns of other types.
    pub fn check_out(&mut self, cols: &mut [Column]) -> bool {
        let (Some(program), false) = (&self.program.lanes, self.state.lanes.out) else {
            return false;
        };
        let fits = |of: &[u32], f: fn(&mut Column) -> bool, cols: &mut [Column]| {
            of.iter().all(|&c| cols.get_mut(c as usize).is_some_and(&f))
        };
        if !(fits(&program.bools, |c| i8::chunked(c).is_some(), cols)
            && fits(&program.i32s, |c| i32::chunked(c).is_some(), cols)
            && fits(&program.i64s, |c| i64::chunked(c).is_some(), cols)
            && fits(&program.f64s, |c| f64::chunked(c).is_some(), cols)
            && fits(&program.strs, |c| matches!(c, Column::String(_)), cols))
        {
            return false;
        }
        let state = &mut self.state;
        let lanes = &mut state.lanes;
        check_out(&mut lanes.bools, &program.bools, cols);
        check_out(&mut lanes.i32s, &program.i32s, cols);
        check_out(&mut lanes.i64s, &program.i64s, cols);
        check_out(&mut lanes.f64s, &program.f64s, cols);
        lanes.strs.clear();
        for &c in &program.strs {
            let lane = string_column(cols, c).map_or(StrLane::Idle, StringColumn::check_out);
            lanes.strs.push((lane, c));
        }
        // The caches of codes are for one dictionary, which stays the same until check-in.
        let dictionary = |lane: u32, cols: &mut [Column]| {
            let col = program.strs.get(lane as usize)?;
            string_column(cols, *col).ok()?.dictionary_id()
        };
        for &(cache, lane) in &program.string_caches {
            if let (Some(id), Some(codes)) = (
                dictionary(lane, cols),
                state.strings.get_mut(cache as usize),
            ) && codes.dictionary != id
            {
                codes.reset(id);
            }
        }
        for &(cache, lane) in &program.enum_caches {
            let symbols = self
                .program
                .symbols
                .get(cache as usize)
                .map_or(0, |s| s.len());
            if let (Some(id), Some(codes)) =
                (dictionary(lane, cols), state.enums.get_mut(cache as usize))
                && codes.dictionary != id
            {
                codes.dictionary = id;
                codes.codes.clear();
                codes.codes.resize(symbols, None);
            }
        }
        lanes.out = true;
        lanes.plain_due = false;
        true
    }

    /// Puts the lanes back: every row decoded since [`DecodePlan::check_out`] is in `cols`.
    pub fn check_in(&mut self, cols: &mut [Column]) {
        let (Some(program), true) = (&self.program.lanes, self.state.lanes.out) else {
            return;
        };
        let lanes = &mut self.state.lanes;
        check_in(&mut lanes.bools, &program.bools, cols);
        check_in(&mut lanes.i32s, &program.i32s, cols);
        check_in(&mut lanes.i64s, &program.i64s, cols);
        check_in(&mut lanes.f64s, &program.f64s, cols);
        for (lane, c) in lanes.strs.iter_mut().map(|(lane, c)| (lane, *c)) {
            if let Ok(column) = string_column(cols, c) {
                column.check_in(std::mem::take(lane));
            }
        }
        lanes.out = false;
    }

    /// Whether a dictionary column would have turned plain with the rows in the lanes: the
    /// caller checks in (which turns it) and out again, between records.
    #[inline(always)]
    pub fn plain_due(&self) -> bool {
        self.state.lanes.plain_due
    }

    /// Decodes one body into the lanes checked out of `cols` ([`DecodePlan::check_out`]). On
    /// error some lanes may have grown: the caller checks in and truncates the columns. The
    /// reason comes boxed: a result in a register, as errors are rare.
    #[inline(always)]
    pub fn decode_lanes(
        &mut self,
        body: &[u8],
        cols: &mut [Column],
    ) -> Result<(), Box<DecodeReason>> {
        let mut cur = Cursor::new(body);
        let program = &self.program;
        let lanes = program.lanes.as_ref().ok_or_else(mismatch)?;
        program.run_lanes(lanes, &mut cur, cols, &mut self.state)?;
        match cur.remaining() {
            0 => Ok(()),
            n => Err(DecodeReason::TrailingBytes(n).into()),
        }
    }
}

impl Program {
    fn run(
        &self,
        ops: &[Op],
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Result<(), DecodeReason> {
        for op in ops {
            // One copy of the leaf code, reached by both single values and nullable ones.
            let leaf = match op {
                Op::Leaf(leaf) => leaf,
                Op::Nullable { leaf, value } => {
                    if union_index(cur, 2)? != usize::from(*value) {
                        cols.get_mut(leaf.col() as usize)
                            .ok_or_else(mismatch)?
                            .push_null();
                        continue;
                    }
                    leaf
                }
                other => {
                    self.other(other, cur, cols, state)?;
                    continue;
                }
            };
            self.leaf(leaf, cur, cols, state)?;
        }
        Ok(())
    }

    /// [`Program::run`] into lanes.
    #[inline(always)]
    fn run_lanes(
        &self,
        lanes: &LaneProgram,
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Step {
        for op in &lanes.ops {
            if op.null != LaneOp::ALWAYS {
                if op.null == LaneOp::DOUBLES {
                    let (a, b) = cur.doubles()?;
                    let Leaf::Double(k) = op.leaf else {
                        return Err(mismatch().into());
                    };
                    let f64s = &mut state.lanes.f64s;
                    put(f64s, &lanes.f64s, k, a, cols)?;
                    put(f64s, &lanes.f64s, op.second, b, cols)?;
                    continue;
                }
                if op.null == LaneOp::SKIP {
                    let shape = lanes.skips.get(op.leaf.col() as usize);
                    self.shapes.skip(shape.ok_or_else(mismatch)?, cur, 0)?;
                    continue;
                }
                if union_index_hot(cur, 2)? != usize::from(op.null) {
                    lane_null(lanes, &op.leaf, cols, state)?;
                    continue;
                }
            }
            self.lane_leaf(lanes, &op.leaf, cur, cols, state)?;
        }
        Ok(())
    }

    /// [`Program::leaf`] into a lane. The leaves a trade has (longs, timestamps, doubles,
    /// strings, enums) inline; the others out of line, which keeps the loop small (V8 allocates
    /// registers for the whole function).
    #[inline(always)]
    fn lane_leaf(
        &self,
        program: &LaneProgram,
        leaf: &Leaf,
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Step {
        let State {
            lanes,
            strings,
            enums,
            ..
        } = state;
        match *leaf {
            Leaf::Long(k) => put(&mut lanes.i64s, &program.i64s, k, cur.long_hot()?, cols),
            Leaf::Timestamp { col: k, nanos } => {
                let v = scale(
                    cur.long_hot()?,
                    i64::from(nanos),
                    "a timestamp in nanoseconds",
                )?;
                put(&mut lanes.i64s, &program.i64s, k, v, cols)
            }
            Leaf::Double(k) => put(&mut lanes.f64s, &program.f64s, k, cur.double()?, cols),
            Leaf::String { col: k, cache } => {
                let (bytes, window) = cur.bytes_window()?;
                let Some((lane, col)) = lanes.strs.get_mut(k as usize) else {
                    return Err(DecodeReason::PlanMismatch.into());
                };
                let col = *col;
                if !matches!(lane, StrLane::Codes(_)) {
                    if !is_ascii(bytes, window) {
                        std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
                    }
                    return put_plain_window(lane, bytes, window, col, cols);
                }
                // A byte string seen before has its code: no UTF-8 check, no hashing. The cache
                // is for the column's dictionary (see `check_out`).
                let codes = strings.get_mut(cache as usize).ok_or_else(mismatch)?;
                let key = Key::of(bytes, window);
                let slot = key.slot();
                let code = match codes.get(slot, &key, bytes) {
                    Some(code) => code,
                    None => {
                        let seen = Seen { slot, key, bytes };
                        intern_string(seen, codes, lane, col, cols, &mut lanes.plain_due)?
                    }
                };
                put_code(lane, code, col, cols)
            }
            Leaf::Enum { col: k, cache } => {
                let (Some(symbols), Some(codes), Some((lane, col))) = (
                    self.symbols.get(cache as usize),
                    enums.get_mut(cache as usize),
                    lanes.strs.get_mut(k as usize),
                ) else {
                    return Err(DecodeReason::PlanMismatch.into());
                };
                let col = *col;
                let index = enum_index_hot(cur, symbols.len())?;
                // A symbol with a code in the column's dictionary (the cache is for it, see
                // `check_out`) is a reader symbol: no look at the symbols.
                if let (StrLane::Codes(_), Some(Some(code))) = (&lane, codes.codes.get(index)) {
                    return put_code(lane, *code, col, cols);
                }
                let symbol = symbols.get(index).ok_or_else(mismatch)?;
                put_symbol(symbol, index, codes, lane, col, cols, &mut lanes.plain_due)
            }
            _ => self.rare_lane_leaf(program, leaf, cur, cols, state),
        }
    }

    /// The leaves [`Program::lane_leaf`] does not inline (those a trade's values do not use).
    #[inline(never)]
    fn rare_lane_leaf(
        &self,
        program: &LaneProgram,
        leaf: &Leaf,
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Step {
        let lanes = &mut state.lanes;
        match *leaf {
            Leaf::Bool(k) => put(
                &mut lanes.bools,
                &program.bools,
                k,
                i8::from(cur.boolean()?),
                cols,
            ),
            Leaf::Int(k) | Leaf::Date(k) => {
                put(&mut lanes.i32s, &program.i32s, k, cur.int()?, cols)
            }
            Leaf::IntToLong(k) => put(
                &mut lanes.i64s,
                &program.i64s,
                k,
                i64::from(cur.int()?),
                cols,
            ),
            Leaf::TimeMillis(k) => put(
                &mut lanes.i64s,
                &program.i64s,
                k,
                i64::from(cur.int()?) * 1_000_000,
                cols,
            ),
            Leaf::TimeMicros(k) => {
                let v = scale(cur.long()?, 1_000, "a time in nanoseconds")?;
                put(&mut lanes.i64s, &program.i64s, k, v, cols)
            }
            Leaf::IntToDouble(k) => put(
                &mut lanes.f64s,
                &program.f64s,
                k,
                f64::from(cur.int()?),
                cols,
            ),
            Leaf::LongToDouble(k) => {
                put(&mut lanes.f64s, &program.f64s, k, cur.long()? as f64, cols)
            }
            Leaf::FloatToDouble(k) => put(
                &mut lanes.f64s,
                &program.f64s,
                k,
                f64::from(cur.float()?),
                cols,
            ),
            Leaf::Decimal {
                col: k,
                size,
                scale,
            } => {
                let bytes = match size {
                    Some(n) => cur.fixed(n as usize)?,
                    None => cur.bytes()?,
                };
                put(
                    &mut lanes.f64s,
                    &program.f64s,
                    k,
                    decimal_to_f64(bytes, scale),
                    cols,
                )
            }
            // `lane_leaf` reads these itself.
            Leaf::Long(_)
            | Leaf::Timestamp { .. }
            | Leaf::Double(_)
            | Leaf::String { .. }
            | Leaf::Enum { .. }
            | Leaf::Binary(_)
            | Leaf::Fixed { .. } => Err(DecodeReason::PlanMismatch.into()),
        }
    }

    /// The ops that are not one value into one column.
    #[inline(never)]
    fn other(
        &self,
        op: &Op,
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Result<(), DecodeReason> {
        match op {
            // `run` reads these itself; here through `run`, not a second inlined copy of `leaf`.
            Op::Leaf(_) | Op::Nullable { .. } => {
                self.run(std::slice::from_ref(op), cur, cols, state)?
            }
            Op::Json { col, shape } => {
                state.json.clear();
                self.shapes.json(shape, cur, &mut state.json, 0)?;
                match cols.get_mut(*col as usize) {
                    Some(Column::String(c)) => c.push(Some(state.json.as_str())),
                    _ => return Err(DecodeReason::PlanMismatch),
                }
            }
            Op::Skip(shape) => self.shapes.skip(shape, cur, 0)?,
            Op::Defaults(values) => {
                for (c, v) in values.iter() {
                    cols.get_mut(*c as usize).ok_or_else(mismatch)?.push(v);
                }
            }
            Op::Nulls(range) => nulls(cols, range.clone())?,
            Op::Union {
                branches,
                cols: all,
            } => {
                let index = union_index(cur, branches.len())?;
                match &branches[index] {
                    Branch::Null => nulls(cols, all.clone())?,
                    Branch::Run { ops, cols: mine } => {
                        nulls(cols, all.start..mine.start)?;
                        let sub = self
                            .subs
                            .get(ops.start as usize..ops.end as usize)
                            .ok_or_else(mismatch)?;
                        self.run(sub, cur, cols, state)?;
                        nulls(cols, mine.end..all.end)?;
                    }
                    Branch::Unmatched => return Err(DecodeReason::UnmatchedBranch(index)),
                }
            }
        }
        Ok(())
    }

    /// Reads one value and appends it to its column.
    #[inline(always)]
    fn leaf(
        &self,
        leaf: &Leaf,
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Result<(), DecodeReason> {
        macro_rules! push {
            ($col:expr, $variant:ident, $value:expr) => {
                match cols.get_mut($col as usize) {
                    Some(Column::$variant(c)) => c.push($value),
                    _ => return Err(DecodeReason::PlanMismatch),
                }
            };
        }
        match *leaf {
            Leaf::Bool(c) => push!(c, Bool, i8::from(cur.boolean()?)),
            Leaf::Int(c) => push!(c, I32, cur.int()?),
            Leaf::IntToLong(c) => push!(c, I64, i64::from(cur.int()?)),
            Leaf::IntToDouble(c) => push!(c, F64, f64::from(cur.int()?)),
            Leaf::Long(c) => push!(c, I64, cur.long()?),
            Leaf::LongToDouble(c) => push!(c, F64, cur.long()? as f64),
            Leaf::FloatToDouble(c) => push!(c, F64, f64::from(cur.float()?)),
            Leaf::Double(c) => push!(c, F64, cur.double()?),
            Leaf::String { col, cache } => {
                let (bytes, window) = cur.bytes_window()?;
                let (Some(Column::String(column)), Some(codes)) = (
                    cols.get_mut(col as usize),
                    state.strings.get_mut(cache as usize),
                ) else {
                    return Err(DecodeReason::PlanMismatch);
                };
                let Some(dictionary) = column.dictionary_id() else {
                    return match column.push_utf8(bytes) {
                        true => Ok(()),
                        false => Err(DecodeReason::InvalidUtf8),
                    };
                };
                // A byte string seen before has its code: no UTF-8 check, no hashing.
                if codes.dictionary != dictionary {
                    codes.reset(dictionary);
                }
                let key = Key::of(bytes, window);
                let slot = key.slot();
                if let Some(code) = codes.get(slot, &key, bytes)
                    && column.push_code(code)
                {
                    return Ok(());
                }
                let s = std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
                if let Some(code) = column.push_interned(s) {
                    codes.set(slot, key, bytes, code);
                }
            }
            Leaf::Binary(c) => push!(c, Binary, Some(cur.bytes()?)),
            Leaf::Fixed { col, size } => push!(col, Binary, Some(cur.fixed(size as usize)?)),
            Leaf::Enum { col, cache } => {
                let symbols = self.symbols.get(cache as usize).ok_or_else(mismatch)?;
                let index = enum_index(cur, symbols.len())?;
                let symbol = match &symbols[index] {
                    Symbol::Reader(s) => s,
                    Symbol::Unknown(s) => return Err(DecodeReason::UnknownSymbol(s.clone())),
                };
                let (Some(Column::String(column)), Some(codes)) = (
                    cols.get_mut(col as usize),
                    state.enums.get_mut(cache as usize),
                ) else {
                    return Err(DecodeReason::PlanMismatch);
                };
                let dictionary = column.dictionary_id();
                if dictionary != Some(codes.dictionary) {
                    codes.dictionary = dictionary.unwrap_or(0);
                    codes.codes.clear();
                    codes.codes.resize(symbols.len(), None);
                }
                match codes.codes.get(index).copied().flatten() {
                    Some(code) if column.push_code(code) => {}
                    _ => {
                        let code = column.push_interned(symbol);
                        if let Some(slot) = codes.codes.get_mut(index) {
                            *slot = code;
                        }
                    }
                }
            }
            Leaf::Timestamp { col, nanos } => {
                let v = scale(cur.long()?, i64::from(nanos), "a timestamp in nanoseconds")?;
                push!(col, Timestamp, v)
            }
            Leaf::Date(c) => push!(c, Date, cur.int()?),
            Leaf::TimeMillis(c) => push!(c, Time, i64::from(cur.int()?) * 1_000_000),
            Leaf::TimeMicros(c) => {
                let v = scale(cur.long()?, 1_000, "a time in nanoseconds")?;
                push!(c, Time, v)
            }
            Leaf::Decimal { col, size, scale } => {
                let bytes = match size {
                    Some(n) => cur.fixed(n as usize)?,
                    None => cur.bytes()?,
                };
                push!(col, F64, decimal_to_f64(bytes, scale))
            }
        }
        Ok(())
    }
}

/// A null into a leaf's lane (out of line: one copy, off the loop).
#[inline(never)]
fn lane_null(program: &LaneProgram, leaf: &Leaf, cols: &mut [Column], state: &mut State) -> Step {
    let lanes = &mut state.lanes;
    let k = leaf.col();
    match leaf.kind() {
        Some(Kind::Bool) => put(&mut lanes.bools, &program.bools, k, i8::NULL, cols),
        Some(Kind::I32) => put(&mut lanes.i32s, &program.i32s, k, i32::NULL, cols),
        Some(Kind::I64) => put(&mut lanes.i64s, &program.i64s, k, i64::NULL, cols),
        Some(Kind::F64) => put(&mut lanes.f64s, &program.f64s, k, f64::NULL, cols),
        Some(Kind::Str) => {
            let Some((lane, col)) = lanes.strs.get_mut(k as usize) else {
                return Err(DecodeReason::PlanMismatch.into());
            };
            let col = *col;
            match lane {
                StrLane::Codes(_) => put_code(lane, NULL_CODE, col, cols),
                _ => put_plain(lane, None, col, cols),
            }
        }
        None => Err(DecodeReason::PlanMismatch.into()),
    }
}

/// A string that missed its code cache: where it goes in the cache.
struct Seen<'b> {
    slot: usize,
    key: Key,
    bytes: &'b [u8],
}

/// The code of a string that missed its cache, interned and cached.
#[cold]
#[inline(never)]
fn intern_string(
    seen: Seen<'_>,
    codes: &mut StringCodes,
    lane: &StrLane,
    col: u32,
    cols: &mut [Column],
    plain_due: &mut bool,
) -> Result<u32, DecodeReason> {
    let s = std::str::from_utf8(seen.bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
    let code = intern(s, lane, col, cols, plain_due)?;
    codes.set(seen.slot, seen.key, seen.bytes, code);
    Ok(code)
}

/// An enum symbol without a cached code (or into plain storage): out of line.
#[cold]
#[inline(never)]
fn put_symbol(
    symbol: &Symbol,
    index: usize,
    codes: &mut EnumCodes,
    lane: &mut StrLane,
    col: u32,
    cols: &mut [Column],
    plain_due: &mut bool,
) -> Step {
    let symbol = match symbol {
        Symbol::Reader(s) => s,
        Symbol::Unknown(s) => return Err(DecodeReason::UnknownSymbol(s.clone()).into()),
    };
    if !matches!(lane, StrLane::Codes(_)) {
        return put_plain(lane, Some(symbol.as_bytes()), col, cols);
    }
    let code = intern(symbol, lane, col, cols, plain_due)?;
    if let Some(slot) = codes.codes.get_mut(index) {
        *slot = Some(code);
    }
    put_code(lane, code, col, cols)
}

/// Interns a string the lane's column has not cached, noting when the column would turn plain.
#[cold]
#[inline(never)]
fn intern(
    s: &str,
    lane: &StrLane,
    col: u32,
    cols: &mut [Column],
    plain_due: &mut bool,
) -> Result<u32, DecodeReason> {
    let column = string_column(cols, col)?;
    let code = column.intern(s).ok_or_else(mismatch)?;
    // As if the row were pushed: the column turns plain at the next check-in.
    if column.goes_plain_with(lane.rows() + 1) {
        *plain_due = true;
    }
    Ok(code)
}

#[inline(always)]
fn scale(v: i64, by: i64, what: &'static str) -> Result<i64, DecodeReason> {
    // The units a plan scales by, without a 128-bit multiply (a library call on wasm32): `by`
    // is not a power of two, so `|v| <= i64::MAX / by` is exactly "no overflow".
    let limit = match by {
        1_000 => Some(i64::MAX / 1_000),
        1_000_000 => Some(i64::MAX / 1_000_000),
        _ => None,
    };
    if let Some(limit) = limit {
        return match v.unsigned_abs() <= limit as u64 {
            true => Ok(v * by),
            false => Err(DecodeReason::OutOfRange(what)),
        };
    }
    match v.checked_mul(by) {
        // The null sentinel is not a value a timestamp may take.
        Some(NULL_I64) | None => Err(DecodeReason::OutOfRange(what)),
        Some(v) => Ok(v),
    }
}

fn nulls(cols: &mut [Column], range: Range<u32>) -> Result<(), DecodeReason> {
    cols.get_mut(range.start as usize..range.end as usize)
        .ok_or_else(mismatch)?
        .iter_mut()
        .for_each(Column::push_null);
    Ok(())
}

struct Compiler<'a, 'w, 'r> {
    wn: &'a Names<'w>,
    rn: &'a Names<'r>,
    subs: Vec<Op>,
    shapes: Shapes,
    /// The symbols of each enum op so far (each also gets a slot of codes in the plan's state).
    symbols: Vec<Box<[Symbol]>>,
    /// String ops so far (each gets a cache in the plan's state).
    strings: u32,
}

/// How well a writer type fits a reader union branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    None,
    Promoted,
    Exact,
}

fn short_name(schema: &Schema) -> Option<&str> {
    match schema {
        Schema::Record(r) => Some(&r.name.name),
        Schema::Enum(e) => Some(&e.name.name),
        Schema::Fixed(f) => Some(&f.name.name),
        _ => None,
    }
}

/// The physical encoding of a schema, to compare writer and reader.
fn physical(schema: &Schema) -> &'static str {
    schema.physical()
}

fn fit(w: &Schema, r: &Schema) -> Fit {
    let (pw, pr) = (physical(w), physical(r));
    if pw == pr {
        return match (short_name(w), short_name(r)) {
            (Some(a), Some(b)) if a != b => Fit::Promoted,
            _ => Fit::Exact,
        };
    }
    match (pw, pr) {
        ("int", "long" | "float" | "double")
        | ("long", "float" | "double")
        | ("float", "double")
        | ("string", "bytes")
        | ("bytes", "string") => Fit::Promoted,
        _ => Fit::None,
    }
}

impl<'w, 'r> Compiler<'_, 'w, 'r> {
    fn shape(&mut self, w: &'w Schema) -> Result<Box<Shape>> {
        Ok(Box::new(self.shapes.shape_of(w, self.wn)?))
    }

    fn incompatible(path: &str, w: &Schema, r: &Schema) -> Error {
        let at = if path.is_empty() { "the top" } else { path };
        Error::Schema(format!(
            "at {at}: the writer's {} cannot be read as the reader's {}",
            mapping::branch_label(w),
            mapping::branch_label(r)
        ))
    }

    /// Compiles a sub-program into the side table.
    fn sub(&mut self, w: &'w Schema, r: &'r Schema, base: u32, path: &str) -> Result<Range<u32>> {
        let mut ops = Vec::new();
        self.value(w, r, base, path, &mut ops)?;
        let start = self.subs.len() as u32;
        self.subs.extend(ops);
        Ok(start..self.subs.len() as u32)
    }

    fn value(
        &mut self,
        w: &'w Schema,
        r: &'r Schema,
        base: u32,
        path: &str,
        out: &mut Vec<Op>,
    ) -> Result<()> {
        let (w, r) = (self.wn.deref(w)?, self.rn.deref(r)?);
        let r_width = width(r, self.rn)? as u32;
        let all = base..base + r_width;
        match (w, r) {
            (Schema::Union(wu), Schema::Union(ru)) => {
                let mut branches = Vec::new();
                for wb in wu.iter() {
                    let wb = self.wn.deref(wb)?;
                    branches.push(match self.pick(wb, ru, base)? {
                        Some((Schema::Null, _)) => Branch::Null,
                        Some((rb, col)) => {
                            let w = width(rb, self.rn)? as u32;
                            match self.sub(wb, rb, col, path) {
                                Ok(ops) => Branch::Run {
                                    ops,
                                    cols: col..col + w,
                                },
                                Err(_) => Branch::Unmatched,
                            }
                        }
                        None => Branch::Unmatched,
                    });
                }
                out.push(self.union(branches, all));
            }
            (w, Schema::Union(ru)) => match self.pick(w, ru, base)? {
                Some((Schema::Null, _)) => out.push(Op::Nulls(all)),
                Some((rb, col)) => {
                    let end = col + width(rb, self.rn)? as u32;
                    if col > base {
                        out.push(Op::Nulls(base..col));
                    }
                    self.value(w, rb, col, path, out)?;
                    if end < all.end {
                        out.push(Op::Nulls(end..all.end));
                    }
                }
                None => return Err(Self::incompatible(path, w, r)),
            },
            (Schema::Union(wu), r) => {
                let mut branches = Vec::new();
                for wb in wu.iter() {
                    let wb = self.wn.deref(wb)?;
                    branches.push(match (wb, r) {
                        (Schema::Null, Schema::Null) => Branch::Null,
                        _ => match self.sub(wb, r, base, path) {
                            Ok(ops) => Branch::Run {
                                ops,
                                cols: all.clone(),
                            },
                            Err(_) => Branch::Unmatched,
                        },
                    });
                }
                out.push(self.union(branches, all));
            }
            (Schema::Record(wr), Schema::Record(rr)) => {
                let mut offsets = Vec::with_capacity(rr.fields.len());
                let mut col = base;
                for f in &rr.fields {
                    offsets.push(col);
                    col += width(&f.schema, self.rn)? as u32;
                }
                let mut seen = vec![false; rr.fields.len()];
                // Reader fields by name, else by alias (the first such field), in one map: a
                // scan per writer field would cost the product of the two records' widths.
                // (`FxHashMap<String, u32>`, a type the bundle has already: `shape.rs`.)
                let mut by_name: FxHashMap<String, u32> = FxHashMap::default();
                for (j, rf) in rr.fields.iter().enumerate().rev() {
                    by_name.extend(rf.aliases.iter().map(|a| (a.clone(), j as u32)));
                }
                for (j, rf) in rr.fields.iter().enumerate().rev() {
                    by_name.insert(rf.name.clone(), j as u32);
                }
                for wf in &wr.fields {
                    let found = by_name.get(wf.name.as_str()).map(|&j| j as usize);
                    let field_path = mapping::join(path, &wf.name);
                    match found {
                        Some(j) => {
                            seen[j] = true;
                            self.value(
                                &wf.schema,
                                &rr.fields[j].schema,
                                offsets[j],
                                &field_path,
                                out,
                            )?;
                        }
                        None => out.push(Op::Skip(self.shape(&wf.schema)?)),
                    }
                }
                let mut defaults = Vec::new();
                for (j, rf) in rr.fields.iter().enumerate().filter(|(j, _)| !seen[*j]) {
                    let default = rf.default.as_ref().ok_or_else(|| {
                        Error::Schema(format!(
                            "reader field {} is not in the writer schema and has no default",
                            mapping::join(path, &rf.name)
                        ))
                    })?;
                    mapping::default_values(
                        &rf.schema,
                        self.rn,
                        default,
                        offsets[j],
                        &mut defaults,
                    )
                    .map_err(|e| {
                        Error::Schema(format!("field {}: {e}", mapping::join(path, &rf.name)))
                    })?;
                }
                if !defaults.is_empty() {
                    out.push(Op::Defaults(defaults.into()));
                }
            }
            (w, r) => out.push(self.leaf(w, r, base, path)?),
        }
        Ok(())
    }

    /// The op of a writer union: [`Op::Nullable`] for a null and one value into one column, else
    /// the general [`Op::Union`].
    fn union(&mut self, branches: Vec<Branch>, all: Range<u32>) -> Op {
        let fused = match branches.as_slice() {
            [Branch::Null, Branch::Run { ops, cols }] => Some((1, ops, cols)),
            [Branch::Run { ops, cols }, Branch::Null] => Some((0, ops, cols)),
            _ => None,
        }
        .and_then(|(value, ops, cols)| {
            match self.subs.get(ops.start as usize..ops.end as usize) {
                Some([Op::Leaf(leaf)])
                    if *cols == all && all.len() == 1 && leaf.col() == all.start =>
                {
                    Some((value, *leaf, ops.clone()))
                }
                _ => None,
            }
        });
        match fused {
            Some((value, leaf, ops)) => {
                // The branch's sub-program was the last one compiled: it is not needed.
                if ops.end as usize == self.subs.len() {
                    self.subs.truncate(ops.start as usize);
                }
                Op::Nullable { leaf, value }
            }
            None => Op::Union {
                branches: branches.into(),
                cols: all,
            },
        }
    }

    /// The reader union branch a writer type goes to, with its first column: the first exact fit,
    /// else the first promotion.
    fn pick(
        &self,
        w: &Schema,
        branches: &'r [Schema],
        base: u32,
    ) -> Result<Option<(&'r Schema, u32)>> {
        let non_null = non_null_branches(branches);
        let mut best: Option<(Fit, &'r Schema, u32)> = None;
        let mut col = base;
        let single = non_null.len() == 1;
        for b in branches {
            let b = self.rn.deref(b)?;
            let f = fit(w, b);
            if f > best.as_ref().map_or(Fit::None, |(f, ..)| *f) {
                best = Some((f, b, col));
            }
            if !matches!(b, Schema::Null) && !single {
                col += width(b, self.rn)? as u32;
            }
        }
        Ok(best.map(|(_, b, col)| (b, col)))
    }

    fn leaf(&mut self, w: &'w Schema, r: &'r Schema, col: u32, path: &str) -> Result<Op> {
        let bad = || Self::incompatible(path, w, r);
        let (pw, pr) = (physical(w), physical(r));
        let timestamp_unit = |s: &Schema| match s {
            Schema::TimestampMillis | Schema::LocalTimestampMillis => Some(1_000_000),
            Schema::TimestampMicros | Schema::LocalTimestampMicros => Some(1_000),
            Schema::TimestampNanos | Schema::LocalTimestampNanos => Some(1),
            _ => None,
        };
        Ok(match r {
            Schema::Null if pw == "null" => Op::Nulls(col..col),
            Schema::Boolean if pw == "boolean" => Op::Leaf(Leaf::Bool(col)),
            Schema::Int if pw == "int" => Op::Leaf(Leaf::Int(col)),
            Schema::Long => match pw {
                "int" => Op::Leaf(Leaf::IntToLong(col)),
                "long" => Op::Leaf(Leaf::Long(col)),
                _ => return Err(bad()),
            },
            Schema::Float | Schema::Double => match pw {
                "int" => Op::Leaf(Leaf::IntToDouble(col)),
                "long" => Op::Leaf(Leaf::LongToDouble(col)),
                "float" => Op::Leaf(Leaf::FloatToDouble(col)),
                "double" if pr == "double" => Op::Leaf(Leaf::Double(col)),
                _ => return Err(bad()),
            },
            Schema::String | Schema::Uuid if pw == "string" || pw == "bytes" => {
                self.strings += 1;
                Op::Leaf(Leaf::String {
                    col,
                    cache: self.strings - 1,
                })
            }
            Schema::Bytes | Schema::BigDecimal if pw == "string" || pw == "bytes" => {
                Op::Leaf(Leaf::Binary(col))
            }
            Schema::Fixed(_) | Schema::Duration(_) => {
                let size = |s: &Schema| match s {
                    Schema::Fixed(f) => Some(f.size),
                    Schema::Duration(f) => Some(f.size),
                    Schema::Decimal(d) => match &*d.inner {
                        Schema::Fixed(f) => Some(f.size),
                        _ => None,
                    },
                    _ => None,
                };
                match (size(w), size(r)) {
                    (Some(a), Some(b)) if a == b => Op::Leaf(Leaf::Fixed {
                        col,
                        size: a as u32,
                    }),
                    _ => return Err(bad()),
                }
            }
            Schema::Enum(re) => match w {
                Schema::Enum(we) => {
                    self.symbols.push(
                        we.symbols
                            .iter()
                            .map(|s| {
                                if re.symbols.contains(s) {
                                    Symbol::Reader(s.as_str().into())
                                } else if let Some(d) = &re.default {
                                    Symbol::Reader(d.as_str().into())
                                } else {
                                    Symbol::Unknown(s.as_str().into())
                                }
                            })
                            .collect(),
                    );
                    Op::Leaf(Leaf::Enum {
                        col,
                        cache: self.symbols.len() as u32 - 1,
                    })
                }
                _ => return Err(bad()),
            },
            Schema::Decimal(rd) => {
                let (inner, scale) = match w {
                    Schema::Decimal(wd) => (&*wd.inner, wd.scale as i32),
                    other => (other, rd.scale as i32),
                };
                match inner {
                    Schema::Bytes => Op::Leaf(Leaf::Decimal {
                        col,
                        size: None,
                        scale,
                    }),
                    Schema::Fixed(f) => Op::Leaf(Leaf::Decimal {
                        col,
                        size: Some(f.size as u32),
                        scale,
                    }),
                    _ => return Err(bad()),
                }
            }
            Schema::Date if pw == "int" => Op::Leaf(Leaf::Date(col)),
            Schema::TimeMillis if pw == "int" => Op::Leaf(Leaf::TimeMillis(col)),
            Schema::TimeMicros => match w {
                Schema::TimeMillis => Op::Leaf(Leaf::TimeMillis(col)),
                _ if pw == "long" => Op::Leaf(Leaf::TimeMicros(col)),
                _ => return Err(bad()),
            },
            _ if timestamp_unit(r).is_some() && pw == "long" => Op::Leaf(Leaf::Timestamp {
                col,
                // The writer's unit when it has one: it says what its numbers mean.
                nanos: timestamp_unit(w).or(timestamp_unit(r)).unwrap_or(1),
            }),
            Schema::Array(_) if pw == "array" => Op::Json {
                col,
                shape: self.shape(w)?,
            },
            Schema::Map(_) if pw == "map" => Op::Json {
                col,
                shape: self.shape(w)?,
            },
            _ => return Err(bad()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `bytes` as the cursor sees them: in a body, followed by `after`.
    fn key_in_body(bytes: &[u8], after: &[u8]) -> Key {
        let mut body = Vec::new();
        super::super::vlq::write_long(&mut body, bytes.len() as i64);
        body.extend_from_slice(bytes);
        body.extend_from_slice(after);
        let mut cur = Cursor::new(&body);
        match cur.bytes_window() {
            Ok((read, window)) => {
                assert_eq!(read, bytes);
                Key::of(read, window)
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    proptest! {
        /// `scale` refuses exactly what `checked_mul` overflows on, and the null sentinel.
        #[test]
        fn scale_is_checked_mul(
            v in prop_oneof![any::<i64>(), -10_000_000_000_000i64..10_000_000_000_000],
            edge in -3i64..3,
            by in prop_oneof![Just(1i64), Just(1_000), Just(1_000_000), 2i64..5_000],
        ) {
            let want = |v: i64| match v.checked_mul(by) {
                Some(NULL_I64) | None => Err(DecodeReason::OutOfRange("x")),
                Some(v) => Ok(v),
            };
            prop_assert_eq!(scale(v, by, "x"), want(v));
            // Around the limits.
            for limit in [i64::MAX / by, i64::MIN / by] {
                let v = limit.saturating_add(edge);
                prop_assert_eq!(scale(v, by, "x"), want(v));
            }
        }

        /// The windowed ASCII check is `is_ascii`, whatever follows the string.
        #[test]
        fn windowed_ascii_is_is_ascii(
            bytes in proptest::collection::vec(prop_oneof![0u8..0x80, any::<u8>()], 0..24),
            after in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let mut body = Vec::new();
            super::super::vlq::write_long(&mut body, bytes.len() as i64);
            body.extend_from_slice(&bytes);
            body.extend_from_slice(&after);
            let mut cur = Cursor::new(&body);
            let (read, window) = cur.bytes_window().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(is_ascii(read, window), bytes.is_ascii());
        }

        /// Long strings are cached with their bytes: equal keys are not enough.
        #[test]
        fn long_strings_compare_their_bytes(
            a in proptest::collection::vec(0u8..2, KEY_BYTES + 1..40),
            b in proptest::collection::vec(0u8..2, KEY_BYTES + 1..40),
        ) {
            let (mut codes, key) = (StringCodes::default(), Key::of(&a, None));
            codes.reset(1);
            codes.set(key.slot(), key, &a, 7);
            let other = Key::of(&b, None);
            prop_assert_eq!(codes.get(other.slot(), &other, &b), (a == b).then_some(7));
        }

        /// A key identifies a byte string of up to [`KEY_BYTES`], whatever follows it in the
        /// body and whether it was read with a window or without: the string cache compares
        /// keys alone for those.
        #[test]
        fn keys_of_short_strings_are_the_strings(
            a in proptest::collection::vec(0u8..4, 0..=KEY_BYTES),
            b in proptest::collection::vec(0u8..4, 0..=KEY_BYTES),
            after_a in proptest::collection::vec(any::<u8>(), 0..20),
            after_b in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let (ka, kb) = (key_in_body(&a, &after_a), key_in_body(&b, &after_b));
            prop_assert_eq!(ka, Key::of(&a, None));
            prop_assert_eq!(kb, Key::of(&b, None));
            prop_assert_eq!(ka == kb, a == b);
            prop_assert!(ka.slot() < STRING_SLOTS);
            prop_assert!(ka != Key::EMPTY);
            let mut codes = StringCodes::default();
            codes.reset(1);
            codes.set(ka.slot(), ka, &a, 7);
            prop_assert_eq!(codes.get(kb.slot(), &kb, &b), (a == b).then_some(7));
        }
    }
}
