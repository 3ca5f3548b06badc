//! Which topics of a broker the bridge serves: every topic the broker lists, or those an
//! allow-list of names and glob patterns (`--topic trades.*`) admits, internal topics hidden.
//!
//! A [`TopicFilter`] decides by name alone. [`ServedTopics`] applies it to the broker's metadata,
//! kept for [`LISTING_TTL`] and asked again only when a caller needs it after that, or when a
//! subscription names a topic not in the last listing (at most once per [`MIN_RELISTING`], so a
//! page asking for made-up names cannot make the bridge hammer the broker). One metadata request
//! is in flight at a time; callers arriving meanwhile share its answer.
//!
//! Internal topics are names starting with `__` (`__consumer_offsets`, `__transaction_state`),
//! and `_schemas` (a Confluent registry's store). They are never served unless named literally by
//! `--topic`. Invariant: a subscription is only ever started on a topic the filter admits and
//! the broker listed.

use std::sync::Arc;
use std::time::Duration;

use crate::kafka::KafkaCluster;
use crate::refreshed::Refreshed;
use crate::{Error, Result};

/// How long a listing of the broker's topics is used before it is asked for again.
pub const LISTING_TTL: Duration = Duration::from_secs(30);
/// The shortest time between two listings, whatever callers ask.
pub const MIN_RELISTING: Duration = Duration::from_secs(2);

/// Whether `topic` is one of Kafka's or a registry's own (see the module docs).
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with("__") || topic == "_schemas"
}

/// The `--topic` allow-list: names and glob patterns (`*`, `?`, `[abc]`, as
/// [`glob::Pattern`]); empty admits every topic that is not internal.
#[derive(Debug, Clone, Default)]
pub struct TopicFilter {
    names: Vec<String>,
    patterns: Vec<glob::Pattern>,
}

impl TopicFilter {
    /// Parses the allow-list: an entry with a glob character is a pattern, any other a name. An
    /// empty entry (`--topic ''`, `--topic a,,b`) is an error, not "every topic".
    pub fn new(entries: &[String]) -> Result<Self> {
        let mut filter = Self::default();
        for entry in entries.iter().map(|e| e.trim()) {
            if entry.is_empty() {
                return Err(Error::InvalidArgument(
                    "--topic has an empty entry: give topic names or glob patterns, or leave --topic out to serve every topic".into(),
                ));
            }
            if entry.contains(['*', '?', '[']) {
                let pattern = glob::Pattern::new(entry).map_err(|e| {
                    Error::InvalidArgument(format!("--topic {entry:?} is not a glob pattern: {e}"))
                })?;
                filter.patterns.push(pattern);
            } else {
                filter.names.push(entry.to_owned());
            }
        }
        Ok(filter)
    }

    /// The topics named literally, in the order given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether the filter admits every (non-internal) topic.
    pub fn admits_all(&self) -> bool {
        self.names.is_empty() && self.patterns.is_empty()
    }

    /// Whether `topic` may be served.
    pub fn admits(&self, topic: &str) -> bool {
        if self.names.iter().any(|n| n == topic) {
            return true;
        }
        !is_internal(topic) && (self.admits_all() || self.patterns.iter().any(|p| p.matches(topic)))
    }

    /// One line for logs: `every topic`, or the entries.
    pub fn describe(&self) -> String {
        if self.admits_all() {
            return "every topic".into();
        }
        let entries: Vec<&str> = self
            .names
            .iter()
            .map(String::as_str)
            .chain(self.patterns.iter().map(glob::Pattern::as_str))
            .collect();
        format!("topic {}", entries.join(","))
    }
}

/// Served topics with their partitions (ascending), sorted by name.
pub type Listed = Arc<Vec<(String, Vec<i32>)>>;

/// A broker's served topics, listed from its metadata (see the module docs).
pub struct ServedTopics {
    cluster: Arc<KafkaCluster>,
    filter: TopicFilter,
    /// The last listing, kept and shared as [`crate::refreshed`] says.
    listing: Refreshed<Vec<(String, Vec<i32>)>>,
}

impl ServedTopics {
    /// The topics of `cluster` that `filter` admits. Every topic named literally must exist.
    pub async fn open(cluster: Arc<KafkaCluster>, filter: TopicFilter) -> Result<Self> {
        let served = Self {
            cluster,
            filter,
            listing: Refreshed::default(),
        };
        for name in served.filter.names() {
            served.cluster.topic(name).await?;
        }
        served.list(Duration::ZERO).await?;
        Ok(served)
    }

    pub fn filter(&self) -> &TopicFilter {
        &self.filter
    }

    /// The served topics and their partitions, sorted by name: the last listing if younger than
    /// `max_age`, else a new one (never two within [`MIN_RELISTING`], a failed one included).
    /// When asking the broker fails, the last good listing is used, with a warning, and kept
    /// as a new one would be.
    pub async fn list(&self, max_age: Duration) -> Result<Listed> {
        self.listing
            .get(max_age.max(MIN_RELISTING), || async {
                match self.cluster.list_topics().await {
                    Ok(all) => {
                        let mut topics: Vec<(String, Vec<i32>)> = all
                            .into_iter()
                            .filter(|(name, _)| self.filter.admits(name))
                            .collect();
                        topics.sort();
                        Ok(topics)
                    }
                    Err(e) => match self.listing.last_good() {
                        Some(last) => {
                            tracing::warn!(error = %e, "cannot list the broker's topics: using the last listing");
                            Ok(last.as_ref().clone())
                        }
                        None => Err(e),
                    },
                }
            })
            .await
            .map_err(Error::Shared)
    }

    /// The topic a subscription asked for, with its partitions as listed, if it is served; a
    /// name missing from the last listing is looked up again (within [`MIN_RELISTING`]) before
    /// it is refused. No name asks for the first `--topic` name; with none (every topic, or
    /// patterns only) it is refused: no topic is anyone's obvious choice.
    pub async fn resolve(&self, asked: Option<&str>) -> Result<(String, Vec<i32>)> {
        let name = match (asked, self.filter.names().first()) {
            (Some(name), _) => name,
            (None, Some(first)) => first.as_str(),
            (None, None) => {
                return Err(Error::InvalidArgument(format!(
                    "no topic named: this bridge serves {}, so a subscription must name its topic \
                     (consumeToTable({{ topic: \"NAME\", ... }}); the topic browser lists them), \
                     or the bridge must be started with --topic NAME to give a default",
                    self.filter.describe()
                )));
            }
        };
        let mut topics = self.list(LISTING_TTL).await?;
        if self.filter.admits(name) && !topics.iter().any(|(t, _)| t == name) {
            topics = self.list(Duration::ZERO).await?;
        }
        match topics.iter().find(|(t, _)| t == name) {
            Some((t, partitions)) if self.filter.admits(name) => {
                Ok((t.clone(), partitions.clone()))
            }
            _ => Err(Error::TopicNotServed {
                topic: name.to_owned(),
                served: served_names(&topics),
            }),
        }
    }
}

/// The served names for an error message: the first 20, and how many more.
fn served_names(topics: &[(String, Vec<i32>)]) -> String {
    const SHOWN: usize = 20;
    let mut text = topics
        .iter()
        .take(SHOWN)
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if topics.len() > SHOWN {
        text.push_str(&format!(" and {} more", topics.len() - SHOWN));
    }
    if text.is_empty() {
        text.push_str("none");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(entries: &[&str]) -> TopicFilter {
        TopicFilter::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn no_allow_list_serves_every_topic_but_internal_ones() {
        let all = filter(&[]);
        assert!(all.admits_all());
        assert!(all.admits("trades") && all.admits("_private") && all.admits("a_b"));
        for internal in ["__consumer_offsets", "__transaction_state", "_schemas"] {
            assert!(!all.admits(internal), "{internal}");
        }
        assert_eq!(all.describe(), "every topic");
    }

    #[test]
    fn names_and_glob_patterns_are_an_allow_list() {
        let f = filter(&["orders", "trades.*", "fx-?"]);
        assert!(f.admits("orders") && f.admits("trades.btc") && f.admits("fx-1"));
        assert!(!f.admits("order") && !f.admits("trades") && !f.admits("fx-10"));
        assert_eq!(f.names(), ["orders"]);
        assert_eq!(f.describe(), "topic orders,trades.*,fx-?");
        // A pattern never reaches an internal topic; a literal name does.
        assert!(!filter(&["_*"]).admits("_schemas"));
        assert!(filter(&["_schemas"]).admits("_schemas"));
    }

    #[test]
    fn an_empty_entry_is_an_error_not_every_topic() {
        for entries in [
            vec![String::new()],
            vec![",".into()],
            vec!["a".into(), " ".into()],
        ] {
            let entries: Vec<String> = entries
                .iter()
                .flat_map(|e| e.split(','))
                .map(str::to_owned)
                .collect();
            let e = TopicFilter::new(&entries).unwrap_err().to_string();
            assert!(e.contains("empty entry"), "{entries:?}: {e}");
        }
        assert!(
            TopicFilter::new(&[]).unwrap().admits_all(),
            "no --topic: every topic"
        );
    }

    #[test]
    fn a_bad_pattern_is_a_clear_error() {
        let e = TopicFilter::new(&["trades[".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("trades[") && e.contains("glob"), "{e}");
    }

    #[test]
    fn refusals_list_a_bounded_number_of_served_names() {
        let many: Vec<(String, Vec<i32>)> =
            (0..25).map(|i| (format!("t{i:02}"), vec![0])).collect();
        let text = served_names(&many);
        assert!(
            text.starts_with("t00, t01") && text.ends_with("t19 and 5 more"),
            "{text}"
        );
        assert_eq!(served_names(&[]), "none");
    }
}
