//! The `Feed` tests and the `FeedClient` WebSocket tests in a browser:
//! `wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver wasm`.
//!
//! Node 20 has no `WebSocket`, so the client is only tested here. No server is started: the
//! tests cover connecting to a port where nothing listens, and closing from the page.

#![cfg(target_arch = "wasm32")]

mod common;

use common::{errors, string};
use js_sys::{Function, Promise};
use streamglass_wasm::FeedClient;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
}

/// Resolves after `ms` milliseconds, letting the browser deliver socket events meanwhile.
async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    });
    JsFuture::from(promise)
        .await
        .unwrap_or_else(|e| panic!("timer promise rejected: {e:?}"));
}

fn snapshot(client: &FeedClient) -> JsValue {
    client
        .snapshot()
        .unwrap_or_else(|_| panic!("snapshot() failed"))
}

/// Polls until the status leaves `connecting`, for at most `limit_ms`; returns the last snapshot.
async fn settle(client: &FeedClient, limit_ms: i32) -> JsValue {
    let mut waited = 0;
    loop {
        let s = snapshot(client);
        if string(&s, "status") != "connecting" || waited >= limit_ms {
            return s;
        }
        sleep(20).await;
        waited += 20;
    }
}

/// Nothing listens on the discard port, so the connection fails: closed, with a reason.
#[wasm_bindgen_test]
async fn connecting_to_nothing_ends_closed_with_a_reason() {
    let client = FeedClient::connect("ws://127.0.0.1:9/ws")
        .unwrap_or_else(|_| panic!("connect() refused the URL"));
    let s = settle(&client, 5_000).await;
    let status = string(&s, "status");
    assert!(status == "closed" || status == "failed", "status {status}");
    let errs = errors(&s);
    assert!(!errs.is_empty(), "a failed connection must say why");
    assert!(
        errs.iter()
            .any(|e| e.contains("ws://127.0.0.1:9/ws") || e.contains("1006")),
        "{errs:?}"
    );
    assert_eq!(common::number(&s, "totalRecords"), 0.0);
}

/// Closing from the page is not an error, even while still connecting, and no event reaches
/// the (detached) handlers afterwards.
#[wasm_bindgen_test]
async fn closing_from_the_page_is_clean() {
    let client = FeedClient::connect("ws://127.0.0.1:9/ws")
        .unwrap_or_else(|_| panic!("connect() refused the URL"));
    client.close();
    let s = snapshot(&client);
    assert_eq!(string(&s, "status"), "closed");
    assert!(errors(&s).is_empty(), "{:?}", errors(&s));
    sleep(300).await;
    let s = snapshot(&client);
    assert_eq!(string(&s, "status"), "closed");
    assert!(errors(&s).is_empty(), "{:?}", errors(&s));
}

/// Dropping a client while its socket is still connecting unhooks the handlers first, so the
/// socket's later error and close events do not call freed closures.
#[wasm_bindgen_test]
async fn dropping_a_connecting_client_is_safe() {
    let client = FeedClient::connect("ws://127.0.0.1:9/ws")
        .unwrap_or_else(|_| panic!("connect() refused the URL"));
    // Count uncaught errors: a freed closure called by the socket would throw one.
    let count_errors = Function::new_no_args(
        "globalThis.sgUncaught = 0; \
         globalThis.addEventListener('error', () => { globalThis.sgUncaught += 1; });",
    );
    count_errors
        .call0(&JsValue::UNDEFINED)
        .unwrap_or_else(|e| panic!("cannot install the error counter: {e:?}"));
    drop(client);
    sleep(300).await;
    let uncaught = common::number(&js_sys::global(), "sgUncaught");
    assert_eq!(uncaught, 0.0, "the socket called into a dropped client");
}

/// A URL the browser refuses (WebSocket only speaks ws, wss, http and https) is a thrown error
/// that names it. (Relative URLs are not refused: browsers resolve them against the page.)
#[wasm_bindgen_test]
fn an_unsupported_url_is_refused() {
    let Err(error) = FeedClient::connect("ftp://127.0.0.1/ws") else {
        panic!("connect() accepted an ftp:// URL");
    };
    let message = string(&JsValue::from(error), "message");
    assert!(message.contains("ftp://127.0.0.1/ws"), "{message}");
}
