//! A session's connection to the bridge: one WebSocket carrying the session's subscriptions, each
//! decoded straight into the source tables it feeds.
//!
//! A subscription (a *feed*) asks for its seek spec with a credit of [`WINDOW`] bytes. Its hello
//! brings the schemas: a [`RecordDecoder`] is built for the key and value formats, a source table
//! is made with the decoder's columns for each consumer, and the promises `consumeToTable`
//! returned resolve with them. Each `Records` frame is decoded once into a batch that every table
//! of the feed takes at the next cycle, and its bytes are granted back once decoded (in steps of
//! at least [`GRANT_STEP`]), so the bridge never has more than [`WINDOW`] bytes on their way to a
//! feed. A record that does not decode is skipped and kept (the last [`MAX_ERRORS`]) with its
//! partition and offset.
//!
//! Consumers of the same topic, seek and formats share a feed (the seed's append and stream
//! tables both start at `offset_variable`), so the records cross the socket once. A consumer
//! joins a feed that has not had its hello yet, or one whose seek is fixed (absolute offsets,
//! the beginning or a time) and whose records so far an append table still holds: the new table
//! starts with a copy of those rows. A feed holds its tables weakly and unsubscribes once none
//! is left.
//!
//! The socket's handlers are closures owned by the connection, sharing its state through an
//! `Rc<RefCell<_>>`; JavaScript is single-threaded and no handler calls back into JavaScript
//! while it holds the state, except to settle a promise after releasing it.

use std::cell::RefCell;
use std::collections::VecDeque;

use litemap::LiteMap;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Function, Object, Reflect, Uint8Array};
use streamglass_core::WeakTable;
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::json_format::infer::{DEFAULT_LIMIT, MAX_LIMIT, settle_columns};
use streamglass_core::json_format::{Inference, JsonColumns, json_schema};
use streamglass_core::protobuf::{MessageChoice, ProtoSpec};
use streamglass_core::protocol::{
    self, ClientMessage, Compression, Hello, SchemaType, ServerMessage, Subscribe,
};
use streamglass_core::seek::{Position, SeekSpec};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::SessionState;
// The same window and grant step as the feed client: one flow-control policy for the page.
use super::convert::{TableKind, table_kind};
use crate::socket::{GRANT_STEP, WINDOW};

/// Decode errors kept per consumer.
pub const MAX_ERRORS: usize = 100;

/// What `consumeToTable` was asked for.
pub(crate) struct ConsumeSpec {
    topic: Option<String>,
    seek: SeekSpec,
    kind: TableKind,
    key: Format,
    value: Format,
    /// JSON sides whose columns are inferred: from how many records (key, value).
    infer: [Option<usize>; 2],
    compression: Compression,
}

/// `"protobuf"` or `{protobuf: true}` (`<topic>-<side>`, else the topic's newest Protobuf subject
/// but the other side's), `{protobuf:
/// "subject"}`, `{protobuf: {subject, message}}` (a message by its full name, else the schema's
/// first), `{avro: "subject"}`, `{avro: true}` (the topic's newest subject), `"json"` (columns inferred
/// from the first 1,000 records), `{json: {infer: N}}` (from the first N), `{json: {Col: "type",
/// …}}` (a column spec with Deephaven's type names), `"string"`, `"bytes"`, `"long"`, `"int"`,
/// `"double"` or `"ignore"`. Also the number of records to infer JSON columns from, if any.
fn format(
    value: &JsValue,
    side: &str,
    default: Format,
) -> Result<(Format, Option<usize>), JsError> {
    let infer = |limit| Ok((Format::Json(JsonColumns::default()), Some(limit)));
    if value.is_undefined() || value.is_null() {
        return Ok((default, None));
    }
    if let Some(s) = value.as_string() {
        return match s.as_str() {
            "ignore" => Ok((Format::Ignore, None)),
            "string" => Ok((Format::String, None)),
            "bytes" => Ok((Format::Bytes, None)),
            "long" => Ok((Format::Long, None)),
            "int" => Ok((Format::Int, None)),
            "double" => Ok((Format::Double, None)),
            "avro" => Ok((Format::Avro(ReaderSchema::Latest(String::new())), None)),
            "json" => infer(DEFAULT_LIMIT),
            "protobuf" => Ok((protobuf(String::new(), MessageChoice::First), None)),
            other => Err(JsError::new(&format!(
                "{side}: {other:?} is not a format (\"ignore\", \"string\", \"bytes\", \"long\", \"int\", \"double\", \"json\", \"protobuf\", {{json: {{Col: \"type\"}}}}, {{protobuf: subject}} or {{avro: subject}})"
            ))),
        };
    }
    let json = Reflect::get(value, &"json".into()).unwrap_or(JsValue::UNDEFINED);
    if json.is_object() {
        let keys = Object::keys(&Object::from(json.clone()));
        let mut pairs = Vec::new();
        for key in keys.iter().filter_map(|k| k.as_string()) {
            let ty = Reflect::get(&json, &key.as_str().into()).unwrap_or(JsValue::UNDEFINED);
            if key == "infer" {
                let n = ty
                    .as_f64()
                    .filter(|n| *n >= 1.0 && *n <= MAX_LIMIT as f64 && n.fract() == 0.0)
                    .ok_or_else(|| {
                        JsError::new(&format!(
                            "{side}: json.infer is a number of records (1 to {MAX_LIMIT})"
                        ))
                    })?;
                if keys.length() > 1 {
                    return Err(JsError::new(&format!(
                        "{side}: json takes either {{infer: N}} or column types ({{Col: \"type\"}}), not both"
                    )));
                }
                return infer(n as usize);
            }
            let ty = ty.as_string().ok_or_else(|| {
                JsError::new(&format!(
                    "{side}: json column {key:?} needs a type name, as \"double\""
                ))
            })?;
            pairs.push((key, ty));
        }
        if pairs.is_empty() {
            return Err(JsError::new(&format!(
                "{side}: json names no column: give {{Col: \"type\", …}}, {{infer: N}} or \"json\""
            )));
        }
        let columns = JsonColumns::from_spec(pairs.iter().map(|(k, t)| (k.as_str(), t.as_str())))
            .map_err(|e| JsError::new(&format!("{side}: {e}")))?;
        return Ok((Format::Json(columns), None));
    }
    let proto = Reflect::get(value, &"protobuf".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(subject) = proto.as_string() {
        return Ok((protobuf(subject, MessageChoice::First), None));
    }
    if proto.as_bool() == Some(true) {
        return Ok((protobuf(String::new(), MessageChoice::First), None));
    }
    if proto.is_object() {
        let text = |name: &str| {
            Reflect::get(&proto, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let message = text("message").map_or(MessageChoice::First, MessageChoice::Named);
        return Ok((protobuf(text("subject").unwrap_or_default(), message), None));
    }
    let avro = Reflect::get(value, &"avro".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(subject) = avro.as_string() {
        return Ok((Format::Avro(ReaderSchema::Latest(subject)), None));
    }
    if avro.as_bool() == Some(true) {
        return Ok((Format::Avro(ReaderSchema::Latest(String::new())), None));
    }
    Err(JsError::new(&format!(
        "{side}: use \"ignore\", \"string\", \"bytes\", \"long\", \"int\", \"double\", \"json\", {{json: {{Col: \"type\"}}}} or {{avro: subject}}"
    )))
}

/// A Protobuf side read with `subject`'s newest schema (`""`: the topic's, found in the hello).
fn protobuf(subject: String, message: MessageChoice) -> Format {
    Format::Protobuf(ProtoSpec {
        schema: ReaderSchema::Latest(subject),
        message,
    })
}

impl ConsumeSpec {
    /// `{topic, offsets, tableType, key, value, compression}`; offsets default to `end`, the
    /// table to append, the key to ignored, the value to Avro of the topic's newest subject, and
    /// the frames to `"snappy"` (`"none"` sends them as they are).
    pub(crate) fn from_js(
        options: &JsValue,
        default_compression: Compression,
    ) -> Result<Self, JsError> {
        let field = |name: &str| Reflect::get(options, &name.into()).unwrap_or(JsValue::UNDEFINED);
        if !options.is_object() {
            return Err(JsError::new(
                "consumeToTable takes {topic, offsets, tableType, key, value}",
            ));
        }
        let offsets = field("offsets");
        let seek = match offsets.as_string() {
            Some(text) => text
                .parse()
                .map_err(|e| JsError::new(&format!("offsets {text:?}: {e}")))?,
            None if offsets.is_undefined() || offsets.is_null() => {
                "end".parse().map_err(super::to_js)?
            }
            None => {
                return Err(JsError::new(
                    "offsets is a seek spec: \"beginning\", \"end\", \"-1000000\", \"{0: 42}\", ...",
                ));
            }
        };
        let (key, key_infer) = format(&field("key"), "key", Format::Ignore)?;
        let (value, value_infer) = format(
            &field("value"),
            "value",
            Format::Avro(ReaderSchema::Latest(String::new())),
        )?;
        Ok(Self {
            compression: compression(options, default_compression)?,
            topic: field("topic").as_string(),
            seek,
            kind: table_kind(&field("tableType"))?,
            key,
            value,
            infer: [key_infer, value_infer],
        })
    }
}

/// `options.compression`: `"snappy"`, `"none"`, or (absent) `default`.
pub(crate) fn compression(options: &JsValue, default: Compression) -> Result<Compression, JsError> {
    let value = match options.is_object() {
        true => Reflect::get(options, &"compression".into()).unwrap_or(JsValue::UNDEFINED),
        false => JsValue::UNDEFINED,
    };
    match value.as_string().as_deref() {
        Some("snappy") => Ok(Compression::Snappy),
        Some("none") => Ok(Compression::None),
        None if value.is_undefined() || value.is_null() => Ok(default),
        _ => Err(JsError::new(
            "compression is \"snappy\" (records cross the socket compressed) or \"none\"",
        )),
    }
}

/// Whether two consumers would receive the same records: the same topic, seek and formats.
impl ConsumeSpec {
    fn same_records(&self, other: &ConsumeSpec) -> bool {
        self.topic == other.topic
            && self.seek == other.seek
            && self.key == other.key
            && self.value == other.value
            && self.infer == other.infer
    }
}

/// Whether a seek lands on the same offsets whenever it is resolved: every partition from an
/// absolute offset, its beginning or a timestamp (not `end` or "the newest N", which move as the
/// topic grows).
fn fixed_start(seek: &SeekSpec, partitions: &[protocol::PartitionInfo]) -> bool {
    let fixed = |p: &Position| !matches!(p, Position::End | Position::FromEnd(_));
    match seek {
        SeekSpec::All(p) => fixed(p),
        SeekSpec::NewestTotal(_) => false,
        SeekSpec::PerPartition(map) => partitions
            .iter()
            .all(|p| map.get(&p.partition).is_some_and(fixed)),
    }
}

/// A table a feed fills. The feed holds it weakly: once the user and every derived table have
/// let go of it, the feed stops filling it (and unsubscribes when it fills nothing else).
struct Sink {
    id: u32,
    table: WeakTable,
    /// An append table: it holds every row the feed delivered.
    append: bool,
}

/// A consumer waiting for its feed's hello.
struct Waiting {
    kind: TableKind,
    resolve: Function,
    reject: Function,
}

/// One subscription, decoded once, and the tables it fills. Consumers of the same topic, seek
/// and formats share a feed: the records cross the socket and are decoded once, and each table
/// gets the batch (a later consumer starts from an append table's rows so far).
struct Feed {
    spec: ConsumeSpec,
    decoder: Option<RecordDecoder>,
    sinks: Vec<Sink>,
    waiting: Vec<Waiting>,
    /// The seek resolves to the same offsets whenever it is made (known at the hello).
    fixed: bool,
    /// Each partition's low watermark at the hello: where "the newest N" must stop.
    lows: Vec<(i32, i64)>,
    topic: String,
    records: u64,
    bytes: u64,
    skipped: u64,
    errors: VecDeque<String>,
    caught_up: LiteMap<i32, bool>,
    ended: bool,
    /// A live recording ran out (`Exhausted`): its message.
    exhausted: Option<String>,
    failed: Option<String>,
    consumed: u64,
    /// JSON columns being inferred: the records are held until they are known.
    pending: Option<PendingJson>,
}

/// JSON sides whose columns are inferred from the first records, which the feed holds (with its
/// schema store and the other side's format) until every pending side has seen its number, the
/// topic is caught up, or it ends; then the decoder is built, the waiting consumers get their
/// tables, and the held records are decoded into them.
struct PendingJson {
    store: SchemaStore,
    key: Format,
    value: Format,
    infer: [Option<Inference>; 2],
    held: Vec<HeldBatch>,
    /// The key and value bytes held: at [`HOLD_BUDGET`] the columns are fixed.
    held_bytes: usize,
}

/// The most key and value bytes a feed holds while it infers JSON columns: it fixes them once
/// it holds this much, so the bridge cannot make the page hold unbounded memory.
const HOLD_BUDGET: usize = 16 << 20;

/// A held record: offset, timestamp (ms), key and value.
type HeldRecord = (i64, i64, Option<Vec<u8>>, Option<Vec<u8>>);

/// A frame's records, copied.
struct HeldBatch {
    partition: i32,
    high_watermark: i64,
    records: Vec<HeldRecord>,
}

struct State {
    session: std::rc::Weak<SessionState>,
    open: bool,
    closed: Option<String>,
    /// The bridge closed the connection as idle ([`IDLE_CLOSE`]).
    closed_idle: bool,
    /// Client frames written before the socket opened.
    queued: Vec<Vec<u8>>,
    feeds: LiteMap<u32, Feed>,
    next: u32,
    records: u64,
    bytes: u64,
    /// Bytes of every frame received, as they crossed the socket.
    wire: u64,
    /// The storage of the last compressed frame, inflated.
    inflated: Vec<u8>,
}

/// The bridge's close code for a connection that held no subscription and sent nothing for its
/// idle timeout.
const IDLE_CLOSE: u16 = 4001;

/// A WebSocket to the bridge and the feeds on it.
pub(crate) struct Connection {
    url: String,
    /// What `consumeToTable` asks for when its options do not say.
    pub(crate) compression: Compression,
    socket: WebSocket,
    state: Rc<RefCell<State>>,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

/// Something to do once the state is released: settle a promise.
enum Settle {
    Resolve(Function, JsValue),
    Reject(Function, String),
}

impl Settle {
    fn run(self) {
        let _ = match self {
            Self::Resolve(f, v) => f.call1(&JsValue::NULL, &v),
            Self::Reject(f, m) => f.call1(&JsValue::NULL, &JsError::new(&m).into()),
        };
    }
}

impl Connection {
    pub(crate) fn open(
        url: &str,
        session: &Rc<SessionState>,
        compression: Compression,
    ) -> Result<Self, JsError> {
        let socket = WebSocket::new(url)
            .map_err(|e| JsError::new(&format!("cannot open a WebSocket to {url}: {e:?}")))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let state = Rc::new(RefCell::new(State {
            session: Rc::downgrade(session),
            open: false,
            closed: None,
            closed_idle: false,
            queued: Vec::new(),
            feeds: LiteMap::new(),
            next: 1,
            records: 0,
            bytes: 0,
            wire: 0,
            inflated: Vec::new(),
        }));
        let on_open = {
            let (socket, state) = (socket.clone(), Rc::clone(&state));
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let queued = {
                    let mut s = state.borrow_mut();
                    s.open = true;
                    std::mem::take(&mut s.queued)
                };
                for frame in queued {
                    let _ = socket.send_with_u8_array(&frame);
                }
            })
        };
        let on_message = {
            let (socket, state) = (socket.clone(), Rc::clone(&state));
            let mut scratch = Vec::new();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
                    return;
                };
                let frame = crate::socket::copy_into(&Uint8Array::new(&buffer), &mut scratch);
                let (settle, replies) = state.borrow_mut().apply(frame);
                for frame in replies {
                    let _ = socket.send_with_u8_array(&frame);
                }
                settle.into_iter().for_each(Settle::run);
            })
        };
        let on_close = {
            let state = Rc::clone(&state);
            let url = url.to_owned();
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                let reason = if event.reason().is_empty() {
                    format!("the connection to {url} closed (code {})", event.code())
                } else {
                    format!("the connection to {url} closed: {}", event.reason())
                };
                let settle = {
                    let mut s = state.borrow_mut();
                    s.closed_idle = event.code() == IDLE_CLOSE;
                    s.close(reason)
                };
                settle.into_iter().for_each(Settle::run);
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            url: url.to_owned(),
            compression,
            socket,
            state,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Whether the bridge closed this connection because it sat idle, with no subscription open
    /// (close code 4001): a new consumer then opens a new connection.
    pub(crate) fn closed_idle(&self) -> bool {
        self.state.borrow().closed_idle
    }

    /// The bridge's URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Adds a consumer: to a feed of the same records if one can take it, else to a new
    /// subscription. The promise settles with the table at the feed's hello (at once when the
    /// feed already had it).
    pub(crate) fn consume(&self, spec: ConsumeSpec) -> js_sys::Promise {
        let state = Rc::clone(&self.state);
        let socket = self.socket.clone();
        let mut spec = Some(spec);
        js_sys::Promise::new(&mut move |resolve: Function, reject: Function| {
            let Some(spec) = spec.take() else {
                return;
            };
            let mut s = state.borrow_mut();
            if let Some(reason) = s.closed.clone() {
                drop(s);
                Settle::Reject(reject, reason).run();
                return;
            }
            let session = s.session.upgrade();
            let kind = spec.kind;
            if let Some(feed) = s
                .feeds
                .iter_mut()
                .map(|(_, f)| f)
                .find(|f| f.can_share(&spec))
            {
                if feed.decoder.is_none() {
                    feed.waiting.push(Waiting {
                        kind,
                        resolve,
                        reject,
                    });
                    return;
                }
                let settle = match feed.add_sink(kind, session.as_ref()) {
                    Ok(table) => Settle::Resolve(resolve, table),
                    Err(reason) => Settle::Reject(reject, reason),
                };
                drop(s);
                settle.run();
                return;
            }
            let id = s.next;
            s.next += 1;
            let subscribe = ClientMessage::Subscribe(Subscribe {
                subscription: id,
                topic: spec.topic.clone(),
                seek: spec.seek.clone(),
                resume: None,
                credit: WINDOW,
                compression: spec.compression,
            });
            let frame = match protocol::encode_client(&subscribe) {
                Ok(frame) => frame,
                Err(e) => {
                    drop(s);
                    Settle::Reject(reject, e.to_string()).run();
                    return;
                }
            };
            s.feeds.insert(
                id,
                Feed::new(
                    spec,
                    Waiting {
                        kind,
                        resolve,
                        reject,
                    },
                ),
            );
            if s.open {
                drop(s);
                let _ = socket.send_with_u8_array(&frame);
            } else {
                s.queued.push(frame);
            }
        })
    }

    /// `{url, open, closed, records, bytes, consumers: [...]}`, one consumer per feed. Feeds
    /// whose tables are all gone are unsubscribed first.
    pub(crate) fn status(&self) -> JsValue {
        let unsubscribes = {
            let mut s = self.state.borrow_mut();
            if s.open { s.sweep() } else { Vec::new() }
        };
        for frame in unsubscribes {
            let _ = self.socket.send_with_u8_array(&frame);
        }
        let s = self.state.borrow();
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("url", JsValue::from_str(&self.url));
        set("open", JsValue::from_bool(s.open));
        set(
            "closed",
            s.closed.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        );
        set("records", JsValue::from_f64(s.records as f64));
        set("bytes", JsValue::from_f64(s.bytes as f64));
        set("wireBytes", JsValue::from_f64(s.wire as f64));
        let consumers: Array = s.feeds.iter().map(|(id, f)| f.status(*id)).collect();
        set("consumers", consumers.into());
        o.into()
    }
}

impl State {
    /// Applies one frame as it came off the socket, inflating a compressed one; returns the
    /// promises to settle and the frames to send back (a credit grant, an unsubscribe).
    fn apply(&mut self, frame: &[u8]) -> (Vec<Settle>, Vec<Vec<u8>>) {
        self.wire += frame.len() as u64;
        if !protocol::is_compressed(frame) {
            return self.apply_frame(frame);
        }
        let (subscription, packed) = match protocol::decode(frame) {
            Ok(ServerMessage::Compressed {
                subscription,
                frame,
            }) => (subscription, frame),
            // Not one after all: the plain path reports it.
            _ => return self.apply_frame(frame),
        };
        let mut inflated = std::mem::take(&mut self.inflated);
        // A frame is never longer than the credit the subscription opened with; inside is a
        // Records frame of the same subscription (`inflate` sees to it), applied once.
        let applied = match protocol::inflate(subscription, packed, WINDOW as usize, &mut inflated)
        {
            Ok(()) => self.apply_frame(&inflated),
            Err(e) => self.fail_feed(subscription, format!("bridge: {e}")),
        };
        self.inflated = inflated;
        applied
    }

    /// Fails a feed whose records can no longer be trusted: its tables keep what they have, its
    /// consumers see why, and the subscription is ended (its credit would never come back).
    fn fail_feed(&mut self, id: u32, reason: String) -> (Vec<Settle>, Vec<Vec<u8>>) {
        let Some(feed) = self.feeds.get_mut(&id) else {
            return (Vec::new(), Vec::new());
        };
        push_error(&mut feed.errors, reason.clone());
        (feed.fail(reason), unsubscribe(id).into_iter().collect())
    }

    /// Applies one uncompressed frame.
    fn apply_frame(&mut self, frame: &[u8]) -> (Vec<Settle>, Vec<Vec<u8>>) {
        let mut settle = Vec::new();
        let mut replies = Vec::new();
        let message = match protocol::decode(frame) {
            Ok(m) => m,
            Err(e) => {
                self.closed
                    .get_or_insert_with(|| format!("a frame did not decode: {e}"));
                return (settle, replies);
            }
        };
        let grant = protocol::records_credit(frame);
        let Some(id) = message.subscription() else {
            if let ServerMessage::Error { message, .. } = message {
                self.feeds.iter_mut().map(|(_, f)| f).for_each(|f| {
                    push_error(&mut f.errors, format!("bridge: {message}"));
                });
            }
            return (settle, replies);
        };
        let session = self.session.upgrade();
        let Some(feed) = self.feeds.get_mut(&id) else {
            return (settle, replies);
        };
        match message {
            ServerMessage::Hello(hello) => match feed.start(&hello) {
                // Tables wait for inferred JSON columns, if any.
                Ok(()) if feed.decoder.is_none() => {}
                Ok(()) => settle.extend(feed.resolve_waiting(session.as_ref())),
                Err(reason) => {
                    settle.extend(feed.fail(reason));
                    // Nothing can decode its records: stop them.
                    replies.extend(unsubscribe(id));
                }
            },
            ServerMessage::Records(batch) => {
                if let Some(session) = &session {
                    let times = batch.records.iter().map(|r| r.timestamp_ms);
                    session.observe_records(id, batch.partition, times);
                }
                let bytes: u64 = batch.records.iter().map(|r| r.payload_len() as u64).sum();
                feed.records += batch.records.len() as u64;
                feed.bytes += bytes;
                self.records += batch.records.len() as u64;
                self.bytes += bytes;
                if !feed.hold(&batch) {
                    feed.ingest(&batch);
                }
            }
            ServerMessage::CaughtUp { partition, .. } => {
                feed.caught_up.insert(partition, true);
            }
            ServerMessage::End { .. } => feed.ended = true,
            ServerMessage::Exhausted { message, .. } => {
                feed.ended = true;
                feed.exhausted = Some(message);
            }
            ServerMessage::Error { message, .. } => settle.extend(feed.fail(message)),
            // `apply` inflates those whose header it reads; this one's is not postcard's shortest.
            ServerMessage::Compressed { .. } => {
                let reason = "bridge: a compressed frame with a malformed header".to_owned();
                push_error(&mut feed.errors, reason.clone());
                settle.extend(feed.fail(reason));
            }
        }
        if feed.inferred_enough() {
            match feed.settle_json() {
                Ok(held) => {
                    settle.extend(feed.resolve_waiting(session.as_ref()));
                    feed.ingest_held(held);
                }
                Err(reason) => {
                    settle.extend(feed.fail(reason));
                    replies.extend(unsubscribe(id));
                }
            }
        }
        if let Some((sub, bytes)) = grant
            && let Some(f) = self.feeds.get_mut(&sub)
            && f.failed.is_none()
        {
            f.consumed += bytes;
            if f.consumed >= GRANT_STEP {
                replies.extend(
                    protocol::encode_client(&ClientMessage::Credit {
                        subscription: sub,
                        bytes: f.consumed,
                    })
                    .ok(),
                );
                f.consumed = 0;
            }
        }
        replies.extend(self.sweep());
        (settle, replies)
    }

    /// Removes the feeds whose tables are all gone (nothing would see their records); returns
    /// the unsubscribes to send.
    fn sweep(&mut self) -> Vec<Vec<u8>> {
        let orphaned: Vec<u32> = self
            .feeds
            .iter()
            .filter(|(_, f)| f.is_orphaned())
            .map(|(&id, _)| id)
            .collect();
        orphaned
            .into_iter()
            .filter_map(|id| {
                self.feeds.remove(&id);
                unsubscribe(id)
            })
            .collect()
    }

    fn close(&mut self, reason: String) -> Vec<Settle> {
        self.open = false;
        self.closed.get_or_insert(reason.clone());
        self.feeds
            .iter_mut()
            .flat_map(|(_, f)| std::mem::take(&mut f.waiting))
            .map(|w| Settle::Reject(w.reject, reason.clone()))
            .collect()
    }
}

/// The names of the columns of the JSON sides among `formats` (those not inferred).
fn json_names(formats: [&Format; 2]) -> Vec<&str> {
    formats
        .into_iter()
        .filter_map(|f| match f {
            Format::Json(c) => Some(c.columns()),
            _ => None,
        })
        .flatten()
        .map(|c| c.name.as_str())
        .collect()
}

fn push_error(errors: &mut VecDeque<String>, error: String) {
    if errors.len() == MAX_ERRORS {
        errors.pop_front();
    }
    errors.push_back(error);
}

/// The frame that ends subscription `id`.
fn unsubscribe(id: u32) -> Option<Vec<u8>> {
    protocol::encode_client(&ClientMessage::Unsubscribe { subscription: id }).ok()
}

impl Feed {
    /// Marks the feed failed for `reason`: its tables keep what they have; the consumers still
    /// waiting for its hello are rejected (returned, to settle once the state is released).
    fn fail(&mut self, reason: String) -> Vec<Settle> {
        let settle = std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|w| Settle::Reject(w.reject, reason.clone()))
            .collect();
        self.failed = Some(reason);
        // Nothing will decode the held records.
        self.pending = None;
        settle
    }

    fn new(spec: ConsumeSpec, first: Waiting) -> Self {
        Self {
            spec,
            decoder: None,
            sinks: Vec::new(),
            waiting: vec![first],
            fixed: false,
            lows: Vec::new(),
            topic: String::new(),
            records: 0,
            bytes: 0,
            skipped: 0,
            errors: VecDeque::new(),
            caught_up: LiteMap::new(),
            ended: false,
            exhausted: None,
            failed: None,
            consumed: 0,
            pending: None,
        }
    }

    /// Whether a new consumer of `spec` can be served by this feed: it asks for the same
    /// records, and either the feed has not started (the two subscriptions would be made at the
    /// same moment) or its seek is fixed and the records so far are still at hand (none came
    /// yet, or an append table holds them).
    fn can_share(&self, spec: &ConsumeSpec) -> bool {
        if self.failed.is_some() || !self.spec.same_records(spec) {
            return false;
        }
        if self.decoder.is_none() {
            return true;
        }
        self.fixed
            && (self.records == 0
                || self
                    .sinks
                    .iter()
                    .any(|s| s.append && s.table.upgrade().is_some()))
    }

    /// The rows delivered so far, from an append table that still holds them.
    fn retained_rows(&self) -> Option<streamglass_core::Batch> {
        self.sinks
            .iter()
            .filter_map(|s| s.table.upgrade())
            .find_map(|t| t.retained_rows())
    }

    /// Builds the decoder from the hello.
    fn start(&mut self, hello: &Hello) -> Result<(), String> {
        self.topic = hello.topic.clone();
        self.fixed = fixed_start(&self.spec.seek, &hello.partitions);
        self.lows = hello
            .partitions
            .iter()
            .map(|p| (p.partition, p.low_watermark))
            .collect();
        for p in &hello.partitions {
            self.caught_up
                .insert(p.partition, p.start_offset >= p.high_watermark);
        }
        let store = SchemaStore::from_hello(hello).map_err(|e| e.to_string())?;
        // An unreadable schema fails only the records written with it: say so once, up front.
        for (info, why) in store.unreadable() {
            let subject = match (&info.subject, info.version) {
                (Some(s), Some(v)) => format!(" ({s}, version {v})"),
                (Some(s), None) => format!(" ({s})"),
                _ => String::new(),
            };
            push_error(
                &mut self.errors,
                format!(
                    "schema id {}{subject} cannot be read, so its records will fail: {why}",
                    info.id
                ),
            );
        }
        let newest = |format: &Format, side: &str| -> Result<Format, String> {
            match format {
                Format::Avro(ReaderSchema::Latest(subject)) if subject.is_empty() => {
                    let preferred = format!("{}-{side}", hello.topic);
                    // A subject of which no version can be read is not swapped for another.
                    if store.latest(&preferred).is_none()
                        && let Some((_, why)) = store
                            .unreadable()
                            .find(|(i, _)| i.subject.as_deref() == Some(preferred.as_str()))
                    {
                        return Err(format!("no version of {preferred} can be read: {why}"));
                    }
                    let subject = if store.latest(&preferred).is_some() {
                        preferred
                    } else {
                        store.newest_subject().map(str::to_owned).ok_or_else(|| {
                            format!("the hello of {} carries no schema", hello.topic)
                        })?
                    };
                    Ok(Format::Avro(ReaderSchema::Latest(subject)))
                }
                Format::Protobuf(ProtoSpec {
                    schema: ReaderSchema::Latest(subject),
                    message,
                }) if subject.is_empty() => {
                    let preferred = format!("{}-{side}", hello.topic);
                    let subject = if store
                        .latest_other(&preferred, SchemaType::Protobuf)
                        .is_some()
                    {
                        preferred
                    } else {
                        // Never the other side's own subject.
                        let other = format!(
                            "{}-{}",
                            hello.topic,
                            if side == "key" { "value" } else { "key" }
                        );
                        store
                            .newest_other_subject(SchemaType::Protobuf, &other)
                            .map(str::to_owned)
                            .ok_or_else(|| {
                                let mut subjects: Vec<&str> =
                                    store.other_subjects(SchemaType::Protobuf).collect();
                                subjects.sort_unstable();
                                subjects.dedup();
                                if subjects.is_empty() {
                                    format!(
                                        "the hello of {} carries no Protobuf schema",
                                        hello.topic
                                    )
                                } else {
                                    format!(
                                        "no Protobuf schema for the {side} of {}: no {preferred}, \
                                         and its Protobuf subjects ({}) are the {}'s",
                                        hello.topic,
                                        subjects.join(", "),
                                        if side == "key" { "value" } else { "key" }
                                    )
                                }
                            })?
                    };
                    Ok(protobuf(subject, message.clone()))
                }
                other => Ok(other.clone()),
            }
        };
        let mut key = newest(&self.spec.key, "key")?;
        let mut value = newest(&self.spec.value, "value")?;
        // A JSON side with no spec takes its columns from the topic's JSON Schema in the
        // registry (`<topic>-key`, `<topic>-value`, newest version) when the hello has one, and
        // infers them from the first records otherwise.
        let mut infer = self.spec.infer;
        let [key_infer, value_infer] = &mut infer;
        for ((format, limit), side) in [(&mut key, key_infer), (&mut value, value_infer)]
            .into_iter()
            .zip(["key", "value"])
        {
            let subject = format!("{}-{side}", hello.topic);
            if limit.is_some()
                && let Some(schema) = store.latest_other(&subject, SchemaType::Json)
            {
                // One we cannot map is said, and the columns are inferred, as `cat` does.
                match json_schema::columns(&schema.schema) {
                    Ok(columns) => {
                        *format = Format::Json(columns);
                        *limit = None;
                    }
                    Err(e) => push_error(
                        &mut self.errors,
                        format!(
                            "the JSON Schema of {subject} (id {}) has no columns here ({e}): \
                             they are inferred from the records",
                            schema.id
                        ),
                    ),
                }
            }
        }
        if infer.iter().any(Option::is_some) {
            self.pending = Some(PendingJson {
                store,
                key,
                value,
                infer: infer.map(|n| n.map(Inference::new)),
                held: Vec::new(),
                held_bytes: 0,
            });
            return Ok(());
        }
        self.decoder = Some(RecordDecoder::new(store, key, value).map_err(|e| e.to_string())?);
        Ok(())
    }

    /// Gives each waiting consumer its table (the decoder is built).
    fn resolve_waiting(&mut self, session: Option<&Rc<SessionState>>) -> Vec<Settle> {
        std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|w| match self.add_sink(w.kind, session) {
                Ok(table) => Settle::Resolve(w.resolve, table),
                Err(reason) => Settle::Reject(w.reject, reason),
            })
            .collect()
    }

    /// Holds a frame while JSON columns are inferred; true if it was held.
    fn hold(&mut self, batch: &protocol::RecordBatch) -> bool {
        let Some(pending) = &mut self.pending else {
            return false;
        };
        for r in &batch.records {
            if let Some(i) = &mut pending.infer[0] {
                i.add(r.key);
            }
            if let Some(i) = &mut pending.infer[1] {
                i.add(r.value);
            }
        }
        pending.held_bytes += batch.records.iter().map(|r| r.payload_len()).sum::<usize>();
        pending.held.push(HeldBatch {
            partition: batch.partition,
            high_watermark: batch.high_watermark,
            records: batch
                .records
                .iter()
                .map(|r| {
                    let own = |b: Option<&[u8]>| b.map(<[u8]>::to_vec);
                    (r.offset, r.timestamp_ms, own(r.key), own(r.value))
                })
                .collect(),
        });
        true
    }

    /// Whether the JSON columns are to be fixed now: every pending side has seen its number of
    /// records, the held records reach [`HOLD_BUDGET`], the feed ended (no record will come), or
    /// the topic is caught up and every pending side has seen a record: a JSON object on some
    /// side if any came, else whatever came (arrays, scalars, bad JSON, tombstones: their
    /// records then fail, or fill no JSON column, visibly). A feed that starts caught up
    /// (offsets "end", an empty topic) thus waits for its first record rather than fixing no
    /// columns at all.
    fn inferred_enough(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| {
            let sides = || p.infer.iter().flatten();
            sides().all(Inference::is_done)
                || p.held_bytes >= HOLD_BUDGET
                || self.ended
                || (!self.caught_up.is_empty()
                    && self.caught_up.values().all(|c| *c)
                    && sides().all(|i| i.documents() > 0))
        })
    }

    /// Fixes the inferred columns and builds the decoder; returns the held frames, to be
    /// decoded once the waiting consumers have their tables.
    fn settle_json(&mut self) -> Result<Vec<HeldBatch>, String> {
        let Some(p) = self.pending.take() else {
            return Ok(Vec::new());
        };
        let [key_infer, value_infer] = &p.infer;
        let fixed = json_names([&p.key, &p.value]);
        let (key_columns, value_columns) =
            settle_columns(key_infer.as_ref(), value_infer.as_ref(), &fixed)
                .map_err(|e| e.to_string())?;
        let key = key_columns.map_or(p.key, Format::Json);
        let value = value_columns.map_or(p.value, Format::Json);
        self.decoder = Some(RecordDecoder::new(p.store, key, value).map_err(|e| e.to_string())?);
        let held: u64 = p.held.iter().map(|b| b.records.len() as u64).sum();
        // Counted again as they are decoded (a table joining now starts empty).
        self.records -= held.min(self.records);
        Ok(p.held)
    }

    /// Decodes held frames into the feed's tables.
    fn ingest_held(&mut self, held: Vec<HeldBatch>) {
        for b in held {
            let records = b
                .records
                .iter()
                .map(|(offset, ts, key, value)| protocol::Record {
                    offset: *offset,
                    timestamp_ms: *ts,
                    key: key.as_deref(),
                    value: value.as_deref(),
                })
                .collect();
            let batch = protocol::RecordBatch {
                subscription: 0,
                partition: b.partition,
                high_watermark: b.high_watermark,
                records,
            };
            self.records += batch.records.len() as u64;
            self.ingest(&batch);
        }
    }

    /// Makes a table of `kind` for this feed's records, starting with the rows delivered so far,
    /// and returns its handle.
    fn add_sink(
        &mut self,
        kind: TableKind,
        session: Option<&Rc<SessionState>>,
    ) -> Result<JsValue, String> {
        let session = session.ok_or("the session is gone")?;
        let decoder = self.decoder.as_ref().ok_or("the feed has not started")?;
        let schema = decoder.schema().clone();
        let engine = session.engine();
        let table = match kind {
            TableKind::Append => engine.append_table(schema),
            TableKind::Stream => engine.stream_table(schema),
            TableKind::Ring(n) => engine.ring_table(schema, n),
        };
        if self.records > 0 {
            let rows = self
                .retained_rows()
                .ok_or("the records so far are no longer held")?;
            table.add(rows).map_err(|e| e.to_string())?;
        }
        let handle = session.register(table.clone());
        self.sinks.push(Sink {
            id: handle.id(),
            table: table.downgrade(),
            append: matches!(kind, TableKind::Append),
        });
        Ok(handle.into())
    }

    /// Decodes a frame's records once and queues the batch on every table still alive.
    fn ingest(&mut self, records: &protocol::RecordBatch) {
        let Some(decoder) = &mut self.decoder else {
            return;
        };
        let (errors, skipped) = (&mut self.errors, &mut self.skipped);
        streamglass_core::avro::decode_batch(decoder, records, &mut |e| {
            *skipped += 1;
            push_error(errors, e.to_string());
        });
        let batch = match decoder.take_batch() {
            Ok(batch) => batch,
            Err(e) => {
                self.failed = Some(e.to_string());
                return;
            }
        };
        let mut tables: Vec<streamglass_core::Table> = Vec::with_capacity(self.sinks.len());
        self.sinks.retain(|s| match s.table.upgrade() {
            Some(t) => {
                tables.push(t);
                true
            }
            None => false,
        });
        let Some((last, others)) = tables.split_last() else {
            return;
        };
        let result = others
            .iter()
            .try_for_each(|t| t.add(batch.clone()))
            .and_then(|()| last.add(batch));
        if let Err(e) = result {
            self.failed = Some(e.to_string());
        }
    }

    /// Started (or failed: no consumer waits for it then), and no table it fills is alive.
    /// A feed that failed is kept (its held records were dropped by `fail`): its error is what
    /// `status()` shows the user.
    fn is_orphaned(&self) -> bool {
        self.decoder.is_some()
            && self.waiting.is_empty()
            && self.sinks.iter().all(|s| s.table.upgrade().is_none())
    }

    fn status(&self, id: u32) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("subscription", JsValue::from_f64(f64::from(id)));
        set("topic", JsValue::from_str(&self.topic));
        set(
            "tables",
            self.sinks
                .iter()
                .filter(|s| s.table.upgrade().is_some())
                .map(|s| JsValue::from_f64(f64::from(s.id)))
                .collect::<Array>()
                .into(),
        );
        set(
            "partitions",
            self.lows
                .iter()
                .map(|&(partition, low)| {
                    let p = Object::new();
                    let _ = Reflect::set(&p, &"partition".into(), &f64::from(partition).into());
                    let _ = Reflect::set(&p, &"low".into(), &(low as f64).into());
                    JsValue::from(p)
                })
                .collect::<Array>()
                .into(),
        );
        set("records", JsValue::from_f64(self.records as f64));
        set("bytes", JsValue::from_f64(self.bytes as f64));
        set("skipped", JsValue::from_f64(self.skipped as f64));
        set(
            "caughtUp",
            JsValue::from_bool(!self.caught_up.is_empty() && self.caught_up.values().all(|c| *c)),
        );
        set("ended", JsValue::from_bool(self.ended));
        set(
            "exhausted",
            self.exhausted
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        );
        set(
            "failed",
            self.failed
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        );
        set(
            "errors",
            self.errors
                .iter()
                .map(|e| JsValue::from_str(e))
                .collect::<Array>()
                .into(),
        );
        o.into()
    }
}
