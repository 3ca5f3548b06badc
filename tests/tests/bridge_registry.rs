//! The schema registry client against small HTTP servers written here: one that counts what it
//! is asked (serving real Avro schemas), and hostile ones answering far more than a registry
//! ever should.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use replay_bridge::kafka::KafkaConfig;
use replay_bridge::registry::{MAX_RESPONSE_BYTES, SchemaRegistry};
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADE_SCHEMA;
use streamglass_tests::proc::peak_rss;
use streamglass_tests::tansu::broker;
use streamglass_tests::{producers, ws};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What a test server sends for a path: a status and a body, or a body streamed in chunks
/// (`chunks` × `chunk` bytes, without a length), or a length announced and never sent.
#[derive(Clone)]
enum Answer {
    Json(u16, String),
    Stream { chunk: Vec<u8>, chunks: usize },
    Announce(u64),
}

type Requests = Arc<Mutex<BTreeMap<String, usize>>>;

/// Serves HTTP/1.1 on a free port, one request per connection, answering each path with
/// `answer`; returns the base URL and the count of requests per path.
async fn http_server(
    answer: impl Fn(&str) -> Answer + Send + Sync + 'static,
) -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests: Requests = Arc::default();
    let counts = Arc::clone(&requests);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (answer, counts) = (Arc::clone(&answer), Arc::clone(&counts));
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split(' ').nth(1).unwrap_or("").to_owned();
                *counts.lock().unwrap().entry(path.clone()).or_default() += 1;
                // Errors writing are the client hanging up, which the hostile cases expect.
                let _ = match answer(&path) {
                    Answer::Json(status, body) => {
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        socket.write_all((head + &body).as_bytes()).await
                    }
                    Answer::Stream { chunk, chunks } => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
                        let mut sent = socket.write_all(head.as_bytes()).await;
                        for _ in 0..chunks {
                            if sent.is_err() {
                                break;
                            }
                            sent = socket.write_all(&chunk).await;
                        }
                        sent
                    }
                    Answer::Announce(length) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n["
                        );
                        socket.write_all(head.as_bytes()).await
                    }
                };
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_answering_too_much_is_refused_and_memory_stays_bounded() {
    let before = peak_rss();
    // 64 MiB of one JSON string, sent as it is written, with no length announced.
    let mut chunk = vec![b'a'; 1 << 20];
    chunk[0] = b'"';
    let (url, _) = http_server(move |_| Answer::Stream {
        chunk: chunk.clone(),
        chunks: 64,
    })
    .await;
    let registry = SchemaRegistry::new(&url, None, Duration::from_secs(60)).expect("registry");
    let e = registry.schemas_for("t").await.unwrap_err().to_string();
    assert!(
        e.contains(&format!("{url}/subjects")) && e.contains("larger than 16 MiB"),
        "{e}"
    );
    let grown = peak_rss().saturating_sub(before);
    eprintln!("peak memory grew by {} MiB: {e}", grown >> 20);
    assert!(
        grown < 2 * MAX_RESPONSE_BYTES as u64 + (8 << 20),
        "peak memory grew by {} MiB reading a 64 MiB answer",
        grown >> 20
    );

    // 1 GiB announced: refused before reading any of it.
    let (url, _) = http_server(|_| Answer::Announce(1 << 30)).await;
    let registry = SchemaRegistry::new(&url, None, Duration::from_secs(60)).expect("registry");
    let e = registry.by_id(1).await.unwrap_err().to_string();
    assert!(
        e.contains("/schemas/ids/1") && e.contains("larger than 16 MiB"),
        "{e}"
    );
}

/// The Trade schema with one more field (with a default): a second version of the subject.
fn evolved_schema() -> String {
    let mut schema: serde_json::Value = serde_json::from_str(TRADE_SCHEMA).expect("schema");
    schema["fields"]
        .as_array_mut()
        .expect("fields")
        .push(serde_json::json!({"name": "Venue", "type": "string", "default": ""}));
    schema.to_string()
}

/// A registry holding `<topic>-value` versions 1 and 2 (ids 1 and 2) and an unrelated subject.
fn stub_registry(topic: &str) -> impl Fn(&str) -> Answer + Send + Sync + 'static {
    let subject = format!("{topic}-value");
    move |path: &str| {
        let version = |v: u32, schema: String| {
            let body =
                serde_json::json!({"subject": subject, "version": v, "id": v, "schema": schema});
            Answer::Json(200, body.to_string())
        };
        if path == "/subjects" {
            Answer::Json(200, format!(r#"["{subject}","other-value"]"#))
        } else if path == format!("/subjects/{subject}/versions") {
            Answer::Json(200, "[1,2]".into())
        } else if path == format!("/subjects/{subject}/versions/1") {
            version(1, TRADE_SCHEMA.to_owned())
        } else if path == format!("/subjects/{subject}/versions/2") {
            version(2, evolved_schema())
        } else {
            Answer::Json(404, r#"{"error_code":40401,"message":"not found"}"#.into())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_is_asked_once_per_schema_across_subscriptions() {
    let Some((_env, tansu)) = broker("the_registry_is_asked_once_per_schema") else {
        return;
    };
    let topic = "registered";
    tansu.create_topic(topic, 2).expect("topic");
    producers::produce_with_rskafka(&tansu.addr, topic, 2, common::trade_values(200, 5), 50)
        .await
        .expect("produce");
    let (url, requests) = http_server(stub_registry(topic)).await;
    let registry = SchemaRegistry::new(&url, None, Duration::from_secs(5)).expect("registry");
    let config = KafkaConfig::new(&tansu.addr, Duration::from_secs(10));
    let source = Source::kafka(
        &config,
        &[topic.to_owned()],
        SchemaSource::Registry(registry),
    )
    .await
    .expect("source");
    let addr = common::start_bridge(source, None).await;
    for _ in 0..4 {
        let drained = ws::drain(&format!("ws://{addr}/ws"), Duration::from_secs(60))
            .await
            .expect("drain");
        assert_eq!(drained.records.len(), 200);
        let hello = drained.feed.hello().expect("hello");
        let ids: Vec<u32> = hello.schemas.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(hello.schemas[1].schema.contains("Venue"));
    }
    let asked = requests.lock().unwrap().clone();
    let subject = format!("/subjects/{topic}-value/versions");
    let expected: BTreeMap<String, usize> = [
        ("/subjects".to_owned(), 1),
        (subject.clone(), 1),
        (format!("{subject}/1"), 1),
        (format!("{subject}/2"), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        asked, expected,
        "the start and four subscriptions ask each schema once"
    );
}
