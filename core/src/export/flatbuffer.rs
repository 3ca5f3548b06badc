//! A minimal FlatBuffers writer: just what Arrow's IPC metadata (`Schema.fbs`, `Message.fbs`,
//! `File.fbs`) needs — tables of scalars and references, strings, vectors of tables and vectors
//! of 8-byte-aligned structs.
//!
//! The message is described as a tree ([`Node`]) and laid out front to back: a table's vtable,
//! then the table, then its children, so every reference (an unsigned offset) points forward as
//! FlatBuffers requires. Invariant: every scalar sits at a position of the buffer that is a
//! multiple of its size (structs of 8), and every table starts at a multiple of 8, which is what a
//! verifying reader (Arrow C++'s, under pyarrow) checks.

/// One object of a message.
pub(super) enum Node<'a> {
    /// A table: `(field id, value)` pairs, in any order; absent ids take their default.
    Table(Vec<(u16, Slot<'a>)>),
    Str(&'a str),
    /// A vector of tables.
    Tables(Vec<Node<'a>>),
    /// A vector of `count` structs, each 8-byte aligned, given as their bytes back to back.
    Structs {
        count: usize,
        bytes: Vec<u8>,
    },
}

/// A table field's value: a scalar of 1, 2, 4 or 8 bytes, or a reference to a child.
pub(super) enum Slot<'a> {
    Scalar { size: u8, value: i64 },
    Ref(Node<'a>),
}

impl Slot<'_> {
    pub(super) fn u8(value: u8) -> Self {
        Self::Scalar {
            size: 1,
            value: value.into(),
        }
    }

    pub(super) fn i16(value: i16) -> Self {
        Self::Scalar {
            size: 2,
            value: value.into(),
        }
    }

    pub(super) fn i32(value: i32) -> Self {
        Self::Scalar {
            size: 4,
            value: value.into(),
        }
    }

    pub(super) fn i64(value: i64) -> Self {
        Self::Scalar { size: 8, value }
    }

    fn size(&self) -> usize {
        match self {
            Slot::Scalar { size, .. } => *size as usize,
            Slot::Ref(_) => 4,
        }
    }
}

/// The FlatBuffer whose root is `root` (a table), its length a multiple of 8.
pub(super) fn finish(root: &Node<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 4];
    let at = write(&mut buf, root);
    put_u32(&mut buf, 0, at as u32);
    pad_to(&mut buf, 8, 0);
    buf
}

/// Pads `buf` with zeros until its length is `rem` modulo `align`.
fn pad_to(buf: &mut Vec<u8>, align: usize, rem: usize) {
    while buf.len() % align != rem {
        buf.push(0);
    }
}

fn put_u32(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Points the reference at `at` to `target` (which lies after it).
fn link(buf: &mut [u8], at: usize, target: usize) {
    put_u32(buf, at, (target - at) as u32);
}

/// Writes `node` (and its children) at the end of `buf`; its position.
fn write(buf: &mut Vec<u8>, node: &Node<'_>) -> usize {
    match node {
        Node::Str(s) => {
            pad_to(buf, 4, 0);
            let at = buf.len();
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
            buf.push(0);
            at
        }
        Node::Structs { count, bytes } => {
            // The length just before 8-aligned elements.
            pad_to(buf, 8, 4);
            let at = buf.len();
            buf.extend_from_slice(&(*count as u32).to_le_bytes());
            buf.extend_from_slice(bytes);
            at
        }
        Node::Tables(items) => {
            pad_to(buf, 4, 0);
            let at = buf.len();
            buf.extend_from_slice(&(items.len() as u32).to_le_bytes());
            let slots = buf.len();
            buf.resize(slots + 4 * items.len(), 0);
            for (i, item) in items.iter().enumerate() {
                let target = write(buf, item);
                link(buf, slots + 4 * i, target);
            }
            at
        }
        Node::Table(fields) => write_table(buf, fields),
    }
}

fn write_table(buf: &mut Vec<u8>, fields: &[(u16, Slot<'_>)]) -> usize {
    // Inline layout: the vtable's offset, then the fields, widest first (no padding between).
    let mut order: Vec<&(u16, Slot<'_>)> = Vec::with_capacity(fields.len());
    for size in [8, 4, 2, 1] {
        order.extend(fields.iter().filter(|(_, slot)| slot.size() == size));
    }
    let mut place = Vec::with_capacity(order.len());
    let mut end = 4usize;
    for (_, slot) in &order {
        end = end.next_multiple_of(slot.size());
        place.push(end);
        end += slot.size();
    }
    let slots = fields
        .iter()
        .map(|(id, _)| *id as usize + 1)
        .max()
        .unwrap_or(0);
    let mut vtable = vec![0u16; 2 + slots];
    vtable[0] = (4 + 2 * slots) as u16;
    vtable[1] = end as u16;
    for ((id, _), at) in order.iter().zip(&place) {
        vtable[2 + *id as usize] = *at as u16;
    }
    pad_to(buf, 2, 0);
    let vtable_at = buf.len();
    vtable
        .iter()
        .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
    pad_to(buf, 8, 0);
    let table = buf.len();
    buf.extend_from_slice(&((table - vtable_at) as i32).to_le_bytes());
    buf.resize(table + end, 0);
    for ((_, slot), at) in order.iter().zip(&place) {
        let at = table + at;
        if let Slot::Scalar { size, value } = slot {
            // Little-endian: the low `size` bytes.
            let size = *size as usize;
            buf[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
        }
    }
    for ((_, slot), at) in order.iter().zip(&place) {
        if let Slot::Ref(child) = slot {
            let target = write(buf, child);
            link(buf, table + at, target);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(buf: &[u8], at: usize) -> usize {
        u32::from_le_bytes(buf[at..at + 4].try_into().unwrap()) as usize
    }

    /// Reads field `id` of the table at `table` the way a FlatBuffers reader does: its position,
    /// if present.
    fn field(buf: &[u8], table: usize, id: usize) -> Option<usize> {
        let back = i32::from_le_bytes(buf[table..table + 4].try_into().unwrap());
        let vtable = (table as i64 - back as i64) as usize;
        let size = u16::from_le_bytes([buf[vtable], buf[vtable + 1]]) as usize;
        let slot = 4 + 2 * id;
        if slot >= size {
            return None;
        }
        let at = u16::from_le_bytes([buf[vtable + slot], buf[vtable + slot + 1]]) as usize;
        (at != 0).then_some(table + at)
    }

    #[test]
    fn a_table_reads_back_through_its_vtable_with_aligned_fields() {
        let root = Node::Table(vec![
            (0, Slot::i16(4)),
            (3, Slot::i64(-7)),
            (1, Slot::u8(1)),
            (2, Slot::Ref(Node::Str("UTC"))),
            (
                5,
                Slot::Ref(Node::Structs {
                    count: 1,
                    bytes: 42i64.to_le_bytes().to_vec(),
                }),
            ),
        ]);
        let buf = finish(&root);
        assert_eq!(buf.len() % 8, 0);
        let table = u32_at(&buf, 0);
        assert_eq!(table % 8, 0);
        let short = field(&buf, table, 0).unwrap();
        assert_eq!(
            (short % 2, i16::from_le_bytes([buf[short], buf[short + 1]])),
            (0, 4)
        );
        let long = field(&buf, table, 3).unwrap();
        assert_eq!(long % 8, 0);
        assert_eq!(
            i64::from_le_bytes(buf[long..long + 8].try_into().unwrap()),
            -7
        );
        assert_eq!(buf[field(&buf, table, 1).unwrap()], 1);
        assert_eq!(field(&buf, table, 4), None);
        assert_eq!(field(&buf, table, 9), None);
        let s = field(&buf, table, 2).unwrap();
        let s = s + u32_at(&buf, s);
        assert_eq!(u32_at(&buf, s), 3);
        assert_eq!(&buf[s + 4..s + 8], b"UTC\0");
        let v = field(&buf, table, 5).unwrap();
        let v = v + u32_at(&buf, v);
        assert_eq!((u32_at(&buf, v), (v + 4) % 8), (1, 0));
        assert_eq!(
            i64::from_le_bytes(buf[v + 4..v + 12].try_into().unwrap()),
            42
        );
    }
}
