//! The HTTP side: the page's static files, the sources the bridge offers (`GET /sources`), what
//! each holds (`GET /topics?source=NAME`, [`crate::catalog`]), and the WebSocket endpoint `/ws`
//! (`/ws?source=NAME` picks one; the first is the default).
//!
//! A connection carries any number of subscriptions (up to [`MAX_SUBSCRIPTIONS`]): the client's
//! `Subscribe`, `Credit` and `Unsubscribe` messages start, feed and stop them, and every
//! subscription's frames share one bounded queue to the socket ([`FRAMES_QUEUED`]). A malformed
//! client message is answered with an error to that client, and nothing else changes. When the
//! client goes away, its subscriptions stop.
//!
//! What a client can make the bridge hold is bounded, whatever it sends ([`Limits`]):
//! - connections: at most `max_connections` at once; past it, an upgrade is closed with 1013 and
//!   its reason, any other request answered 503, without touching the rest;
//! - time: a request's headers must arrive within `header_timeout` (so must the next request's,
//!   on a kept-alive connection); a WebSocket that holds no subscription and sends nothing for
//!   `idle_timeout` is closed (4001); one whose socket takes no frame for `stall_timeout` while
//!   frames wait is closed (4000), its budget given back;
//! - memory: a client message is at most [`MAX_CLIENT_MESSAGE`] bytes (a larger one closes the
//!   connection, 1009); frames in flight hold the connection's share of the budget
//!   ([`crate::credit`]).
//!
//! Origins: with no `--allow-origin`, a browser may use `/ws`, `/sources` and `/topics` only from
//! the page's own origin (its `Origin` names the `Host` it reached), and, while the bridge listens
//! on loopback, only under a loopback host name (so a DNS-rebinding page cannot pass for it);
//! `--allow-origin '*'` lets any page in. Static files are served only from inside `--www`
//! (a link out of it is not followed), or with no `--www` from the page built into the binary
//! ([`crate::embedded`]), with `nosniff`, a Content-Security-Policy the page
//! satisfies, `Cache-Control: no-cache` and `Vary: Accept-Encoding`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use streamglass_core::protocol::{self, ClientMessage, ServerMessage, SubscriptionId};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::AbortHandle;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::catalog::Catalog;
use crate::credit::{Budget, Credit};
use crate::embedded;
use crate::source::Source;
use crate::subscription::{self, Outgoing, Sink};
use crate::{Error, Result};

/// Frames queued per connection, at most.
pub const FRAMES_QUEUED: usize = 16;
/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 32;
/// The default bridge-wide budget of bytes fetched or encoded but not yet written.
pub const DEFAULT_BUDGET: u64 = 128 << 20;
/// The largest client message: a client sends small control messages (a `Subscribe` with its
/// seek spec and resume points is well under 1 KiB).
pub const MAX_CLIENT_MESSAGE: usize = 64 << 10;
/// Finished subscriptions a connection remembers (so late credit for them is not an error).
const REMEMBERED_SUBSCRIPTIONS: usize = 256;
/// Refused client messages logged in full per connection; past them, one line per power of two.
const LOGGED_REFUSALS: u64 = 5;
/// Over-limit connections answered at once (each with a short deadline); more are dropped.
const REFUSALS_AT_ONCE: usize = 64;
/// How long a refusal or a close frame may take to go out.
const FAREWELL: Duration = Duration::from_secs(2);
/// How long a stalled socket has to take its close frame, at least.
const STALLED_FAREWELL: Duration = Duration::from_secs(10);
/// A request head larger than this is refused (hyper's minimum is 8 KiB).
const MAX_HEAD_BYTES: usize = 64 << 10;
/// Paths longer than this cannot name a file.
const MAX_PATH_BYTES: usize = 4096;
/// Path components longer than this cannot name a file.
const MAX_NAME_BYTES: usize = 255;

/// WebSocket close codes of the bridge's own (4000–4999 are for applications).
pub mod close {
    /// The socket took no frame for the stall timeout while frames waited.
    pub const STALLED: u16 = 4000;
    /// No subscription and no message for the idle timeout.
    pub const IDLE: u16 = 4001;
    /// RFC 6455's "message too big".
    pub const TOO_BIG: u16 = 1009;
    /// RFC 6455's "try again later": the bridge is at its connection limit.
    pub const FULL: u16 = 1013;
}

/// What one client may make the bridge hold, and for how long.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections (HTTP and WebSocket) at once.
    pub max_connections: usize,
    /// Time for a request's headers to arrive.
    pub header_timeout: Duration,
    /// A WebSocket with no subscription open that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A WebSocket whose socket takes no frame for this long while frames wait is closed.
    pub stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// How the server behaves beyond its source.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Origins allowed to use `/ws`, `/sources` and `/topics`; empty: the page's own only; `*`: any.
    pub allow_origins: Vec<String>,
    /// The bridge-wide memory budget in bytes (0: [`DEFAULT_BUDGET`]).
    pub budget_bytes: u64,
    pub limits: Limits,
}

/// A source the bridge offers, by name: `recording` or `kafka` (see [`Offered::named`]).
pub struct Offered {
    pub name: String,
    pub source: Arc<Source>,
}

impl Offered {
    /// The source under the name of its kind.
    pub fn named(source: Arc<Source>) -> Self {
        let name = match &*source {
            Source::Recording(_) => "recording",
            Source::Kafka(_) => "kafka",
        };
        Self {
            name: name.to_owned(),
            source,
        }
    }
}

/// Which browsers' pages may use the bridge.
#[derive(Debug, Clone)]
enum Origins {
    /// The page's own origin only.
    Same,
    /// These, exactly (scheme, host and port).
    Listed(Vec<String>),
    /// Any (`--allow-origin '*'`).
    Any,
}

struct AppState {
    sources: Vec<Offered>,
    /// `GET /topics`' answers, one per source.
    catalogs: Vec<Catalog>,
    budget: Budget,
    origins: Origins,
    limits: Limits,
    /// Set by [`serve`]: which host names a page may reach the bridge under.
    hosts: OnceLock<Hosts>,
}

/// The bridge's app: its routes and the limits [`serve`] applies to connections.
pub struct App {
    router: Router,
    state: Arc<AppState>,
}

/// Binds `addr` (use port 0 for any free port).
pub async fn bind(addr: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            addr: addr.to_owned(),
            source,
        })
}

/// Builds the app with default options: `/ws`, and the files of `www` (if given) at `/`.
pub fn router(source: Arc<Source>, www: Option<PathBuf>) -> Result<App> {
    router_with(source, www, ServeOptions::default())
}

/// Builds the app for one source.
pub fn router_with(
    source: Arc<Source>,
    www: Option<PathBuf>,
    options: ServeOptions,
) -> Result<App> {
    router_offering(vec![Offered::named(source)], www, options)
}

/// Builds the app for several sources (the first is the default); their names must differ.
pub fn router_offering(
    sources: Vec<Offered>,
    www: Option<PathBuf>,
    options: ServeOptions,
) -> Result<App> {
    if sources.is_empty() {
        return Err(Error::InvalidArgument("the bridge needs a source".into()));
    }
    for (i, o) in sources.iter().enumerate() {
        if sources[..i].iter().any(|p| p.name == o.name) {
            return Err(Error::InvalidArgument(format!(
                "two sources are named {:?}",
                o.name
            )));
        }
    }
    let budget = match options.budget_bytes {
        0 => DEFAULT_BUDGET,
        n => n,
    };
    let origins = if options.allow_origins.iter().any(|o| o.trim() == "*") {
        tracing::warn!(
            "--allow-origin '*': any web page the user visits may read the stream through this bridge"
        );
        Origins::Any
    } else if options.allow_origins.is_empty() {
        Origins::Same
    } else {
        Origins::Listed(
            options
                .allow_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .collect(),
        )
    };
    let state = Arc::new(AppState {
        catalogs: sources.iter().map(|_| Catalog::default()).collect(),
        sources,
        budget: Budget::new(budget),
        origins,
        limits: options.limits,
        hosts: OnceLock::new(),
    });
    let app = Router::new()
        .route("/ws", get(upgrade))
        .route("/sources", get(list_sources))
        .route("/topics", get(list_topics))
        .with_state(Arc::clone(&state));
    let router = match www {
        Some(dir) if !dir.is_dir() => return Err(Error::MissingWww(dir)),
        // `cargo xtask site` writes each file's `.gz` and `.br`: sent as they are to a browser
        // that accepts them.
        Some(dir) => {
            let root = dir.canonicalize()?;
            let files = ServeDir::new(&root).precompressed_br().precompressed_gzip();
            app.fallback_service(files)
                .layer(middleware::from_fn_with_state(Arc::new(root), static_file))
        }
        // The page built into the binary (`embedded`), with the same headers.
        None if embedded::has_page() => app
            .fallback(embedded::serve)
            .layer(middleware::from_fn(embedded_file)),
        None => app.fallback(|| async {
            "Streamglass replay-bridge: the WebSocket is at /ws. This build holds no page: start \
             with --www DIR to serve one.\n"
        }),
    };
    Ok(App { router, state })
}

/// Serves until the process ends: each connection in its own task, within [`Limits`].
pub async fn serve(listener: TcpListener, app: App) -> Result<()> {
    let App { router, state } = app;
    let local = listener.local_addr()?;
    let hosts = if local.ip().is_loopback() {
        Hosts::Loopback
    } else if local.ip().is_unspecified() {
        Hosts::Addresses
    } else {
        Hosts::Any
    };
    let _ = state.hosts.set(hosts);
    let limits = state.limits.clone();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let full = full_router(limits.max_connections);
    let mut accept_errors = 0u64;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to be closed.
                accept_errors += 1;
                if worth_logging(accept_errors) {
                    tracing::warn!(error = %e, count = accept_errors, "cannot accept a connection");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => {
                let slot = Slot(Arc::new(slot));
                tokio::spawn(serve_connection(
                    stream,
                    router.clone(),
                    limits.header_timeout,
                    slot,
                ));
            }
            Err(_) => {
                if let Ok(refusal) = Arc::clone(&refusals).try_acquire_owned() {
                    let full = full.clone();
                    tokio::spawn(async move {
                        let slot = Slot(Arc::new(refusal));
                        let _ = tokio::time::timeout(
                            FAREWELL * 2,
                            serve_connection(stream, full, FAREWELL, slot),
                        )
                        .await;
                    });
                }
            }
        }
    }
}

/// File descriptors kept for everything but connections (files, the broker, refusals).
const SPARE_FILES: u64 = 128;

/// `max` connections if the process may open enough files for them, raising its soft limit to
/// the hard one if it must; else as many as it may, with a warning. (For `serve`'s command line:
/// it changes the process's limit.)
pub fn within_file_limit(max: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let need = max as u64 + SPARE_FILES;
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c < need) {
        limit.current = limit.maximum.map(|m| m.min(need));
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    match getrlimit(Resource::Nofile).current {
        Some(files) if files < need => {
            let fits = files.saturating_sub(SPARE_FILES).max(1) as usize;
            tracing::warn!(
                files,
                "the open-file limit allows {fits} connections, not --max-connections {max}: raise it (ulimit -n)"
            );
            fits
        }
        _ => max,
    }
}

/// A connection's place among [`Limits::max_connections`]: held by the HTTP connection and by
/// the WebSocket it may become, freed when both are done.
#[derive(Clone)]
struct Slot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Serves HTTP/1 on one connection, with a deadline for each request's headers.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: Router,
    header_timeout: Duration,
    slot: Slot,
) {
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(slot.clone());
        router.clone().oneshot(request.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let _ = connection.await;
}

/// What a connection past the limit gets: a WebSocket closed with [`close::FULL`] and the
/// reason, or a 503.
fn full_router(max: usize) -> Router {
    let reason = format!("the bridge is serving its limit of {max} connections: try again later");
    let text = format!("{reason}\n");
    Router::new()
        .route(
            "/ws",
            get(move |ws: WebSocketUpgrade| {
                let reason = reason.clone();
                async move {
                    ws.on_upgrade(move |mut socket| async move {
                        let frame = CloseFrame {
                            code: close::FULL,
                            reason: reason.into(),
                        };
                        let _ = socket.send(Message::Close(Some(frame))).await;
                    })
                }
            }),
        )
        .fallback(move || {
            let text = text.clone();
            async move { (StatusCode::SERVICE_UNAVAILABLE, text) }
        })
}

/// The address a listener is bound to, for printing.
pub fn local_addr(listener: &TcpListener) -> Result<SocketAddr> {
    Ok(listener.local_addr()?)
}

/// One entry of `GET /sources`.
#[derive(serde::Serialize)]
struct SourceInfo {
    name: String,
    /// What `describe` says: the file or the broker, and the topics.
    description: String,
}

/// The 403 for a browser request from a page the bridge does not serve. A request with no
/// `Origin` (not from a browser page, or a same-origin `GET`) is let through, since a page
/// cannot send one across origins; except that with an `--allow-origin` list an upgrade must
/// name a listed origin (`absent_ok` false).
fn origin_refused(state: &AppState, headers: &HeaderMap, absent_ok: bool) -> Option<Response> {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let hosts = state.hosts.get().copied().unwrap_or(Hosts::Loopback);
    let refusal = match (&state.origins, origin) {
        (Origins::Any, _) => None,
        (Origins::Listed(list), Some(o)) if list.iter().any(|a| a == o) => None,
        (Origins::Listed(_), Some(o)) => {
            Some(format!("origin {o:?} is not allowed (--allow-origin)"))
        }
        (Origins::Listed(_), None) if !absent_ok => {
            Some("a request with no Origin, and --allow-origin lists the allowed ones".to_owned())
        }
        (_, None) => None,
        (Origins::Same, Some(o)) => {
            let authority = o.split_once("://").map_or(o, |(_, rest)| rest);
            match host {
                Some(h) if !h.eq_ignore_ascii_case(authority) => Some(format!(
                    "origin {o:?} is not this page's ({h}); start the bridge with --allow-origin {o} to allow it"
                )),
                None => Some(format!("origin {o:?} sent no Host")),
                Some(h) if !hosts.admits(h) => Some(format!(
                    "host {h:?} is a name the bridge cannot tell from a rebound one ({}); start it with --allow-origin {o} to allow it",
                    hosts.describe()
                )),
                Some(_) => None,
            }
        }
    };
    let reason = refusal?;
    tracing::warn!(origin, host, "request refused: {reason}");
    Some((StatusCode::FORBIDDEN, format!("{reason}\n")).into_response())
}

/// The host names a page may reach the bridge under (the DNS-rebinding guard): a page on another
/// site can make its own name resolve to the bridge's address, and its `Origin` then names the
/// `Host` it reached, so a name is only trusted where it cannot be such a name.
#[derive(Debug, Clone, Copy)]
enum Hosts {
    /// Listening on loopback: only loopback names and addresses.
    Loopback,
    /// Listening on every address: loopback names and any IP address, no other name.
    Addresses,
    /// Listening on one address: the user chose it, so any name they reach it by.
    Any,
}

impl Hosts {
    fn admits(self, host: &str) -> bool {
        match self {
            Self::Loopback => is_loopback_host(host),
            Self::Addresses => is_loopback_host(host) || host_ip(host).is_some(),
            Self::Any => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Loopback => "listening on loopback, it answers loopback names only",
            Self::Addresses => {
                "listening on every address, it answers IP addresses and localhost only"
            }
            Self::Any => "any name",
        }
    }
}

/// The host part of a `Host` header (`name:port`, `[v6]:port`).
fn host_name(host: &str) -> String {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(n, _)| n)
    };
    name.to_ascii_lowercase()
}

/// The IP address a `Host` header names, if it names one.
fn host_ip(host: &str) -> Option<std::net::IpAddr> {
    host_name(host).parse().ok()
}

/// Whether a `Host` header names this machine's loopback: `localhost` (or a `.localhost` name),
/// 127.0.0.0/8 or `[::1]`, with any port.
fn is_loopback_host(host: &str) -> bool {
    let name = host_name(host);
    name == "localhost"
        || name.ends_with(".localhost")
        || host_ip(host).is_some_and(|ip| ip.is_loopback())
}

/// `GET /sources`: the sources `/ws?source=NAME` accepts, the default first.
async fn list_sources(headers: HeaderMap, State(state): State<Arc<AppState>>) -> Response {
    if let Some(refused) = origin_refused(&state, &headers, true) {
        return refused;
    }
    Json(
        state
            .sources
            .iter()
            .map(|o| SourceInfo {
                name: o.name.clone(),
                description: o.source.describe(),
            })
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// The offered source `?source=NAME` names (none: the first), or the 404 text listing them.
fn source_index(state: &AppState, name: Option<&str>) -> Result<usize, String> {
    let Some(name) = name else { return Ok(0) };
    state
        .sources
        .iter()
        .position(|o| o.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = state.sources.iter().map(|o| o.name.as_str()).collect();
            format!(
                "no source {name:?}: this bridge offers {}\n",
                names.join(", ")
            )
        })
}

/// The index of the source a request names (`?source=`), if its Origin may ask
/// ([`origin_refused`], `absent_ok` as there): else the refusal, or a 404 naming the sources.
#[allow(clippy::result_large_err)]
fn allowed_source(
    state: &AppState,
    headers: &HeaderMap,
    source: Option<&str>,
    absent_ok: bool,
) -> Result<usize, Response> {
    if let Some(refused) = origin_refused(state, headers, absent_ok) {
        return Err(refused);
    }
    source_index(state, source).map_err(|unknown| (StatusCode::NOT_FOUND, unknown).into_response())
}

/// `GET /topics?source=NAME`: the facts of each topic the source serves ([`crate::catalog`]);
/// 503 with the reason when the source cannot say.
async fn list_topics(
    headers: HeaderMap,
    Query(params): Query<WsParams>,
    State(state): State<Arc<AppState>>,
) -> Response {
    let i = match allowed_source(&state, &headers, params.source.as_deref(), true) {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    let offered = &state.sources[i];
    match state.catalogs[i]
        .answer(&offered.name, &offered.source)
        .await
    {
        Ok(answer) => Json(answer.as_ref()).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

/// The static files' guard and headers: a path with a name no file can have, or that resolves
/// (through a link) outside the served directory, is not found; every answer says `nosniff`,
/// `no-cache`, `Vary: Accept-Encoding`, and, for pages, a Content-Security-Policy.
async fn static_file(State(root): State<Arc<PathBuf>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !inside(&root, &path) {
        return with_static_headers(
            &path,
            (StatusCode::NOT_FOUND, "not found\n").into_response(),
        );
    }
    with_static_headers(&path, next.run(request).await)
}

/// The headers of [`static_file`], for the embedded page (whose paths need no check: only the
/// embedded ones are answered).
async fn embedded_file(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    with_static_headers(&path, next.run(request).await)
}

/// Whether the URL path names something inside `root` once decoded and resolved (a missing
/// file counts as inside: the file service answers 404 for it).
fn inside(root: &Path, url_path: &str) -> bool {
    let Ok(decoded) = percent_encoding::percent_decode_str(url_path).decode_utf8() else {
        return false;
    };
    if decoded.len() > MAX_PATH_BYTES {
        return false;
    }
    let mut path = root.to_path_buf();
    for part in decoded.split('/') {
        if part.len() > MAX_NAME_BYTES || part.contains('\0') {
            return false;
        }
        match Path::new(part).components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::Normal(name)) => path.push(name),
            Some(_) => return false,
        }
    }
    match path.canonicalize() {
        Ok(real) => real.starts_with(root),
        // Missing: the file service's 404. Anything else (a name too long, a loop): not a file.
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

fn with_static_headers(path: &str, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    // The worker runs the notebook's cells, which are code: it may evaluate them.
    let policy = if path.ends_with("-worker.js") {
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; connect-src 'self' ws: wss:"
    } else {
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    response
}

#[derive(serde::Deserialize)]
struct WsParams {
    source: Option<String>,
}

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(params): Query<WsParams>,
    State(state): State<Arc<AppState>>,
    slot: Option<Extension<Slot>>,
) -> Response {
    let source = match allowed_source(&state, &headers, params.source.as_deref(), false) {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    ws.max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(8 << 10)
        .on_upgrade(move |socket| async move {
            connection(socket, state, source).await;
            drop(slot);
        })
        .into_response()
}

struct Running {
    credit: Arc<Credit>,
    task: AbortHandle,
}

/// Why the bridge closed a connection.
struct Closing {
    code: u16,
    reason: String,
}

/// Serves one WebSocket against the source at `source` in the offered list.
async fn connection(socket: WebSocket, state: Arc<AppState>, source: usize) {
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outgoing>(FRAMES_QUEUED);
    let budget = state.budget.connection();
    let limits = &state.limits;
    let mut subscriptions: HashMap<SubscriptionId, Running> = HashMap::new();
    let mut refused = 0u64;
    let mut last_heard = Instant::now();
    let mut tick = tokio::time::interval(limits.idle_timeout.min(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closing = loop {
        tokio::select! {
            outgoing = rx.recv() => {
                // `tx` is held here, so the queue never closes while the loop runs.
                let Some(Outgoing { frame, held }) = outgoing else { break None };
                if let Err(closing) = send_within(&mut sink, frame, limits.stall_timeout).await {
                    break closing;
                }
                drop(held);
            }
            message = incoming.next() => {
                last_heard = Instant::now();
                let reply = match message {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => break too_big(&e),
                    Some(Ok(Message::Binary(bytes))) => {
                        on_client_message(&bytes, &state, source, &tx, &budget, &mut subscriptions)
                    }
                    Some(Ok(Message::Text(_))) => Some(ServerMessage::Error {
                        subscription: None,
                        message: "text messages are not part of the protocol: send binary frames".into(),
                    }),
                    Some(Ok(_)) => None,
                };
                if let Some(reply) = reply {
                    refused += 1;
                    if let ServerMessage::Error { subscription, message } = &reply
                        && worth_logging(refused)
                    {
                        tracing::warn!(?subscription, refused, error = %message, "client message refused");
                    }
                    let Ok(frame) = protocol::encode(&reply) else { continue };
                    if let Err(closing) = send_within(&mut sink, frame, limits.stall_timeout).await {
                        break closing;
                    }
                }
            }
            _ = tick.tick() => {
                let open = subscriptions.values().any(|r| !r.task.is_finished());
                if !open && last_heard.elapsed() >= limits.idle_timeout {
                    break Some(Closing {
                        code: close::IDLE,
                        reason: format!(
                            "idle: no subscription and no message for {} s",
                            limits.idle_timeout.as_secs()
                        ),
                    });
                }
            }
        }
    };
    for running in subscriptions.values() {
        running.credit.close();
        running.task.abort();
    }
    drop(rx);
    if let Some(Closing { code, reason }) = closing {
        tracing::info!(code, reason = %reason, "connection closed by the bridge");
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        // A stalled socket gets as long again to take its close: a tab that wakes up reads why.
        let farewell = if code == close::STALLED {
            limits.stall_timeout.max(STALLED_FAREWELL)
        } else {
            FAREWELL
        };
        // The closing handshake: the close goes out, then what the client sends is read until it
        // answers (closing with unread bytes would reset the connection, and the client would
        // lose the frames still on their way to it, the close among them).
        let _ = tokio::time::timeout(farewell, async {
            if sink.send(Message::Close(Some(frame))).await.is_ok() {
                while let Some(Ok(message)) = incoming.next().await {
                    if let Message::Close(_) = message {
                        break;
                    }
                }
            }
        })
        .await;
    }
}

/// Writes one frame to the socket. `Err(None)`: the socket is gone; `Err(Some(..))`: it took no
/// data for `stall` (the frame is not written), and is to be closed as stalled.
async fn send_within(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    frame: Vec<u8>,
    stall: Duration,
) -> Result<(), Option<Closing>> {
    match tokio::time::timeout(stall, sink.send(Message::Binary(frame.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(None),
        Err(_) => Err(Some(Closing {
            code: close::STALLED,
            reason: format!(
                "the socket took no data for {} s while data waited",
                stall.as_secs()
            ),
        })),
    }
}

/// Whether the `n`th repeat of a warning is logged: the first [`LOGGED_REFUSALS`], then one per
/// power of two (a client refused 3,000 times makes 14 lines, not 3,000).
fn worth_logging(n: u64) -> bool {
    n <= LOGGED_REFUSALS || n.is_power_of_two()
}

/// The close for a client message over [`MAX_CLIENT_MESSAGE`]; `None` for any other socket error.
fn too_big(error: &axum::Error) -> Option<Closing> {
    let text = error.to_string();
    (text.contains("too long") || text.contains("too big") || text.contains("Space limit")).then(
        || Closing {
            code: close::TOO_BIG,
            reason: format!("a client message may be at most {MAX_CLIENT_MESSAGE} bytes"),
        },
    )
}

/// Applies one client message; returns the error to send back, if any.
fn on_client_message(
    bytes: &[u8],
    state: &Arc<AppState>,
    source: usize,
    tx: &mpsc::Sender<Outgoing>,
    budget: &crate::credit::ConnectionBudget,
    subscriptions: &mut HashMap<SubscriptionId, Running>,
) -> Option<ServerMessage<'static>> {
    let error = |subscription: Option<SubscriptionId>, message: String| {
        Some(ServerMessage::Error {
            subscription,
            message,
        })
    };
    let message = match protocol::decode_client(bytes) {
        Ok(message) => message,
        Err(e) => return error(None, format!("malformed client message: {e}")),
    };
    match message {
        ClientMessage::Subscribe(subscribe) => {
            let id = subscribe.subscription;
            // A subscription that ended on its own (a recording's end, a failure) frees its id.
            if subscriptions
                .get(&id)
                .is_some_and(|r| !r.task.is_finished())
            {
                return error(Some(id), format!("subscription {id} is already open"));
            }
            let open = subscriptions
                .values()
                .filter(|r| !r.task.is_finished())
                .count();
            if open >= MAX_SUBSCRIPTIONS {
                return error(
                    Some(id),
                    format!("a connection may hold at most {MAX_SUBSCRIPTIONS} subscriptions"),
                );
            }
            if subscriptions.len() >= REMEMBERED_SUBSCRIPTIONS {
                subscriptions.retain(|_, r| !r.task.is_finished());
            }
            let credit = match Credit::new(subscribe.credit) {
                Ok(credit) => Arc::new(credit),
                Err(e) => return error(Some(id), format!("subscription {id}: {e}")),
            };
            tracing::info!(subscription = id, seek = %subscribe.seek, topic = ?subscribe.topic, resume = ?subscribe.resume, credit = subscribe.credit, compression = ?subscribe.compression, "subscribe");
            let sink = Sink {
                id,
                compression: subscribe.compression,
                credit: Arc::clone(&credit),
                out: tx.clone(),
                budget: budget.clone(),
            };
            let task = tokio::spawn(subscription::run(
                Arc::clone(&state.sources[source].source),
                subscribe,
                sink,
            ));
            subscriptions.insert(
                id,
                Running {
                    credit,
                    task: task.abort_handle(),
                },
            );
            None
        }
        ClientMessage::Credit {
            subscription,
            bytes,
        } => match subscriptions.get(&subscription) {
            Some(running) => running.credit.grant(bytes).err().and_then(|e| {
                error(
                    Some(subscription),
                    format!("subscription {subscription}: {e}"),
                )
            }),
            None => error(
                Some(subscription),
                format!("credit for subscription {subscription}, which was never opened"),
            ),
        },
        ClientMessage::Unsubscribe { subscription } => match subscriptions.remove(&subscription) {
            Some(running) => {
                running.credit.close();
                running.task.abort();
                None
            }
            None => error(
                Some(subscription),
                format!("unsubscribe from subscription {subscription}, which is not open"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_warnings_are_logged_a_logarithmic_number_of_times() {
        assert_eq!((1..=3_000).filter(|&n| worth_logging(n)).count(), 14);
        assert!((1..=5).all(worth_logging));
    }

    #[test]
    fn hosts_a_rebinding_page_cannot_pass_for() {
        assert!(Hosts::Addresses.admits("192.168.1.5:8080"));
        assert!(Hosts::Addresses.admits("[fe80::1]:8080"));
        assert!(Hosts::Addresses.admits("localhost:8080"));
        assert!(!Hosts::Addresses.admits("evil.example:8080"));
        assert!(!Hosts::Loopback.admits("192.168.1.5:8080"));
        assert!(Hosts::Any.admits("dash.example.com"));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:1",
            "app.localhost:3000",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
            "",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn paths_out_of_the_root_or_with_impossible_names_are_not_inside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
        std::os::unix::fs::symlink(root.join("index.html"), root.join("alias.html")).unwrap();
        assert!(inside(&root, "/index.html"));
        assert!(
            inside(&root, "/alias.html"),
            "a link within the root is fine"
        );
        assert!(
            inside(&root, "/missing.js"),
            "missing files are the file service's 404"
        );
        assert!(!inside(&root, "/link/secret"));
        assert!(!inside(&root, "/%6cink/secret"), "percent-encoded");
        assert!(!inside(&root, "/../etc/passwd"));
        assert!(!inside(&root, &format!("/{}", "a".repeat(256))));
        assert!(!inside(&root, "/a%00b"));
        let deep = format!("/{}", vec!["b".repeat(250); 20].join("/"));
        assert!(!inside(&root, &deep), "a path no file can have");
    }
}
