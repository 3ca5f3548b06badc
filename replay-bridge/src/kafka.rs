//! Kafka access through rskafka, with every broker call bounded in time.
//!
//! rskafka retries forever by default and has no request timeout, so each call here runs under
//! both a retry deadline ([`BackoffConfig::deadline`]) and a hard `tokio` timeout. "End" of a
//! partition is the high watermark of a Fetch response: some brokers (Tansu) answer
//! ListOffsets(latest) with the start of the last batch plus one, which is not the end of the log.

use std::sync::Arc;
use std::time::Duration;

use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::{BackoffConfig, record::RecordAndOffset};

use crate::recording::StoredRecord;
use crate::{Error, Result};

/// Records fetched from one partition, and the partition's high watermark at that moment.
#[derive(Debug, Default)]
pub struct Fetched {
    pub records: Vec<StoredRecord>,
    pub high_watermark: i64,
}

/// A connection to one topic on one cluster.
pub struct KafkaTopic {
    client: Arc<Client>,
    broker: String,
    topic: String,
    partitions: Vec<i32>,
    timeout: Duration,
}

impl KafkaTopic {
    /// Connects to `broker` and looks `topic` up. Fails within `timeout` if the broker cannot be
    /// reached, and at once if the topic does not exist.
    pub async fn connect(broker: &str, topic: &str, timeout: Duration) -> Result<Self> {
        let unreachable = |reason: String| Error::BrokerUnreachable {
            broker: broker.to_owned(),
            seconds: timeout.as_secs().max(1),
            reason,
        };
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(timeout),
        };
        let build = ClientBuilder::new(vec![broker.to_owned()])
            .client_id("streamglass-replay-bridge")
            .backoff_config(backoff)
            .build();
        let client = tokio::time::timeout(timeout, build)
            .await
            .map_err(|_| unreachable("no answer".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let topics = tokio::time::timeout(timeout, client.list_topics())
            .await
            .map_err(|_| unreachable("metadata request timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let Some(found) = topics.iter().find(|t| t.name == topic) else {
            let mut names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
            names.sort_unstable();
            return Err(Error::UnknownTopic {
                topic: topic.to_owned(),
                broker: broker.to_owned(),
                available: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            });
        };
        Ok(Self {
            partitions: found.partitions.iter().copied().collect(),
            client: Arc::new(client),
            broker: broker.to_owned(),
            topic: topic.to_owned(),
            timeout,
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn broker(&self) -> &str {
        &self.broker
    }

    /// The topic's partitions, ascending.
    pub fn partitions(&self) -> &[i32] {
        &self.partitions
    }

    /// A client for one partition.
    pub async fn partition(&self, partition: i32) -> Result<KafkaPartition> {
        let call = self.client.partition_client(
            self.topic.clone(),
            partition,
            UnknownTopicHandling::Error,
        );
        let client = bounded(&self.topic, partition, "connect", self.timeout, call).await?;
        Ok(KafkaPartition {
            client,
            topic: self.topic.clone(),
            partition,
            timeout: self.timeout,
        })
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
        let low = self.low_watermark().await?;
        Ok(self
            .fetch(low, 1, Duration::from_millis(100))
            .await?
            .high_watermark)
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
