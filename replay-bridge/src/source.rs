//! Sources: where records come from, and how one connection's stream of frames is produced.
//!
//! A [`Source`] is opened once, when the bridge starts, so that a missing recording, an unreachable
//! broker or an unknown topic fails at start-up with one clear line. Each WebSocket connection then
//! gets its own [`Source::stream_to`]: a hello, every partition from its low watermark, a
//! `CaughtUp` per partition at the high watermark seen at the start, and, for a broker, tailing
//! for as long as the connection lives. Frames go into a bounded channel, so a slow socket slows
//! the reading down instead of piling frames up in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use streamglass_core::protocol::{self, Hello, PartitionInfo, SchemaInfo, ServerMessage};
use tokio::sync::mpsc;

use crate::frames::{MAX_FRAME_PAYLOAD, record_frames};
use crate::kafka::{Fetched, KafkaPartition, KafkaTopic};
use crate::recording::{RecordingMeta, RecordingReader, StoredRecord};
use crate::{Result, schemas};

/// Records per batch read from a recording before it is sent.
const RECORDING_BATCH: usize = 8_192;
/// Bytes asked of the broker per fetch.
const FETCH_BYTES: i32 = 4 << 20;
/// How long a fetch at the end of a partition waits for new records.
const TAIL_WAIT: Duration = Duration::from_millis(500);

/// Where the records come from.
pub enum Source {
    Recording {
        path: PathBuf,
        meta: RecordingMeta,
    },
    Kafka {
        topic: Arc<KafkaTopic>,
        schemas: Vec<SchemaInfo>,
    },
}

/// The receiving end went away: stop producing, quietly.
struct Closed;

impl Source {
    /// Opens a recording, checking its header.
    pub fn recording(path: &Path) -> Result<Self> {
        let reader = RecordingReader::open(path)?;
        Ok(Self::Recording {
            path: path.to_owned(),
            meta: reader.meta().clone(),
        })
    }

    /// Connects to a broker and checks that the topic exists.
    pub async fn kafka(
        broker: &str,
        topic: &str,
        timeout: Duration,
        schema_dir: Option<&Path>,
    ) -> Result<Self> {
        let schemas = match schema_dir {
            Some(dir) => schemas::load_schema_dir(dir, topic)?,
            None => Vec::new(),
        };
        let topic = KafkaTopic::connect(broker, topic, timeout).await?;
        Ok(Self::Kafka {
            topic: Arc::new(topic),
            schemas,
        })
    }

    /// One line for logs and the hello.
    pub fn describe(&self) -> String {
        match self {
            Self::Recording { path, meta } => {
                format!("recording {} of {}", path.display(), meta.topic)
            }
            Self::Kafka { topic, .. } => {
                format!("kafka {} topic {}", topic.broker(), topic.topic())
            }
        }
    }

    /// Streams this source to one connection until the source ends (a recording) or the
    /// receiver is dropped. A source failure is sent to the client as an `Error` message and
    /// returned.
    pub async fn stream_to(self: Arc<Self>, tx: mpsc::Sender<Vec<u8>>) -> Result<()> {
        let result = match &*self {
            Self::Recording { path, meta } => {
                let (path, meta, tx2) = (path.clone(), meta.clone(), tx.clone());
                let source = self.describe();
                tokio::task::spawn_blocking(move || stream_recording(&path, &meta, source, &tx2))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()).into()))
            }
            Self::Kafka { topic, schemas } => {
                stream_kafka(topic, schemas, self.describe(), &tx).await
            }
        };
        if let Err(e) = &result {
            let message = ServerMessage::Error {
                message: e.to_string(),
            };
            if let Ok(frame) = protocol::encode(&message) {
                let _ = tx.send(frame).await;
            }
        }
        result
    }
}

fn encode(message: &ServerMessage<'_>) -> Result<Vec<u8>> {
    Ok(protocol::encode(message)?)
}

fn stream_recording(
    path: &Path,
    meta: &RecordingMeta,
    source: String,
    tx: &mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    let send = |frame: Vec<u8>| tx.blocking_send(frame).map_err(|_| Closed);
    let reader = RecordingReader::open(path)?;
    let hello = Hello {
        topic: meta.topic.clone(),
        source,
        partitions: meta
            .partitions
            .iter()
            .map(|p| PartitionInfo {
                partition: p.partition,
                low_watermark: p.low_watermark,
                high_watermark: p.high_watermark,
                start_offset: p.low_watermark,
            })
            .collect(),
        schemas: meta.schemas.clone(),
    };
    if send(encode(&ServerMessage::Hello(hello))?).is_err() {
        return Ok(());
    }
    let high_watermarks: BTreeMap<i32, i64> = meta
        .partitions
        .iter()
        .map(|p| (p.partition, p.high_watermark))
        .collect();
    let mut pending: BTreeMap<i32, Vec<StoredRecord>> = BTreeMap::new();
    let mut pending_records = 0;
    let mut pending_bytes = 0;
    let flush = |pending: &mut BTreeMap<i32, Vec<StoredRecord>>| -> Result<Result<(), Closed>> {
        for (partition, records) in pending.iter_mut() {
            let high_watermark = high_watermarks.get(partition).copied().unwrap_or_default();
            for frame in record_frames(*partition, high_watermark, records)? {
                if send(frame).is_err() {
                    return Ok(Err(Closed));
                }
            }
            records.clear();
        }
        Ok(Ok(()))
    };
    for record in reader {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                // Deliver what was read intact before reporting the damage.
                let _ = flush(&mut pending)?;
                return Err(e);
            }
        };
        pending_records += 1;
        pending_bytes += record.value.as_ref().map_or(0, Vec::len);
        pending.entry(record.partition).or_default().push(record);
        if pending_records >= RECORDING_BATCH || pending_bytes >= MAX_FRAME_PAYLOAD {
            if flush(&mut pending)?.is_err() {
                return Ok(());
            }
            pending_records = 0;
            pending_bytes = 0;
        }
    }
    if flush(&mut pending)?.is_err() {
        return Ok(());
    }
    for p in &meta.partitions {
        let caught_up = ServerMessage::CaughtUp {
            partition: p.partition,
            next_offset: p.high_watermark,
        };
        if send(encode(&caught_up)?).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

async fn stream_kafka(
    topic: &KafkaTopic,
    schemas: &[SchemaInfo],
    source: String,
    tx: &mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    let mut partitions = Vec::new();
    let mut infos = Vec::new();
    for &p in topic.partitions() {
        let partition = topic.partition(p).await?;
        let low = partition.low_watermark().await?;
        let first = partition.fetch(low, FETCH_BYTES, Duration::ZERO).await?;
        infos.push(PartitionInfo {
            partition: p,
            low_watermark: low,
            high_watermark: first.high_watermark,
            start_offset: low,
        });
        partitions.push((partition, low, first));
    }
    let hello = Hello {
        topic: topic.topic().to_owned(),
        source,
        partitions: infos,
        schemas: schemas.to_vec(),
    };
    if tx
        .send(encode(&ServerMessage::Hello(hello))?)
        .await
        .is_err()
    {
        return Ok(());
    }
    let mut tails = tokio::task::JoinSet::new();
    for (partition, start, first) in partitions {
        tails.spawn(tail_partition(partition, start, first, tx.clone()));
    }
    // The first partition to fail ends the stream; the others stop with it.
    while let Some(joined) = tails.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(std::io::Error::other(e.to_string()).into()),
        }
    }
    Ok(())
}

/// Sends one partition from `start` on, then tails it until the receiver goes away.
async fn tail_partition(
    partition: KafkaPartition,
    start: i64,
    first: Fetched,
    tx: mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    let initial_high_watermark = first.high_watermark;
    let mut fetched = first;
    let mut next = start;
    let mut caught_up = false;
    loop {
        if let Some(last) = fetched.records.last() {
            next = last.offset + 1;
        }
        for frame in record_frames(
            partition.partition(),
            fetched.high_watermark,
            &fetched.records,
        )? {
            if tx.send(frame).await.is_err() {
                return Ok(());
            }
        }
        if !caught_up && next >= initial_high_watermark {
            caught_up = true;
            let message = ServerMessage::CaughtUp {
                partition: partition.partition(),
                next_offset: next,
            };
            if tx.send(encode(&message)?).await.is_err() {
                return Ok(());
            }
        }
        if tx.is_closed() {
            return Ok(());
        }
        let wait = if next >= fetched.high_watermark {
            TAIL_WAIT
        } else {
            Duration::ZERO
        };
        fetched = partition.fetch(next, FETCH_BYTES, wait).await?;
    }
}
