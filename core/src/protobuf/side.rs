//! [`ProtoSide`]: a Protobuf key or value side: its columns (the reader message's leaves), one
//! [`Plan`] per (writer schema id, message index path), and its staged rows.
//!
//! A record's bytes are Confluent-framed ([`unframe`]); the plan of its id and message indexes
//! (compiled on first sight from the writer's descriptor set, kept in the schema store; at most
//! [`MAX_PLANS`] kept, failures never) reads the body into slots, and the slots go into the stages as one row. [`ProtoSide::flush`] moves the
//! staged rows into the table's columns in bulk, as the JSON plan does.
//!
//! Invariant: [`ProtoSide::stage`] adds exactly one row to every stage, or returns an error and
//! leaves the stages, and the columns' dictionaries, as they were.

use std::sync::Arc;

use super::columns::{Leaf, Read, Scalar, leaves};
use super::descriptor::Descriptors;
use super::plan::{Emit, Plan, Slots, unrange};
use super::wire::{Reader, zigzag64};
use crate::avro::SchemaStore;
use crate::column::{Column, ColumnType, Value};
use crate::json_format::stage::Stage;
use crate::protocol::SchemaType;
use crate::table::Field;
use crate::{DecodeReason, Error, Result};

/// A record's failure: its schema id, when known, and why.
type Failed = (Option<u32>, DecodeReason);

/// The most message indexes a record's header may hold.
const MAX_INDEXES: u64 = 32;

/// Splits a Confluent Protobuf record: the schema id, the message indexes (into `indexes`) and
/// the body. The indexes are a zigzag varint count then as many zigzag varints; a count of 0
/// (a single 0 byte) means `[0]`, the file's first message.
pub fn unframe<'a>(
    bytes: &'a [u8],
    indexes: &mut Vec<u32>,
) -> Result<(u32, &'a [u8]), DecodeReason> {
    let (id, rest) = match bytes {
        [0, a, b, c, d, rest @ ..] => (u32::from_be_bytes([*a, *b, *c, *d]), rest),
        [m, ..] if *m != 0 => return Err(DecodeReason::WrongMagic(*m)),
        short => return Err(DecodeReason::ShortHeader(short.len())),
    };
    let mut r = Reader::new(rest);
    indexes.clear();
    let bad = || DecodeReason::BadProtobuf("a message index out of range");
    let count = zigzag64(r.varint()?);
    if count == 0 {
        indexes.push(0);
    } else {
        if !(1..=MAX_INDEXES as i64).contains(&count) {
            return Err(bad());
        }
        for _ in 0..count {
            let i = zigzag64(r.varint()?);
            indexes.push(u32::try_from(i).map_err(|_| bad())?);
        }
    }
    Ok((id, rest.get(r.at..).unwrap_or_default()))
}

/// Which message of the reader schema gives the columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MessageChoice {
    /// The schema's first message (Confluent's message index `[0]`).
    #[default]
    First,
    /// A message by its full name (`pkg.Trade`).
    Named(String),
    /// A message by its Confluent message indexes.
    Indexes(Vec<u32>),
}

/// The descriptor set of schema `id` in `store`, read.
pub fn descriptors_of(store: &SchemaStore, id: u32) -> Result<Descriptors> {
    let info = store
        .other(id)
        .filter(|i| i.schema_type == SchemaType::Protobuf)
        .ok_or_else(|| Error::ProtobufSchema(format!("schema id {id} is not a Protobuf schema")))?;
    let set = info.descriptors.as_deref().ok_or_else(|| {
        Error::ProtobufSchema(format!(
            "Protobuf schema id {id} came without its compiled descriptors: it does not compile, its references could not be fetched, or (recorded before protocol 5) it does not compile without them (the bridge's log says which)"
        ))
    })?;
    Descriptors::read(set)
}

/// The message `choice` names in `d`.
pub fn choose(d: &Descriptors, choice: &MessageChoice) -> Result<u32> {
    match choice {
        MessageChoice::First => d.by_indexes(&[0]),
        MessageChoice::Named(name) => d.by_name(name),
        MessageChoice::Indexes(i) => d.by_indexes(i),
    }
    .ok_or_else(|| {
        let which = match choice {
            MessageChoice::First => "first".to_owned(),
            MessageChoice::Named(name) => name.clone(),
            MessageChoice::Indexes(i) => indexes_text(i),
        };
        Error::ProtobufSchema(format!("the Protobuf schema has no message {which}"))
    })
}

/// One column's staged rows.
#[derive(Debug, Clone)]
pub enum Out {
    Scalar(Stage),
    Binary(Vec<Option<Vec<u8>>>),
    Array(Vec<Option<Vec<Value>>>),
}

impl Out {
    pub(crate) fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Binary => Self::Binary(Vec::new()),
            ColumnType::Array(_) => Self::Array(Vec::new()),
            other => Self::Scalar(Stage::new(other)),
        }
    }

    pub fn push_null(&mut self) {
        match self {
            Self::Scalar(s) => s.push_null(),
            Self::Binary(v) => v.push(None),
            Self::Array(v) => v.push(None),
        }
    }

    fn truncate(&mut self, rows: usize) {
        match self {
            Self::Scalar(s) => s.truncate(rows),
            Self::Binary(v) => v.truncate(rows),
            Self::Array(v) => v.truncate(rows),
        }
    }

    /// Keeps the first `rows` rows, the others having failed, with [`Stage::cut`].
    fn cut(&mut self, rows: usize, column: &mut Column) {
        match self {
            Self::Scalar(s) => s.cut(rows, column),
            _ => self.truncate(rows),
        }
    }

    fn flush(&mut self, column: &mut Column) -> Result<(), DecodeReason> {
        match (&mut *self, column) {
            (Self::Scalar(s), c) => return s.flush(c),
            (Self::Binary(v), Column::Binary(c)) => v.iter().for_each(|b| c.push(b.as_deref())),
            (Self::Array(v), Column::Array(c)) => {
                for a in v.iter() {
                    if !c.push(a.as_deref()) {
                        self.truncate(0);
                        return Err(DecodeReason::PlanMismatch);
                    }
                }
            }
            _ => return Err(DecodeReason::PlanMismatch),
        }
        self.truncate(0);
        Ok(())
    }
}

/// The most plans a side keeps. Past it, a new (id, message indexes) pair's plan takes the last
/// slot, so a topic of many writer schemas or index paths costs a compile per change of pair
/// there, never unbounded memory.
pub const MAX_PLANS: usize = 64;

/// A Protobuf side (see the module's doc).
#[derive(Debug)]
pub struct ProtoSide {
    names: Vec<Arc<str>>,
    types: Vec<ColumnType>,
    stages: Vec<Out>,
    rows: usize,
    slots: Slots,
    /// Plans by (writer schema id, message indexes), the last one used first: at most
    /// [`MAX_PLANS`], and only ones that compiled (a pair that does not is an error per record).
    plans: Vec<(u32, Vec<u32>, Plan)>,
    last: usize,
    indexes: Vec<u32>,
    /// An enum's number as text (a number the enum lacks).
    number: String,
    /// Whether plans take their one-pass form when they have one (tests compare both paths).
    flat: bool,
}

impl ProtoSide {
    /// A side whose columns are message `message` of `reader`'s, or why it has none (see
    /// [`leaves`]).
    pub fn new(reader: &Descriptors, message: u32) -> Result<Self> {
        Ok(Self::of_leaves(
            &leaves(reader, message).map_err(Error::ProtobufSchema)?,
        ))
    }

    fn of_leaves(leaves: &[Leaf]) -> Self {
        let names: Vec<Arc<str>> = leaves.iter().map(|l| Arc::from(l.name.as_str())).collect();
        let types: Vec<ColumnType> = leaves.iter().map(|l| l.ty).collect();
        Self {
            stages: types.iter().map(|t| Out::new(*t)).collect(),
            slots: Slots::new(names.len()),
            names,
            types,
            rows: 0,
            plans: Vec::new(),
            last: 0,
            indexes: Vec::new(),
            number: String::new(),
            flat: true,
        }
    }

    /// Reads every record with the general path (tests compare it with the one-pass form).
    #[cfg(test)]
    pub fn general_only(&mut self) {
        self.flat = false;
    }

    /// The columns' names and types.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.names
            .iter()
            .zip(&self.types)
            .map(|(n, t)| Field::new(&**n, *t))
    }

    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Rows staged and not yet flushed.
    pub fn staged(&self) -> usize {
        self.rows
    }

    /// Makes `last` the plan of (`id`, the current indexes), compiling it on first sight.
    #[cold]
    fn find_plan(&mut self, id: u32, store: &SchemaStore) -> Result<(), DecodeReason> {
        let indexes = &self.indexes;
        self.last = match self
            .plans
            .iter()
            .position(|(i, ix, _)| *i == id && ix == indexes)
        {
            Some(p) => p,
            None => {
                if store.other(id).is_none() {
                    return Err(match store.unreadable_reason(id) {
                        Some(why) => DecodeReason::UnreadableSchema(why.clone()),
                        None => DecodeReason::UnknownSchemaId,
                    });
                }
                let plan = descriptors_of(store, id)
                    .and_then(|d| {
                        let message = d.by_indexes(indexes).ok_or_else(|| {
                            Error::ProtobufSchema(format!(
                                "no message at indexes {}",
                                indexes_text(indexes)
                            ))
                        })?;
                        Plan::compile(
                            &leaves(&d, message).map_err(Error::ProtobufSchema)?,
                            &self.names,
                            &self.types,
                            d.enums.clone().into(),
                        )
                        .map_err(Error::ProtobufSchema)
                    })
                    .map_err(|e| DecodeReason::Incompatible(Arc::from(e.to_string())))?;
                let entry = (id, indexes.clone(), plan);
                if self.plans.len() < MAX_PLANS {
                    self.plans.push(entry);
                    self.plans.len() - 1
                } else {
                    let slot = MAX_PLANS - 1;
                    self.plans[slot] = entry;
                    slot
                }
            }
        };
        Ok(())
    }

    /// A record's schema id and body, its plan made `last` (compiled on first sight).
    #[inline(never)]
    fn find_framed<'b>(
        &mut self,
        bytes: &'b [u8],
        store: &SchemaStore,
    ) -> std::result::Result<(u32, &'b [u8]), Failed> {
        let mut indexes = std::mem::take(&mut self.indexes);
        let framed = unframe(bytes, &mut indexes);
        self.indexes = indexes;
        let (id, body) = framed.map_err(|r| (None, r))?;
        let hit = matches!(self.plans.get(self.last), Some((i, ix, _)) if *i == id && *ix == self.indexes);
        if !hit {
            self.find_plan(id, store).map_err(|r| (Some(id), r))?;
        }
        Ok((id, body))
    }

    /// Stages one record's bytes: a row in every stage, or an error (with the schema id when
    /// known) and no change. `cols` are the side's columns (strings are staged as codes in
    /// their dictionaries).
    #[inline]
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn stage(
        &mut self,
        bytes: &[u8],
        store: &SchemaStore,
        cols: &mut [Column],
    ) -> std::result::Result<u32, Failed> {
        if cols.len() != self.stages.len() {
            return Err((None, DecodeReason::PlanMismatch));
        }
        // The common header, the first message (`[0]`) of the last plan's id, at a glance.
        let (id, body) = match (bytes, self.plans.get(self.last)) {
            ([0, a, b, c, d, 0, body @ ..], Some((last, ix, _)))
                if u32::from_be_bytes([*a, *b, *c, *d]) == *last && ix[..] == [0] =>
            {
                (*last, body)
            }
            _ => self.find_framed(bytes, store)?,
        };
        let Self {
            plans,
            last,
            slots,
            stages,
            rows,
            number,
            flat,
            ..
        } = self;
        let plan = match plans.get_mut(*last) {
            Some((_, _, plan)) => plan,
            None => return Err((Some(id), DecodeReason::PlanMismatch)),
        };
        if let (Some(one_pass), true) = (&plan.flat, *flat)
            && one_pass.read(plan, body, stages, cols, number)
        {
            *rows += 1;
            return Ok(id);
        }
        general(plan, body, slots, stages, rows, cols, number).map_err(|r| (Some(id), r))?;
        Ok(id)
    }

    /// How many plans the side keeps (at most [`MAX_PLANS`]).
    pub fn plans_kept(&self) -> usize {
        self.plans.len()
    }

    /// Stages a row of nulls (a Kafka null).
    pub fn stage_null(&mut self) {
        self.stages.iter_mut().for_each(Out::push_null);
        self.rows += 1;
    }

    /// Drops the last staged row (its record failed on its other side), and the dictionary
    /// entries it added to `cols` (the side's columns).
    pub fn unstage_last(&mut self, cols: &mut [Column]) {
        self.rows = self.rows.saturating_sub(1);
        cut_to(&mut self.stages, self.rows, cols);
    }

    /// Appends the staged rows to `cols` (the side's columns, in order) and empties the stages.
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn flush(&mut self, cols: &mut [Column]) -> Result<(), DecodeReason> {
        if cols.len() != self.stages.len() {
            return Err(DecodeReason::PlanMismatch);
        }
        self.rows = 0;
        let mut result = Ok(());
        for (stage, col) in self.stages.iter_mut().zip(cols) {
            if let Err(e) = stage.flush(col) {
                stage.truncate(0);
                result = Err(e);
            }
        }
        result
    }
}

/// Stages a record's body through the plan's general path (the stages may hold part of its row
/// from the one-pass form: they, and the dictionary entries it added, are cut back first). Out of line: the one-pass loop stays small.
#[inline(never)]
fn general(
    plan: &mut Plan,
    body: &[u8],
    slots: &mut Slots,
    stages: &mut [Out],
    rows: &mut usize,
    cols: &mut [Column],
    number: &mut String,
) -> Result<(), DecodeReason> {
    let n = *rows;
    // The one-pass form's part of a row, and the dictionary entries it added (this path may
    // stage other strings: a field seen twice takes its last value).
    cut_to(stages, n, cols);
    let read = match plan.read(body, slots) {
        Ok(()) => emit(plan, slots, body, stages, cols, number),
        Err(r) => Err(r),
    };
    match read {
        Ok(()) => {
            *rows += 1;
            Ok(())
        }
        Err(r) => {
            cut_to(stages, n, cols);
            Err(r)
        }
    }
}

/// Keeps the stages' first `rows` rows and cuts the dictionary entries the others added to
/// `cols` (the side's columns, in order).
fn cut_to(stages: &mut [Out], rows: usize, cols: &mut [Column]) {
    let stages = stages.iter_mut().zip(cols.iter_mut());
    stages.for_each(|(s, c)| s.cut(rows, c));
}

/// Message indexes as text, `[0, 1]`.
fn indexes_text(indexes: &[u32]) -> String {
    let each: Vec<String> = indexes.iter().map(u32::to_string).collect();
    format!("[{}]", each.join(", "))
}

/// The text of a string's range in the body.
#[inline(always)]
fn text(body: &[u8], bits: u64) -> Result<&str, DecodeReason> {
    let (start, end) = unrange(bits);
    let bytes = body.get(start..end).ok_or(DecodeReason::PlanMismatch)?;
    std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)
}

/// One value into a stage (`column` its column).
#[inline]
pub fn push(
    stage: &mut Out,
    read: Read,
    bits: u64,
    body: &[u8],
    plan: &Plan,
    column: &mut Column,
    number: &mut String,
) -> Result<(), DecodeReason> {
    let s = match read {
        Read::Timestamp => {
            return match stage {
                Out::Scalar(Stage::Timestamp(v)) => {
                    v.push(bits as i64);
                    Ok(())
                }
                _ => Err(DecodeReason::PlanMismatch),
            };
        }
        Read::Scalar(s) | Read::Wrapper(s) => s,
    };
    match (s, stage) {
        (Scalar::Double | Scalar::Float, Out::Scalar(Stage::F64(v))) => {
            v.push(f64::from_bits(bits))
        }
        (_, Out::Scalar(Stage::I32(v))) => v.push(bits as i32),
        (_, Out::Scalar(Stage::I64(v))) => v.push(bits as i64),
        (Scalar::Bool, Out::Scalar(Stage::Bool(v))) => v.push(i8::from(bits != 0)),
        (Scalar::String, Out::Scalar(stage)) => {
            let (start, end) = unrange(bits);
            let bytes = body.get(start..end).ok_or(DecodeReason::PlanMismatch)?;
            let window = body.get(start..).and_then(<[u8]>::first_chunk::<16>);
            stage.push_bytes(bytes, window, column)?
        }
        (Scalar::Enum(e), Out::Scalar(stage)) => {
            let n = bits as i32;
            let name = match plan.enums.get(e as usize).and_then(|d| d.name(n)) {
                Some(name) => name,
                None => {
                    number.clear();
                    number.push_str(&n.to_string());
                    number
                }
            };
            stage.push_bytes(name.as_bytes(), None, column)?
        }
        (Scalar::Bytes, Out::Binary(v)) => {
            let (start, end) = unrange(bits);
            v.push(Some(
                body.get(start..end)
                    .ok_or(DecodeReason::PlanMismatch)?
                    .to_vec(),
            ));
        }
        _ => return Err(DecodeReason::PlanMismatch),
    }
    Ok(())
}

/// One element of a repeated scalar.
fn element(s: Scalar, bits: u64, body: &[u8], plan: &Plan) -> Result<Value, DecodeReason> {
    Ok(match s.column_type() {
        ColumnType::F64 => Value::F64(f64::from_bits(bits)),
        ColumnType::I32 => Value::I32(bits as i32),
        ColumnType::I64 => Value::I64(bits as i64),
        ColumnType::Bool => Value::Bool(bits != 0),
        _ => match s {
            Scalar::Enum(e) => {
                let n = bits as i32;
                Value::String(match plan.enums.get(e as usize).and_then(|d| d.name(n)) {
                    Some(name) => name.to_owned(),
                    None => n.to_string(),
                })
            }
            _ => Value::String(text(body, bits)?.to_owned()),
        },
    })
}

/// The slots of the record just read into one row of the stages (`cols` their columns).
#[inline]
fn emit(
    plan: &Plan,
    slots: &Slots,
    body: &[u8],
    stages: &mut [Out],
    cols: &mut [Column],
    number: &mut String,
) -> Result<(), DecodeReason> {
    let outs = plan.emit.iter().zip(stages.iter_mut()).zip(cols.iter_mut());
    for (col, ((how, stage), column)) in outs.enumerate() {
        let Emit::Field {
            parent,
            read,
            repeated,
            explicit,
        } = *how
        else {
            stage.push_null();
            continue;
        };
        let set = slots.stamps.get(col) == Some(&slots.epoch);
        if repeated {
            let Out::Array(rows) = stage else {
                return Err(DecodeReason::PlanMismatch);
            };
            let Read::Scalar(s) = read else {
                return Err(DecodeReason::PlanMismatch);
            };
            if set {
                let elements = slots.arrays.get(col).ok_or(DecodeReason::PlanMismatch)?;
                let values = elements
                    .iter()
                    .map(|b| element(s, *b, body, plan))
                    .collect::<Result<Vec<_>, _>>()?;
                rows.push(Some(values));
            } else if plan.present(parent, slots.epoch) {
                rows.push(Some(Vec::new()));
            } else {
                rows.push(None);
            }
        } else if set {
            let bits = slots.bits.get(col).copied().unwrap_or(0);
            push(stage, read, bits, body, plan, column, number)?;
        } else if !explicit && plan.present(parent, slots.epoch) {
            // Proto3's implicit presence: the type's default (0, "", false, the enum's 0).
            push(stage, read, 0, body, plan, column, number)?;
        } else {
            stage.push_null();
        }
    }
    Ok(())
}
