//! Sources: where records come from, opened once when the bridge starts.
//!
//! A [`Source`] is a recording or a Kafka cluster with the topics the bridge may serve. Opening
//! checks everything that can be checked up front (the recording's header; the broker answers and
//! every `--topic` exists; the schema directory parses, or the schema registry answers), so a bad
//! start fails with one clear line.
//! Each subscription then runs against the source ([`crate::subscription`]); the source itself
//! holds no per-client state. Invariant: only the topics named when it was opened can be
//! subscribed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::kafka::{KafkaCluster, KafkaConfig};
use crate::live::{LiveClock, LivePoint};
use crate::pace::Pace;
use crate::recording::{BlockIndex, RecordingMeta, RecordingReader};
use crate::schemas::SchemaSource;
use crate::{Error, Result};

/// Where the records come from.
pub enum Source {
    Recording(RecordingSource),
    Kafka(KafkaSource),
}

/// A recording file, replayed at a pace, or as live by the server's clock.
pub struct RecordingSource {
    pub path: PathBuf,
    pub meta: RecordingMeta,
    pub pace: Pace,
    /// `--live-from`: the recording's "now" and the clock that releases what follows it.
    pub live: Option<LiveClock>,
    /// Where each block starts, built by the first replay that needs it (`None`: the file could
    /// not be indexed, and replays read it from the start, where they meet the damage).
    index: OnceLock<Option<BlockIndex>>,
}

impl RecordingSource {
    /// The recording's block index, built on first use.
    pub fn index(&self) -> Option<&BlockIndex> {
        self.index
            .get_or_init(|| match BlockIndex::build(&self.path) {
                Ok(index) => Some(index),
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "the recording could not be indexed");
                    None
                }
            })
            .as_ref()
    }
}

/// A cluster and the topics that may be subscribed.
pub struct KafkaSource {
    pub cluster: Arc<KafkaCluster>,
    pub topics: Vec<String>,
    pub schemas: SchemaSource,
}

impl Source {
    /// Opens a recording, checking its header; replayed as fast as clients take it.
    pub fn recording(path: &Path) -> Result<Self> {
        Self::recording_at(path, Pace::Max)
    }

    /// Opens a recording replayed at `pace`.
    pub fn recording_at(path: &Path, pace: Pace) -> Result<Self> {
        let reader = RecordingReader::open(path)?;
        Ok(Self::Recording(RecordingSource {
            path: path.to_owned(),
            meta: reader.meta().clone(),
            pace,
            live: None,
            index: OnceLock::new(),
        }))
    }

    /// Opens a recording replayed as live from `point` at `speed` times the recorded pace (see
    /// [`crate::live`]). Reads the whole file once; the clock starts when this returns.
    pub fn recording_live(path: &Path, point: LivePoint, speed: f64) -> Result<Self> {
        let reader = RecordingReader::open(path)?;
        let meta = reader.meta().clone();
        let live = LiveClock::start(path, &meta, point, speed)?;
        Ok(Self::Recording(RecordingSource {
            path: path.to_owned(),
            meta,
            pace: Pace::Max,
            live: Some(live),
            index: OnceLock::new(),
        }))
    }

    /// Connects to a cluster and checks that every topic exists.
    pub async fn kafka(
        config: &KafkaConfig,
        topics: &[String],
        schemas: SchemaSource,
    ) -> Result<Self> {
        if topics.is_empty() {
            return Err(Error::InvalidArgument("give at least one --topic".into()));
        }
        let cluster = KafkaCluster::connect(config).await?;
        for topic in topics {
            cluster.topic(topic).await?;
            // A schema directory that does not parse, or a registry that does not answer, fails
            // the start rather than every subscription later (and the registry's cache is warm).
            schemas.for_topic(topic).await?;
        }
        Ok(Self::Kafka(KafkaSource {
            cluster,
            topics: topics.to_vec(),
            schemas,
        }))
    }

    /// One line for logs and the hello.
    pub fn describe(&self) -> String {
        match self {
            Self::Recording(r) => match &r.live {
                Some(live) => format!(
                    "recording {} of {}, {}",
                    r.path.display(),
                    r.meta.topic,
                    live.describe()
                ),
                None => format!("recording {} of {}", r.path.display(), r.meta.topic),
            },
            Self::Kafka(k) => format!("kafka {} topic {}", k.cluster.broker(), k.topics.join(",")),
        }
    }
}
