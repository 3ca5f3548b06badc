//! The HTTP side: the page's static files, and the WebSocket endpoint `/ws`.
//!
//! Each WebSocket connection gets its own stream of the source (see [`Source::stream_to`]) through
//! a small bounded channel, so at most [`FRAMES_IN_FLIGHT`] frames wait per connection. When the
//! client goes away, its stream stops.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tower_http::services::ServeDir;

use crate::source::Source;
use crate::{Error, Result};

/// Frames queued per connection, at most.
pub const FRAMES_IN_FLIGHT: usize = 8;

/// Binds `addr` (use port 0 for any free port).
pub async fn bind(addr: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            addr: addr.to_owned(),
            source,
        })
}

/// Builds the app: `/ws`, and the files of `www` (if given) at `/`.
pub fn router(source: Arc<Source>, www: Option<PathBuf>) -> Result<Router> {
    let app = Router::new().route("/ws", get(upgrade)).with_state(source);
    Ok(match www {
        Some(dir) if !dir.is_dir() => return Err(Error::MissingWww(dir)),
        Some(dir) => app.fallback_service(ServeDir::new(dir)),
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

async fn upgrade(ws: WebSocketUpgrade, State(source): State<Arc<Source>>) -> Response {
    ws.on_upgrade(move |socket| connection(socket, source))
        .into_response()
}

async fn connection(socket: WebSocket, source: Arc<Source>) {
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(FRAMES_IN_FLIGHT);
    let description = source.describe();
    let producer = tokio::spawn(async move {
        if let Err(e) = source.stream_to(tx).await {
            tracing::warn!(source = %description, error = %e, "stream ended with an error");
        }
    });
    let mut producing = true;
    loop {
        tokio::select! {
            frame = rx.recv(), if producing => match frame {
                Some(frame) => {
                    if sink.send(Message::Binary(frame.into())).await.is_err() {
                        break;
                    }
                }
                // The source is exhausted (a recording): keep the socket open until the client closes.
                None => producing = false,
            },
            message = incoming.next() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    producer.abort();
}
