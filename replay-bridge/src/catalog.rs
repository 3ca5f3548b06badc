//! `GET /topics`: what a source holds, topic by topic: partitions and their low and high
//! watermarks, the records stored, a records/s estimate, and the formats of keys and values.
//!
//! Formats come from the schema registry when it has subjects for the topic (`<topic>-value`,
//! `<topic>-key`, TopicRecordNameStrategy's `<topic>-<record name>`), with their schema types;
//! else they are sniffed from the newest records of each partition ([`crate::sniff`]), a framed
//! value's schema id then asked of the registry for its type. The rate is the growth of the high
//! watermarks between the last two answers, at least a second apart (none until then). A
//! recording's one topic comes from its header (and its live clock, replayed as live): its
//! values are Avro with the header's schemas, its keys are not sniffed.
//!
//! Bounds, since any page may ask: an answer, or a failure, is kept for [`FACTS_TTL`] and served
//! to every request meanwhile; one refresh per source runs at a time (requests during it wait for
//! it and share its one result, [`crate::refreshed`]); a refresh probes at most [`MAX_PROBED_PARTITIONS`] partitions (the rest are listed
//! without watermarks, and the answer says `truncated`), [`PROBES_AT_ONCE`] at a time, asks the
//! registry about as many topics at a time (through its cache, [`crate::registry`]), and gives up
//! after [`REFRESH_DEADLINE`]. A broker partition probed uses its shared client if a subscription
//! has it open, else a client of its own closed after the probe, so that probing every
//! partition does not fill the cluster's cache of clients ([`crate::kafka`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use crate::kafka::KafkaCluster;
use crate::refreshed::Refreshed;
use crate::registry::TopicSubject;
use crate::schemas::SchemaSource;
use crate::sniff::{self, Sniffed, Sniffer};
use crate::source::{KafkaSource, RecordingSource, Source};
use crate::{Error, Result, served};

/// How long an answer is served before the source is asked again.
pub const FACTS_TTL: Duration = Duration::from_secs(5);
/// Partitions a refresh probes for watermarks and samples, at most.
pub const MAX_PROBED_PARTITIONS: usize = 256;
/// Partitions probed at once.
pub const PROBES_AT_ONCE: usize = 8;
/// The longest a refresh may take.
pub const REFRESH_DEADLINE: Duration = Duration::from_secs(30);
/// Time past [`REFRESH_DEADLINE`] for answering what was found by then.
const LISTING_GRACE: Duration = Duration::from_secs(5);
/// The newest records of each partition whose keys and values are sniffed.
const SAMPLES_PER_PARTITION: i64 = 4;
/// Samples of a topic sniffed, at most.
const SAMPLES_PER_TOPIC: usize = 16;
/// Bytes a sample fetch asks for (the broker may still answer one whole batch).
const SAMPLE_BYTES: i32 = 64 << 10;

/// The answer to `GET /topics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicsAnswer {
    /// The source's name (`kafka`, `recording`).
    pub source: String,
    pub description: String,
    pub topics: Vec<TopicFacts>,
    /// More partitions than [`MAX_PROBED_PARTITIONS`]: the later topics have no watermarks.
    pub truncated: bool,
    /// When the facts were gathered, in epoch ms.
    pub measured_at_ms: i64,
}

/// One topic's facts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicFacts {
    pub topic: String,
    pub partitions: Vec<PartitionFacts>,
    /// Records stored: the sum of high minus low watermarks (none if a partition was not probed).
    pub records: Option<i64>,
    /// Records written per second lately (see the module docs).
    pub records_per_second: Option<f64>,
    pub value: FormatFacts,
    pub key: FormatFacts,
    /// What went wrong probing the topic, if anything did.
    pub error: Option<String>,
}

/// One partition's watermarks, when probed.
#[derive(Debug, Serialize)]
pub struct PartitionFacts {
    pub partition: i32,
    pub low: Option<i64>,
    pub high: Option<i64>,
}

/// The format of a topic's keys or values.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatFacts {
    /// `avro`, `json`, `protobuf`, `string`, `binary`, `confluent` (framed, type not known),
    /// `none` (every record sampled had none) or `unknown` (no record).
    pub format: &'static str,
    /// `registry` (its subjects), `records` (sniffed) or `recording` (its header).
    pub from: &'static str,
    /// The registry subjects, with their latest version's id and type.
    pub subjects: Vec<TopicSubject>,
    /// The schema ids framed records carry, as sampled.
    pub schema_ids: Vec<u32>,
    /// A note for the reader (a guess, or why the format is not known).
    pub hint: Option<String>,
}

impl FormatFacts {
    fn plain(format: &'static str, from: &'static str) -> Self {
        Self {
            format,
            from,
            subjects: Vec::new(),
            schema_ids: Vec::new(),
            hint: None,
        }
    }
}

/// The last answer (kept and shared as [`crate::refreshed`] says, a failure too), and the
/// samples of the high watermarks behind the rates (see the module docs).
pub struct Catalog {
    facts: Refreshed<TopicsAnswer>,
    rates: Mutex<HashMap<String, RateSample>>,
    /// How long a refresh may take ([`REFRESH_DEADLINE`] but in tests).
    deadline: Duration,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::with_deadline(REFRESH_DEADLINE)
    }
}

#[derive(Clone, Copy)]
struct RateSample {
    at: Instant,
    high: i64,
    per_second: Option<f64>,
}

impl Catalog {
    /// A catalog whose refreshes answer what they found after `deadline`.
    pub fn with_deadline(deadline: Duration) -> Self {
        Self {
            facts: Refreshed::default(),
            rates: Mutex::default(),
            deadline,
        }
    }

    /// The facts of `source` (offered as `name`), at most [`FACTS_TTL`] old. A failure is kept
    /// as long, so that an unreachable source is not asked again by every request.
    pub async fn answer(&self, name: &str, source: &Source) -> Result<Arc<TopicsAnswer>> {
        self.facts
            .get(FACTS_TTL, || self.refresh(name, source))
            .await
            .map_err(Error::Shared)
    }

    async fn refresh(&self, name: &str, source: &Source) -> Result<TopicsAnswer> {
        let deadline = tokio::time::Instant::now() + self.deadline;
        // A backstop: a Kafka refresh answers what it has at the deadline by itself.
        let (topics, truncated) = tokio::time::timeout(self.deadline + LISTING_GRACE, async {
            match source {
                Source::Kafka(k) => kafka_topics(k, deadline, self.deadline).await,
                Source::Recording(r) => Ok((vec![recording_topic(r)], false)),
            }
        })
        .await
        .map_err(|_| Error::TopicsTimeout {
            offered: name.to_owned(),
            seconds: self.deadline.as_secs(),
        })??;
        let mut topics = topics;
        for t in &mut topics {
            t.records_per_second = checked_sum(t.partitions.iter().map(|p| p.high))
                .and_then(|high| self.rate(&t.topic, high));
        }
        // Deleted topics are forgotten.
        let listed: HashSet<&str> = topics.iter().map(|t| t.topic.as_str()).collect();
        self.rates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|topic, _| listed.contains(topic.as_str()));
        Ok(TopicsAnswer {
            source: name.to_owned(),
            description: source.describe(),
            topics,
            truncated,
            measured_at_ms: chrono::Utc::now().timestamp_millis(),
        })
    }

    /// Records/s of `topic` from the growth of its high watermarks since the last sample at
    /// least a second old; the last estimate if the last sample is younger.
    fn rate(&self, topic: &str, high: i64) -> Option<f64> {
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let Some(last) = rates.get(topic).copied() else {
            rates.insert(
                topic.to_owned(),
                RateSample {
                    at: now,
                    high,
                    per_second: None,
                },
            );
            return None;
        };
        let seconds = now.duration_since(last.at).as_secs_f64();
        if seconds < 1.0 {
            return last.per_second;
        }
        // A topic deleted and made again starts lower: no rate from that.
        let per_second = high
            .checked_sub(last.high)
            .filter(|grown| *grown >= 0)
            .map(|grown| grown as f64 / seconds);
        rates.insert(
            topic.to_owned(),
            RateSample {
                at: now,
                high,
                per_second,
            },
        );
        per_second
    }
}

/// A sampled key or value, cut to a prefix ([`crate::sniff::prefix`]), and whether it is whole.
type Sample = Option<(Vec<u8>, bool)>;

/// What one probe of a partition found: its watermarks and the newest records' keys and values.
struct Probed {
    low: i64,
    high: i64,
    samples: Vec<(Sample, Sample)>,
}

/// What the probes of one topic found so far: each probed partition's watermarks, what went
/// wrong, and its keys' and values' formats as sniffed (never more than [`SAMPLES_PER_TOPIC`]
/// samples; the samples themselves are dropped as each probe ends).
#[derive(Default)]
struct TopicProbes {
    marks: HashMap<i32, (i64, i64)>,
    errors: Vec<String>,
    keys: Sniffer,
    values: Sniffer,
}

impl TopicProbes {
    fn add(&mut self, partition: i32, probed: Result<Probed>) {
        match probed {
            Ok(found) => {
                self.marks.insert(partition, (found.low, found.high));
                for (key, value) in found.samples {
                    if self.values.seen() >= SAMPLES_PER_TOPIC {
                        break;
                    }
                    self.keys.add(
                        key.as_ref().map(|(k, _)| k.as_slice()),
                        key.as_ref().is_none_or(|(_, w)| *w),
                    );
                    self.values.add(
                        value.as_ref().map(|(v, _)| v.as_slice()),
                        value.as_ref().is_none_or(|(_, w)| *w),
                    );
                }
            }
            Err(e) => self.errors.push(format!("partition {partition}: {e}")),
        }
    }
}

/// The facts of every served topic, given up on at `deadline`: partitions not probed by then
/// have no watermarks, topics not described by then say so, and the rest is answered.
async fn kafka_topics(
    k: &KafkaSource,
    deadline: tokio::time::Instant,
    allowed: Duration,
) -> Result<(Vec<TopicFacts>, bool)> {
    let listed = k.served.list(served::LISTING_TTL).await?;
    let (probes, truncated) = plan_probes(&listed, MAX_PROBED_PARTITIONS);
    let cluster = &k.cluster;
    let mut found: HashMap<String, TopicProbes> = HashMap::new();
    let probing = async {
        let mut probing =
            futures_util::stream::iter(probes.into_iter().map(|(topic, p)| async move {
                let probed = probe(cluster, &topic, p).await;
                (topic, p, probed)
            }))
            .buffer_unordered(PROBES_AT_ONCE);
        while let Some((topic, p, probed)) = probing.next().await {
            found.entry(topic).or_default().add(p, probed);
        }
    };
    let probes_late = tokio::time::timeout_at(deadline, probing).await.is_err();
    // The registry's subjects, listed once for every topic.
    let subjects = match &k.schemas {
        SchemaSource::Registry(registry) => Some(
            tokio::time::timeout_at(deadline, registry.subjects())
                .await
                .unwrap_or_else(|_| {
                    Err(Error::TopicsTimeout {
                        offered: registry.url().to_owned(),
                        seconds: allowed.as_secs(),
                    })
                }),
        ),
        _ => None,
    };
    // The registry's answers for each topic, a few topics at once (in order).
    let asks: Vec<_> = listed
        .iter()
        .map(|(topic, partitions)| {
            let probes = found.remove(topic);
            let subjects = subjects.as_ref();
            async move {
                let late = probes_late
                    && probes
                        .as_ref()
                        .is_none_or(|f| f.marks.len() < partitions.len());
                // The watermarks probed stand even if the formats are not had in time.
                let marks = probes.as_ref().map(|p| p.marks.clone()).unwrap_or_default();
                let described = topic_facts(topic, partitions, probes, subjects, &k.schemas);
                let (mut facts, timed_out) =
                    match tokio::time::timeout_at(deadline, described).await {
                        Ok(facts) => (facts, false),
                        Err(_) => (unknown_topic(topic, partitions, &marks), true),
                    };
                if late || timed_out {
                    let note = format!(
                        "not described within the {} s a refresh may take",
                        allowed.as_secs()
                    );
                    facts.error = Some(match facts.error.take() {
                        Some(e) => format!("{e}; {note}"),
                        None => note,
                    });
                }
                facts
            }
        })
        .collect();
    let facts = futures_util::stream::iter(asks)
        .buffered(PROBES_AT_ONCE)
        .collect()
        .await;
    Ok((facts, truncated))
}

/// A topic the deadline came before: the watermarks probed so far (none for the partitions not
/// probed), its formats unknown.
fn unknown_topic(topic: &str, partitions: &[i32], marks: &HashMap<i32, (i64, i64)>) -> TopicFacts {
    let partitions: Vec<PartitionFacts> = partitions
        .iter()
        .map(|&partition| PartitionFacts {
            partition,
            low: marks.get(&partition).map(|m| m.0),
            high: marks.get(&partition).map(|m| m.1),
        })
        .collect();
    TopicFacts {
        topic: topic.to_owned(),
        records: checked_sum(partitions.iter().map(|f| f.high?.checked_sub(f.low?))),
        partitions,
        records_per_second: None,
        value: FormatFacts::plain("unknown", "records"),
        key: FormatFacts::plain("unknown", "records"),
        error: None,
    }
}

/// The partitions to probe: every partition of each topic, in order, as long as `budget` lasts;
/// a topic with more partitions than are left is passed over (not probed at all), the topics
/// after it still are. `true` when one was passed over.
fn plan_probes(listed: &[(String, Vec<i32>)], mut budget: usize) -> (Vec<(String, i32)>, bool) {
    let mut truncated = false;
    let mut probes = Vec::new();
    for (topic, partitions) in listed {
        if partitions.len() > budget {
            truncated = true;
            continue;
        }
        budget -= partitions.len();
        probes.extend(partitions.iter().map(|&p| (topic.clone(), p)));
    }
    (probes, truncated)
}

/// The sum of `values`, if every one is known and it does not overflow (a broker's watermarks
/// are outside data: extreme ones must not panic).
fn checked_sum(values: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    values
        .into_iter()
        .try_fold(0i64, |sum, v| sum.checked_add(v?))
}

/// One partition's watermarks (the high one from a fetch, as [`crate::kafka`] explains) and its
/// newest records' keys and values, each cut to a prefix.
async fn probe(cluster: &Arc<KafkaCluster>, topic: &str, partition: i32) -> Result<Probed> {
    let client = cluster
        .listed_topic(topic, &[partition])
        .partition_once(partition)
        .await?;
    let (low, first) = client.watermarks_and_records().await?;
    let high = first.high_watermark.max(low);
    let mut samples = Vec::new();
    if high > low {
        let from = high.saturating_sub(SAMPLES_PER_PARTITION).max(low);
        // The fetch that found the high watermark may hold the newest records already.
        let fetched = if first.records.iter().any(|r| r.offset >= from) {
            first
        } else {
            client
                .fetch(from, SAMPLE_BYTES, Duration::from_millis(100))
                .await?
        };
        samples = fetched
            .records
            .into_iter()
            .filter(|r| (from..high).contains(&r.offset))
            .map(|r| (r.key.map(sniff::prefix), r.value.map(sniff::prefix)))
            .collect();
    }
    Ok(Probed { low, high, samples })
}

async fn topic_facts(
    topic: &str,
    partitions: &[i32],
    probes: Option<TopicProbes>,
    subjects: Option<&Result<Vec<String>>>,
    schemas: &SchemaSource,
) -> TopicFacts {
    let probes = probes.unwrap_or_default();
    let mut errors = probes.errors;
    let facts: Vec<PartitionFacts> = partitions
        .iter()
        .map(|&partition| {
            let marks = probes.marks.get(&partition);
            PartitionFacts {
                partition,
                low: marks.map(|m| m.0),
                high: marks.map(|m| m.1),
            }
        })
        .collect();
    let probed_any = !probes.marks.is_empty();
    let probed_all = facts.iter().all(|f| f.high.is_some());
    // Only topics probed are asked about: the registry's work is bounded like the broker's.
    let subjects = match (schemas, subjects) {
        (SchemaSource::Registry(registry), Some(Ok(all))) if probed_any => {
            match registry.topic_subjects_among(topic, all).await {
                Ok(subjects) => subjects,
                Err(e) => {
                    errors.push(e.to_string());
                    Vec::new()
                }
            }
        }
        (SchemaSource::Registry(_), Some(Err(e))) => {
            errors.push(e.to_string());
            Vec::new()
        }
        _ => Vec::new(),
    };
    let key_subject = format!("{topic}-key");
    let (key_subjects, value_subjects): (Vec<_>, Vec<_>) =
        subjects.into_iter().partition(|s| s.subject == key_subject);
    let value = if !probed_all && value_subjects.is_empty() {
        FormatFacts::plain("unknown", "records")
    } else {
        side_facts(
            value_subjects,
            &format!("{topic}-value"),
            probes.values.finish(),
            schemas,
        )
        .await
    };
    let key = if !probed_all && key_subjects.is_empty() {
        FormatFacts::plain("unknown", "records")
    } else {
        side_facts(key_subjects, &key_subject, probes.keys.finish(), schemas).await
    };
    TopicFacts {
        topic: topic.to_owned(),
        records: checked_sum(facts.iter().map(|f| f.high?.checked_sub(f.low?))),
        partitions: facts,
        records_per_second: None,
        value,
        key,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    }
}

/// A side's format: its registry subjects' type (`preferred`'s first), else what its samples show.
async fn side_facts(
    subjects: Vec<TopicSubject>,
    preferred: &str,
    sniffed: Sniffed,
    schemas: &SchemaSource,
) -> FormatFacts {
    if let Some(chosen) = subjects
        .iter()
        .find(|s| s.subject == preferred)
        .or(subjects.first())
    {
        return FormatFacts {
            format: schema_format(&chosen.schema_type),
            from: "registry",
            schema_ids: match sniffed {
                Sniffed::Confluent(ids) => ids,
                _ => Vec::new(),
            },
            hint: None,
            subjects,
        };
    }
    let mut facts = FormatFacts::plain("unknown", "records");
    match sniffed {
        Sniffed::Unknown => facts.hint = Some("no records to look at".into()),
        Sniffed::Null => facts.format = "none",
        Sniffed::Json => facts.format = "json",
        Sniffed::String => facts.format = "string",
        Sniffed::Binary { width } => {
            facts.format = "binary";
            facts.hint = width.map(|w| {
                let kind = if w == 4 { "an int" } else { "a long or a double" };
                format!("every one sampled is {w} bytes: perhaps {kind}, as Kafka's serializers write them")
            });
        }
        Sniffed::Confluent(ids) => {
            facts.format = "confluent";
            match schemas {
                SchemaSource::Registry(registry) => {
                    let mut kinds = Vec::new();
                    for &id in &ids {
                        match registry.schema_type(id).await {
                            Ok(kind) => kinds.push(kind),
                            Err(e) => facts.hint = Some(e.to_string()),
                        }
                    }
                    kinds.dedup();
                    if let [kind] = kinds.as_slice()
                        && facts.hint.is_none()
                    {
                        facts.format = schema_format(kind);
                    }
                }
                SchemaSource::Dir(_) => facts.format = "avro",
                SchemaSource::None => {
                    facts.hint = Some(
                        "the Confluent wire format: start the bridge with --schema-registry to know its type".into(),
                    );
                }
            }
            facts.schema_ids = ids;
        }
    }
    facts
}

/// The format a registry's schema type names.
fn schema_format(schema_type: &str) -> &'static str {
    match schema_type {
        "AVRO" => "avro",
        "JSON" => "json",
        "PROTOBUF" => "protobuf",
        _ => "unknown",
    }
}

fn recording_topic(r: &RecordingSource) -> TopicFacts {
    let marks = match &r.live {
        Some(clock) => clock.marks(clock.elapsed()),
        None => crate::live::watermarks(&r.meta),
    };
    let subjects: Vec<TopicSubject> = r
        .meta
        .schemas
        .iter()
        .map(|s| TopicSubject {
            subject: s.subject.clone().unwrap_or_default(),
            id: s.id,
            schema_type: "AVRO".into(),
        })
        .collect();
    let value = FormatFacts {
        format: if subjects.is_empty() {
            "unknown"
        } else {
            "avro"
        },
        from: "recording",
        schema_ids: subjects.iter().map(|s| s.id).collect(),
        subjects,
        hint: None,
    };
    let mut key = FormatFacts::plain("unknown", "recording");
    key.hint = Some("a recording's keys are not sniffed".into());
    TopicFacts {
        topic: r.meta.topic.clone(),
        records: checked_sum(marks.iter().map(|m| m.high.checked_sub(m.low))),
        partitions: marks
            .iter()
            .map(|m| PartitionFacts {
                partition: m.partition,
                low: Some(m.low),
                high: Some(m.high),
            })
            .collect(),
        records_per_second: None,
        value,
        key,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_growth_of_the_high_watermarks_over_a_second_or_more() {
        let catalog = Catalog::default();
        assert_eq!(catalog.rate("t", 100), None, "one sample: no rate yet");
        assert_eq!(catalog.rate("t", 150), None, "too soon after the first");
        // Backdate the sample as if two seconds had passed.
        {
            let mut rates = catalog.rates.lock().unwrap();
            let sample = rates.get_mut("t").unwrap();
            sample.at -= Duration::from_secs(2);
        }
        let rate = catalog.rate("t", 300).unwrap();
        assert!((rate - 100.0).abs() < 1.0, "{rate}");
        assert_eq!(
            catalog.rate("t", 400),
            Some(rate),
            "too soon: the last estimate"
        );
    }

    #[test]
    fn extreme_watermarks_give_no_count_and_no_rate_rather_than_a_panic() {
        assert_eq!(checked_sum([Some(i64::MAX), Some(1)]), None);
        assert_eq!(checked_sum([Some(1), None]), None);
        assert_eq!(checked_sum([Some(2), Some(3)]), Some(5));
        let records = |low: i64, high: i64| checked_sum([high.checked_sub(low)]);
        assert_eq!(records(i64::MIN, i64::MAX), None);
        let catalog = Catalog::default();
        assert_eq!(catalog.rate("t", i64::MIN), None);
        catalog.rates.lock().unwrap().get_mut("t").unwrap().at -= Duration::from_secs(2);
        assert_eq!(
            catalog.rate("t", i64::MAX),
            None,
            "a growth past i64: no rate"
        );
    }

    #[test]
    fn a_topic_too_large_for_the_budget_is_passed_over_not_the_rest() {
        let listed = vec![
            ("a".to_owned(), vec![0]),
            ("big".to_owned(), (0..10).collect()),
            ("c".to_owned(), vec![0, 1]),
            ("d".to_owned(), vec![0, 1]),
        ];
        let (probes, truncated) = plan_probes(&listed, 4);
        assert!(truncated);
        let probed: Vec<(&str, i32)> = probes.iter().map(|(t, p)| (t.as_str(), *p)).collect();
        assert_eq!(probed, [("a", 0), ("c", 0), ("c", 1)]);
        assert_eq!(plan_probes(&listed, 15), (probes_of(&listed), false));
    }

    fn probes_of(listed: &[(String, Vec<i32>)]) -> Vec<(String, i32)> {
        listed
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |&p| (t.clone(), p)))
            .collect()
    }

    /// A generated recording of `records` records, and the folder that holds it.
    fn recording(records: u64) -> (tempfile::TempDir, Source) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sgrec");
        crate::record::generate(&path, records, 2, 1).unwrap();
        let source = Source::recording(&path).unwrap();
        (dir, source)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_at_once_share_one_refresh_and_its_answer_is_kept() {
        let (_dir, source) = recording(1_000);
        let catalog = Catalog::default();
        let answers =
            futures_util::future::join_all((0..50).map(|_| catalog.answer("recording", &source)))
                .await;
        let first = answers[0].as_ref().unwrap();
        assert!(
            answers
                .iter()
                .all(|a| Arc::ptr_eq(a.as_ref().unwrap(), first)),
            "one refresh for all"
        );
        assert_eq!(first.topics[0].records, Some(1_000));
        let again = catalog.answer("recording", &source).await.unwrap();
        assert!(Arc::ptr_eq(&again, first), "kept for FACTS_TTL");
    }

    #[tokio::test]
    async fn rates_of_topics_no_longer_listed_are_forgotten() {
        let (_dir, source) = recording(100);
        let catalog = Catalog::default();
        assert_eq!(catalog.rate("deleted", 10), None);
        let answer = catalog.answer("recording", &source).await.unwrap();
        let rates = catalog.rates.lock().unwrap();
        assert!(!rates.contains_key("deleted"), "forgotten");
        assert!(
            rates.contains_key(&answer.topics[0].topic),
            "the listed topic kept"
        );
    }

    #[tokio::test]
    async fn registry_subjects_come_first_then_the_samples() {
        let subject = |s: &str, kind: &str| TopicSubject {
            subject: s.into(),
            id: 1,
            schema_type: kind.into(),
        };
        let trns = vec![subject("t-io.x.Trade", "AVRO"), subject("t-value", "JSON")];
        let facts = side_facts(trns, "t-value", Sniffed::String, &SchemaSource::None).await;
        assert_eq!((facts.format, facts.from), ("json", "registry"));
        let facts = side_facts(
            vec![subject("t-io.x.Trade", "PROTOBUF")],
            "t-value",
            Sniffed::Unknown,
            &SchemaSource::None,
        )
        .await;
        assert_eq!(facts.format, "protobuf");
        let facts = side_facts(
            Vec::new(),
            "t-value",
            Sniffed::Confluent(vec![3]),
            &SchemaSource::None,
        )
        .await;
        assert_eq!((facts.format, facts.from), ("confluent", "records"));
        assert_eq!(facts.schema_ids, [3]);
        assert!(facts.hint.unwrap().contains("--schema-registry"));
        let dir = SchemaSource::Dir(std::path::PathBuf::from("/nonexistent"));
        let facts = side_facts(Vec::new(), "t-value", Sniffed::Confluent(vec![3]), &dir).await;
        assert_eq!(facts.format, "avro");
        let facts = side_facts(
            Vec::new(),
            "t-key",
            Sniffed::Binary { width: Some(8) },
            &dir,
        )
        .await;
        assert_eq!(facts.format, "binary");
        assert!(facts.hint.unwrap().contains("8 bytes"));
        for (sniffed, format) in [
            (Sniffed::Null, "none"),
            (Sniffed::Unknown, "unknown"),
            (Sniffed::Json, "json"),
        ] {
            let facts = side_facts(Vec::new(), "t-key", sniffed, &dir).await;
            assert_eq!(facts.format, format);
        }
    }
}
