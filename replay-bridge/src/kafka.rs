//! Kafka access through rskafka, with every broker call bounded in time.
//!
//! rskafka retries forever by default and has no request timeout, so each call here runs under
//! both a retry deadline ([`BackoffConfig::deadline`]) and a hard `tokio` timeout. "End" of a
//! partition is the high watermark of a Fetch response: some brokers (Tansu) answer
//! ListOffsets(latest) with the start of the last batch plus one, which is not the end of the log.
//! [`KafkaConfig`] carries the connection settings (TLS and SASL are handed to rskafka as they
//! are). A broker answers the requests of one connection in order, so a long-polling fetch holds
//! up everything behind it on that connection: each [`KafkaPartition`] therefore gets a client
//! (a connection) of its own, and partitions tail concurrently.

use std::sync::Arc;
use std::time::Duration;

use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::{BackoffConfig, record::RecordAndOffset};

use crate::recording::StoredRecord;
use crate::{Error, Result};

/// Bytes asked for by a fetch that only probes (a watermark, a timestamp): Tansu answers a fetch
/// whose byte limit is below one batch only after several seconds.
const PROBE_BYTES: i32 = 64 << 10;

/// Records fetched from one partition, and the partition's high watermark at that moment.
#[derive(Debug, Default)]
pub struct Fetched {
    pub records: Vec<StoredRecord>,
    pub high_watermark: i64,
}

/// How to reach a cluster.
#[derive(Clone)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `HOST:PORT`.
    pub brokers: Vec<String>,
    /// The bound on every broker call.
    pub timeout: Duration,
    /// TLS to the brokers, when set.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// SASL authentication, when set.
    pub sasl: Option<SaslConfig>,
}

/// A SASL mechanism the bridge passes to rskafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
}

impl std::str::FromStr for SaslMechanism {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_uppercase().replace('_', "-").as_str() {
            "PLAIN" => Ok(Self::Plain),
            "SCRAM-SHA-256" => Ok(Self::ScramSha256),
            "SCRAM-SHA-512" => Ok(Self::ScramSha512),
            _ => Err(Error::InvalidArgument(format!(
                "SASL mechanism {text:?}: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            ))),
        }
    }
}

impl SaslMechanism {
    /// The rskafka configuration for these credentials.
    pub fn config(self, username: String, password: String) -> SaslConfig {
        let credentials = Credentials::new(username, password);
        match self {
            Self::Plain => SaslConfig::Plain(credentials),
            Self::ScramSha256 => SaslConfig::ScramSha256(credentials),
            Self::ScramSha512 => SaslConfig::ScramSha512(credentials),
        }
    }
}

impl KafkaConfig {
    /// A plaintext, unauthenticated connection to `broker`.
    pub fn new(broker: &str, timeout: Duration) -> Self {
        Self {
            brokers: broker
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
            timeout: timeout.max(Duration::from_millis(100)),
            tls: None,
            sasl: None,
        }
    }

    fn describe(&self) -> String {
        self.brokers.join(",")
    }
}

/// A cluster: a client for metadata, and the settings to open more.
pub struct KafkaCluster {
    client: Client,
    config: KafkaConfig,
    broker: String,
    timeout: Duration,
}

impl KafkaCluster {
    /// Connects. Fails within the timeout if no broker answers.
    pub async fn connect(config: &KafkaConfig) -> Result<Arc<Self>> {
        let client = Self::client(config).await?;
        Ok(Arc::new(Self {
            client,
            config: config.clone(),
            broker: config.describe(),
            timeout: config.timeout,
        }))
    }

    async fn client(config: &KafkaConfig) -> Result<Client> {
        let broker = config.describe();
        let timeout = config.timeout;
        let unreachable = |reason: String| Error::BrokerUnreachable {
            broker: broker.clone(),
            seconds: timeout.as_secs().max(1),
            reason,
        };
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(timeout),
        };
        let mut builder = ClientBuilder::new(config.brokers.clone())
            .client_id("streamglass-replay-bridge")
            .backoff_config(backoff);
        if let Some(tls) = &config.tls {
            builder = builder.tls_config(Arc::clone(tls));
        }
        if let Some(sasl) = &config.sasl {
            builder = builder.sasl_config(sasl.clone());
        }
        tokio::time::timeout(timeout, builder.build())
            .await
            .map_err(|_| unreachable("no answer".into()))?
            .map_err(|e| unreachable(e.to_string()))
    }

    /// The brokers, for messages.
    pub fn broker(&self) -> &str {
        &self.broker
    }

    /// Looks `topic` up: its partitions, or an error listing the topics that exist.
    pub async fn topic(self: &Arc<Self>, topic: &str) -> Result<KafkaTopic> {
        let unreachable = |reason: String| Error::BrokerUnreachable {
            broker: self.broker.clone(),
            seconds: self.timeout.as_secs().max(1),
            reason,
        };
        let topics = tokio::time::timeout(self.timeout, self.client.list_topics())
            .await
            .map_err(|_| unreachable("metadata request timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let Some(found) = topics.iter().find(|t| t.name == topic) else {
            let mut names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            return Err(Error::UnknownTopic {
                topic: topic.to_owned(),
                broker: self.broker.clone(),
                available: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            });
        };
        Ok(KafkaTopic {
            partitions: found.partitions.iter().copied().collect(),
            cluster: Arc::clone(self),
            topic: topic.to_owned(),
        })
    }
}

/// One topic of a cluster, with its partitions as last looked up.
pub struct KafkaTopic {
    cluster: Arc<KafkaCluster>,
    topic: String,
    partitions: Vec<i32>,
}

impl KafkaTopic {
    /// Connects to the cluster and looks `topic` up. Fails within the timeout if the broker
    /// cannot be reached, and at once if the topic does not exist.
    pub async fn connect(config: &KafkaConfig, topic: &str) -> Result<Self> {
        KafkaCluster::connect(config).await?.topic(topic).await
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn broker(&self) -> &str {
        &self.cluster.broker
    }

    /// The topic's partitions, ascending.
    pub fn partitions(&self) -> &[i32] {
        &self.partitions
    }

    /// A client for one partition, on a connection of its own (see the module docs).
    pub async fn partition(&self, partition: i32) -> Result<Arc<KafkaPartition>> {
        if !self.partitions.contains(&partition) {
            return Err(Error::UnknownPartition {
                topic: self.topic.clone(),
                partition,
                available: self
                    .partitions
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let timeout = self.cluster.timeout;
        let own = KafkaCluster::client(&self.cluster.config).await?;
        let call = own.partition_client(self.topic.clone(), partition, UnknownTopicHandling::Error);
        let client = bounded(&self.topic, partition, "connect", timeout, call).await?;
        Ok(Arc::new(KafkaPartition {
            client,
            topic: self.topic.clone(),
            partition,
            timeout,
        }))
    }
}

/// One partition of a topic.
pub struct KafkaPartition {
    client: PartitionClient,
    topic: String,
    partition: i32,
    timeout: Duration,
}

impl KafkaPartition {
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The first offset still stored.
    pub async fn low_watermark(&self) -> Result<i64> {
        self.bounded("list offsets", self.client.get_offset(OffsetAt::Earliest))
            .await
    }

    /// The first offset whose record has a timestamp at or after `timestamp_ms`, or `None` when no
    /// record is that recent. The broker's answer to ListOffsets(time) is checked against the
    /// records around it; when it does not hold (Tansu compares its own write times), the offset
    /// is found by a binary search over fetches instead.
    pub async fn offset_at_time(&self, timestamp_ms: i64) -> Result<Option<i64>> {
        let at = chrono::DateTime::from_timestamp_millis(timestamp_ms).ok_or_else(|| {
            Error::InvalidArgument(format!("timestamp {timestamp_ms} ms is out of range"))
        })?;
        let (low, high) = self.watermarks().await?;
        let listed = self
            .bounded(
                "list offsets by time",
                self.client.get_offset(OffsetAt::Timestamp(at)),
            )
            .await?;
        let candidate = if (low..=high).contains(&listed) {
            listed
        } else {
            high
        };
        if self.is_first_at(candidate, timestamp_ms, low, high).await? {
            return Ok((candidate < high).then_some(candidate));
        }
        let found = self.search_time(timestamp_ms, low, high).await?;
        Ok((found < high).then_some(found))
    }

    /// The first record at or after `offset`, if one is below `high`.
    async fn first_from(&self, offset: i64, high: i64) -> Result<Option<(i64, i64)>> {
        if offset >= high {
            return Ok(None);
        }
        let fetched = self
            .fetch(offset, PROBE_BYTES, Duration::from_millis(100))
            .await?;
        Ok(fetched
            .records
            .first()
            .filter(|r| r.offset < high)
            .map(|r| (r.offset, r.timestamp_ms)))
    }

    /// Whether `offset` is where records reach `timestamp_ms`: the record there (or the end) is at
    /// or after it, and the one before is earlier.
    async fn is_first_at(
        &self,
        offset: i64,
        timestamp_ms: i64,
        low: i64,
        high: i64,
    ) -> Result<bool> {
        let here_ok = match self.first_from(offset, high).await? {
            Some((_, ts)) => ts >= timestamp_ms,
            None => true,
        };
        if !here_ok {
            return Ok(false);
        }
        if offset <= low {
            return Ok(true);
        }
        // The record just before: fetch from a little earlier and take the last below `offset`.
        let from = (offset - 1).max(low);
        Ok(match self.first_from(from, offset).await? {
            Some((_, ts)) => ts < timestamp_ms,
            None => true,
        })
    }

    /// Binary search for the first offset whose record is at or after `timestamp_ms`, assuming
    /// timestamps rise with offsets (as Kafka's time index does); `high` when none is.
    async fn search_time(&self, timestamp_ms: i64, low: i64, high: i64) -> Result<i64> {
        let (mut lo, mut hi) = (low, high);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.first_from(mid, hi).await? {
                Some((_, ts)) if ts >= timestamp_ms => hi = mid,
                Some((offset, _)) => lo = offset + 1,
                None => hi = mid,
            }
        }
        Ok(lo)
    }

    /// Fetches records from `offset` on, up to about `max_bytes`, waiting up to `max_wait` for
    /// data when there is none yet. `max_wait` is at least 100 ms: some brokers answer a fetch
    /// with no wait at all with an empty response.
    pub async fn fetch(&self, offset: i64, max_bytes: i32, max_wait: Duration) -> Result<Fetched> {
        let wait_ms = i32::try_from(max_wait.as_millis())
            .unwrap_or(i32::MAX)
            .max(100);
        let (records, high_watermark) = self
            .bounded_for(
                "fetch",
                self.timeout + max_wait,
                self.client
                    .fetch_records(offset, 1..max_bytes.max(2), wait_ms),
            )
            .await?;
        Ok(Fetched {
            records: records
                .into_iter()
                .filter(|r| r.offset >= offset)
                .map(|r| to_stored(self.partition, r))
                .collect(),
            high_watermark,
        })
    }

    /// The partition's current high watermark: one past the last offset written.
    pub async fn high_watermark(&self) -> Result<i64> {
        Ok(self.watermarks().await?.1)
    }

    /// The low and high watermarks. The high one comes from a fetch of at most one batch (Tansu's
    /// ListOffsets(latest) is not the end of the log).
    pub async fn watermarks(&self) -> Result<(i64, i64)> {
        let low = self.low_watermark().await?;
        let high = self
            .fetch(low, PROBE_BYTES, Duration::from_millis(100))
            .await?
            .high_watermark;
        Ok((low, high.max(low)))
    }

    /// Produces records (used by tests and tools; the bridge itself only reads).
    pub async fn produce(&self, records: Vec<rskafka::record::Record>) -> Result<Vec<i64>> {
        self.bounded(
            "produce",
            self.client.produce(
                records,
                rskafka::client::partition::Compression::NoCompression,
            ),
        )
        .await
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = rskafka::client::error::Result<T>>,
    ) -> Result<T> {
        bounded(&self.topic, self.partition, operation, self.timeout, call).await
    }

    async fn bounded_for<T>(
        &self,
        operation: &'static str,
        limit: Duration,
        call: impl Future<Output = rskafka::client::error::Result<T>>,
    ) -> Result<T> {
        bounded(&self.topic, self.partition, operation, limit, call).await
    }
}

/// Runs one broker call under a hard time limit, turning failures into errors with context.
async fn bounded<T>(
    topic: &str,
    partition: i32,
    operation: &'static str,
    limit: Duration,
    call: impl Future<Output = rskafka::client::error::Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, call).await {
        Err(_) => Err(Error::KafkaTimeout {
            operation,
            topic: topic.to_owned(),
            partition,
            seconds: limit.as_secs().max(1),
        }),
        Ok(Err(e)) => Err(Error::Kafka {
            operation,
            topic: topic.to_owned(),
            partition,
            reason: e.to_string(),
        }),
        Ok(Ok(value)) => Ok(value),
    }
}

fn to_stored(partition: i32, r: RecordAndOffset) -> StoredRecord {
    StoredRecord {
        partition,
        offset: r.offset,
        timestamp_ms: r.record.timestamp.timestamp_millis(),
        key: r.record.key,
        value: r.record.value,
        headers: r
            .record
            .headers
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect(),
    }
}
