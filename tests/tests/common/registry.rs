//! A Confluent-compatible schema registry, reduced to what the bridge and the page ask of one:
//! `GET /subjects`, `/subjects/{subject}/versions`, `/subjects/{subject}/versions/{version|latest}`
//! and `/schemas/ids/{id}`, answered from a list of (subject, id, schema type, schema) on a free
//! port: a subject's versions are its entries in order (1, 2, …). A producer's serializer may add
//! to it: `POST /subjects/{subject}/versions` registers a schema (the same text under the same
//! subject keeps its id) and `POST /subjects/{subject}` looks one up, as Confluent's registry
//! answers them (references are kept as given). The JSON is written with serde_json.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
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

/// The registry's schemas, shared by its connections, with each one's references.
type Shared = Arc<Mutex<Vec<(Registered, Value)>>>;

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
    let shared: Shared = Arc::new(Mutex::new(
        registered.into_iter().map(|r| (r, json!([]))).collect(),
    ));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                let text = String::from_utf8_lossy(&head[..end]).into_owned();
                let length = text
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                let mut body = head[end..].to_vec();
                while body.len() < length {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => body.extend_from_slice(&buf[..n]),
                    }
                }
                let method = text.split(' ').next().unwrap_or("").to_owned();
                let target = text.split(' ').nth(1).unwrap_or("");
                let path = target.split('?').next().unwrap_or("").to_owned();
                if silent_on_ids && path.starts_with("/schemas/ids/") {
                    // Held until the client gives up.
                    let _ = socket.read(&mut buf).await;
                    return;
                }
                let (status, body) = if method == "POST" {
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    post(&shared, &path, &body)
                } else {
                    let all = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    answer(&all, &path)
                };
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

/// A version's answer.
fn version_json(r: &Registered, version: usize, references: &Value) -> Value {
    let mut v = json!({"subject": r.subject, "version": version, "id": r.id, "schema": r.schema});
    // Confluent's registry leaves the type out for Avro, and references when there are none.
    if r.schema_type != "AVRO" {
        v["schemaType"] = json!(r.schema_type);
    }
    if references.as_array().is_some_and(|a| !a.is_empty()) {
        v["references"] = references.clone();
    }
    v
}

/// `POST /subjects/{subject}/versions` (register) and `POST /subjects/{subject}` (look up).
fn post(shared: &Shared, path: &str, body: &Value) -> (u16, String) {
    let decoded = path.replace("%2F", "/");
    let parts: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let schema = body["schema"].as_str().unwrap_or("").to_owned();
    let schema_type = body["schemaType"].as_str().unwrap_or("AVRO").to_owned();
    let references = body.get("references").cloned().unwrap_or(json!([]));
    let mut all = shared.lock().unwrap_or_else(|e| e.into_inner());
    let (subject, register) = match parts.as_slice() {
        ["subjects", subject, "versions"] => (subject.to_string(), true),
        ["subjects", subject] => (subject.to_string(), false),
        _ => {
            return (
                404,
                json!({"error_code": 404, "message": "not found"}).to_string(),
            );
        }
    };
    let versions: Vec<usize> = (0..all.len())
        .filter(|i| all[*i].0.subject == subject)
        .collect();
    if let Some((n, i)) = versions
        .iter()
        .enumerate()
        .find(|(_, i)| all[**i].0.schema == schema)
    {
        return (200, version_json(&all[*i].0, n + 1, &all[*i].1).to_string());
    }
    if !register {
        return (
            404,
            json!({"error_code": 40403, "message": "schema not found"}).to_string(),
        );
    }
    let id = all.iter().map(|(r, _)| r.id).max().unwrap_or(0) + 1;
    let r = Registered {
        subject,
        id,
        schema_type,
        schema,
    };
    let answer = version_json(&r, versions.len() + 1, &references);
    all.push((r, references));
    (200, answer.to_string())
}

fn answer(registered: &[(Registered, Value)], path: &str) -> (u16, String) {
    let decoded = path.replace("%2F", "/");
    let parts: Vec<&str> = decoded.trim_start_matches('/').split('/').collect();
    let not_found = (
        404,
        json!({"error_code": 40401, "message": "not found"}).to_string(),
    );
    match parts.as_slice() {
        ["subjects"] => {
            let mut subjects: Vec<&String> = registered.iter().map(|(r, _)| &r.subject).collect();
            subjects.dedup();
            (200, json!(subjects).to_string())
        }
        ["subjects", subject, "versions", rest @ ..] => {
            let versions: Vec<&(Registered, Value)> = registered
                .iter()
                .filter(|(r, _)| r.subject == *subject)
                .collect();
            if versions.is_empty() {
                return not_found;
            }
            let at = match rest {
                [] => {
                    return (
                        200,
                        json!((1..=versions.len()).collect::<Vec<_>>()).to_string(),
                    );
                }
                ["latest"] => versions.len(),
                [n] => match n.parse::<usize>() {
                    Ok(n) if (1..=versions.len()).contains(&n) => n,
                    _ => return not_found,
                },
                _ => return not_found,
            };
            let (r, references) = versions[at - 1];
            (200, version_json(r, at, references).to_string())
        }
        ["schemas", "ids", id] => match registered.iter().find(|(r, _)| r.id.to_string() == *id) {
            Some((r, references)) => {
                let mut v = json!({"schema": r.schema});
                if r.schema_type != "AVRO" {
                    v["schemaType"] = json!(r.schema_type);
                }
                if references.as_array().is_some_and(|a| !a.is_empty()) {
                    v["references"] = references.clone();
                }
                (200, v.to_string())
            }
            None => not_found,
        },
        _ => not_found,
    }
}
