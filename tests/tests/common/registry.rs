//! A Confluent-compatible schema registry, reduced to what the bridge and the page ask of one:
//! `GET /subjects`, `/subjects/{subject}/versions`, `/subjects/{subject}/versions/{version|latest}`
//! and `/schemas/ids/{id}`, answered from a fixed list of (subject, id, schema type, schema), one
//! version each, on a free port. The JSON is written with serde_json, as a registry answers.

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A subject's one version: its name, global id, type (`AVRO`, `JSON`, `PROTOBUF`) and text.
#[derive(Clone)]
pub struct Registered {
    pub subject: String,
    pub id: u32,
    pub schema_type: String,
    pub schema: String,
}

/// Serves `registered` in this runtime; returns the registry's URL, `http://127.0.0.1:PORT`.
pub async fn start(registered: Vec<Registered>) -> String {
    start_with(registered, false).await
}

/// [`start`], except that `GET /schemas/ids/{id}` is never answered (the connection is held
/// open): a registry too slow for any deadline.
pub async fn start_silent_on_ids(registered: Vec<Registered>) -> String {
    start_with(registered, true).await
}

async fn start_with(registered: Vec<Registered>, silent_on_ids: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let registered = registered.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split(' ').nth(1).unwrap_or("").to_owned();
                if silent_on_ids && path.starts_with("/schemas/ids/") {
                    // Held until the client gives up.
                    let _ = socket.read(&mut buf).await;
                    return;
                }
                let (status, body) = answer(&registered, &path);
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

fn answer(registered: &[Registered], path: &str) -> (u16, String) {
    // confluent-kafka's client may add a query (`?deleted=false`): the path alone is matched.
    let path = path.split('?').next().unwrap_or(path);
    let decoded = path.replace("%2F", "/");
    let parts: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let version = |r: &Registered| {
        let mut v = json!({"subject": r.subject, "version": 1, "id": r.id, "schema": r.schema});
        // Confluent's registry leaves the type out for Avro.
        if r.schema_type != "AVRO" {
            v["schemaType"] = json!(r.schema_type);
        }
        v.to_string()
    };
    let not_found = (
        404,
        json!({"error_code": 40401, "message": "not found"}).to_string(),
    );
    match parts.as_slice() {
        ["subjects"] => (
            200,
            json!(registered.iter().map(|r| &r.subject).collect::<Vec<_>>()).to_string(),
        ),
        ["subjects", subject, "versions", rest @ ..] => {
            let Some(r) = registered.iter().find(|r| r.subject == *subject) else {
                return not_found;
            };
            match rest {
                [] => (200, "[1]".into()),
                ["1" | "latest"] => (200, version(r)),
                _ => not_found,
            }
        }
        ["schemas", "ids", id] => match registered.iter().find(|r| r.id.to_string() == *id) {
            Some(r) => {
                let mut v = json!({"schema": r.schema});
                if r.schema_type != "AVRO" {
                    v["schemaType"] = json!(r.schema_type);
                }
                (200, v.to_string())
            }
            None => not_found,
        },
        _ => not_found,
    }
}
