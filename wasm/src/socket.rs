//! The WebSocket client: [`FeedClient`] connects to the bridge, opens one subscription (id 0, from
//! the seek spec given, `beginning` by default) with an initial credit of [`WINDOW`] bytes, feeds
//! every binary message to a [`streamglass_core::Feed`], and grants back the bytes of each
//! `Records` frame once it has been applied (in steps of at least [`GRANT_STEP`]). So the bridge
//! never has more than [`WINDOW`] bytes on their way to this page.
//!
//! The socket's `onmessage`, `onerror` and `onclose` handlers are Rust closures owned by the
//! client; they share the feed through an `Rc<RefCell<_>>`. Dropping the client (or `close()`)
//! detaches the handlers before closing the socket, so JavaScript never calls a dropped closure.
//! Nothing is leaked with `forget()`.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use streamglass_core::Feed;
use streamglass_core::protocol::{self, ClientMessage, Compression, ServerMessage, Subscribe};
use streamglass_core::seek::{Position, SeekSpec};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// The close code a client sends when it is done: "normal closure".
const NORMAL_CLOSURE: u16 = 1000;
/// Bytes of records the bridge may have on their way to the page.
pub const WINDOW: u64 = 8 << 20;
/// Consumed bytes are granted back once this many have accumulated.
pub const GRANT_STEP: u64 = 512 << 10;
/// The page's subscription id.
const SUBSCRIPTION: u32 = 0;

/// A live connection to the bridge, with the feed it fills.
#[wasm_bindgen]
pub struct FeedClient {
    socket: WebSocket,
    feed: Rc<RefCell<Feed>>,
    /// Held only to keep the socket's handlers alive as long as the client.
    _handlers: Handlers,
}

struct Handlers {
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

#[wasm_bindgen]
impl FeedClient {
    /// Opens a WebSocket to `url` (`ws://…` or `wss://…`), subscribes from the beginning, and
    /// starts filling a feed from it.
    ///
    /// Throws if the browser refuses the URL. A server that cannot be reached is not an error
    /// here: the snapshot moves to status `closed` with the reason in its `errors`.
    pub fn connect(url: &str) -> Result<FeedClient, JsError> {
        Self::open(url, SeekSpec::All(Position::Beginning))
    }

    /// Like `connect`, starting where `seek` says, in kcat syntax (`beginning`, `end`, `123`,
    /// `-1000` newest in total, `each:-1000`, `s@<epoch ms>`, `{0: 5, 2: end}`). Throws on a spec
    /// that does not parse.
    #[wasm_bindgen(js_name = connectWithSeek)]
    pub fn connect_with_seek(url: &str, seek: &str) -> Result<FeedClient, JsError> {
        let seek: SeekSpec = seek.parse().map_err(crate::api::to_js)?;
        Self::open(url, seek)
    }
}

impl FeedClient {
    fn open(url: &str, seek: SeekSpec) -> Result<FeedClient, JsError> {
        let subscribe = protocol::encode_client(&ClientMessage::Subscribe(Subscribe {
            subscription: SUBSCRIPTION,
            topic: None,
            seek,
            resume: None,
            credit: WINDOW,
            compression: Compression::None,
        }))
        .map_err(|e| JsError::new(&e.to_string()))?;
        let socket = WebSocket::new(url).map_err(|e| {
            JsError::new(&format!(
                "cannot open a WebSocket to {url}: {}",
                describe(&e)
            ))
        })?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let feed = Rc::new(RefCell::new(Feed::for_subscription(SUBSCRIPTION)));

        let on_open = {
            let socket = socket.clone();
            let feed = Rc::clone(&feed);
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                if let Err(e) = socket.send_with_u8_array(&subscribe) {
                    feed.borrow_mut()
                        .close(Some(format!("cannot subscribe: {}", describe(&e))));
                }
            })
        };
        let on_message = {
            let feed = Rc::clone(&feed);
            let socket = socket.clone();
            // Frames are copied out of JS memory into this buffer, reused from message to message.
            let mut scratch: Vec<u8> = Vec::new();
            let mut consumed: u64 = 0;
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                // JS is single-threaded and the feed never calls back into JS, so the feed is
                // never borrowed elsewhere while a handler runs.
                let mut feed = feed.borrow_mut();
                match event.data().dyn_into::<ArrayBuffer>() {
                    Ok(buffer) => {
                        let frame = copy_into(&Uint8Array::new(&buffer), &mut scratch);
                        feed.apply_frame(frame);
                        if let Some((SUBSCRIPTION, bytes)) = protocol::records_credit(frame) {
                            consumed += bytes;
                        }
                        if consumed >= GRANT_STEP {
                            let grant = ClientMessage::Credit {
                                subscription: SUBSCRIPTION,
                                bytes: consumed,
                            };
                            if let Ok(frame) = protocol::encode_client(&grant)
                                && socket.send_with_u8_array(&frame).is_ok()
                            {
                                consumed = 0;
                            }
                        }
                    }
                    Err(data) => feed.apply(&ServerMessage::Error {
                        subscription: None,
                        message: describe_non_binary(&data),
                    }),
                }
            })
        };
        let on_error = {
            let feed = Rc::clone(&feed);
            let url = url.to_owned();
            // Browsers give no detail on a WebSocket error; a close event always follows it.
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                feed.borrow_mut()
                    .close(Some(format!("WebSocket error on {url}")));
            })
        };
        let on_close = {
            let feed = Rc::clone(&feed);
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                feed.borrow_mut().close(close_reason(
                    event.code(),
                    &event.reason(),
                    event.was_clean(),
                ));
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));

        Ok(FeedClient {
            socket,
            feed,
            _handlers: Handlers {
                _on_open: on_open,
                _on_message: on_message,
                _on_error: on_error,
                _on_close: on_close,
            },
        })
    }
}

#[wasm_bindgen]
impl FeedClient {
    /// The current state as a plain object (see the crate docs for its shape).
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        crate::snapshot_to_js(&self.feed.borrow().snapshot())
    }

    /// Closes the connection. The feed keeps what it received and reports status `closed`;
    /// messages still in flight are dropped.
    pub fn close(&self) {
        self.detach_and_close();
        self.feed.borrow_mut().close(None);
    }
}

impl FeedClient {
    fn detach_and_close(&self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onerror(None);
        self.socket.set_onclose(None);
        // `close` only throws for an invalid code or reason, and these are valid.
        let _ = self
            .socket
            .close_with_code_and_reason(NORMAL_CLOSURE, "closed by the page");
    }
}

impl Drop for FeedClient {
    fn drop(&mut self) {
        // The closures die with the client: unhook them first so the socket cannot call them.
        self.detach_and_close();
    }
}

/// Copies a JS byte array into `scratch` (reusing its allocation) and returns the copy.
pub(crate) fn copy_into<'a>(bytes: &Uint8Array, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let len = bytes.length() as usize;
    scratch.clear();
    scratch.reserve(len);
    let spare: &mut [MaybeUninit<u8>] = scratch.spare_capacity_mut();
    // `reserve` guarantees `len` spare slots, so the slice below has exactly the array's length.
    bytes.copy_to_uninit(&mut spare[..len])
}

/// The error recorded for a message that is not binary (the protocol has no text messages).
fn describe_non_binary(data: &JsValue) -> String {
    match data.as_string() {
        Some(text) => format!(
            "unexpected text message of {} characters; the protocol is binary only",
            text.chars().count()
        ),
        None => "unexpected non-binary message; the protocol is binary only".to_owned(),
    }
}

/// A readable message from a thrown JS value.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// What to record when the socket closes: nothing for a clean normal closure, otherwise the code,
/// what it means, and the server's reason if it gave one.
fn close_reason(code: u16, reason: &str, was_clean: bool) -> Option<String> {
    if was_clean && code == NORMAL_CLOSURE {
        return None;
    }
    let meaning = match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no status code",
        1006 => "abnormal closure: server unreachable or connection lost",
        1007 => "invalid payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1011 => "server error",
        1012 => "service restart",
        1013 => "try again later",
        1015 => "TLS handshake failed",
        _ => "unknown code",
    };
    let mut text = format!("connection closed: code {code} ({meaning})");
    if !reason.is_empty() {
        text.push_str(": ");
        text.push_str(reason);
    }
    if !was_clean {
        text.push_str(" [not clean]");
    }
    Some(text)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::close_reason;

    #[test]
    fn a_clean_normal_closure_is_not_an_error() {
        assert_eq!(close_reason(1000, "", true), None);
        assert_eq!(close_reason(1000, "bye", true), None);
    }

    #[test]
    fn other_closures_say_why() {
        assert_eq!(
            close_reason(1011, "kafka went away", true).as_deref(),
            Some("connection closed: code 1011 (server error): kafka went away")
        );
        let abnormal = close_reason(1006, "", false).unwrap_or_default();
        assert!(
            abnormal.starts_with("connection closed: code 1006 (abnormal closure"),
            "{abnormal}"
        );
        assert!(abnormal.ends_with("[not clean]"), "{abnormal}");
        assert_eq!(
            close_reason(1000, "", false).as_deref(),
            Some("connection closed: code 1000 (normal closure) [not clean]")
        );
        assert!(close_reason(4321, "", true).is_some_and(|r| r.contains("unknown code")));
    }
}
