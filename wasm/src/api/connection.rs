//! A session's connection to the bridge: one WebSocket carrying one subscription per
//! `consumeToTable`, each decoded straight into its own source table.
//!
//! A consumer subscribes with its seek spec and a credit of [`WINDOW`] bytes. Its hello brings
//! the schemas: a [`RecordDecoder`] is built for the consumer's key and value formats, the source
//! table is made with the decoder's columns, and the promise `consumeToTable` returned resolves
//! with it. Each `Records` frame is decoded into a batch the table takes at the next cycle, and
//! its bytes are granted back once decoded (in steps of at least [`GRANT_STEP`]), so the bridge
//! never has more than [`WINDOW`] bytes on their way to a consumer. A record that does not decode
//! is skipped and kept (the last [`MAX_ERRORS`]) with its partition and offset.
//!
//! The socket's handlers are closures owned by the connection, sharing its state through an
//! `Rc<RefCell<_>>`; JavaScript is single-threaded and no handler calls back into JavaScript
//! while it holds the state, except to settle a promise after releasing it.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Function, Object, Reflect, Uint8Array};
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::{self, ClientMessage, Hello, ServerMessage, Subscribe};
use streamglass_core::seek::SeekSpec;
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
}

/// `{avro: "subject"}`, `{avro: true}` (the topic's newest subject), `"string"`, `"bytes"` or
/// `"ignore"`.
fn format(value: &JsValue, side: &str, default: Format) -> Result<Format, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(default);
    }
    if let Some(s) = value.as_string() {
        return match s.as_str() {
            "ignore" => Ok(Format::Ignore),
            "string" => Ok(Format::String),
            "bytes" => Ok(Format::Bytes),
            "avro" => Ok(Format::Avro(ReaderSchema::Latest(String::new()))),
            other => Err(JsError::new(&format!(
                "{side}: {other:?} is not a format (\"ignore\", \"string\", \"bytes\" or {{avro: subject}})"
            ))),
        };
    }
    let avro = Reflect::get(value, &"avro".into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(subject) = avro.as_string() {
        return Ok(Format::Avro(ReaderSchema::Latest(subject)));
    }
    if avro.as_bool() == Some(true) {
        return Ok(Format::Avro(ReaderSchema::Latest(String::new())));
    }
    Err(JsError::new(&format!(
        "{side}: use \"ignore\", \"string\", \"bytes\" or {{avro: subject}}"
    )))
}

impl ConsumeSpec {
    /// `{topic, offsets, tableType, key, value}`; offsets default to `end`, the table to append,
    /// the key to ignored and the value to Avro of the topic's newest subject.
    pub(crate) fn from_js(options: &JsValue) -> Result<Self, JsError> {
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
            None if offsets.is_undefined() || offsets.is_null() => "end"
                .parse()
                .map_err(|e: streamglass_core::Error| JsError::new(&e.to_string()))?,
            None => {
                return Err(JsError::new(
                    "offsets is a seek spec: \"beginning\", \"end\", \"-1000000\", \"{0: 42}\", ...",
                ));
            }
        };
        Ok(Self {
            topic: field("topic").as_string(),
            seek,
            kind: table_kind(&field("tableType"))?,
            key: format(&field("key"), "key", Format::Ignore)?,
            value: format(
                &field("value"),
                "value",
                Format::Avro(ReaderSchema::Latest(String::new())),
            )?,
        })
    }
}

/// One subscription and the table it fills.
struct Consumer {
    spec: ConsumeSpec,
    decoder: Option<RecordDecoder>,
    table: Option<(u32, streamglass_core::Table)>,
    /// The promise's resolve and reject, until the hello (or an error) settles it.
    settle: Option<(Function, Function)>,
    topic: String,
    records: u64,
    bytes: u64,
    skipped: u64,
    errors: VecDeque<String>,
    caught_up: BTreeMap<i32, bool>,
    ended: bool,
    /// A live recording ran out (`Exhausted`): its message.
    exhausted: Option<String>,
    failed: Option<String>,
    consumed: u64,
}

struct State {
    session: std::rc::Weak<SessionState>,
    open: bool,
    closed: Option<String>,
    /// Client frames written before the socket opened.
    queued: Vec<Vec<u8>>,
    consumers: BTreeMap<u32, Consumer>,
    next: u32,
    records: u64,
    bytes: u64,
}

/// A WebSocket to the bridge and the consumers on it.
pub(crate) struct Connection {
    url: String,
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
    pub(crate) fn open(url: &str, session: &Rc<SessionState>) -> Result<Self, JsError> {
        let socket = WebSocket::new(url)
            .map_err(|e| JsError::new(&format!("cannot open a WebSocket to {url}: {e:?}")))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let state = Rc::new(RefCell::new(State {
            session: Rc::downgrade(session),
            open: false,
            closed: None,
            queued: Vec::new(),
            consumers: BTreeMap::new(),
            next: 1,
            records: 0,
            bytes: 0,
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
                let (settle, grant) = state.borrow_mut().apply(frame);
                if let Some(frame) = grant {
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
                let settle = state.borrow_mut().close(reason);
                settle.into_iter().for_each(Settle::run);
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            url: url.to_owned(),
            socket,
            state,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Subscribes a new consumer; the promise settles at its hello.
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
            let id = s.next;
            s.next += 1;
            let subscribe = ClientMessage::Subscribe(Subscribe {
                subscription: id,
                topic: spec.topic.clone(),
                seek: spec.seek.clone(),
                resume: None,
                credit: WINDOW,
            });
            let frame = match protocol::encode_client(&subscribe) {
                Ok(frame) => frame,
                Err(e) => {
                    drop(s);
                    Settle::Reject(reject, e.to_string()).run();
                    return;
                }
            };
            s.consumers.insert(id, Consumer::new(spec, resolve, reject));
            if s.open {
                drop(s);
                let _ = socket.send_with_u8_array(&frame);
            } else {
                s.queued.push(frame);
            }
        })
    }

    /// `{url, open, closed, records, bytes, consumers: [...]}`.
    pub(crate) fn status(&self) -> JsValue {
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
        let consumers: Array = s.consumers.iter().map(|(id, c)| c.status(*id)).collect();
        set("consumers", consumers.into());
        o.into()
    }
}

impl State {
    /// Applies one frame; returns the promises to settle and a credit grant to send.
    fn apply(&mut self, frame: &[u8]) -> (Vec<Settle>, Option<Vec<u8>>) {
        let mut settle = Vec::new();
        let message = match protocol::decode(frame) {
            Ok(m) => m,
            Err(e) => {
                self.closed
                    .get_or_insert_with(|| format!("a frame did not decode: {e}"));
                return (settle, None);
            }
        };
        let grant = protocol::records_credit(frame);
        let Some(id) = message.subscription() else {
            if let ServerMessage::Error { message, .. } = message {
                self.consumers.values_mut().for_each(|c| {
                    push_error(&mut c.errors, format!("bridge: {message}"));
                });
            }
            return (settle, None);
        };
        let session = self.session.upgrade();
        let Some(consumer) = self.consumers.get_mut(&id) else {
            return (settle, None);
        };
        match message {
            ServerMessage::Hello(hello) => match consumer.start(&hello, session.as_ref()) {
                Ok(table) => {
                    if let Some((resolve, _)) = consumer.settle.take() {
                        settle.push(Settle::Resolve(resolve, table));
                    }
                }
                Err(reason) => {
                    consumer.failed = Some(reason.clone());
                    if let Some((_, reject)) = consumer.settle.take() {
                        settle.push(Settle::Reject(reject, reason));
                    }
                }
            },
            ServerMessage::Records(batch) => {
                let bytes: u64 = batch.records.iter().map(|r| r.payload_len() as u64).sum();
                consumer.records += batch.records.len() as u64;
                consumer.bytes += bytes;
                self.records += batch.records.len() as u64;
                self.bytes += bytes;
                if let (Some(decoder), Some((_, table))) = (&mut consumer.decoder, &consumer.table)
                {
                    let (errors, skipped) = (&mut consumer.errors, &mut consumer.skipped);
                    decoder.decode_batch(&batch, |e| {
                        *skipped += 1;
                        push_error(errors, e.to_string());
                    });
                    match decoder.take_batch().and_then(|b| table.add(b)) {
                        Ok(()) => {}
                        Err(e) => consumer.failed = Some(e.to_string()),
                    }
                }
            }
            ServerMessage::CaughtUp { partition, .. } => {
                consumer.caught_up.insert(partition, true);
            }
            ServerMessage::End { .. } => consumer.ended = true,
            ServerMessage::Exhausted { message, .. } => {
                consumer.ended = true;
                consumer.exhausted = Some(message);
            }
            ServerMessage::Error { message, .. } => {
                consumer.failed = Some(message.clone());
                if let Some((_, reject)) = consumer.settle.take() {
                    settle.push(Settle::Reject(reject, message));
                }
            }
        }
        let mut credit = None;
        if let Some((sub, bytes)) = grant
            && let Some(c) = self.consumers.get_mut(&sub)
        {
            c.consumed += bytes;
            if c.consumed >= GRANT_STEP {
                credit = protocol::encode_client(&ClientMessage::Credit {
                    subscription: sub,
                    bytes: c.consumed,
                })
                .ok();
                c.consumed = 0;
            }
        }
        (settle, credit)
    }

    fn close(&mut self, reason: String) -> Vec<Settle> {
        self.open = false;
        self.closed.get_or_insert(reason.clone());
        self.consumers
            .values_mut()
            .filter_map(|c| c.settle.take())
            .map(|(_, reject)| Settle::Reject(reject, reason.clone()))
            .collect()
    }
}

fn push_error(errors: &mut VecDeque<String>, error: String) {
    if errors.len() == MAX_ERRORS {
        errors.pop_front();
    }
    errors.push_back(error);
}

impl Consumer {
    fn new(spec: ConsumeSpec, resolve: Function, reject: Function) -> Self {
        Self {
            spec,
            decoder: None,
            table: None,
            settle: Some((resolve, reject)),
            topic: String::new(),
            records: 0,
            bytes: 0,
            skipped: 0,
            errors: VecDeque::new(),
            caught_up: BTreeMap::new(),
            ended: false,
            exhausted: None,
            failed: None,
            consumed: 0,
        }
    }

    /// Builds the decoder and the table from the hello; returns the table's handle.
    fn start(
        &mut self,
        hello: &Hello,
        session: Option<&Rc<SessionState>>,
    ) -> Result<JsValue, String> {
        let session = session.ok_or("the session is gone")?;
        self.topic = hello.topic.clone();
        for p in &hello.partitions {
            self.caught_up
                .insert(p.partition, p.start_offset >= p.high_watermark);
        }
        let store = SchemaStore::from_hello(hello).map_err(|e| e.to_string())?;
        let newest = |format: &Format, side: &str| -> Result<Format, String> {
            match format {
                Format::Avro(ReaderSchema::Latest(subject)) if subject.is_empty() => {
                    let preferred = format!("{}-{side}", hello.topic);
                    let subject = if store.latest(&preferred).is_some() {
                        preferred
                    } else {
                        store.newest_subject().map(str::to_owned).ok_or_else(|| {
                            format!("the hello of {} carries no schema", hello.topic)
                        })?
                    };
                    Ok(Format::Avro(ReaderSchema::Latest(subject)))
                }
                other => Ok(other.clone()),
            }
        };
        let key = newest(&self.spec.key, "key")?;
        let value = newest(&self.spec.value, "value")?;
        let decoder = RecordDecoder::new(store, key, value).map_err(|e| e.to_string())?;
        let schema = decoder.schema().clone();
        let engine = session.engine();
        let table = match self.spec.kind {
            TableKind::Append => engine.append_table(schema),
            TableKind::Stream => engine.stream_table(schema),
            TableKind::Ring(n) => engine.ring_table(schema, n),
        };
        let handle = session.register(table.clone());
        self.table = Some((handle.id(), table));
        self.decoder = Some(decoder);
        Ok(handle.into())
    }

    fn status(&self, id: u32) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("subscription", JsValue::from_f64(f64::from(id)));
        set("topic", JsValue::from_str(&self.topic));
        set(
            "table",
            self.table
                .as_ref()
                .map_or(JsValue::NULL, |(t, _)| JsValue::from_f64(f64::from(*t))),
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
