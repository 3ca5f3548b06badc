//! Kafka access through rskafka, with every broker call bounded in time.
//!
//! rskafka retries forever by default and has no request timeout, so each call here runs under
//! both a retry deadline ([`BackoffConfig::deadline`]) and a hard `tokio` timeout. "End" of a
//! partition is the high watermark of a Fetch response: some brokers (Tansu) answer
//! ListOffsets(latest) with the start of the last batch plus one, which is not the end of the log.
//! [`KafkaConfig`] carries the connection settings (TLS and SASL are handed to rskafka as they
//! are); one client serves every topic and subscription of the bridge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::{BackoffConfig, record::RecordAndOffset};

use crate::recording::StoredRecord;
use crate::{Error, Result};

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

/// One client for a cluster, shared by every topic and subscription.
pub struct KafkaCluster {
    client: Client,
    broker: String,
    timeout: Duration,
    partitions: Mutex<HashMap<(String, i32), Arc<KafkaPartition>>>,
}

impl KafkaCluster {
    /// Connects. Fails within the timeout if no broker answers.
    pub async fn connect(config: &KafkaConfig) -> Result<Arc<Self>> {
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
        let client = tokio::time::timeout(timeout, builder.build())
            .await
            .map_err(|_| unreachable("no answer".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Arc::new(Self {
            client,
            broker,
            timeout,
            partitions: Mutex::new(HashMap::new()),
        }))
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

    /// A client for one partition, shared with every other user of that partition.
    pub async fn partition(&self, partition: i32) -> Result<Arc<KafkaPartition>> {
        let key = (self.topic.clone(), partition);
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        let timeout = self.cluster.timeout;
        let call = self.cluster.client.partition_client(
            self.topic.clone(),
            partition,
            UnknownTopicHandling::Error,
        );
        let client = bounded(&self.topic, partition, "connect", timeout, call).await?;
        let made = Arc::new(KafkaPartition {
            client,
            topic: self.topic.clone(),
            partition,
            timeout,
        });
        if let Ok(mut cache) = self.cluster.partitions.lock() {
            cache.insert(key, Arc::clone(&made));
        }
        Ok(made)
    }

    fn cached(&self, key: &(String, i32)) -> Option<Arc<KafkaPartition>> {
        self.cluster.partitions.lock().ok()?.get(key).cloned()
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

    /// The first offset whose record was written at or after `timestamp_ms`, or `None` when no
    /// record is that recent.
    pub async fn offset_at_time(&self, timestamp_ms: i64) -> Result<Option<i64>> {
        let at = chrono::DateTime::from_timestamp_millis(timestamp_ms).ok_or_else(|| {
            Error::InvalidArgument(format!("timestamp {timestamp_ms} ms is out of range"))
        })?;
        let offset = self
            .bounded(
                "list offsets by time",
                self.client.get_offset(OffsetAt::Timestamp(at)),
            )
            .await?;
        Ok((offset >= 0).then_some(offset))
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
            .fetch(low, 1, Duration::from_millis(100))
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
