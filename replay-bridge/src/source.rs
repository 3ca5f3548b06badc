//! Sources: where records come from, opened once when the bridge starts.
//!
//! A [`Source`] is a recording or a Kafka cluster with the topics the bridge may serve. Opening
//! checks everything that can be checked up front (the recording's header; the broker answers and
//! every topic `--topic` names exists; the schema directory parses, or the schema registry
//! answers), so a bad start fails with one clear line.
//! Each subscription then runs against the source ([`crate::subscription`]); the source itself
//! holds no per-client state. Invariant: only the recording's topic, or a topic of the broker
//! that `--topic` admits ([`crate::served`]), can be subscribed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Result;
use crate::blocks::BlockStore;
use crate::kafka::{KafkaCluster, KafkaConfig};
use crate::live::{LiveClock, LivePoint};
use crate::pace::Pace;
use crate::recording::{BlockIndex, RecordingMeta, RecordingReader};
use crate::schemas::SchemaSource;
use crate::served::{self, ServedTopics, TopicFilter};

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
    /// Where each block starts, built when the recording was opened.
    index: BlockIndex,
    /// The file's blocks, read by position and shared by every replay.
    blocks: Arc<BlockStore>,
}

impl RecordingSource {
    /// Reads every block of `path` once: its index, and the check that the file holds what its
    /// header says (a file cut short or altered is refused here, before anyone subscribes).
    fn open(path: &Path, pace: Pace) -> Result<Self> {
        let meta = RecordingReader::open(path)?.meta().clone();
        let index = BlockIndex::build(path)?;
        Ok(Self {
            path: path.to_owned(),
            meta,
            pace,
            live: None,
            index,
            blocks: Arc::new(BlockStore::open(path)?),
        })
    }

    /// The recording's blocks.
    pub fn blocks(&self) -> Arc<BlockStore> {
        Arc::clone(&self.blocks)
    }

    /// The recording's block index. (Always there: it is built when the recording is opened.)
    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    /// Why the recording stopped before its end, when it did (`record` interrupted): each of its
    /// partitions then ends at its last record, short of the broker's high watermark.
    pub fn stopped_early(&self) -> Option<&str> {
        self.meta.stopped_early.as_deref()
    }
}

/// A cluster and the topics that may be subscribed.
pub struct KafkaSource {
    pub cluster: Arc<KafkaCluster>,
    /// The topics served: the broker's, as `--topic` filters them.
    pub served: ServedTopics,
    pub schemas: SchemaSource,
}

impl Source {
    /// Opens a recording, checking its header; replayed as fast as clients take it.
    pub fn recording(path: &Path) -> Result<Self> {
        Self::recording_at(path, Pace::Max)
    }

    /// Opens a recording replayed at `pace`. Reads the whole file once.
    pub fn recording_at(path: &Path, pace: Pace) -> Result<Self> {
        RecordingSource::open(path, pace).map(Self::Recording)
    }

    /// Opens a recording replayed as live from `point` at `speed` times the recorded pace (see
    /// [`crate::live`]). Reads the whole file twice; the clock starts when this returns.
    pub fn recording_live(path: &Path, point: LivePoint, speed: f64) -> Result<Self> {
        let mut recording = RecordingSource::open(path, Pace::Max)?;
        recording.live = Some(LiveClock::start(path, &recording.meta, point, speed)?);
        Ok(Self::Recording(recording))
    }

    /// Connects to a cluster and serves the topics `topics` admits ([`TopicFilter`]: names and
    /// glob patterns; none: every topic but internal ones). Every topic named literally must
    /// exist.
    pub async fn kafka(
        config: &KafkaConfig,
        topics: &[String],
        schemas: SchemaSource,
    ) -> Result<Self> {
        let filter = TopicFilter::new(topics)?;
        let cluster = KafkaCluster::connect(config).await?;
        let served = ServedTopics::open(Arc::clone(&cluster), filter).await?;
        // A schema directory that does not parse, or a registry that does not answer, fails the
        // start rather than every subscription later (and the registry's cache is warm).
        let mut checked: Vec<String> = served.filter().names().to_vec();
        if checked.is_empty() {
            let listed = served.list(served::LISTING_TTL).await?;
            checked.extend(listed.first().map(|(t, _)| t.clone()));
            if listed.is_empty() {
                tracing::warn!(
                    "{} matches no topic on {} yet",
                    served.filter().describe(),
                    cluster.broker()
                );
            }
        }
        for topic in &checked {
            schemas.for_topic(topic).await?;
        }
        Ok(Self::Kafka(KafkaSource {
            cluster,
            served,
            schemas,
        }))
    }

    /// One line for logs and the hello.
    pub fn describe(&self) -> String {
        match self {
            Self::Recording(r) => {
                let mut line = format!("recording {} of {}", r.path.display(), r.meta.topic);
                if r.stopped_early().is_some() {
                    line.push_str(" (stopped early)");
                }
                if let Some(live) = &r.live {
                    line = format!("{line}, {}", live.describe());
                }
                line
            }
            Self::Kafka(k) => format!(
                "kafka {} {}",
                k.cluster.broker(),
                k.served.filter().describe()
            ),
        }
    }
}
