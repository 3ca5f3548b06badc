//! `--allow-origin`: only the listed Origins may open the WebSocket; any other Origin, or none,
//! is refused with 403 before the upgrade. Without the flag, any Origin may.

mod common;

use std::sync::Arc;

use replay_bridge::server::{self, ServeOptions};
use replay_bridge::{record, source::Source};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn bridge(allow_origins: Vec<String>) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 100, 1, 1).unwrap();
    let options = ServeOptions {
        allow_origins,
        ..ServeOptions::default()
    };
    let app =
        server::router_with(Arc::new(Source::recording(&path).unwrap()), None, options).unwrap();
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = server::local_addr(&listener).unwrap();
    tokio::spawn(server::serve(listener, app));
    (format!("ws://{addr}/ws"), dir)
}

/// The HTTP status of an upgrade from `origin` (101 when it is accepted).
async fn upgrade_status(url: &str, origin: Option<&str>) -> u16 {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{origin:?}: {e}"),
    }
}

#[tokio::test]
async fn only_the_allowed_origins_may_open_the_socket() {
    let allowed = ["https://dash.example.com", "http://127.0.0.1:8080"];
    let (url, _dir) = bridge(allowed.iter().map(|s| (*s).to_owned()).collect()).await;
    for origin in allowed {
        assert_eq!(upgrade_status(&url, Some(origin)).await, 101, "{origin}");
    }
    for origin in [
        Some("https://evil.example.com"),
        Some("https://dash.example.com.evil"),
        None,
    ] {
        assert_eq!(upgrade_status(&url, origin).await, 403, "{origin:?}");
    }
}

#[tokio::test]
async fn without_the_flag_any_origin_may() {
    let (url, _dir) = bridge(Vec::new()).await;
    for origin in [Some("https://anywhere.example.com"), None] {
        assert_eq!(upgrade_status(&url, origin).await, 101, "{origin:?}");
    }
}

/// `GET /sources` follows the same list: an allowed Origin or none (a same-origin `fetch` sends
/// none) may read it, another Origin gets 403; an unknown source is refused for a foreign Origin
/// before it can learn the source names.
#[tokio::test]
async fn the_sources_list_follows_the_allowed_origins() {
    let (url, _dir) = bridge(vec!["https://dash.example.com".to_owned()]).await;
    let addr = url.trim_start_matches("ws://").trim_end_matches("/ws");
    let get = |origin| common::http_get(addr, "/sources", origin);
    assert_eq!(get(None).await.0, 200);
    let (status, body) = get(Some("https://dash.example.com")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"recording\""), "{body}");
    assert_eq!(get(Some("https://evil.example.com")).await.0, 403);
    let unknown = format!("{url}?source=nope");
    assert_eq!(
        upgrade_status(&unknown, Some("https://evil.example.com")).await,
        403
    );
    assert_eq!(
        upgrade_status(&unknown, Some("https://dash.example.com")).await,
        404
    );
}
