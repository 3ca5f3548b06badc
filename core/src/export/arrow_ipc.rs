//! The Arrow IPC *file* format (`ARROW1`), written by hand: arrow-rs's writer would add far more
//! to the page's wasm bundle than this file does. The layout follows the Arrow columnar format
//! spec (<https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format>): the magic, the
//! schema message, one dictionary batch per dictionary-coded string column, one record batch of
//! every row, then the footer (`File.fbs`) that indexes them, its length and the magic again.
//! Messages are FlatBuffers ([`super::flatbuffer`]) of `Message.fbs` and `Schema.fbs`.
//!
//! Types: bool → `Bool`; int → `Int(32, signed)`; long → `Int(64, signed)`; double →
//! `FloatingPoint(DOUBLE)`; timestamp → `Timestamp(NANOSECOND, "UTC")`; date → `Date(DAY)`;
//! time → `Time(NANOSECOND, 64)`; string → `Utf8`, dictionary-encoded (int32 indices, dictionary
//! id = the column's position) while the column keeps a dictionary; binary → `Binary`; array →
//! `List` of its element type (string elements plain `Utf8`). Every field is nullable.
//!
//! Invariant: every buffer of a body starts at a multiple of 8 bytes from the body's start, and
//! every message's metadata at a multiple of 8 in the file; a null sentinel's slot has its
//! validity bit cleared (its value bytes are left as stored, which readers ignore).

use super::cells::Cells;
use super::flatbuffer::{Node, Slot, finish};
use crate::column::strings::NULL_CODE;
use crate::column::{Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64};
use crate::table::Field;
use crate::{Error, Result};

const MAGIC: &[u8; 6] = b"ARROW1";
/// `MetadataVersion.V5`.
const V5: i16 = 4;
/// `MessageHeader` union tags.
const SCHEMA: u8 = 1;
const DICTIONARY_BATCH: u8 = 2;
const RECORD_BATCH: u8 = 3;
/// `Type` union tags.
const INT: u8 = 2;
const FLOATING_POINT: u8 = 3;
const BINARY: u8 = 4;
const UTF8: u8 = 5;
const BOOL: u8 = 6;
const DATE: u8 = 8;
const TIME: u8 = 9;
const TIMESTAMP: u8 = 10;
const LIST: u8 = 12;
/// `Precision.DOUBLE`, `DateUnit.DAY`, `TimeUnit.NANOSECOND`.
const DOUBLE: i16 = 2;
const DAY: i16 = 0;
const NANOSECOND: i16 = 3;

/// The Arrow IPC file of `columns` (each `rows` long).
pub(super) fn file(columns: &[(&Field, &Column)], rows: usize) -> Result<Vec<u8>> {
    let cells: Vec<Cells<'_>> = columns.iter().map(|(_, c)| Cells::read(c)).collect();
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0, 0]);
    message(&mut out, SCHEMA, schema(columns, &cells), &[]);

    let mut dictionaries = Vec::new();
    for (id, ((field, _), column)) in columns.iter().zip(&cells).enumerate() {
        let Cells::Codes { dict, .. } = column else {
            continue;
        };
        let mut body = Body::default();
        body.var_width(&field.name, dict.len(), &|c| {
            dict.get(c as u32).map(str::as_bytes)
        })?;
        let batch = Node::Table(vec![
            (0, Slot::i64(id as i64)),
            (1, Slot::Ref(body.record_batch(dict.len()))),
        ]);
        dictionaries.push(message(&mut out, DICTIONARY_BATCH, batch, &body.bytes));
    }

    let mut body = Body::default();
    for ((field, _), column) in columns.iter().zip(&cells) {
        body.encode(&field.name, column, true)?;
    }
    let batch = body.record_batch(rows);
    let batches = [message(&mut out, RECORD_BATCH, batch, &body.bytes)];

    let footer = finish(&Node::Table(vec![
        (0, Slot::i16(V5)),
        (1, Slot::Ref(schema(columns, &cells))),
        (2, Slot::Ref(blocks(&dictionaries))),
        (3, Slot::Ref(blocks(&batches))),
    ]));
    out.extend_from_slice(&footer);
    out.extend_from_slice(&(footer.len() as i32).to_le_bytes());
    out.extend_from_slice(MAGIC);
    Ok(out)
}

/// Where a message is in the file (`File.fbs`'s `Block`).
struct Block {
    offset: usize,
    metadata: usize,
    body: usize,
}

fn blocks(blocks: &[Block]) -> Node<'static> {
    let mut bytes = Vec::with_capacity(24 * blocks.len());
    for b in blocks {
        bytes.extend_from_slice(&(b.offset as i64).to_le_bytes());
        bytes.extend_from_slice(&(b.metadata as i32).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&(b.body as i64).to_le_bytes());
    }
    Node::Structs {
        count: blocks.len(),
        bytes,
    }
}

/// Appends an encapsulated message: the continuation marker, the metadata's length, the
/// metadata (a `Message` whose header is `header`), then `body`.
fn message(out: &mut Vec<u8>, kind: u8, header: Node<'_>, body: &[u8]) -> Block {
    let metadata = finish(&Node::Table(vec![
        (0, Slot::i16(V5)),
        (1, Slot::u8(kind)),
        (2, Slot::Ref(header)),
        (3, Slot::i64(body.len() as i64)),
    ]));
    let offset = out.len();
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&(metadata.len() as i32).to_le_bytes());
    out.extend_from_slice(&metadata);
    out.extend_from_slice(body);
    Block {
        offset,
        metadata: 8 + metadata.len(),
        body: body.len(),
    }
}

fn schema<'a>(columns: &[(&'a Field, &Column)], cells: &[Cells<'_>]) -> Node<'a> {
    let mut fields = Vec::with_capacity(columns.len());
    for (id, ((field, _), column)) in columns.iter().zip(cells).enumerate() {
        let dictionary = matches!(column, Cells::Codes { .. }).then_some(id as i64);
        fields.push(field_node(&field.name, field.ty, dictionary));
    }
    Node::Table(vec![(1, Slot::Ref(Node::Tables(fields)))])
}

/// `Schema.fbs`'s `Field` for a column of `ty` (dictionary-encoded with that id, if any).
fn field_node(name: &str, ty: ColumnType, dictionary: Option<i64>) -> Node<'_> {
    let int = |bits: i32| Node::Table(vec![(0, Slot::i32(bits)), (1, Slot::u8(1))]);
    let unit = |u: i16| vec![(0, Slot::i16(u))];
    let mut children = Vec::new();
    let (tag, fields) = match ty {
        ColumnType::Bool => (BOOL, vec![]),
        ColumnType::I32 => (INT, vec![(0, Slot::i32(32)), (1, Slot::u8(1))]),
        ColumnType::I64 => (INT, vec![(0, Slot::i32(64)), (1, Slot::u8(1))]),
        ColumnType::F64 => (FLOATING_POINT, unit(DOUBLE)),
        ColumnType::Timestamp => (
            TIMESTAMP,
            vec![(0, Slot::i16(NANOSECOND)), (1, Slot::Ref(Node::Str("UTC")))],
        ),
        ColumnType::Date => (DATE, unit(DAY)),
        ColumnType::Time => (TIME, vec![(0, Slot::i16(NANOSECOND)), (1, Slot::i32(64))]),
        ColumnType::String => (UTF8, vec![]),
        ColumnType::Binary => (BINARY, vec![]),
        ColumnType::Array(element) => {
            children.push(field_node("item", *element, None));
            (LIST, vec![])
        }
    };
    let mut field = vec![
        (0, Slot::Ref(Node::Str(name))),
        (1, Slot::u8(1)),
        (2, Slot::u8(tag)),
        (3, Slot::Ref(Node::Table(fields))),
        (5, Slot::Ref(Node::Tables(children))),
    ];
    if let Some(id) = dictionary {
        field.push((
            4,
            Slot::Ref(Node::Table(vec![
                (0, Slot::i64(id)),
                (1, Slot::Ref(int(32))),
            ])),
        ));
    }
    Node::Table(field)
}

/// A record batch's body as it is written: the buffers back to back (each padded to 8 bytes),
/// and the field nodes and buffers that `RecordBatch` lists.
#[derive(Default)]
struct Body {
    bytes: Vec<u8>,
    /// `(length, null count)` of each field, depth first.
    nodes: Vec<(usize, usize)>,
    /// `(offset, length)` of each buffer in `bytes`.
    buffers: Vec<(usize, usize)>,
}

impl Body {
    /// Records the buffer written since `start`, and pads it.
    fn close(&mut self, start: usize) {
        self.buffers.push((start, self.bytes.len() - start));
        self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
    }

    /// An empty buffer (a validity bitmap of a field without nulls).
    fn empty(&mut self) {
        self.buffers.push((self.bytes.len(), 0));
    }

    /// The validity bitmap of `valid` (one per row) and its field node; no bitmap without nulls.
    fn validity(&mut self, valid: &[bool]) {
        let nulls = valid.iter().filter(|v| !**v).count();
        self.nodes.push((valid.len(), nulls));
        if nulls == 0 {
            self.empty();
        } else {
            self.buffer(&bitmap(valid));
        }
    }

    /// A buffer of `bytes`.
    fn buffer(&mut self, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.close(start);
    }

    /// A fixed-width column's validity (its values other than the null sentinel) and values.
    fn fixed<T: Native>(&mut self, values: &[T]) {
        let mut valid = Vec::with_capacity(values.len());
        let mut bytes = Vec::with_capacity(std::mem::size_of_val(values));
        for v in values {
            valid.push(*v != T::NULL);
            v.put(&mut bytes);
        }
        self.validity(&valid);
        self.buffer(&bytes);
    }

    /// Variable-length values (utf8 or binary) as Arrow lays them out: validity, int32 offsets,
    /// data; `value(i)` is row `i`'s (`None` for a null). Fails past 32-bit offsets.
    fn var_width<'v>(
        &mut self,
        name: &str,
        rows: usize,
        value: &dyn Fn(usize) -> Option<&'v [u8]>,
    ) -> Result<()> {
        let (mut valid, mut offsets, mut data) = (Vec::new(), vec![0u8; 4], Vec::new());
        for row in 0..rows {
            let v = value(row);
            valid.push(v.is_some());
            data.extend_from_slice(v.unwrap_or_default());
            // Past i32::MAX the column is refused below; the offset written here is then moot.
            offsets.extend_from_slice(&(data.len() as i32).to_le_bytes());
        }
        if i32::try_from(data.len()).is_err() {
            return Err(too_long(name, data.len(), "bytes of values"));
        }
        self.validity(&valid);
        self.buffer(&offsets);
        self.buffer(&data);
        Ok(())
    }

    /// Appends a column's field node(s) and buffers; strings as dictionary indices when
    /// `dictionaries` and the column has a dictionary.
    fn encode(&mut self, name: &str, cells: &Cells<'_>, dictionaries: bool) -> Result<()> {
        match cells {
            Cells::Bool(v) => {
                let (mut valid, mut set) =
                    (Vec::with_capacity(v.len()), Vec::with_capacity(v.len()));
                for b in v {
                    valid.push(*b != NULL_BOOL);
                    set.push(*b == 1);
                }
                self.validity(&valid);
                self.buffer(&bitmap(&set));
            }
            Cells::I32(v) | Cells::Date(v) => self.fixed(v),
            Cells::I64(v) | Cells::Timestamp(v) | Cells::Time(v) => self.fixed(v),
            Cells::F64(v) => self.fixed(v),
            Cells::Codes { codes, .. } if dictionaries => {
                let mut valid = Vec::with_capacity(codes.len());
                let mut indices = Vec::with_capacity(4 * codes.len());
                for c in codes {
                    valid.push(*c != NULL_CODE);
                    let index = if *c == NULL_CODE { 0 } else { *c as i32 };
                    indices.extend_from_slice(&index.to_le_bytes());
                }
                self.validity(&valid);
                self.buffer(&indices);
            }
            Cells::Codes { codes, .. } => {
                self.var_width(name, codes.len(), &|r| cells.str(r).map(str::as_bytes))?;
            }
            Cells::String(v) => {
                self.var_width(name, v.len(), &|r| v[r].map(str::as_bytes))?;
            }
            Cells::Binary { bytes, ranges } => {
                self.var_width(name, ranges.len(), &|r| {
                    ranges[r].map(|(first, n)| &bytes[first..first + n])
                })?;
            }
            Cells::Array { values, ranges } => {
                let mut valid = Vec::with_capacity(ranges.len());
                let mut offsets = Vec::with_capacity(4 * ranges.len() + 4);
                let mut end = 0usize;
                offsets.extend_from_slice(&0i32.to_le_bytes());
                for r in ranges {
                    valid.push(r.is_some());
                    if let Some((first, count)) = r {
                        end = first + count;
                    }
                    offsets.extend_from_slice(&(end as i32).to_le_bytes());
                }
                if i32::try_from(end).is_err() {
                    return Err(too_long(name, end, "array elements"));
                }
                self.validity(&valid);
                self.buffer(&offsets);
                self.encode(name, values, false)?;
            }
        }
        Ok(())
    }

    /// `RecordBatch` of `rows` rows over this body.
    fn record_batch(&self, rows: usize) -> Node<'static> {
        let pairs = |list: &[(usize, usize)]| {
            let mut bytes = Vec::with_capacity(16 * list.len());
            for (a, b) in list {
                bytes.extend_from_slice(&(*a as i64).to_le_bytes());
                bytes.extend_from_slice(&(*b as i64).to_le_bytes());
            }
            Node::Structs {
                count: list.len(),
                bytes,
            }
        };
        Node::Table(vec![
            (0, Slot::i64(rows as i64)),
            (1, Slot::Ref(pairs(&self.nodes))),
            (2, Slot::Ref(pairs(&self.buffers))),
        ])
    }
}

/// A fixed-width value as Arrow stores it, and the engine's null sentinel of its type.
trait Native: Copy + PartialEq {
    const NULL: Self;
    fn put(self, out: &mut Vec<u8>);
}

impl Native for i32 {
    const NULL: Self = NULL_I32;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Native for i64 {
    const NULL: Self = NULL_I64;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Native for f64 {
    const NULL: Self = NULL_F64;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// The error for a column past Arrow's 32-bit offsets.
fn too_long(name: &str, count: usize, what: &str) -> Error {
    Error::Invalid(format!(
        "column {name} holds {count} {what}, more than an Arrow file's 32-bit offsets reach"
    ))
}

/// Bits packed least significant first, as Arrow's bitmaps are.
fn bitmap(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8)
        .map(|byte| {
            byte.iter()
                .enumerate()
                .fold(0u8, |acc, (i, b)| acc | (*b as u8) << i)
        })
        .collect()
}
