//! Value schemas from a Confluent-compatible schema registry (`--schema-registry URL`).
//!
//! For a topic, the subjects that belong to it (`<topic>-value`, `<topic>-key`, and
//! TopicRecordNameStrategy's `<topic>-<record name>`) are listed, and every version of each is
//! fetched with its global id: the id framed values carry. The client is hyper's HTTP/1 over a
//! plain or rustls connection, one request per connection, each bounded by the timeout.
//! `user:password@` in the URL is sent as HTTP basic authentication.
//!
//! What a registry says is cached for the life of the process, shared by every clone of a
//! [`SchemaRegistry`]: a subject's version and a schema id never change meaning once registered,
//! so each is asked for once; the listings (the subjects, a subject's versions) do change when a
//! schema is registered, so they are kept for [`LISTING_TTL`] and then asked again. A
//! subscription therefore costs no request while the listings are fresh, and only the listings
//! (never a schema already seen) after that. When asking again fails, the last listing is used and
//! a warning logged, so a registry restarting does not fail every subscription meanwhile.
//!
//! An answer is read incrementally and refused once it passes [`MAX_RESPONSE_BYTES`] (16 MiB: a
//! registry's largest answer, the listing of a big one, is a few hundred KiB), so a broken or
//! hostile registry cannot make the bridge hold more than that.
//!
//! Invariant: the schemas returned are sorted by id, each id once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use streamglass_core::protocol::{SchemaInfo, SchemaType};
use tokio::net::TcpStream;

use crate::{Error, Result};

/// The most bytes of one registry answer the bridge reads (see the module docs).
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// How long a listing (the subjects, a subject's versions) is used before it is asked again.
pub const LISTING_TTL: Duration = Duration::from_secs(30);

/// A registry's address and how to reach it, with what it has said so far.
#[derive(Clone)]
pub struct SchemaRegistry {
    url: String,
    host: String,
    port: u16,
    base_path: String,
    basic_auth: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    cache: Arc<Mutex<Answers>>,
}

/// What the registry has answered: immutable facts for good, listings with the time they came.
#[derive(Default)]
struct Answers {
    /// `/subjects/{subject}/versions/{version}`.
    versions: HashMap<(String, i32), SchemaInfo>,
    /// `/schemas/ids/{id}`.
    ids: HashMap<u32, SchemaInfo>,
    /// Listings by path (`/subjects`, `/subjects/{subject}/versions`).
    listings: HashMap<String, (Instant, serde_json::Value)>,
    /// Each schema id's type (`AVRO`, `JSON`, `PROTOBUF`), from either answer above.
    types: HashMap<u32, String>,
    /// Protobuf schemas compiled (or not), by id.
    descriptors: HashMap<u32, Option<Vec<u8>>>,
    /// Ids whose type could not be had (a 404 for an id framed records carry), with when and
    /// why: not asked again for [`LISTING_TTL`]; at most [`FAILED_IDS_KEPT`].
    failed_types: HashMap<u32, (Instant, String)>,
}

/// Failed id lookups remembered, at most (the oldest forgotten first).
pub const FAILED_IDS_KEPT: usize = 256;

#[derive(Deserialize)]
struct Version {
    subject: String,
    version: i32,
    id: u32,
    schema: String,
    /// Absent for Avro, as Confluent's registry answers.
    #[serde(rename = "schemaType", default = "avro")]
    schema_type: String,
    /// Other subjects' versions the schema imports (Protobuf's `import "name"`).
    #[serde(default)]
    references: Vec<Reference>,
}

/// A schema reference: the import name, and the subject and version that hold its text.
#[derive(Debug, Clone, Deserialize)]
struct Reference {
    name: String,
    subject: String,
    version: i32,
}

/// The most references (direct and indirect) one Protobuf schema may pull in.
const MAX_REFERENCES: usize = 256;

fn avro() -> String {
    "AVRO".into()
}

/// A subject registered for a topic, with its latest version's id and schema type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSubject {
    pub subject: String,
    pub id: u32,
    /// `AVRO`, `JSON` or `PROTOBUF`.
    pub schema_type: String,
}

impl SchemaRegistry {
    /// Parses `url` (`http://host:port/path` or `https://…`, optionally with `user:pass@`).
    pub fn new(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        timeout: Duration,
    ) -> Result<Self> {
        let bad = |reason: &str| Error::Registry {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("the URL must start with http:// or https://"));
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("the port is not a number"))?),
            None => (hostport, if https { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let tls = if https {
            Some(match tls {
                Some(tls) => tls,
                None => crate::tls::client_config(None)?,
            })
        } else {
            None
        };
        let shown = match userinfo {
            Some(_) => url.replacen(&format!("{}@", userinfo.unwrap_or_default()), "***@", 1),
            None => url.to_owned(),
        };
        Ok(Self {
            url: shown,
            host: host.to_owned(),
            port,
            base_path: format!("/{}", path.trim_end_matches('/')),
            basic_auth: userinfo.map(|u| format!("Basic {}", base64(u.as_bytes()))),
            tls,
            timeout,
            cache: Arc::default(),
        })
    }

    /// The URL, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every schema version registered under the topic's subjects ([`is_topic_subject`]),
    /// sorted by id.
    pub async fn schemas_for(&self, topic: &str) -> Result<Vec<SchemaInfo>> {
        let subjects: Vec<String> = self.listing("/subjects").await?;
        let mut schemas: Vec<SchemaInfo> = Vec::new();
        for subject in subjects.iter().filter(|s| is_topic_subject(topic, s)) {
            let versions: Vec<i32> = self
                .listing(&format!("/subjects/{}/versions", encode_path(subject)))
                .await?;
            for v in versions {
                let found = self.version(subject, v).await?;
                if !schemas.iter().any(|s| s.id == found.id) {
                    schemas.push(found);
                }
            }
        }
        schemas.sort_by_key(|s| s.id);
        Ok(schemas)
    }

    /// One version of a subject, asked for once.
    async fn version(&self, subject: &str, version: i32) -> Result<SchemaInfo> {
        let key = (subject.to_owned(), version);
        if let Some(found) = self.answers().versions.get(&key) {
            return Ok(found.clone());
        }
        let found: Version = self
            .get(&format!(
                "/subjects/{}/versions/{version}",
                encode_path(subject)
            ))
            .await?;
        let schema_type = SchemaType::from_registry(&found.schema_type).unwrap_or_default();
        let (descriptors, lasting) = self
            .descriptors(found.id, schema_type, &found.schema, &found.references)
            .await;
        let info = SchemaInfo {
            id: found.id,
            subject: Some(found.subject),
            version: Some(found.version),
            schema: found.schema,
            schema_type,
            descriptors,
        };
        let mut answers = self.answers();
        answers.types.insert(found.id, found.schema_type);
        if lasting {
            answers.versions.insert(key, info.clone());
        }
        Ok(info)
    }

    /// The subjects of `topic` ([`is_topic_subject`]), sorted, each with its latest version's id
    /// and schema type. Listings are cached as [`LISTING_TTL`] says, versions for good.
    pub async fn topic_subjects(&self, topic: &str) -> Result<Vec<TopicSubject>> {
        self.topic_subjects_among(topic, &self.subjects().await?)
            .await
    }

    /// Every subject (`GET /subjects`, cached as [`LISTING_TTL`] says).
    pub async fn subjects(&self) -> Result<Vec<String>> {
        self.listing("/subjects").await
    }

    /// [`SchemaRegistry::topic_subjects`] with the subjects already listed: the registry is asked
    /// only about `topic`'s own.
    pub async fn topic_subjects_among(
        &self,
        topic: &str,
        subjects: &[String],
    ) -> Result<Vec<TopicSubject>> {
        let mut found = Vec::new();
        for subject in subjects.iter().filter(|s| is_topic_subject(topic, s)) {
            let versions: Vec<i32> = self
                .listing(&format!("/subjects/{}/versions", encode_path(subject)))
                .await?;
            let Some(&latest) = versions.iter().max() else {
                continue;
            };
            let info = self.version(subject, latest).await?;
            found.push(TopicSubject {
                subject: subject.clone(),
                id: info.id,
                schema_type: self.schema_type(info.id).await?,
            });
        }
        found.sort_by(|a, b| a.subject.cmp(&b.subject));
        Ok(found)
    }

    /// A schema id's type, `AVRO`, `JSON` or `PROTOBUF` (`GET /schemas/ids/{id}` unless a version
    /// answer said it already), asked for once.
    pub async fn schema_type(&self, id: u32) -> Result<String> {
        #[derive(Deserialize)]
        struct ById {
            #[serde(rename = "schemaType", default = "avro")]
            schema_type: String,
        }
        let path = format!("/schemas/ids/{id}");
        {
            let answers = self.answers();
            if let Some(found) = answers.types.get(&id) {
                return Ok(found.clone());
            }
            if let Some((at, reason)) = answers.failed_types.get(&id)
                && at.elapsed() < LISTING_TTL
            {
                return Err(Error::Registry {
                    url: format!("{}{path}", self.url.trim_end_matches('/')),
                    reason: format!("{reason} (asked {} s ago)", at.elapsed().as_secs()),
                });
            }
        }
        match self.get::<ById>(&path).await {
            Ok(found) => {
                let mut answers = self.answers();
                answers.failed_types.remove(&id);
                answers.types.insert(id, found.schema_type.clone());
                Ok(found.schema_type)
            }
            Err(e) => {
                // Only the registry's "no such id" is remembered: a timeout or a 5xx is asked
                // again at the next refresh.
                let reason = match &e {
                    Error::Registry { reason, .. } if is_not_found(&e) => reason.clone(),
                    _ => return Err(e),
                };
                let mut answers = self.answers();
                if answers.failed_types.len() >= FAILED_IDS_KEPT
                    && let Some(oldest) = answers
                        .failed_types
                        .iter()
                        .min_by_key(|(_, (at, _))| *at)
                        .map(|(id, _)| *id)
                {
                    answers.failed_types.remove(&oldest);
                }
                answers.failed_types.insert(id, (Instant::now(), reason));
                Err(e)
            }
        }
    }

    /// A listing, asked again once older than [`LISTING_TTL`]; the last one when asking fails.
    async fn listing<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let cached = self.answers().listings.get(path).cloned();
        let value = match cached {
            Some((at, value)) if at.elapsed() < LISTING_TTL => value,
            cached => match self.get::<serde_json::Value>(path).await {
                Ok(value) => {
                    self.answers()
                        .listings
                        .insert(path.to_owned(), (Instant::now(), value.clone()));
                    value
                }
                Err(e) => match cached {
                    Some((_, value)) => {
                        tracing::warn!(error = %e, "the schema registry did not answer: using its last listing");
                        value
                    }
                    None => return Err(e),
                },
            },
        };
        serde_json::from_value(value).map_err(|e| Error::Registry {
            url: format!("{}{path}", self.url.trim_end_matches('/')),
            reason: format!("unexpected answer: {e}"),
        })
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        // A panic while holding the lock cannot leave the maps half-updated (each change is one
        // insert), so a poisoned lock is still good.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A subject's latest version (`GET /subjects/{subject}/versions/latest`; not cached, since
    /// "latest" moves).
    pub async fn latest(&self, subject: &str) -> Result<SchemaInfo> {
        let found: Version = self
            .get(&format!(
                "/subjects/{}/versions/latest",
                encode_path(subject)
            ))
            .await?;
        let schema_type = SchemaType::from_registry(&found.schema_type).unwrap_or_default();
        let (descriptors, _) = self
            .descriptors(found.id, schema_type, &found.schema, &found.references)
            .await;
        Ok(SchemaInfo {
            id: found.id,
            subject: Some(found.subject),
            version: Some(found.version),
            schema: found.schema,
            schema_type,
            descriptors,
        })
    }

    /// A schema by its global id (`GET /schemas/ids/{id}`), asked for once.
    pub async fn by_id(&self, id: u32) -> Result<SchemaInfo> {
        #[derive(Deserialize)]
        struct ById {
            schema: String,
            #[serde(rename = "schemaType", default = "avro")]
            schema_type: String,
            #[serde(default)]
            references: Vec<Reference>,
        }
        if let Some(found) = self.answers().ids.get(&id) {
            return Ok(found.clone());
        }
        let found: ById = self.get(&format!("/schemas/ids/{id}")).await?;
        let schema_type = SchemaType::from_registry(&found.schema_type).unwrap_or_default();
        let (descriptors, lasting) = self
            .descriptors(id, schema_type, &found.schema, &found.references)
            .await;
        let info = SchemaInfo {
            id,
            subject: None,
            version: None,
            schema: found.schema,
            schema_type,
            descriptors,
        };
        if lasting {
            self.answers().ids.insert(id, info.clone());
        }
        Ok(info)
    }

    /// A Protobuf schema compiled with its references ([`crate::protobuf::compile`]), once per
    /// schema id; `None` for other kinds, or (logged) when it cannot be compiled: its records then
    /// fail in the page with that said. The flag says whether the answer is for good: a schema
    /// that does not compile (or a reference the registry says it lacks, a 404) is, and is
    /// remembered; a reference that could not be fetched (a timeout, a 5xx) is not, and is asked
    /// again at the next ask, as [`Self::schema_type`] treats ids.
    async fn descriptors(
        &self,
        id: u32,
        kind: SchemaType,
        text: &str,
        references: &[Reference],
    ) -> (Option<Vec<u8>>, bool) {
        if kind != SchemaType::Protobuf {
            return (None, true);
        }
        if let Some(set) = self.answers().descriptors.get(&id) {
            return (set.clone(), true);
        }
        let compiled = match self.reference_texts(references).await {
            Ok(texts) => crate::protobuf::compile(text, &texts),
            Err(e) if !is_not_found(&e) => {
                tracing::warn!(
                    schema_id = id,
                    "Protobuf schema {id}: its references could not be fetched (asked again next time): {e}"
                );
                return (None, false);
            }
            Err(e) => Err(format!("its references could not be fetched: {e}")),
        };
        let set = match compiled {
            Ok(set) => Some(set),
            Err(e) => {
                tracing::warn!(schema_id = id, "Protobuf schema {id}: {e}");
                None
            }
        };
        self.answers().descriptors.insert(id, set.clone());
        (set, true)
    }

    /// The texts of a schema's references, and of theirs, by import name.
    async fn reference_texts(&self, references: &[Reference]) -> Result<Vec<(String, String)>> {
        let mut queue: Vec<Reference> = references.to_vec();
        let mut texts: Vec<(String, String)> = Vec::new();
        while let Some(r) = queue.pop() {
            if texts.iter().any(|(name, _)| *name == r.name) {
                continue;
            }
            if texts.len() >= MAX_REFERENCES {
                return Err(Error::Registry {
                    url: self.url.clone(),
                    reason: format!("more than {MAX_REFERENCES} schema references"),
                });
            }
            let found: Version = self
                .get(&format!(
                    "/subjects/{}/versions/{}",
                    encode_path(&r.subject),
                    r.version
                ))
                .await?;
            queue.extend(found.references);
            texts.push((r.name, found.schema));
        }
        Ok(texts)
    }

    /// The text of schema `id` if it is a JSON Schema (`"schemaType": "JSON"` in
    /// `GET /schemas/ids/{id}`; a schema without a type is Avro), else `None`.
    pub async fn json_schema_by_id(&self, id: u32) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct ById {
            schema: String,
            #[serde(rename = "schemaType")]
            schema_type: Option<String>,
        }
        let found: ById = self.get(&format!("/schemas/ids/{id}")).await?;
        Ok((found.schema_type.as_deref() == Some("JSON")).then_some(found.schema))
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let full = format!("{}{path}", self.base_path.trim_end_matches('/'));
        let err = |reason: String| Error::Registry {
            url: format!("{}{path}", self.url.trim_end_matches('/')),
            reason,
        };
        let body = tokio::time::timeout(self.timeout, self.request(&full))
            .await
            .map_err(|_| {
                err(format!(
                    "no answer within {} s",
                    self.timeout.as_secs().max(1)
                ))
            })?
            .map_err(err)?;
        serde_json::from_slice(&body).map_err(|e| err(format!("unexpected answer: {e}")))
    }

    async fn request(&self, path: &str) -> Result<Bytes, String> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        match &self.tls {
            None => self.exchange(TokioIo::new(stream), path).await,
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| e.to_string())?;
                let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS: {e}"))?;
                self.exchange(TokioIo::new(stream), path).await
            }
        }
    }

    async fn exchange<S>(&self, io: TokioIo<S>, path: &str) -> Result<Bytes, String>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut request = hyper::Request::get(path)
            .header(hyper::header::HOST, &self.host)
            .header(
                hyper::header::ACCEPT,
                "application/vnd.schemaregistry.v1+json, application/json",
            );
        if let Some(auth) = &self.basic_auth {
            request = request.header(hyper::header::AUTHORIZATION, auth);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let too_large = || {
            format!(
                "the answer is larger than {} MiB, the most the bridge reads from a registry",
                MAX_RESPONSE_BYTES >> 20
            )
        };
        let announced = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        // Read as it comes, and stop at the limit: memory never holds more than that.
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    e.to_string()
                }
            })?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        Ok(body)
    }
}

/// Whether the registry said it has no such thing (an HTTP 404), a lasting answer, unlike a
/// timeout or a 5xx.
fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::Registry { reason, .. } if reason.starts_with("HTTP 404"))
}

/// Percent-encodes a subject for a URL path.
fn encode_path(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether `subject` is one of `topic`'s: `<topic>-value`, `<topic>-key`, or
/// TopicRecordNameStrategy's `<topic>-<record name>`. A record name has no `-` (Avro, Protobuf
/// and JSON Schema names have none), so another topic's subjects (`t-orders-value` of topic
/// `t-orders`) are not topic `t`'s.
pub fn is_topic_subject(topic: &str, subject: &str) -> bool {
    subject
        .strip_prefix(topic)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_hides_credentials() {
        let r =
            SchemaRegistry::new("http://u:p@reg:8081/api/", None, Duration::from_secs(1)).unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.base_path.as_str()),
            ("reg", 8081, "/api")
        );
        assert_eq!(r.url(), "http://***@reg:8081/api/");
        assert_eq!(r.basic_auth.as_deref(), Some("Basic dTpw"));
        assert!(SchemaRegistry::new("ftp://x", None, Duration::from_secs(1)).is_err());
        assert!(SchemaRegistry::new("http://x:y", None, Duration::from_secs(1)).is_err());
    }

    #[test]
    fn base64_and_path_encoding() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(encode_path("t-io.x/Trade"), "t-io.x%2FTrade");
    }

    #[test]
    fn a_topics_subjects_are_its_own_not_a_longer_topics() {
        for ours in ["t-value", "t-key", "t-io.x.Trade"] {
            assert!(is_topic_subject("t", ours), "{ours}");
        }
        for theirs in [
            "t-orders-value",
            "t-orders-key",
            "t-",
            "tvalue",
            "u-value",
            "t",
        ] {
            assert!(!is_topic_subject("t", theirs), "{theirs}");
        }
        assert!(is_topic_subject("t-orders", "t-orders-value"));
    }

    #[tokio::test]
    async fn a_missing_schema_id_is_not_asked_again_at_every_refresh() {
        use axum::routing::get;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&asked);
        let app = axum::Router::new().route(
            "/schemas/ids/{id}",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { (axum::http::StatusCode::NOT_FOUND, "{\"error_code\":40403}") }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let registry =
            SchemaRegistry::new(&format!("http://{addr}"), None, Duration::from_secs(5)).unwrap();
        let first = registry.schema_type(404).await.unwrap_err().to_string();
        let again = registry.schema_type(404).await.unwrap_err().to_string();
        assert_eq!(asked.load(Ordering::SeqCst), 1, "{first} / {again}");
        assert!(again.contains("/schemas/ids/404"), "{again}");
        registry.schema_type(405).await.unwrap_err();
        assert_eq!(asked.load(Ordering::SeqCst), 2, "another id is asked");
    }

    /// A registry answering like Confluent's, served by axum on a free port.
    #[tokio::test]
    async fn reads_every_version_of_the_topics_subjects() {
        use axum::routing::get;
        let app = axum::Router::new()
            .route(
                "/subjects",
                get(|| async { r#"["t-value","t-io.x.Trade","other-value","t-x-value"]"# }),
            )
            .route(
                "/subjects/{s}/versions",
                get(
                    |axum::extract::Path(s): axum::extract::Path<String>| async move {
                        if s == "t-value" { "[1,2]" } else { "[1]" }
                    },
                ),
            )
            .route(
                "/subjects/{s}/versions/{v}",
                get(
                    |axum::extract::Path((s, v)): axum::extract::Path<(String, i32)>| async move {
                        let id = if s == "t-value" { 10 + v } else { 5 };
                        let kind = if s == "t-value" {
                            ""
                        } else {
                            r#","schemaType":"PROTOBUF""#
                        };
                        format!(
                            r#"{{"subject":"{s}","version":{v},"id":{id},"schema":"\"string\""{kind}}}"#
                        )
                    },
                ),
            )
            .route(
                "/schemas/ids/{id}",
                get(|| async { r#"{"schema":"{}","schemaType":"JSON"}"# }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let registry =
            SchemaRegistry::new(&format!("http://{addr}"), None, Duration::from_secs(5)).unwrap();
        let schemas = registry.schemas_for("t").await.unwrap();
        let ids: Vec<u32> = schemas.iter().map(|s| s.id).collect();
        assert_eq!(ids, [5, 11, 12]);
        assert_eq!(schemas[0].subject.as_deref(), Some("t-io.x.Trade"));
        // Each subject's latest version, with its type (absent: Avro).
        let subject = |subject: &str, id, kind: &str| TopicSubject {
            subject: subject.into(),
            id,
            schema_type: kind.into(),
        };
        assert_eq!(
            registry.topic_subjects("t").await.unwrap(),
            [
                subject("t-io.x.Trade", 5, "PROTOBUF"),
                subject("t-value", 12, "AVRO")
            ]
        );
        assert_eq!(registry.schema_type(99).await.unwrap(), "JSON");
        let missing = SchemaRegistry::new("http://127.0.0.1:9", None, Duration::from_secs(2))
            .unwrap()
            .schemas_for("t")
            .await
            .unwrap_err()
            .to_string();
        assert!(missing.contains("http://127.0.0.1:9/subjects"), "{missing}");
    }

    /// A Protobuf schema whose reference could not be fetched (a 503) is not remembered as "does
    /// not compile": the next ask fetches it again and compiles it; a reference the registry
    /// lacks (a 404) is remembered.
    #[tokio::test]
    async fn a_failed_reference_fetch_is_asked_again_not_cached_as_a_compile_error() {
        use axum::http::StatusCode;
        use axum::routing::get;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&asked);
        let schema = |id: u32, dep: &str| {
            serde_json::json!({
                "schema": "syntax = \"proto3\"; import \"dep.proto\"; message M { D d = 1; }",
                "schemaType": "PROTOBUF",
                "references": [{"name": "dep.proto", "subject": dep, "version": 1}],
                "id": id,
            })
            .to_string()
        };
        let app = axum::Router::new()
            .route(
                "/schemas/ids/{id}",
                get(
                    move |axum::extract::Path(id): axum::extract::Path<u32>| async move {
                        schema(id, if id == 1 { "dep" } else { "gone" })
                    },
                ),
            )
            .route(
                "/subjects/{s}/versions/{v}",
                get(
                    move |axum::extract::Path((s, _)): axum::extract::Path<(String, i32)>| {
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        async move {
                            let dep = serde_json::json!({
                                "subject": s, "version": 1, "id": 9,
                                "schema": "syntax = \"proto3\"; message D { int32 x = 1; }",
                                "schemaType": "PROTOBUF",
                            })
                            .to_string();
                            match (s.as_str(), n) {
                                ("gone", _) => {
                                    (StatusCode::NOT_FOUND, "{\"error_code\":40401}".to_owned())
                                }
                                (_, 0) => (StatusCode::SERVICE_UNAVAILABLE, "down".to_owned()),
                                _ => (StatusCode::OK, dep),
                            }
                        }
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let registry =
            SchemaRegistry::new(&format!("http://{addr}"), None, Duration::from_secs(5)).unwrap();
        let first = registry.by_id(1).await.unwrap();
        assert_eq!(first.descriptors, None, "the reference answered 503");
        let second = registry.by_id(1).await.unwrap();
        let set = second.descriptors.expect("asked again, and compiled");
        assert!(!set.is_empty());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        // Compiled: kept, not asked again.
        assert_eq!(registry.by_id(1).await.unwrap().descriptors, Some(set));
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        // A reference the registry lacks: remembered as not compiling.
        assert_eq!(registry.by_id(2).await.unwrap().descriptors, None);
        assert_eq!(registry.by_id(2).await.unwrap().descriptors, None);
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }
}
