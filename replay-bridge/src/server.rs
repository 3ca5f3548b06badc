//! The HTTP side: the page's static files, the sources the bridge offers (`GET /sources`), and
//! the WebSocket endpoint `/ws` (`/ws?source=NAME` picks one; the first is the default).
//!
//! A connection carries any number of subscriptions (up to [`MAX_SUBSCRIPTIONS`]): the client's
//! `Subscribe`, `Credit` and `Unsubscribe` messages start, feed and stop them, and every
//! subscription's frames share one bounded queue to the socket ([`FRAMES_QUEUED`]). A malformed
//! client message is answered with an error to that client, and nothing else changes. With
//! `--allow-origin`, an upgrade from any other `Origin` is refused (403). When the client goes
//! away, its subscriptions stop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use streamglass_core::protocol::{self, ClientMessage, ServerMessage, SubscriptionId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tower_http::services::ServeDir;

use crate::credit::{Budget, Credit};
use crate::source::Source;
use crate::subscription::{self, Outgoing, Sink};
use crate::{Error, Result};

/// Frames queued per connection, at most.
pub const FRAMES_QUEUED: usize = 16;
/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 32;
/// The default bridge-wide budget of bytes fetched or encoded but not yet written.
pub const DEFAULT_BUDGET: u64 = 128 << 20;

/// How the server behaves beyond its source.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Origins allowed to open the WebSocket; empty: any.
    pub allow_origins: Vec<String>,
    /// The bridge-wide memory budget in bytes (0: [`DEFAULT_BUDGET`]).
    pub budget_bytes: u64,
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

struct AppState {
    sources: Vec<Offered>,
    budget: Budget,
    allow_origins: Vec<String>,
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
pub fn router(source: Arc<Source>, www: Option<PathBuf>) -> Result<Router> {
    router_with(source, www, ServeOptions::default())
}

/// Builds the app for one source.
pub fn router_with(
    source: Arc<Source>,
    www: Option<PathBuf>,
    options: ServeOptions,
) -> Result<Router> {
    router_offering(vec![Offered::named(source)], www, options)
}

/// Builds the app for several sources (the first is the default); their names must differ.
pub fn router_offering(
    sources: Vec<Offered>,
    www: Option<PathBuf>,
    options: ServeOptions,
) -> Result<Router> {
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
    let state = Arc::new(AppState {
        sources,
        budget: Budget::new(budget),
        allow_origins: options
            .allow_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect(),
    });
    let app = Router::new()
        .route("/ws", get(upgrade))
        .route("/sources", get(list_sources))
        .with_state(state);
    Ok(match www {
        Some(dir) if !dir.is_dir() => return Err(Error::MissingWww(dir)),
        // `cargo xtask site` writes each file's `.gz` and `.br`: sent as they are to a browser
        // that accepts them.
        Some(dir) => app.fallback_service(
            ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip(),
        ),
        None => app.fallback(|| async {
            "Streamglass replay-bridge: the WebSocket is at /ws. Start with --www DIR to serve the page.\n"
        }),
    })
}

/// Serves until the process ends.
pub async fn serve(listener: TcpListener, app: Router) -> Result<()> {
    axum::serve(listener, app).await?;
    Ok(())
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

/// With `--allow-origin`, the 403 for a request whose `Origin` is not allowed. A request with
/// none is let through only when `absent_ok` (a same-origin `fetch` sends none; a WebSocket
/// always does).
fn origin_refused(state: &AppState, headers: &HeaderMap, absent_ok: bool) -> Option<Response> {
    if state.allow_origins.is_empty() {
        return None;
    }
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    match origin {
        None if absent_ok => None,
        Some(o) if state.allow_origins.iter().any(|a| a == o) => None,
        _ => {
            let origin = origin.unwrap_or_default();
            tracing::warn!(origin, "request refused: origin not allowed");
            Some(
                (
                    StatusCode::FORBIDDEN,
                    format!("origin {origin:?} may not use this bridge\n"),
                )
                    .into_response(),
            )
        }
    }
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

#[derive(serde::Deserialize)]
struct WsParams {
    source: Option<String>,
}

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(params): Query<WsParams>,
    State(state): State<Arc<AppState>>,
) -> Response {
    if let Some(refused) = origin_refused(&state, &headers, false) {
        return refused;
    }
    let source = match params.source.as_deref() {
        None => 0,
        Some(name) => match state.sources.iter().position(|o| o.name == name) {
            Some(i) => i,
            None => {
                let names: Vec<&str> = state.sources.iter().map(|o| o.name.as_str()).collect();
                return (
                    StatusCode::NOT_FOUND,
                    format!(
                        "no source {name:?}: this bridge offers {}\n",
                        names.join(", ")
                    ),
                )
                    .into_response();
            }
        },
    };
    ws.on_upgrade(move |socket| connection(socket, state, source))
        .into_response()
}

struct Running {
    credit: Arc<Credit>,
    task: AbortHandle,
}

/// Serves one WebSocket against the source at `source` in the offered list.
async fn connection(socket: WebSocket, state: Arc<AppState>, source: usize) {
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outgoing>(FRAMES_QUEUED);
    let mut subscriptions: HashMap<SubscriptionId, Running> = HashMap::new();
    loop {
        tokio::select! {
            outgoing = rx.recv() => {
                // `tx` is held here, so the queue never closes while the loop runs.
                let Some(Outgoing { frame, held }) = outgoing else { break };
                if sink.send(Message::Binary(frame.into())).await.is_err() {
                    break;
                }
                drop(held);
            }
            message = incoming.next() => {
                let reply = match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Binary(bytes))) => {
                        on_client_message(&bytes, &state, source, &tx, &mut subscriptions)
                    }
                    Some(Ok(Message::Text(_))) => Some(ServerMessage::Error {
                        subscription: None,
                        message: "text messages are not part of the protocol: send binary frames".into(),
                    }),
                    Some(Ok(_)) => None,
                };
                if let Some(reply) = reply
                    && let Ok(frame) = protocol::encode(&reply)
                    && sink.send(Message::Binary(frame.into())).await.is_err()
                {
                    break;
                }
            }
        }
    }
    for running in subscriptions.values() {
        running.credit.close();
        running.task.abort();
    }
}

/// Applies one client message; returns the error to send back, if any.
fn on_client_message(
    bytes: &[u8],
    state: &Arc<AppState>,
    source: usize,
    tx: &mpsc::Sender<Outgoing>,
    subscriptions: &mut HashMap<SubscriptionId, Running>,
) -> Option<ServerMessage<'static>> {
    let error = |subscription: Option<SubscriptionId>, message: String| {
        tracing::warn!(?subscription, error = %message, "client message refused");
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
                budget: state.budget.clone(),
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
        ClientMessage::Unsubscribe { subscription } => {
            if let Some(running) = subscriptions.remove(&subscription) {
                running.credit.close();
                running.task.abort();
            }
            None
        }
    }
}
