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

use std::ops::Range;
use std::sync::Arc;

use apache_avro::Schema;

use super::cursor::Cursor;
use super::mapping::{self, decimal_to_f64, non_null_branches, width};
use super::shape::{Names, Shape, Shapes, enum_index, union_index};
use crate::column::{Column, NULL_I64, Value};
use crate::{DecodeReason, Error, Result};

/// What a writer enum symbol becomes in the reader.
#[derive(Debug, Clone)]
pub enum Symbol {
    /// This reader symbol (the writer's own, or the reader's default).
    Reader(Box<str>),
    /// A symbol the reader lacks, with no default to fall back on.
    Unknown(Arc<str>),
}

/// One step of a plan. `u32`s are column indexes relative to the plan's first column.
#[derive(Debug, Clone)]
pub enum Op {
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
    /// An enum, as its symbol; `cache` indexes the plan's per-enum dictionary codes.
    Enum {
        col: u32,
        symbols: Box<[Symbol]>,
        cache: u32,
    },
    /// A long in units of `nanos` nanoseconds, as a timestamp.
    Timestamp {
        col: u32,
        nanos: i64,
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
    /// A value rendered as JSON text (arrays and maps).
    Json {
        col: u32,
        shape: Box<Shape>,
    },
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

/// The immutable part of a plan: its ops and the shapes they skip or render.
#[derive(Debug, Clone)]
struct Program {
    main: Box<[Op]>,
    subs: Box<[Op]>,
    shapes: Shapes,
}

/// What a plan keeps between records: the JSON buffer, and for each enum the dictionary codes
/// its symbols got in its column (so a symbol is hashed once per dictionary, not once per record).
#[derive(Debug, Clone, Default)]
struct State {
    json: String,
    enums: Vec<EnumCodes>,
    strings: Vec<StringCodes>,
}

#[derive(Debug, Clone, Default)]
struct StringCodes {
    dictionary: u64,
    /// Direct-mapped: a byte string and its code in the column's dictionary.
    slots: Vec<Option<(Box<[u8]>, u32)>>,
}

/// Slots of a [`StringCodes`] cache.
const STRING_SLOTS: usize = 64;

impl StringCodes {
    fn slot(bytes: &[u8]) -> usize {
        // The length and the first and last (up to) eight bytes, mixed: enough to tell apart the
        // few distinct values of a low-cardinality column.
        let word = |b: &[u8]| b.iter().fold(0u64, |w, &x| (w << 8) | u64::from(x));
        let head = word(&bytes[..bytes.len().min(8)]);
        let tail = word(&bytes[bytes.len().saturating_sub(8)..]);
        let h =
            (head ^ tail.rotate_left(29) ^ bytes.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 58) as usize
    }
}

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
            enums: 0,
            strings: 0,
        };
        let mut main = Vec::new();
        compiler.value(writer, reader, 0, "", &mut main)?;
        Ok(Self {
            state: State {
                json: String::new(),
                enums: vec![EnumCodes::default(); compiler.enums as usize],
                strings: vec![StringCodes::default(); compiler.strings as usize],
            },
            program: Program {
                main: main.into(),
                subs: compiler.subs.into(),
                shapes: compiler.shapes,
            },
            width: width(reader, &rn)?,
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
}

impl Program {
    fn run(
        &self,
        ops: &[Op],
        cur: &mut Cursor<'_>,
        cols: &mut [Column],
        state: &mut State,
    ) -> Result<(), DecodeReason> {
        macro_rules! push {
            ($col:expr, $variant:ident, $value:expr) => {
                match cols.get_mut(*$col as usize) {
                    Some(Column::$variant(c)) => c.push($value),
                    _ => return Err(DecodeReason::PlanMismatch),
                }
            };
        }
        for op in ops {
            match op {
                Op::Bool(c) => push!(c, Bool, i8::from(cur.boolean()?)),
                Op::Int(c) => push!(c, I32, cur.int()?),
                Op::IntToLong(c) => push!(c, I64, i64::from(cur.int()?)),
                Op::IntToDouble(c) => push!(c, F64, f64::from(cur.int()?)),
                Op::Long(c) => push!(c, I64, cur.long()?),
                Op::LongToDouble(c) => push!(c, F64, cur.long()? as f64),
                Op::FloatToDouble(c) => push!(c, F64, f64::from(cur.float()?)),
                Op::Double(c) => push!(c, F64, cur.double()?),
                Op::String { col, cache } => {
                    let bytes = cur.bytes()?;
                    let (Some(Column::String(column)), Some(codes)) = (
                        cols.get_mut(*col as usize),
                        state.strings.get_mut(*cache as usize),
                    ) else {
                        return Err(DecodeReason::PlanMismatch);
                    };
                    let Some(dictionary) = column.dictionary_id() else {
                        let s =
                            std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
                        column.push(Some(s));
                        continue;
                    };
                    // A byte string seen before has its code: no UTF-8 check, no hashing.
                    if codes.dictionary != dictionary {
                        codes.dictionary = dictionary;
                        codes.slots.clear();
                        codes.slots.resize(STRING_SLOTS, None);
                    }
                    let slot = StringCodes::slot(bytes);
                    if let Some(Some((seen, code))) = codes.slots.get(slot)
                        && **seen == *bytes
                        && column.push_code(*code)
                    {
                        continue;
                    }
                    let s = std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
                    if let Some(code) = column.push_interned(s)
                        && let Some(entry) = codes.slots.get_mut(slot)
                    {
                        *entry = Some((bytes.into(), code));
                    }
                }
                Op::Binary(c) => push!(c, Binary, Some(cur.bytes()?)),
                Op::Fixed { col, size } => push!(col, Binary, Some(cur.fixed(*size as usize)?)),
                Op::Enum {
                    col,
                    symbols,
                    cache,
                } => {
                    let index = enum_index(cur, symbols.len())?;
                    let symbol = match &symbols[index] {
                        Symbol::Reader(s) => s,
                        Symbol::Unknown(s) => return Err(DecodeReason::UnknownSymbol(s.clone())),
                    };
                    let (Some(Column::String(column)), Some(codes)) = (
                        cols.get_mut(*col as usize),
                        state.enums.get_mut(*cache as usize),
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
                Op::Timestamp { col, nanos } => {
                    let v = scale(cur.long()?, *nanos, "a timestamp in nanoseconds")?;
                    push!(col, Timestamp, v)
                }
                Op::Date(c) => push!(c, Date, cur.int()?),
                Op::TimeMillis(c) => push!(c, Time, i64::from(cur.int()?) * 1_000_000),
                Op::TimeMicros(c) => {
                    let v = scale(cur.long()?, 1_000, "a time in nanoseconds")?;
                    push!(c, Time, v)
                }
                Op::Decimal { col, size, scale } => {
                    let bytes = match size {
                        Some(n) => cur.fixed(*n as usize)?,
                        None => cur.bytes()?,
                    };
                    push!(col, F64, decimal_to_f64(bytes, *scale))
                }
                Op::Json { col, shape } => {
                    state.json.clear();
                    self.shapes.json(shape, cur, &mut state.json, 0)?;
                    push!(col, String, Some(state.json.as_str()))
                }
                Op::Skip(shape) => self.shapes.skip(shape, cur, 0)?,
                Op::Defaults(values) => {
                    for (c, v) in values.iter() {
                        cols.get_mut(*c as usize)
                            .ok_or(DecodeReason::PlanMismatch)?
                            .push(v);
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
                                .ok_or(DecodeReason::PlanMismatch)?;
                            self.run(sub, cur, cols, state)?;
                            nulls(cols, mine.end..all.end)?;
                        }
                        Branch::Unmatched => return Err(DecodeReason::UnmatchedBranch(index)),
                    }
                }
            }
        }
        Ok(())
    }
}

fn scale(v: i64, by: i64, what: &'static str) -> Result<i64, DecodeReason> {
    match v.checked_mul(by) {
        // The null sentinel is not a value a timestamp may take.
        Some(NULL_I64) | None => Err(DecodeReason::OutOfRange(what)),
        Some(v) => Ok(v),
    }
}

fn nulls(cols: &mut [Column], range: Range<u32>) -> Result<(), DecodeReason> {
    cols.get_mut(range.start as usize..range.end as usize)
        .ok_or(DecodeReason::PlanMismatch)?
        .iter_mut()
        .for_each(Column::push_null);
    Ok(())
}

struct Compiler<'a, 'w, 'r> {
    wn: &'a Names<'w>,
    rn: &'a Names<'r>,
    subs: Vec<Op>,
    shapes: Shapes,
    /// Enum ops so far (each gets a slot of codes in the plan's state).
    enums: u32,
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
    match schema {
        Schema::Int | Schema::Date | Schema::TimeMillis => "int",
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long",
        Schema::String | Schema::Uuid => "string",
        Schema::Bytes | Schema::BigDecimal => "bytes",
        Schema::Decimal(d) => physical(&d.inner),
        Schema::Fixed(_) | Schema::Duration => "fixed",
        Schema::Null => "null",
        Schema::Boolean => "boolean",
        Schema::Float => "float",
        Schema::Double => "double",
        Schema::Array(_) => "array",
        Schema::Map(_) => "map",
        Schema::Record(_) => "record",
        Schema::Enum(_) => "enum",
        Schema::Union(_) => "union",
        Schema::Ref { .. } => "ref",
    }
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
                for wb in wu.variants() {
                    let wb = self.wn.deref(wb)?;
                    branches.push(match self.pick(wb, ru.variants(), base)? {
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
                out.push(Op::Union {
                    branches: branches.into(),
                    cols: all,
                });
            }
            (w, Schema::Union(ru)) => match self.pick(w, ru.variants(), base)? {
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
                for wb in wu.variants() {
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
                out.push(Op::Union {
                    branches: branches.into(),
                    cols: all,
                });
            }
            (Schema::Record(wr), Schema::Record(rr)) => {
                let mut offsets = Vec::with_capacity(rr.fields.len());
                let mut col = base;
                for f in &rr.fields {
                    offsets.push(col);
                    col += width(&f.schema, self.rn)? as u32;
                }
                let mut seen = vec![false; rr.fields.len()];
                for wf in &wr.fields {
                    let found = rr.fields.iter().position(|rf| {
                        rf.name == wf.name
                            || rf.aliases.as_ref().is_some_and(|a| a.contains(&wf.name))
                    });
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
            Schema::Boolean if pw == "boolean" => Op::Bool(col),
            Schema::Int if pw == "int" => Op::Int(col),
            Schema::Long => match pw {
                "int" => Op::IntToLong(col),
                "long" => Op::Long(col),
                _ => return Err(bad()),
            },
            Schema::Float | Schema::Double => match pw {
                "int" => Op::IntToDouble(col),
                "long" => Op::LongToDouble(col),
                "float" => Op::FloatToDouble(col),
                "double" if pr == "double" => Op::Double(col),
                _ => return Err(bad()),
            },
            Schema::String | Schema::Uuid if pw == "string" || pw == "bytes" => {
                self.strings += 1;
                Op::String {
                    col,
                    cache: self.strings - 1,
                }
            }
            Schema::Bytes | Schema::BigDecimal if pw == "string" || pw == "bytes" => {
                Op::Binary(col)
            }
            Schema::Fixed(_) | Schema::Duration => {
                let size = |s: &Schema| match s {
                    Schema::Fixed(f) => Some(f.size),
                    Schema::Duration => Some(12),
                    Schema::Decimal(d) => match &*d.inner {
                        Schema::Fixed(f) => Some(f.size),
                        _ => None,
                    },
                    _ => None,
                };
                match (size(w), size(r)) {
                    (Some(a), Some(b)) if a == b => Op::Fixed {
                        col,
                        size: a as u32,
                    },
                    _ => return Err(bad()),
                }
            }
            Schema::Enum(re) => match w {
                Schema::Enum(we) => Op::Enum {
                    col,
                    cache: {
                        self.enums += 1;
                        self.enums - 1
                    },
                    symbols: we
                        .symbols
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
                },
                _ => return Err(bad()),
            },
            Schema::Decimal(rd) => {
                let (inner, scale) = match w {
                    Schema::Decimal(wd) => (&*wd.inner, wd.scale as i32),
                    other => (other, rd.scale as i32),
                };
                match inner {
                    Schema::Bytes => Op::Decimal {
                        col,
                        size: None,
                        scale,
                    },
                    Schema::Fixed(f) => Op::Decimal {
                        col,
                        size: Some(f.size as u32),
                        scale,
                    },
                    _ => return Err(bad()),
                }
            }
            Schema::Date if pw == "int" => Op::Date(col),
            Schema::TimeMillis if pw == "int" => Op::TimeMillis(col),
            Schema::TimeMicros => match w {
                Schema::TimeMillis => Op::TimeMillis(col),
                _ if pw == "long" => Op::TimeMicros(col),
                _ => return Err(bad()),
            },
            _ if timestamp_unit(r).is_some() && pw == "long" => Op::Timestamp {
                col,
                // The writer's unit when it has one: it says what its numbers mean.
                nanos: timestamp_unit(w).or(timestamp_unit(r)).unwrap_or(1),
            },
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
