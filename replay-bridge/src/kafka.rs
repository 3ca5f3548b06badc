//! Kafka access through rskafka, with every broker call bounded in time.
//!
//! rskafka retries forever by default and has no request timeout, so each call here runs under
//! both a retry deadline ([`BackoffConfig::deadline`]) and a hard `tokio` timeout. "End" of a
//! partition is the high watermark of a Fetch response: some brokers (Tansu) answer
//! ListOffsets(latest) with the start of the last batch plus one, which is not the end of the log.
//! [`KafkaConfig`] carries the connection settings (TLS and SASL are handed to rskafka as they
//! are).
//!
//! Connections are shared by the whole process: a [`KafkaCluster`] holds one rskafka [`Client`]
//! (one connection, for metadata) and one [`KafkaPartition`] per partition it was asked for, which
//! every subscription of that partition uses. A broker answers the requests of one connection in
//! order, so a long-polling fetch holds up everything behind it on that connection. A partition
//! therefore keeps prompt requests (probes, offset lookups, fetches of records already there) on
//! one connection that never carries a long poll, and spreads long polls over connections of their
//! own, at most [`POLLS_PER_CONNECTION`] in flight on each, opening another only when all are that
//! busy. N subscriptions of a P-partition topic thus open 1 + P × (1 + ⌈N / 4⌉) connections at most,
//! where each subscription used to open 2 × P of its own. A partition's client is kept while anything holds it;
//! once idle, at most [`IDLE_PARTITIONS_KEPT`] are kept for reuse, the least recently asked for
//! closed first, so that pages subscribing through every topic of a broker do not leave a
//! connection open per partition ever read. A look that must not grow the cache (the topic
//! catalog's probes) uses [`KafkaTopic::partition_once`]: the shared client if open, else one of
//! its own, closed after. (With TLS or SASL, connecting first makes
//! one attempt of its own, closed at once, so that a refused login fails without retries.)

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::{BackoffConfig, record::RecordAndOffset};

use crate::recording::StoredRecord;
use crate::{Error, Result};

/// Bytes asked for by a fetch that only probes (a watermark, a timestamp): Tansu answers a fetch
/// whose byte limit is below one batch only after several seconds.
const PROBE_BYTES: i32 = 64 << 10;

/// The longest wait of a fetch that goes on the prompt connection: a fetch waiting longer is a
/// long poll at the end of the partition.
const PROMPT_WAIT: Duration = Duration::from_millis(100);

/// Long polls in flight on one connection before a partition opens another. A broker answers them
/// one after another, so a poll may wait for this many others first: its time limit allows for it.
pub const POLLS_PER_CONNECTION: usize = 4;

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

/// A partition's client once connected; connecting callers wait on the cell, not on the map.
type OpenedPartition = Arc<tokio::sync::OnceCell<Arc<KafkaPartition>>>;

/// Idle partition clients (held by nothing but the cluster) kept for reuse, at most: when there
/// are more, the least recently asked for are closed. Any page may subscribe to any served topic,
/// so without this bound every partition ever opened would keep its connections open.
pub const IDLE_PARTITIONS_KEPT: usize = 32;

/// A partition in the cluster's cache, and when it was last asked for.
struct CachedPartition {
    cell: OpenedPartition,
    used: Instant,
}

impl CachedPartition {
    /// Nobody is connecting it or holds its client: only the cache.
    fn is_idle(&self) -> bool {
        Arc::strong_count(&self.cell) == 1
            && self.cell.get().is_none_or(|p| Arc::strong_count(p) == 1)
    }
}

/// The idle entries to drop so that at most `keep` idle ones remain: the least recently used.
fn least_recently_used<K: Clone + Ord>(
    entries: impl IntoIterator<Item = (K, bool, Instant)>,
    keep: usize,
) -> Vec<K> {
    let mut idle: Vec<(Instant, K)> = entries
        .into_iter()
        .filter(|(_, idle, _)| *idle)
        .map(|(key, _, used)| (used, key))
        .collect();
    if idle.len() <= keep {
        return Vec::new();
    }
    idle.sort();
    let drop = idle.len() - keep;
    idle.into_iter().take(drop).map(|(_, key)| key).collect()
}

/// A cluster: the one client for metadata, and the partitions opened so far, shared by every
/// subscription (see the module docs).
pub struct KafkaCluster {
    client: Arc<Client>,
    broker: String,
    timeout: Duration,
    /// One cell per partition, so that connecting to one leader never waits for another's; idle
    /// ones bounded by [`IDLE_PARTITIONS_KEPT`].
    partitions: std::sync::Mutex<HashMap<(String, i32), CachedPartition>>,
}

impl KafkaCluster {
    /// Connects. Fails within the timeout if no broker answers.
    pub async fn connect(config: &KafkaConfig) -> Result<Arc<Self>> {
        let client = Self::client(config).await?;
        Ok(Arc::new(Self {
            client: Arc::new(client),
            broker: config.describe(),
            timeout: config.timeout,
            partitions: std::sync::Mutex::new(HashMap::new()),
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
        if config.tls.is_some() || config.sasl.is_some() {
            Self::refused_at_once(config).await?;
        }
        // rskafka gives up a little before the hard limit, so that its last error is what the
        // user reads rather than "no answer" (its deadline counts only the pauses between tries).
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(timeout / 2),
        };
        tokio::time::timeout(timeout, Self::builder(config, backoff).build())
            .await
            .map_err(|_| unreachable("no answer".into()))?
            .map_err(|e| unreachable(e.to_string()))
    }

    fn builder(config: &KafkaConfig, backoff: BackoffConfig) -> ClientBuilder {
        let mut builder = ClientBuilder::new(config.brokers.clone())
            .client_id("streamglass-replay-bridge")
            .backoff_config(backoff);
        if let Some(tls) = &config.tls {
            builder = builder.tls_config(Arc::clone(tls));
        }
        if let Some(sasl) = &config.sasl {
            builder = builder.sasl_config(sasl.clone());
        }
        builder
    }

    /// One connection attempt, without retries: a login the broker refuses or a certificate not
    /// trusted fails at once with its own error, since retrying cannot mend either (rskafka would
    /// retry them until the deadline). Any other failure is left to the retrying connect.
    async fn refused_at_once(config: &KafkaConfig) -> Result<()> {
        let once = BackoffConfig {
            init_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            // The first pause already passes the deadline (rskafka draws pauses from
            // init..init × base, which must not be empty).
            base: 2.0,
            deadline: Some(Duration::ZERO),
        };
        let attempt = tokio::time::timeout(config.timeout, Self::builder(config, once).build());
        let Ok(Err(e)) = attempt.await else {
            return Ok(());
        };
        // rskafka's text wraps the cause in its retry loop's words: keep the cause.
        let text = e.to_string();
        let reason = text.rsplit("Source: ").next().unwrap_or(&text).to_owned();
        let broker = config.describe();
        if reason.contains("Sasl") {
            let mechanism = match &config.sasl {
                Some(SaslConfig::Plain(_)) => "PLAIN",
                Some(SaslConfig::ScramSha256(_)) => "SCRAM-SHA-256",
                Some(SaslConfig::ScramSha512(_)) => "SCRAM-SHA-512",
                _ => "",
            };
            Err(Error::BrokerLogin {
                broker,
                mechanism: mechanism.to_owned(),
                reason,
            })
        } else if reason.to_ascii_lowercase().contains("certificate") {
            Err(Error::BrokerTls { broker, reason })
        } else {
            Ok(())
        }
    }

    /// The brokers, for messages.
    pub fn broker(&self) -> &str {
        &self.broker
    }

    /// Every topic the broker lists, with its partitions (ascending): one metadata request.
    pub async fn list_topics(&self) -> Result<Vec<(String, Vec<i32>)>> {
        let unreachable = |reason: String| Error::BrokerUnreachable {
            broker: self.broker.clone(),
            seconds: self.timeout.as_secs().max(1),
            reason,
        };
        let topics = tokio::time::timeout(self.timeout, self.client.list_topics())
            .await
            .map_err(|_| unreachable("metadata request timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(topics
            .into_iter()
            .map(|t| (t.name, t.partitions.into_iter().collect()))
            .collect())
    }

    /// Looks `topic` up: its partitions, or an error listing the topics that exist.
    pub async fn topic(self: &Arc<Self>, topic: &str) -> Result<KafkaTopic> {
        let topics = self.list_topics().await?;
        let Some((_, partitions)) = topics.iter().find(|(name, _)| name == topic) else {
            let mut names: Vec<&str> = topics.iter().map(|(name, _)| name.as_str()).collect();
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
            partitions: partitions.clone(),
            cluster: Arc::clone(self),
            topic: topic.to_owned(),
        })
    }
}

impl KafkaCluster {
    /// A topic whose partitions a listing ([`KafkaCluster::list_topics`]) gave: no request.
    pub fn listed_topic(self: &Arc<Self>, topic: &str, partitions: &[i32]) -> KafkaTopic {
        KafkaTopic {
            cluster: Arc::clone(self),
            topic: topic.to_owned(),
            partitions: partitions.to_vec(),
        }
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

    /// The client of one partition, shared with every other user of the partition in this
    /// process (see the module docs); opened on first use.
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
        let cell = {
            let mut opened = self.cluster.cached();
            let entry = opened
                .entry((self.topic.clone(), partition))
                .or_insert_with(|| CachedPartition {
                    cell: OpenedPartition::default(),
                    used: Instant::now(),
                });
            entry.used = Instant::now();
            let cell = Arc::clone(&entry.cell);
            let idle = opened.iter().map(|(k, c)| (k.clone(), c.is_idle(), c.used));
            for key in least_recently_used(idle, IDLE_PARTITIONS_KEPT) {
                opened.remove(&key);
            }
            cell
        };
        let opened = cell
            .get_or_try_init(|| async { self.open(partition).await.map(Arc::new) })
            .await?;
        Ok(Arc::clone(opened))
    }

    /// The partition's shared client if one is open, else one of its own, not kept: for a look
    /// that must not grow the cache (the catalog's probes).
    pub async fn partition_once(&self, partition: i32) -> Result<Arc<KafkaPartition>> {
        let open = self
            .cluster
            .cached()
            .get(&(self.topic.clone(), partition))
            .and_then(|c| c.cell.get().cloned());
        match open {
            Some(client) => Ok(client),
            None if self.partitions.contains(&partition) => {
                Ok(Arc::new(self.open(partition).await?))
            }
            None => self.partition(partition).await,
        }
    }

    /// A new client of `partition` (its prompt connection).
    async fn open(&self, partition: i32) -> Result<KafkaPartition> {
        let client = Arc::clone(&self.cluster.client);
        let timeout = self.cluster.timeout;
        let prompt = connect_partition(&client, &self.topic, partition, timeout).await?;
        Ok(KafkaPartition {
            client,
            prompt,
            polls: tokio::sync::Mutex::new(Vec::new()),
            topic: self.topic.clone(),
            partition,
            timeout,
        })
    }
}

impl KafkaCluster {
    fn cached(&self) -> std::sync::MutexGuard<'_, HashMap<(String, i32), CachedPartition>> {
        // A panic while holding the lock leaves only the map: use it as it is.
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A partition client on a connection of its own (rskafka opens one per partition client).
async fn connect_partition(
    client: &Client,
    topic: &str,
    partition: i32,
    timeout: Duration,
) -> Result<PartitionClient> {
    let call = client.partition_client(topic.to_owned(), partition, UnknownTopicHandling::Error);
    bounded(topic, partition, "connect", timeout, call).await
}

/// A connection carrying long polls, and how many are in flight on it.
struct PollConnection {
    client: PartitionClient,
    in_flight: AtomicUsize,
}

/// A long poll's place on a connection, given back when the poll ends (or is dropped).
struct PollSlot(Arc<PollConnection>);

impl Drop for PollSlot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One partition of a topic, shared by everything in the process that reads it.
pub struct KafkaPartition {
    client: Arc<Client>,
    /// Probes, offset lookups and fetches that expect records: never behind a long poll.
    prompt: PartitionClient,
    /// Long polls, at most [`POLLS_PER_CONNECTION`] in flight on each.
    polls: tokio::sync::Mutex<Vec<Arc<PollConnection>>>,
    topic: String,
    partition: i32,
    timeout: Duration,
}

impl KafkaPartition {
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// A place for one long poll: on the least busy poll connection, or on a new one when every
    /// connection already carries [`POLLS_PER_CONNECTION`].
    async fn poll_slot(&self) -> Result<PollSlot> {
        let mut connections = self.polls.lock().await;
        let least = connections
            .iter()
            .min_by_key(|c| c.in_flight.load(Ordering::Acquire))
            .filter(|c| c.in_flight.load(Ordering::Acquire) < POLLS_PER_CONNECTION)
            .cloned();
        let connection = match least {
            Some(connection) => connection,
            None => {
                let client =
                    connect_partition(&self.client, &self.topic, self.partition, self.timeout)
                        .await?;
                let connection = Arc::new(PollConnection {
                    client,
                    in_flight: AtomicUsize::new(0),
                });
                connections.push(Arc::clone(&connection));
                connection
            }
        };
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        Ok(PollSlot(connection))
    }

    /// The first offset still stored.
    pub async fn low_watermark(&self) -> Result<i64> {
        self.bounded("list offsets", self.prompt.get_offset(OffsetAt::Earliest))
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
                self.prompt.get_offset(OffsetAt::Timestamp(at)),
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
        let max_wait = max_wait.max(PROMPT_WAIT);
        let wait_ms = i32::try_from(max_wait.as_millis()).unwrap_or(i32::MAX);
        let bytes = 1..max_bytes.max(2);
        let (records, high_watermark) = if max_wait <= PROMPT_WAIT {
            let call = self.prompt.fetch_records(offset, bytes, wait_ms);
            self.bounded_for("fetch", self.timeout + max_wait, call)
                .await?
        } else {
            // Behind at most POLLS_PER_CONNECTION - 1 other polls of the same connection.
            let slot = self.poll_slot().await?;
            let queued = max_wait * POLLS_PER_CONNECTION as u32;
            let call = slot.0.client.fetch_records(offset, bytes, wait_ms);
            self.bounded_for("fetch", self.timeout + queued, call)
                .await?
        };
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
        let (low, fetched) = self.watermarks_and_records().await?;
        Ok((low, fetched.high_watermark.max(low)))
    }

    /// The low watermark, and the fetch from it that gave the high one, with the records it
    /// returned (two round trips: a fetch that waits 0 ms may answer with no topic at all).
    pub async fn watermarks_and_records(&self) -> Result<(i64, Fetched)> {
        let low = self.low_watermark().await?;
        let fetched = self
            .fetch(low, PROBE_BYTES, Duration::from_millis(100))
            .await?;
        Ok((low, fetched))
    }

    /// Produces records (used by tests and tools; the bridge itself only reads).
    pub async fn produce(&self, records: Vec<rskafka::record::Record>) -> Result<Vec<i64>> {
        self.bounded(
            "produce",
            self.prompt.produce(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_least_recently_used_idle_partitions_beyond_the_bound_are_closed() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // (key, idle, last used): 1 and 4 are in use, however old.
        let entries = [
            (1, false, at(0)),
            (2, true, at(3)),
            (3, true, at(1)),
            (4, false, at(2)),
            (5, true, at(5)),
            (6, true, at(4)),
        ];
        assert_eq!(least_recently_used(entries, 2), [3, 2]);
        assert_eq!(least_recently_used(entries, 4), Vec::<i32>::new());
        assert_eq!(least_recently_used(entries, 0), [3, 2, 6, 5]);
    }
}
