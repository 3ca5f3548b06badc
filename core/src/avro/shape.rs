//! [`Shapes`]: what a writer schema looks like on the wire, for the two things a plan does with data
//! it does not put in typed columns: skip it (fields only the writer has) and render it as JSON
//! (arrays and maps, see the column mapping in [`super::mapping`]).
//!
//! A shape is the writer schema with logical types reduced to their encodings and named types
//! held once in a table, so recursive schemas are finite. Skipping honours the byte size of
//! negative-count array and map blocks (it jumps over the block without reading it).
//!
//! Invariant: reading a shape consumes exactly the bytes the writer wrote for it, or fails; nesting
//! deeper than [`MAX_DEPTH`] fails rather than overflowing the stack.

use rustc_hash::FxHashMap;
use std::fmt::Write as _;

use super::schema::Schema;

use super::cursor::Cursor;
use crate::{DecodeReason, Error, Result};

/// Values nest at most this deep (only recursive schemas can reach it).
pub const MAX_DEPTH: usize = 64;
/// Items of zero-byte types (null, an empty record) a JSON rendering writes at most per value.
const MAX_EMPTY_ITEMS: u64 = 1 << 16;

/// A writer type as encoded.
#[derive(Debug, Clone)]
pub enum Shape {
    Null,
    Bool,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Enum(Box<[Box<str>]>),
    Array(Box<Shape>),
    Map(Box<Shape>),
    Record(Box<[(Box<str>, Shape)]>),
    Union(Box<[Shape]>),
    /// A named record, by index in [`Shapes::named`] (records may be recursive).
    Named(u32),
}

/// The shapes one plan needs, with the named records they share.
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    named: Vec<Shape>,
    index: FxHashMap<String, u32>,
}

/// Named types of one schema by fullname, to resolve `Schema::Ref`.
pub struct Names<'s> {
    names: FxHashMap<String, &'s Schema>,
}

impl<'s> Names<'s> {
    pub fn of(schema: &'s Schema) -> Result<Self> {
        let mut names = Names {
            names: FxHashMap::default(),
        };
        names.collect(schema);
        Ok(names)
    }

    /// Every named type defined in `schema` (the parser has checked that each is defined once).
    fn collect(&mut self, schema: &'s Schema) {
        if let Some(name) = schema.defined_name() {
            self.names.insert(name.fullname(), schema);
        }
        match schema {
            Schema::Array(inner) | Schema::Map(inner) => self.collect(inner),
            Schema::Union(variants) => variants.iter().for_each(|v| self.collect(v)),
            Schema::Record(r) => r.fields.iter().for_each(|f| self.collect(&f.schema)),
            _ => {}
        }
    }

    /// The schema itself, or the named schema a reference points to.
    pub fn deref(&self, schema: &'s Schema) -> Result<&'s Schema> {
        match schema {
            Schema::Ref { name } => {
                let full = name.fullname();
                self.names
                    .get(&full)
                    .copied()
                    .ok_or_else(|| Error::Schema(format!("unknown type name {full}")))
            }
            other => Ok(other),
        }
    }
}

impl Shapes {
    /// The shape of `schema`, adding its named records to this table.
    pub fn shape_of<'s>(&mut self, schema: &'s Schema, names: &Names<'s>) -> Result<Shape> {
        let schema = names.deref(schema)?;
        Ok(match schema {
            Schema::Fixed(f) => Shape::Fixed(f.size),
            Schema::Duration(f) => Shape::Fixed(f.size),
            Schema::Decimal(d) => self.shape_of(&d.inner, names)?,
            Schema::Enum(e) => Shape::Enum(e.symbols.iter().map(|s| s.as_str().into()).collect()),
            Schema::Array(items) => Shape::Array(Box::new(self.shape_of(items, names)?)),
            Schema::Map(values) => Shape::Map(Box::new(self.shape_of(values, names)?)),
            Schema::Union(variants) => Shape::Union(
                variants
                    .iter()
                    .map(|v| self.shape_of(v, names))
                    .collect::<Result<_>>()?,
            ),
            Schema::Record(r) => {
                let key = r.name.fullname();
                if let Some(&i) = self.index.get(&key) {
                    return Ok(Shape::Named(i));
                }
                let i = self.named.len() as u32;
                self.index.insert(key, i);
                self.named.push(Shape::Null);
                let fields = r
                    .fields
                    .iter()
                    .map(|f| Ok((f.name.as_str().into(), self.shape_of(&f.schema, names)?)))
                    .collect::<Result<_>>()?;
                self.named[i as usize] = Shape::Record(fields);
                Shape::Named(i)
            }
            Schema::Ref { .. } => {
                return Err(Error::Schema("a type reference to a reference".into()));
            }
            leaf => match leaf.physical() {
                "null" => Shape::Null,
                "boolean" => Shape::Bool,
                "int" => Shape::Int,
                "long" => Shape::Long,
                "float" => Shape::Float,
                "double" => Shape::Double,
                "bytes" => Shape::Bytes,
                _ => Shape::String,
            },
        })
    }

    fn named(&self, i: u32) -> Result<&Shape, DecodeReason> {
        self.named.get(i as usize).ok_or(DecodeReason::PlanMismatch)
    }

    /// The fewest bytes a value of `shape` takes (0 when it may take none, or when named records
    /// nest too deep to tell).
    fn min_size(&self, shape: &Shape, depth: usize) -> usize {
        match shape {
            Shape::Null => 0,
            Shape::Named(i) if depth < 8 => self
                .named
                .get(*i as usize)
                .map_or(0, |s| self.min_size(s, depth + 1)),
            Shape::Named(_) => 0,
            Shape::Float => 4,
            Shape::Double => 8,
            Shape::Fixed(n) => *n,
            Shape::Record(fields) => fields
                .iter()
                .map(|(_, s)| self.min_size(s, depth + 1))
                .fold(0usize, usize::saturating_add),
            _ => 1,
        }
    }

    /// Skips one value of `shape`.
    pub fn skip(
        &self,
        shape: &Shape,
        cur: &mut Cursor<'_>,
        depth: usize,
    ) -> Result<(), DecodeReason> {
        if depth > MAX_DEPTH {
            return Err(DecodeReason::TooDeep(MAX_DEPTH));
        }
        match shape {
            Shape::Null => Ok(()),
            Shape::Bool => cur.boolean().map(|_| ()),
            Shape::Int => cur.int().map(|_| ()),
            Shape::Long => cur.long().map(|_| ()),
            Shape::Float => cur.skip(4),
            Shape::Double => cur.skip(8),
            Shape::Bytes | Shape::String => cur.bytes().map(|_| ()),
            Shape::Fixed(n) => cur.skip(*n),
            Shape::Enum(symbols) => enum_index(cur, symbols.len()).map(|_| ()),
            Shape::Array(item) => self.blocks(cur, self.min_size(item, 0), true, |cur| {
                self.skip(item, cur, depth + 1)
            }),
            Shape::Map(value) => self.blocks(cur, 1, true, |cur| {
                cur.bytes()?;
                self.skip(value, cur, depth + 1)
            }),
            Shape::Record(fields) => fields
                .iter()
                .try_for_each(|(_, s)| self.skip(s, cur, depth + 1)),
            Shape::Union(branches) => {
                let b = union_index(cur, branches.len())?;
                self.skip(&branches[b], cur, depth + 1)
            }
            Shape::Named(i) => self.skip(self.named(*i)?, cur, depth + 1),
        }
    }

    /// Reads the blocks of an array or map, calling `item` once per item. Items of at least one
    /// byte must fit in what is left; items of no bytes are bounded by [`MAX_EMPTY_ITEMS`] per
    /// value. With `skip_sized`, blocks that give their size in bytes are jumped over.
    fn blocks(
        &self,
        cur: &mut Cursor<'_>,
        min_size: usize,
        skip_sized: bool,
        mut item: impl FnMut(&mut Cursor<'_>) -> Result<(), DecodeReason>,
    ) -> Result<(), DecodeReason> {
        let mut empty_items = 0u64;
        loop {
            let (count, size) = cur.block()?;
            if count == 0 {
                return Ok(());
            }
            if let (Some(size), true) = (size, skip_sized) {
                cur.skip(size)?;
                continue;
            }
            if min_size == 0 {
                empty_items = empty_items.saturating_add(count);
                if empty_items > MAX_EMPTY_ITEMS {
                    return Err(DecodeReason::BlockCount(count as i64));
                }
            } else if count.saturating_mul(min_size as u64) > cur.remaining() as u64 {
                return Err(DecodeReason::BlockCount(count as i64));
            }
            for _ in 0..count {
                item(cur)?;
            }
        }
    }

    /// Renders one value of `shape` as JSON into `out`.
    pub fn json(
        &self,
        shape: &Shape,
        cur: &mut Cursor<'_>,
        out: &mut String,
        depth: usize,
    ) -> Result<(), DecodeReason> {
        if depth > MAX_DEPTH {
            return Err(DecodeReason::TooDeep(MAX_DEPTH));
        }
        match shape {
            Shape::Null => out.push_str("null"),
            Shape::Bool => out.push_str(if cur.boolean()? { "true" } else { "false" }),
            Shape::Int => {
                let _ = write!(out, "{}", cur.int()?);
            }
            Shape::Long => {
                let _ = write!(out, "{}", cur.long()?);
            }
            Shape::Float => json_number(out, f64::from(cur.float()?)),
            Shape::Double => json_number(out, cur.double()?),
            Shape::String => json_string(out, cur.string()?),
            Shape::Bytes => json_bytes(out, cur.bytes()?),
            Shape::Fixed(n) => json_bytes(out, cur.fixed(*n)?),
            Shape::Enum(symbols) => json_string(out, &symbols[enum_index(cur, symbols.len())?]),
            Shape::Array(item) => {
                out.push('[');
                let mut first = true;
                self.blocks(cur, self.min_size(item, 0), false, |cur| {
                    if !std::mem::take(&mut first) {
                        out.push(',');
                    }
                    self.json(item, cur, out, depth + 1)
                })?;
                out.push(']');
            }
            Shape::Map(value) => {
                out.push('{');
                let mut first = true;
                self.blocks(cur, 1, false, |cur| {
                    if !std::mem::take(&mut first) {
                        out.push(',');
                    }
                    json_string(out, cur.string()?);
                    out.push(':');
                    self.json(value, cur, out, depth + 1)
                })?;
                out.push('}');
            }
            Shape::Record(fields) => {
                out.push('{');
                for (i, (name, s)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(out, name);
                    out.push(':');
                    self.json(s, cur, out, depth + 1)?;
                }
                out.push('}');
            }
            Shape::Union(branches) => {
                let b = union_index(cur, branches.len())?;
                self.json(&branches[b], cur, out, depth + 1)?;
            }
            Shape::Named(i) => self.json(self.named(*i)?, cur, out, depth + 1)?,
        }
        Ok(())
    }
}

/// A union branch index, checked against the number of branches.
#[inline]
pub fn union_index(cur: &mut Cursor<'_>, branches: usize) -> Result<usize, DecodeReason> {
    union_index_hot(cur, branches)
}

/// [`union_index`], always inlined: for the batch loop only (see [`Cursor::long`]).
#[inline(always)]
pub fn union_index_hot(cur: &mut Cursor<'_>, branches: usize) -> Result<usize, DecodeReason> {
    let index = cur.long_hot()?;
    if index < 0 || index as u64 >= branches as u64 {
        return Err(DecodeReason::UnionIndex { index, branches });
    }
    Ok(index as usize)
}

/// An enum symbol index, checked against the number of symbols.
#[inline]
pub fn enum_index(cur: &mut Cursor<'_>, symbols: usize) -> Result<usize, DecodeReason> {
    enum_index_hot(cur, symbols)
}

/// [`enum_index`], always inlined: for the batch loop only (see [`Cursor::long`]).
#[inline(always)]
pub fn enum_index_hot(cur: &mut Cursor<'_>, symbols: usize) -> Result<usize, DecodeReason> {
    let index = cur.int_hot()?;
    if index < 0 || index as u64 >= symbols as u64 {
        return Err(DecodeReason::EnumIndex {
            index: i64::from(index),
            symbols,
        });
    }
    Ok(index as usize)
}

/// A JSON number; NaN and the infinities, which JSON lacks, as strings.
pub fn json_number(out: &mut String, v: f64) {
    if v.is_finite() {
        // Debug: the shortest text that reads back the same double, always with a `.` or an
        // exponent, so JSON readers see a float.
        crate::float_text::push_debug(out, v);
    } else {
        json_string(out, &crate::float_text::display(v));
    }
}

/// A JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Bytes as Avro's JSON encoding writes them: a string of code points 0 to 255.
pub fn json_bytes(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
    }
    out.push('"');
}
