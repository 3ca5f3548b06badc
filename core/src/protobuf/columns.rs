//! [`leaves`]: a Protobuf message flattened into the columns it gives (see the mapping in
//! [`super`]), each with the path of field numbers that reaches it and how it is read.
//!
//! Invariant: names are unique within one message's leaves (a nested message's leaves carry its
//! field's name and `__` as a prefix; a field named with `__` that meets a nested one's name, as
//! `venue__name` beside `venue.name`, is refused naming both), and a message type
//! already being flattened on the path is not entered again (a recursive type stops there).
//! The flattening is bounded: past [`MAX_COLUMNS`] columns, [`MAX_MESSAGES`] nested messages or
//! [`MAX_DEPTH`] levels it stops with an error.

use super::descriptor::{Descriptors, FieldType};
use crate::column::ColumnType;

/// A scalar as the wire holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    /// An enum, by its index in the writer's [`Descriptors::enums`].
    Enum(u32),
}

impl Scalar {
    fn of(ty: FieldType) -> Option<Self> {
        Some(match ty {
            FieldType::Double => Self::Double,
            FieldType::Float => Self::Float,
            FieldType::Int32 => Self::Int32,
            FieldType::Int64 => Self::Int64,
            FieldType::Uint32 => Self::Uint32,
            FieldType::Uint64 => Self::Uint64,
            FieldType::Sint32 => Self::Sint32,
            FieldType::Sint64 => Self::Sint64,
            FieldType::Fixed32 => Self::Fixed32,
            FieldType::Fixed64 => Self::Fixed64,
            FieldType::Sfixed32 => Self::Sfixed32,
            FieldType::Sfixed64 => Self::Sfixed64,
            FieldType::Bool => Self::Bool,
            FieldType::String => Self::String,
            FieldType::Bytes => Self::Bytes,
            FieldType::Enum(e) => Self::Enum(e),
            FieldType::Message(_) | FieldType::Group => return None,
        })
    }

    /// The column type its values go into.
    pub fn column_type(self) -> ColumnType {
        match self {
            Self::Double | Self::Float => ColumnType::F64,
            Self::Int32 | Self::Sint32 | Self::Sfixed32 => ColumnType::I32,
            Self::Int64
            | Self::Sint64
            | Self::Sfixed64
            | Self::Uint32
            | Self::Fixed32
            | Self::Uint64
            | Self::Fixed64 => ColumnType::I64,
            Self::Bool => ColumnType::Bool,
            Self::String | Self::Enum(_) => ColumnType::String,
            Self::Bytes => ColumnType::Binary,
        }
    }

    /// The wire type of one value (a packed run of them is length-delimited).
    pub fn wire_type(self) -> u8 {
        use super::wire::{FIXED32, FIXED64, LEN, VARINT};
        match self {
            Self::Double | Self::Fixed64 | Self::Sfixed64 => FIXED64,
            Self::Float | Self::Fixed32 | Self::Sfixed32 => FIXED32,
            Self::String | Self::Bytes => LEN,
            _ => VARINT,
        }
    }
}

/// How a leaf's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Scalar(Scalar),
    /// A `google.protobuf.Timestamp` message, as an instant.
    Timestamp,
    /// A wrapper (`google.protobuf.DoubleValue`…): its field 1, null when the wrapper is absent.
    Wrapper(Scalar),
}

/// One column of a flattened message.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub name: String,
    pub ty: ColumnType,
    /// The field numbers from the message to the leaf.
    pub numbers: Vec<u32>,
    pub read: Read,
    pub repeated: bool,
    /// Absent reads as null rather than as the default value.
    pub explicit: bool,
}

/// The element types of the array columns a repeated scalar fills.
static ARRAY_ELEMENTS: [ColumnType; 4] = [
    ColumnType::Bool,
    ColumnType::I32,
    ColumnType::I64,
    ColumnType::F64,
];
static STRING_ELEMENT: ColumnType = ColumnType::String;

fn array_of(ty: ColumnType) -> Option<ColumnType> {
    match ty {
        ColumnType::String => Some(ColumnType::Array(&STRING_ELEMENT)),
        other => ARRAY_ELEMENTS
            .iter()
            .find(|e| **e == other)
            .map(ColumnType::Array),
    }
}

/// The well-known message types read as one value.
fn well_known(name: &str) -> Option<Read> {
    Some(match name {
        "google.protobuf.Timestamp" => Read::Timestamp,
        "google.protobuf.DoubleValue" => Read::Wrapper(Scalar::Double),
        "google.protobuf.FloatValue" => Read::Wrapper(Scalar::Float),
        "google.protobuf.Int64Value" => Read::Wrapper(Scalar::Int64),
        "google.protobuf.UInt64Value" => Read::Wrapper(Scalar::Uint64),
        "google.protobuf.Int32Value" => Read::Wrapper(Scalar::Int32),
        "google.protobuf.UInt32Value" => Read::Wrapper(Scalar::Uint32),
        "google.protobuf.BoolValue" => Read::Wrapper(Scalar::Bool),
        "google.protobuf.StringValue" => Read::Wrapper(Scalar::String),
        "google.protobuf.BytesValue" => Read::Wrapper(Scalar::Bytes),
        _ => return None,
    })
}

/// The most columns one message flattens to.
pub const MAX_COLUMNS: usize = 4096;
/// The most nested messages one message's flattening enters (a type used by two fields at each
/// level would otherwise double them per level).
pub const MAX_MESSAGES: usize = 16_384;
/// The deepest nesting of messages flattened.
pub const MAX_DEPTH: usize = 32;

/// The leaves of message `message` of `d`, in field order (nested messages in place), or why it
/// does not flatten: more than [`MAX_COLUMNS`] columns, [`MAX_MESSAGES`] nested messages or
/// [`MAX_DEPTH`] levels.
pub fn leaves(d: &Descriptors, message: u32) -> Result<Vec<Leaf>, String> {
    let mut w = Walk {
        d,
        numbers: Vec::new(),
        stack: vec![message],
        entered: 0,
        out: Vec::new(),
        paths: Vec::new(),
    };
    w.walk(message, "", "")?;
    let mut seen = rustc_hash::FxHashMap::default();
    for (leaf, path) in w.out.iter().zip(&w.paths) {
        if let Some(first) = seen.insert(leaf.name.as_str(), path) {
            let root = d
                .messages
                .get(message as usize)
                .map_or("?", |m| m.full_name.as_str());
            return Err(format!(
                "message {root}: fields `{first}` and `{path}` both flatten to column `{}`",
                leaf.name
            ));
        }
    }
    Ok(w.out)
}

/// One flattening's state.
struct Walk<'a> {
    d: &'a Descriptors,
    /// The field numbers to the message being walked.
    numbers: Vec<u32>,
    /// The message types being walked, outermost first.
    stack: Vec<u32>,
    /// Nested messages entered so far.
    entered: usize,
    out: Vec<Leaf>,
    /// Each leaf's field path, dotted (`venue.name`), for errors.
    paths: Vec<String>,
}

impl Walk<'_> {
    fn walk(&mut self, message: u32, prefix: &str, dotted: &str) -> Result<(), String> {
        let d = self.d;
        let Some(m) = d.messages.get(message as usize) else {
            return Ok(());
        };
        let root = self
            .stack
            .first()
            .and_then(|r| d.messages.get(*r as usize))
            .map_or("?", |r| r.full_name.as_str());
        for f in &m.fields {
            let name = format!("{prefix}{}", f.name);
            let path = format!("{dotted}{}", f.name);
            let read = match f.ty {
                FieldType::Message(inner) => {
                    let Some(desc) = d.messages.get(inner as usize) else {
                        continue;
                    };
                    match well_known(&desc.full_name) {
                        Some(read) => read,
                        // Repeated messages and maps are skipped; so is a recursive type.
                        None if f.repeated || self.stack.contains(&inner) => continue,
                        None => {
                            if self.stack.len() >= MAX_DEPTH {
                                return Err(format!(
                                    "message {} nests deeper than {MAX_DEPTH} levels (at `{name}`)",
                                    root
                                ));
                            }
                            self.entered += 1;
                            if self.entered > MAX_MESSAGES {
                                return Err(format!(
                                    "message {} flattens through more than {MAX_MESSAGES} nested messages (a type used by several fields at each level?)",
                                    root
                                ));
                            }
                            self.numbers.push(f.number);
                            self.stack.push(inner);
                            self.walk(inner, &format!("{name}__"), &format!("{path}."))?;
                            self.stack.pop();
                            self.numbers.pop();
                            continue;
                        }
                    }
                }
                FieldType::Group => continue,
                ty => match Scalar::of(ty) {
                    Some(s) => Read::Scalar(s),
                    None => continue,
                },
            };
            let ty = match read {
                Read::Timestamp => ColumnType::Timestamp,
                Read::Scalar(s) | Read::Wrapper(s) => s.column_type(),
            };
            let ty = match (f.repeated, read) {
                (false, _) => ty,
                (true, Read::Scalar(_)) => match array_of(ty) {
                    Some(t) => t,
                    None => continue, // repeated bytes: skipped
                },
                (true, _) => continue, // repeated Timestamps and wrappers: messages, skipped
            };
            if self.out.len() >= MAX_COLUMNS {
                return Err(format!(
                    "message {} flattens to more than {MAX_COLUMNS} columns",
                    root
                ));
            }
            let mut numbers = self.numbers.clone();
            numbers.push(f.number);
            self.paths.push(path);
            self.out.push(Leaf {
                name,
                ty,
                numbers,
                read,
                repeated: f.repeated,
                explicit: f.explicit || matches!(read, Read::Timestamp | Read::Wrapper(_)),
            });
        }
        Ok(())
    }
}
