//! `--allow-origin`: only the listed Origins may open the WebSocket; any other Origin, or none,
//! is refused with 403 before the upgrade. Without the flag, only the page's own origin (the
//! Host it reached, a loopback name while the bridge listens on loopback) or no Origin at all (not
//! a browser page) may; `--allow-origin '*'` lets any page in.

mod common;

use replay_bridge::server::ServeOptions;
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
    let addr = common::serve(Source::recording(&path).unwrap(), None, options).await;
    (format!("ws://{addr}/ws"), dir)
}

/// The HTTP status of an upgrade from `origin` (101 when it is accepted).
async fn upgrade_status(url: &str, origin: Option<&str>) -> u16 {
    upgrade_status_as(url, origin, None).await
}

/// The same, with the `Host` header set to `host` (as a browser sends the name it resolved).
async fn upgrade_status_as(url: &str, origin: Option<&str>, host: Option<&str>) -> u16 {
    let mut request = url.into_client_request().unwrap();
    if let Some(host) = host {
        request
            .headers_mut()
            .insert("host", HeaderValue::from_str(host).unwrap());
    }
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

/// Cross-site WebSocket hijacking of a loopback bridge: any page the user visits could open the
/// socket before. Now only the page's own origin may, and a page that rebinds its own name to
/// 127.0.0.1 (its Origin then names the Host it reached) is refused too.
#[tokio::test]
async fn without_the_flag_only_the_page_s_own_origin_may() {
    let (url, _dir) = bridge(Vec::new()).await;
    let addr = url.trim_start_matches("ws://").trim_end_matches("/ws");
    let port = addr.rsplit(':').next().unwrap();
    let own = format!("http://{addr}");
    let localhost = format!("http://localhost:{port}");
    assert_eq!(upgrade_status(&url, Some(&own)).await, 101);
    assert_eq!(
        upgrade_status(&url, None).await,
        101,
        "no Origin: not a page"
    );
    assert_eq!(
        upgrade_status_as(&url, Some(&localhost), Some(&format!("localhost:{port}"))).await,
        101
    );
    for origin in [
        "https://evil.example",
        "http://evil.example",
        &format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() + 1),
        &localhost,
    ] {
        assert_eq!(upgrade_status(&url, Some(origin)).await, 403, "{origin}");
    }
    let rebound = format!("evil.example:{port}");
    assert_eq!(
        upgrade_status_as(&url, Some(&format!("http://{rebound}")), Some(&rebound)).await,
        403,
        "DNS rebinding"
    );
    let get = |origin| common::http_get(addr, "/sources", origin);
    assert_eq!(get(None).await.0, 200);
    assert_eq!(get(Some(own.as_str())).await.0, 200);
    assert_eq!(get(Some("https://evil.example")).await.0, 403);
}

#[tokio::test]
async fn a_star_lets_any_page_in() {
    let (url, _dir) = bridge(vec!["*".to_owned()]).await;
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
