//! Reading the bridge's WebSocket the way the page does, without a browser: a [`Session`] opens
//! subscriptions, applies every frame to one [`Feed`] per subscription, keeps the records, and
//! (unless told otherwise) grants back the credit of each `Records` frame once it is applied.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use streamglass_core::protocol::{self, ClientMessage, Compression, ServerMessage, Subscribe};
use streamglass_core::seek::SeekSpec;
use streamglass_core::{Feed, FeedStatus};
use tokio_tungstenite::tungstenite::Message;

/// The credit a test client opens a subscription with.
pub const WINDOW: u64 = 8 << 20;

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

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One connection, with any number of subscriptions.
pub struct Session {
    socket: Socket,
    pub feeds: BTreeMap<u32, Feed>,
    pub records: BTreeMap<u32, Vec<Received>>,
    /// Errors for the whole connection (a malformed client message).
    pub connection_errors: Vec<String>,
    /// Subscriptions that sent `End`.
    pub ended: Vec<u32>,
    /// Subscriptions that sent `Exhausted`, with its message.
    pub exhausted: Vec<(u32, String)>,
    /// Whether the credit of each frame is granted back at once.
    pub auto_credit: bool,
    /// Bytes of `Records` frames received, per subscription (inflated, as credit counts them).
    pub bytes: BTreeMap<u32, u64>,
    /// Bytes of every frame received, per subscription, as they crossed the socket.
    pub wire: BTreeMap<u32, u64>,
    /// The compression new subscriptions ask for.
    pub compression: Compression,
    /// The bridge's close frame, if it sent one: its code and reason.
    pub close: Option<(u16, String)>,
}

impl Session {
    pub async fn connect(url: &str) -> Result<Self, String> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("connect {url}: {e}"))?;
        Ok(Self::over(socket))
    }

    /// Connects with a receive buffer of `bytes` (the kernel's own minimum applies): a client
    /// that then stops reading stalls the bridge's socket soon, as a frozen tab's would.
    pub async fn connect_small(url: &str, bytes: u32) -> Result<Self, String> {
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default()
            .parse::<std::net::SocketAddr>()
            .map_err(|e| format!("{url}: {e}"))?;
        let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .set_recv_buffer_size(bytes)
            .map_err(|e| e.to_string())?;
        let stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
        let (socket, _) =
            tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
                .await
                .map_err(|e| format!("connect {url}: {e}"))?;
        Ok(Self::over(socket))
    }

    fn over(socket: Socket) -> Self {
        Self {
            socket,
            feeds: BTreeMap::new(),
            records: BTreeMap::new(),
            connection_errors: Vec::new(),
            ended: Vec::new(),
            exhausted: Vec::new(),
            auto_credit: true,
            bytes: BTreeMap::new(),
            wire: BTreeMap::new(),
            compression: Compression::None,
            close: None,
        }
    }

    /// Opens subscription `id` from `seek` (kcat syntax), resuming where `resume` says.
    pub async fn subscribe(
        &mut self,
        id: u32,
        seek: &str,
        resume: Option<BTreeMap<i32, i64>>,
        credit: u64,
    ) -> Result<(), String> {
        let seek: SeekSpec = seek.parse().map_err(|e| format!("{e}"))?;
        self.subscribe_to(id, None, seek, resume, credit).await
    }

    pub async fn subscribe_to(
        &mut self,
        id: u32,
        topic: Option<String>,
        seek: SeekSpec,
        resume: Option<BTreeMap<i32, i64>>,
        credit: u64,
    ) -> Result<(), String> {
        self.feeds.insert(id, Feed::for_subscription(id));
        self.records.insert(id, Vec::new());
        self.send(&ClientMessage::Subscribe(Subscribe {
            subscription: id,
            topic,
            seek,
            resume,
            credit,
            compression: self.compression,
        }))
        .await
    }

    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), String> {
        let frame = protocol::encode_client(message).map_err(|e| e.to_string())?;
        self.send_raw(frame).await
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.socket
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads and applies one frame. `Ok(false)` when the socket closed.
    pub async fn step(&mut self) -> Result<bool, String> {
        let frame = loop {
            match self.socket.next().await {
                None => return Ok(false),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(Message::Binary(frame))) => break frame,
                Some(Ok(Message::Close(frame))) => {
                    self.close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    return Ok(false);
                }
                Some(Ok(_)) => continue,
            }
        };
        let mut frame: Vec<u8> = frame.into();
        let wire = frame.len() as u64;
        if let ServerMessage::Compressed {
            subscription,
            frame: packed,
        } = protocol::decode(&frame).map_err(|e| e.to_string())?
        {
            let mut inflated = Vec::new();
            protocol::inflate(subscription, packed, usize::MAX, &mut inflated)
                .map_err(|e| e.to_string())?;
            frame = inflated;
        }
        let decoded = protocol::decode(&frame).map_err(|e| e.to_string())?;
        if let Some(id) = decoded.subscription() {
            *self.wire.entry(id).or_default() += wire;
        }
        match decoded.subscription() {
            None => {
                if let ServerMessage::Error { message, .. } = &decoded {
                    self.connection_errors.push(message.clone());
                }
            }
            Some(id) => {
                if let ServerMessage::Records(batch) = &decoded {
                    self.records
                        .entry(id)
                        .or_default()
                        .extend(batch.records.iter().map(|r| Received {
                            partition: batch.partition,
                            offset: r.offset,
                            timestamp_ms: r.timestamp_ms,
                            key: r.key.map(<[u8]>::to_vec),
                            value: r.value.map(<[u8]>::to_vec),
                        }));
                    *self.bytes.entry(id).or_default() += frame.len() as u64;
                }
                match &decoded {
                    ServerMessage::End { .. } => self.ended.push(id),
                    ServerMessage::Exhausted { message, .. } => {
                        self.exhausted.push((id, message.clone()));
                    }
                    _ => {}
                }
                self.feeds
                    .entry(id)
                    .or_insert_with(|| Feed::for_subscription(id))
                    .apply(&decoded);
            }
        }
        if self.auto_credit
            && let Some((id, bytes)) = protocol::records_credit(&frame)
        {
            self.send(&ClientMessage::Credit {
                subscription: id,
                bytes,
            })
            .await?;
        }
        Ok(true)
    }

    /// Reads until `done` holds, the socket closes, or `timeout` passes.
    pub async fn until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Session) -> bool,
    ) -> Result<(), String> {
        let read = async {
            while !done(self) {
                if !self.step().await? {
                    return Err("the socket closed".to_string());
                }
            }
            Ok(())
        };
        tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| format!("not done after {timeout:?}"))?
    }

    /// The status of a subscription's feed.
    pub fn status(&self, id: u32) -> Option<FeedStatus> {
        self.feeds.get(&id).map(|f| f.snapshot().status)
    }

    /// Whether a subscription caught up (or failed, which ends the wait too).
    pub fn settled(&self, id: u32) -> bool {
        matches!(
            self.status(id),
            Some(FeedStatus::CaughtUp | FeedStatus::Failed)
        )
    }

    /// Closes the socket abruptly, as a crashed page would.
    pub async fn kill(self) {
        drop(self.socket);
    }
}

/// Connects to `url`, subscribes from the beginning and reads until every partition has caught
/// up (or `timeout` passes, or the bridge reports an error).
pub async fn drain(url: &str, timeout: Duration) -> Result<Drained, String> {
    drain_from(url, "beginning", timeout).await
}

/// Like [`drain`], from `seek`.
pub async fn drain_from(url: &str, seek: &str, timeout: Duration) -> Result<Drained, String> {
    let mut session = Session::connect(url).await?;
    session.subscribe(0, seek, None, WINDOW).await?;
    session.until(timeout, |s| s.settled(0)).await?;
    let feed = session.feeds.remove(&0).unwrap_or_default();
    if feed.snapshot().status == FeedStatus::Failed {
        return Err(format!("feed failed: {:?}", feed.snapshot().errors));
    }
    Ok(Drained {
        feed,
        records: session.records.remove(&0).unwrap_or_default(),
    })
}
