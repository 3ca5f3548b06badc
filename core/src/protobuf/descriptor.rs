//! [`Descriptors`]: the few parts of a `google.protobuf.FileDescriptorSet` the decoder needs,
//! read with the wire [`Reader`] (no generated code, no prost in the page's bundle).
//!
//! Of each file it keeps its package, syntax and messages; of each message (nested ones too) its
//! full name, fields and nested messages; of each field its name, number, label, type, type name
//! and whether it has explicit presence; of each enum its values. Type names are resolved to
//! indexes into [`Descriptors::messages`] and [`Descriptors::enums`] once, when the set is read.
//!
//! Invariant: every [`FieldType::Message`] and [`FieldType::Enum`] holds an index into this set's
//! messages or enums: a type name that names nothing in the set is an error when reading it.

use rustc_hash::FxHashMap as HashMap;

use super::wire::{self, Reader};
use crate::{DecodeReason, Error, Result};

/// A field's type (`FieldDescriptorProto.Type`), with message and enum types resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Group,
    Message(u32),
    Bytes,
    Uint32,
    Enum(u32),
    Sfixed32,
    Sfixed64,
    Sint32,
    Sint64,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct FieldDesc {
    pub name: String,
    pub number: u32,
    pub repeated: bool,
    /// Absent reads as null (proto2, proto3 `optional`, oneof members, messages) rather than as
    /// the type's default (proto3's implicit presence).
    pub explicit: bool,
    pub ty: FieldType,
}

/// One message type.
#[derive(Debug, Clone)]
pub struct MessageDesc {
    /// Its full name, without the leading dot (`pkg.Outer.Inner`).
    pub full_name: String,
    pub fields: Vec<FieldDesc>,
    /// Its nested messages, as indexes into [`Descriptors::messages`] (for message indexes).
    pub nested: Vec<u32>,
}

/// One enum type: its values' numbers and names.
#[derive(Debug, Clone)]
pub struct EnumDesc {
    pub full_name: String,
    pub values: Vec<(i32, Box<str>)>,
}

impl EnumDesc {
    /// The name of value `number`, if the enum has one.
    #[inline]
    pub fn name(&self, number: i32) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, name)| &**name)
    }
}

/// The messages and enums of a descriptor set.
#[derive(Debug, Clone, Default)]
pub struct Descriptors {
    pub messages: Vec<MessageDesc>,
    pub enums: Vec<EnumDesc>,
    /// The top-level messages of the set's last file (the schema's own), in order.
    pub top: Vec<u32>,
}

/// A field as read, before its type name is resolved.
struct RawField {
    name: String,
    number: u32,
    label: u64,
    ty: u64,
    type_name: String,
    oneof: bool,
    proto3_optional: bool,
    /// Declared in a proto3 file (implicit presence unless marked otherwise).
    proto3: bool,
}

fn bad(what: &str) -> Error {
    Error::ProtobufSchema(format!("a descriptor set that cannot be read: {what}"))
}

/// Calls `f` with each field (number, wire type, reader positioned at its value) of a message.
/// (One body for every caller: the descriptor reader is off the hot path, and small.)
fn fields<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(u32, u8, &mut Reader<'a>) -> Result<bool, DecodeReason>,
) -> Result<()> {
    fields_dyn(bytes, &mut f)
}

fn fields_dyn<'a>(
    bytes: &'a [u8],
    f: &mut dyn FnMut(u32, u8, &mut Reader<'a>) -> Result<bool, DecodeReason>,
) -> Result<()> {
    let mut r = Reader::new(bytes);
    let wrap = |e: DecodeReason| bad(&e.to_string());
    while !r.at_end() {
        let (number, wire) = r.tag().map_err(wrap)?;
        if !f(number, wire, &mut r).map_err(wrap)? {
            r.skip(wire, number, 0).map_err(wrap)?;
        }
    }
    Ok(())
}

/// A length-delimited field's bytes, if `wire` says it is one.
fn len<'a>(wire: u8, r: &mut Reader<'a>) -> Result<&'a [u8], DecodeReason> {
    if wire != wire::LEN {
        return Err(DecodeReason::BadProtobuf(
            "a descriptor field of the wrong wire type",
        ));
    }
    r.bytes_field()
}

/// A name's bytes as text (invalid UTF-8 replaced): one copy of std's lossy conversion.
#[inline(never)]
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn varint(wire: u8, r: &mut Reader<'_>) -> Result<u64, DecodeReason> {
    if wire != wire::VARINT {
        return Err(DecodeReason::BadProtobuf(
            "a descriptor field of the wrong wire type",
        ));
    }
    r.varint()
}

/// What reading collects before names are resolved.
#[derive(Default)]
struct Reading {
    messages: Vec<(MessageDesc, Vec<RawField>, String)>,
    enums: Vec<EnumDesc>,
}

impl Descriptors {
    /// Reads a serialized `FileDescriptorSet` whose last file is the schema's own.
    pub fn read(set: &[u8]) -> Result<Self> {
        let mut files = Vec::new();
        fields(set, |n, w, r| {
            if n == 1 {
                files.push(len(w, r)?);
                return Ok(true);
            }
            Ok(false)
        })?;
        let mut reading = Reading::default();
        let mut top = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let mut package = String::new();
            let mut syntax = String::new();
            let mut messages = Vec::new();
            let mut enums = Vec::new();
            fields(file, |n, w, r| {
                match n {
                    2 => package = text(len(w, r)?),
                    4 => messages.push(len(w, r)?),
                    5 => enums.push(len(w, r)?),
                    12 => syntax = text(len(w, r)?),
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            let proto3 = syntax == "proto3";
            for e in enums {
                read_enum(e, &package, &mut reading)?;
            }
            let last = i + 1 == files.len();
            for m in messages {
                let index = read_message(m, &package, proto3, &mut reading, 0)?;
                if last {
                    top.push(index);
                }
            }
        }
        let message_index: HashMap<String, u32> = reading
            .messages
            .iter()
            .enumerate()
            .map(|(i, (m, _, _))| (format!(".{}", m.full_name), i as u32))
            .collect();
        let enum_index: HashMap<String, u32> = reading
            .enums
            .iter()
            .enumerate()
            .map(|(i, e)| (format!(".{}", e.full_name), i as u32))
            .collect();
        let mut messages = Vec::with_capacity(reading.messages.len());
        for (mut message, raw, scope) in reading.messages {
            for f in raw {
                let ty = match f.ty {
                    1 => FieldType::Double,
                    2 => FieldType::Float,
                    3 => FieldType::Int64,
                    4 => FieldType::Uint64,
                    5 => FieldType::Int32,
                    6 => FieldType::Fixed64,
                    7 => FieldType::Fixed32,
                    8 => FieldType::Bool,
                    9 => FieldType::String,
                    10 => FieldType::Group,
                    11 => FieldType::Message(resolve(&f.type_name, &scope, &message_index)?),
                    12 => FieldType::Bytes,
                    13 => FieldType::Uint32,
                    14 => FieldType::Enum(resolve(&f.type_name, &scope, &enum_index)?),
                    15 => FieldType::Sfixed32,
                    16 => FieldType::Sfixed64,
                    17 => FieldType::Sint32,
                    18 => FieldType::Sint64,
                    0 if !f.type_name.is_empty() => {
                        // A descriptor written before resolution: a message or an enum by name.
                        match resolve(&f.type_name, &scope, &message_index) {
                            Ok(m) => FieldType::Message(m),
                            Err(_) => FieldType::Enum(resolve(&f.type_name, &scope, &enum_index)?),
                        }
                    }
                    other => return Err(bad(&format!("field type {other}"))),
                };
                let repeated = f.label == 3;
                let explicit = !repeated
                    && (f.proto3_optional
                        || f.oneof
                        || matches!(ty, FieldType::Message(_) | FieldType::Group)
                        || !f.proto3);
                message.fields.push(FieldDesc {
                    name: f.name,
                    number: f.number,
                    repeated,
                    explicit,
                    ty,
                });
            }
            messages.push(message);
        }
        Ok(Self {
            messages,
            enums: reading.enums,
            top,
        })
    }

    /// The message a Confluent message-index path names in the schema's own file.
    pub fn by_indexes(&self, indexes: &[u32]) -> Option<u32> {
        let (first, rest) = indexes.split_first()?;
        let mut at = *self.top.get(*first as usize)?;
        for i in rest {
            at = *self.messages.get(at as usize)?.nested.get(*i as usize)?;
        }
        Some(at)
    }

    /// A message by its full name (with or without the leading dot).
    pub fn by_name(&self, name: &str) -> Option<u32> {
        let name = name.strip_prefix('.').unwrap_or(name);
        self.messages
            .iter()
            .position(|m| m.full_name == name)
            .map(|i| i as u32)
    }
}

/// Resolves a type name as protoc writes it (fully qualified, with a leading dot), or relative to
/// `scope` (innermost first) as a `.proto` file may.
fn resolve(name: &str, scope: &str, index: &HashMap<String, u32>) -> Result<u32> {
    if name.starts_with('.') {
        return index
            .get(name)
            .copied()
            .ok_or_else(|| bad(&format!("type {name} is not in the set")));
    }
    let mut scope = scope.to_owned();
    loop {
        let candidate = if scope.is_empty() {
            format!(".{name}")
        } else {
            format!(".{scope}.{name}")
        };
        if let Some(i) = index.get(&candidate) {
            return Ok(*i);
        }
        match scope.rfind('.') {
            Some(dot) => scope.truncate(dot),
            None if !scope.is_empty() => scope.clear(),
            None => return Err(bad(&format!("type {name} is not in the set"))),
        }
    }
}

fn read_enum(bytes: &[u8], scope: &str, reading: &mut Reading) -> Result<()> {
    let mut name = String::new();
    let mut values = Vec::new();
    fields(bytes, |n, w, r| {
        match n {
            1 => name = text(len(w, r)?),
            2 => {
                let mut value_name = String::new();
                let mut number = 0i32;
                let body = len(w, r)?;
                let mut inner = Reader::new(body);
                while !inner.at_end() {
                    let (n, w) = inner.tag()?;
                    match (n, w) {
                        (1, wire::LEN) => value_name = text(inner.bytes_field()?),
                        (2, wire::VARINT) => number = inner.varint()? as i32,
                        _ => inner.skip(w, n, 0)?,
                    }
                }
                values.push((number, value_name.into_boxed_str()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    reading.enums.push(EnumDesc {
        full_name: join(scope, &name),
        values,
    });
    Ok(())
}

fn join(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}

/// Reads a message and its nested types; returns its index in `reading.messages`.
fn read_message(
    bytes: &[u8],
    scope: &str,
    proto3: bool,
    reading: &mut Reading,
    depth: usize,
) -> Result<u32> {
    if depth > wire::MAX_DEPTH {
        return Err(bad("messages nest too deep"));
    }
    let mut name = String::new();
    let mut raw_fields = Vec::new();
    let mut nested = Vec::new();
    let mut enums = Vec::new();
    fields(bytes, |n, w, r| {
        match n {
            1 => name = text(len(w, r)?),
            2 => raw_fields.push(len(w, r)?),
            3 => nested.push(len(w, r)?),
            4 => enums.push(len(w, r)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let full_name = join(scope, &name);
    let index = reading.messages.len() as u32;
    reading.messages.push((
        MessageDesc {
            full_name: full_name.clone(),
            fields: Vec::new(),
            nested: Vec::new(),
        },
        Vec::new(),
        full_name.clone(),
    ));
    for e in enums {
        read_enum(e, &full_name, reading)?;
    }
    let mut nested_indexes = Vec::new();
    for m in nested {
        nested_indexes.push(read_message(m, &full_name, proto3, reading, depth + 1)?);
    }
    let mut parsed = Vec::new();
    for f in raw_fields {
        let mut field = RawField {
            name: String::new(),
            number: 0,
            label: 1,
            ty: 0,
            type_name: String::new(),
            oneof: false,
            proto3_optional: false,
            proto3,
        };
        fields(f, |n, w, r| {
            match n {
                1 => field.name = text(len(w, r)?),
                3 => field.number = varint(w, r)? as u32,
                4 => field.label = varint(w, r)?,
                5 => field.ty = varint(w, r)?,
                6 => field.type_name = text(len(w, r)?),
                9 => {
                    varint(w, r)?;
                    field.oneof = true;
                }
                17 => field.proto3_optional = varint(w, r)? != 0,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if field.name.is_empty() || field.number == 0 {
            return Err(bad("a field with no name or number"));
        }
        parsed.push(field);
    }
    let entry = reading
        .messages
        .get_mut(index as usize)
        .ok_or_else(|| bad("internal"))?;
    entry.0.nested = nested_indexes;
    entry.1 = parsed;
    Ok(index)
}
