//! The bridge under a crowd, careless tabs and hostile clients: what it holds stays bounded, and
//! nobody starves. Each test reproduces a way the bridge froze, starved or grew before, and checks
//! behaviour (records delivered, connections closed and why), never wall-clock speed.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use replay_bridge::live::LivePoint;
use replay_bridge::record;
use replay_bridge::server::{Limits, ServeOptions, close};
use replay_bridge::source::Source;
use streamglass_core::protocol::ClientMessage;
use streamglass_tests::proc::threads;
use streamglass_tests::ws::{Session, WINDOW};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Each recording subscription used to hold one of tokio's 512 blocking threads while it waited
/// for credit or for the live clock: past 512 of them, the bridge froze for everyone, static
/// files included. Now 1,280 of them (640 that will never get more credit, 640 waiting at the live
/// edge) leave a newcomer streaming 100,000 records and `GET /` answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_subscriptions_hold_no_thread_and_a_newcomer_still_streams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sgrec");
    record::generate_live(&path, 150_000, 3_600, 3, 3).unwrap();
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "<!doctype html><p>page</p>").unwrap();
    let source =
        Source::recording_live(&path, "end-3600s".parse::<LivePoint>().unwrap(), 1.0).unwrap();
    let addr = common::serve(source, Some(www.path().to_owned()), ServeOptions::default()).await;
    let url = format!("ws://{addr}/ws");
    let mut crowd = Vec::new();
    for (seek, credit) in [("-100000", 16 << 10), ("end", WINDOW)] {
        for _ in 0..20 {
            let mut session = Session::connect(&url).await.unwrap();
            session.auto_credit = false;
            for id in 0..32 {
                session.subscribe(id, seek, None, credit).await.unwrap();
            }
            crowd.push(session);
        }
    }
    // Let every subscription start and reach its wait.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = threads();
    let (status, body) =
        tokio::time::timeout(Duration::from_secs(10), common::http_get(&addr, "/", None))
            .await
            .expect("GET / answers while 1,280 subscriptions wait");
    assert_eq!(status, 200, "{body}");
    let drained = streamglass_tests::ws::drain_from(&url, "-100000", Duration::from_secs(90))
        .await
        .expect("a newcomer streams while 1,280 subscriptions wait");
    assert_eq!(drained.records.len(), 100_000);
    assert!(
        held < 200,
        "1,280 waiting subscriptions left the process with {held} threads"
    );
    drop(crowd);
}

/// 40 page-window tabs that stop reading used to take the whole budget, and 5 normal clients got
/// no record in 60 s. Now a connection holds at most its share, so the others stream everything,
/// and a stalled socket is closed after the stall timeout with a reason the client reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_hold_their_share_and_are_closed_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 300_000, 3, 4).unwrap();
    let options = ServeOptions {
        // 20 stalled windows of 8 MiB are 160 MiB: five times this budget.
        budget_bytes: 32 << 20,
        limits: Limits {
            stall_timeout: Duration::from_secs(3),
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let addr = common::serve(Source::recording(&path).unwrap(), None, options).await;
    let url = format!("ws://{addr}/ws");
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut session = Session::connect_small(&url, 4096).await.unwrap();
        session
            .subscribe(0, "beginning", None, WINDOW)
            .await
            .unwrap();
        // It reads nothing until the bridge has given up on it, then reads what is left.
        stalled.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            let _ = session.until(Duration::from_secs(30), |_| false).await;
            session.close
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let normal: Vec<_> = (0..5)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                streamglass_tests::ws::drain(&url, Duration::from_secs(120)).await
            })
        })
        .collect();
    for client in normal {
        let drained = client.await.unwrap().expect("a normal client is served");
        assert_eq!(drained.records.len(), 300_000);
    }
    let mut closed = 0;
    for client in stalled {
        let close = client.await.unwrap();
        if let Some((code, reason)) = close {
            assert_eq!(code, close::STALLED, "{reason}");
            assert!(reason.contains("took no data for 3 s"), "{reason}");
            closed += 1;
        }
    }
    assert!(
        closed >= 15,
        "only {closed} of 20 stalled clients read a close frame with the reason"
    );
}

/// A client message is small: one of 15 MiB is refused before it is read (40 of them took the
/// bridge to 600 MiB), and the connection is closed with 1009.
#[tokio::test]
async fn a_huge_client_message_closes_the_connection_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 100, 1, 1).unwrap();
    let addr = common::serve(
        Source::recording(&path).unwrap(),
        None,
        ServeOptions::default(),
    )
    .await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    // The bridge may close before the whole message is written: that is the point.
    let _ = socket
        .send(Message::Binary(vec![7u8; 15 << 20].into()))
        .await;
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the connection ends");
    // The close frame may be lost when the bridge stops reading mid-message; the connection
    // ends either way.
    if let Some(code) = close {
        assert_eq!(code, close::TOO_BIG);
    }
}

/// Half-sent requests and WebSockets that never subscribe used to be held forever (1,000 of each
/// were all still open after 45 s). Now the headers have a deadline and an idle socket is closed
/// with a reason; an unsubscribe from a subscription that is not open is answered.
#[tokio::test]
async fn half_sent_requests_and_idle_sockets_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 100, 1, 1).unwrap();
    let options = ServeOptions {
        limits: Limits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let addr = common::serve(Source::recording(&path).unwrap(), None, options).await;
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), half.read_to_end(&mut buf)).await;
    assert!(
        ended.is_ok(),
        "a half-sent request is still open after 10 s"
    );

    let mut idle = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    let _ = idle.until(Duration::from_secs(10), |_| false).await;
    let (code, reason) = idle.close.expect("a close frame");
    assert_eq!(code, close::IDLE);
    assert!(reason.contains("no subscription"), "{reason}");

    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    session
        .send(&ClientMessage::Unsubscribe { subscription: 9 })
        .await
        .unwrap();
    session
        .until(Duration::from_secs(5), |s| s.feeds.contains_key(&9))
        .await
        .expect("an answer to an unsubscribe of an unknown id");
    let errors = session.feeds[&9].snapshot().errors;
    assert!(errors.iter().any(|e| e.contains("not open")), "{errors:?}");
}

/// Past the connection limit, a newcomer is refused clearly (a WebSocket closed with 1013 and
/// the reason, plain HTTP 503), and the connections already open go on; a freed place is taken.
#[tokio::test]
async fn past_the_connection_limit_newcomers_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 1_000, 1, 1).unwrap();
    let options = ServeOptions {
        limits: Limits {
            max_connections: 4,
            ..Limits::default()
        },
        ..ServeOptions::default()
    };
    let addr = common::serve(Source::recording(&path).unwrap(), None, options).await;
    let url = format!("ws://{addr}/ws");
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(Session::connect(&url).await.unwrap());
    }
    let mut refused = Session::connect(&url).await.unwrap();
    let _ = refused.until(Duration::from_secs(5), |_| false).await;
    let (code, reason) = refused.close.expect("a close frame");
    assert_eq!(code, close::FULL);
    assert!(reason.contains("limit of 4 connections"), "{reason}");
    let (status, body) = common::http_get(&addr, "/sources", None).await;
    assert_eq!(status, 503, "{body}");
    // The open ones still work.
    let first = &mut open[0];
    first.subscribe(1, "beginning", None, WINDOW).await.unwrap();
    first
        .until(Duration::from_secs(10), |s| s.settled(1))
        .await
        .unwrap();
    assert_eq!(first.records[&1].len(), 1_000);
    // A place freed is a place taken.
    open.pop().unwrap().kill().await;
    let mut again = None;
    for _ in 0..50 {
        let (status, _) = common::http_get(&addr, "/sources", None).await;
        if status == 200 {
            again = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(again, Some(200));
}

/// The page's files: a link out of `--www` is not followed, a name no file can have is not
/// found (it answered 500), and every answer carries nosniff, a Content-Security-Policy,
/// `no-cache` and `Vary: Accept-Encoding`.
#[tokio::test]
async fn static_files_stay_inside_www_and_carry_safe_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 10, 1, 1).unwrap();
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "<!doctype html><p>page</p>").unwrap();
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"console.log(1)").unwrap();
        e.finish().unwrap()
    };
    std::fs::write(www.path().join("app.js"), "console.log(1)").unwrap();
    std::fs::write(www.path().join("app.js.gz"), gz).unwrap();
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("key"), "secret").unwrap();
    std::os::unix::fs::symlink(secret.path(), www.path().join("leak")).unwrap();
    let addr = common::serve(
        Source::recording(&path).unwrap(),
        Some(www.path().to_owned()),
        ServeOptions::default(),
    )
    .await;
    let head = |path: String, extra: &'static str| {
        let addr = addr.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            let text = String::from_utf8_lossy(&response).to_string();
            text.split("\r\n\r\n")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        }
    };
    let page = head("/index.html".into(), "").await;
    assert!(page.starts_with("http/1.1 200"), "{page}");
    for header in [
        "x-content-type-options: nosniff",
        "cache-control: no-cache",
        "content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';",
        "vary: accept-encoding",
    ] {
        assert!(page.contains(header), "{header} missing from\n{page}");
    }
    let packed = head("/app.js".into(), "Accept-Encoding: gzip\r\n").await;
    assert!(packed.contains("content-encoding: gzip"), "{packed}");
    assert!(packed.contains("vary: accept-encoding"), "{packed}");
    assert!(
        head("/leak/key".into(), "")
            .await
            .starts_with("http/1.1 404")
    );
    let long = format!("/{}", "a".repeat(300));
    assert!(head(long, "").await.starts_with("http/1.1 404"));
}
