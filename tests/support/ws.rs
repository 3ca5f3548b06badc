//! Reading the bridge's WebSocket the way the page does, without a browser.

use std::time::Duration;

use futures_util::StreamExt;
use streamglass_core::protocol::{self, ServerMessage};
use streamglass_core::{Feed, FeedStatus};
use tokio_tungstenite::tungstenite::Message;

/// One record as received, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Everything a connection delivered until every partition caught up.
pub struct Drained {
    pub feed: Feed,
    pub records: Vec<Received>,
}

/// Connects to `url` and reads until every partition has caught up (or `timeout` passes, or
/// the bridge reports an error).
pub async fn drain(url: &str, timeout: Duration) -> Result<Drained, String> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    let mut feed = Feed::new();
    let mut records = Vec::new();
    let read = async {
        while let Some(message) = socket.next().await {
            let frame = match message.map_err(|e| e.to_string())? {
                Message::Binary(frame) => frame,
                Message::Close(_) => break,
                _ => continue,
            };
            let decoded = protocol::decode(&frame).map_err(|e| e.to_string())?;
            if let ServerMessage::Records(batch) = &decoded {
                records.extend(batch.records.iter().map(|r| Received {
                    partition: batch.partition,
                    offset: r.offset,
                    timestamp_ms: r.timestamp_ms,
                    key: r.key.map(<[u8]>::to_vec),
                    value: r.value.map(<[u8]>::to_vec),
                }));
            }
            feed.apply(&decoded);
            match feed.snapshot().status {
                FeedStatus::CaughtUp => return Ok(()),
                FeedStatus::Failed => {
                    return Err(format!("feed failed: {:?}", feed.snapshot().errors));
                }
                _ => {}
            }
        }
        Err(format!(
            "socket closed before catching up: {:?}",
            feed.snapshot()
        ))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| format!("not caught up after {timeout:?}"))??;
    Ok(Drained { feed, records })
}
