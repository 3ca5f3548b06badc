//! A feed: what one subscription to the bridge has delivered so far, per partition.
//!
//! [`Feed::apply`] takes decoded protocol messages of one subscription (and the connection-wide
//! errors) in arrival order; [`Feed::apply_frame`] decodes a frame and skips the messages of other
//! subscriptions than the feed's own. It keeps, for every partition,
//! the records and payload bytes received, the last offset, and whether it has caught up.
//! Invariant: a partition's `records` only grows, and `last_offset` only increases; a batch that
//! would move a partition backwards is refused and changes nothing.

use litemap::LiteMap;

use serde::Serialize;

use crate::protocol::{Hello, MAX_INFLATED_FRAME, RecordBatch, ServerMessage, SubscriptionId};

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FeedStatus {
    /// No hello yet.
    Connecting,
    /// Streaming; not every partition has caught up.
    Streaming,
    /// Every partition reached the high watermark it had at the start; new records may follow.
    CaughtUp,
    /// The bridge reported an error, or a message broke the protocol.
    Failed,
    /// The socket closed.
    Closed,
}

/// One partition's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionProgress {
    pub partition: i32,
    /// Records received.
    pub records: u64,
    /// Key plus value bytes received.
    pub bytes: u64,
    /// The last offset received, if any.
    pub last_offset: Option<i64>,
    /// The high watermark as last reported by the bridge.
    pub high_watermark: i64,
    /// Whether the partition reached the high watermark it had at the start.
    pub caught_up: bool,
}

/// Everything a page needs to render the feed, as one serialisable value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedSnapshot {
    pub status: FeedStatus,
    pub topic: Option<String>,
    pub source: Option<String>,
    pub partitions: Vec<PartitionProgress>,
    pub total_records: u64,
    pub total_bytes: u64,
    /// Frames received, of every kind.
    pub messages: u64,
    /// The errors reported by the bridge or found in its messages, oldest first.
    pub errors: Vec<String>,
}

/// The per-partition bookkeeping of one subscription.
#[derive(Debug, Clone)]
pub struct Feed {
    subscription: SubscriptionId,
    status: FeedStatus,
    hello: Option<Hello>,
    partitions: LiteMap<i32, PartitionProgress>,
    messages: u64,
    errors: Vec<String>,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

/// At most this many error messages are kept; later ones replace the last.
const MAX_ERRORS: usize = 100;

impl Feed {
    /// A feed for subscription 0 (the one a page opens by default).
    pub fn new() -> Self {
        Self::for_subscription(0)
    }

    /// A feed for one subscription of a connection.
    pub fn for_subscription(subscription: SubscriptionId) -> Self {
        Self {
            subscription,
            status: FeedStatus::Connecting,
            hello: None,
            partitions: LiteMap::new(),
            messages: 0,
            errors: Vec::new(),
        }
    }

    /// The subscription this feed follows.
    pub fn subscription(&self) -> SubscriptionId {
        self.subscription
    }

    /// Decodes a frame and applies it if it belongs to this feed's subscription (or to the whole
    /// connection). A frame that does not decode is recorded as an error.
    pub fn apply_frame(&mut self, frame: &[u8]) {
        match crate::protocol::decode(frame) {
            Ok(message) => {
                if message
                    .subscription()
                    .is_none_or(|s| s == self.subscription)
                {
                    self.apply(&message);
                }
            }
            Err(e) => {
                self.messages += 1;
                self.fail(e.to_string());
            }
        }
    }

    /// Applies one message.
    pub fn apply(&mut self, message: &ServerMessage<'_>) {
        self.messages += 1;
        match message {
            ServerMessage::Hello(hello) => self.on_hello(hello),
            ServerMessage::Records(batch) => self.on_records(batch),
            ServerMessage::CaughtUp { partition, .. } => {
                self.partition_mut(*partition).caught_up = true;
                self.refresh_status();
            }
            ServerMessage::Error { message, .. } => self.fail(message.clone()),
            ServerMessage::End { .. } | ServerMessage::Exhausted { .. } => {}
            ServerMessage::Compressed {
                subscription,
                frame,
            } => {
                // The frame inside is the message (a Records frame: `inflate` sees to it).
                self.messages -= 1;
                let mut inflated = Vec::new();
                match crate::protocol::inflate(
                    *subscription,
                    frame,
                    MAX_INFLATED_FRAME,
                    &mut inflated,
                ) {
                    Ok(()) => self.apply_frame(&inflated),
                    Err(e) => {
                        self.messages += 1;
                        self.fail(e.to_string());
                    }
                }
            }
        }
    }

    /// Marks the connection closed (keeping what it delivered).
    pub fn close(&mut self, reason: Option<String>) {
        if let Some(reason) = reason {
            self.push_error(reason);
        }
        if self.status != FeedStatus::Failed {
            self.status = FeedStatus::Closed;
        }
    }

    /// The current state, ready to serialise.
    pub fn snapshot(&self) -> FeedSnapshot {
        let partitions: Vec<PartitionProgress> = self.partitions.values().cloned().collect();
        FeedSnapshot {
            status: self.status,
            topic: self.hello.as_ref().map(|h| h.topic.clone()),
            source: self.hello.as_ref().map(|h| h.source.clone()),
            total_records: partitions.iter().map(|p| p.records).sum(),
            total_bytes: partitions.iter().map(|p| p.bytes).sum(),
            partitions,
            messages: self.messages,
            errors: self.errors.clone(),
        }
    }

    /// The hello, once received.
    pub fn hello(&self) -> Option<&Hello> {
        self.hello.as_ref()
    }

    fn on_hello(&mut self, hello: &Hello) {
        for info in &hello.partitions {
            let p = self.partition_mut(info.partition);
            p.high_watermark = info.high_watermark;
            // An empty partition, or one that starts at its end, has nothing to catch up on.
            p.caught_up = info.start_offset >= info.high_watermark;
        }
        self.hello = Some(hello.clone());
        if self.status == FeedStatus::Connecting {
            self.status = FeedStatus::Streaming;
        }
        self.refresh_status();
    }

    fn on_records(&mut self, batch: &RecordBatch<'_>) {
        let p = self.partition_mut(batch.partition);
        let mut last = p.last_offset;
        for record in &batch.records {
            if last.is_some_and(|l| record.offset <= l) {
                let message = format!(
                    "partition {}: offset {} arrived after offset {}; batch ignored",
                    batch.partition,
                    record.offset,
                    last.unwrap_or_default()
                );
                self.fail(message);
                return;
            }
            last = Some(record.offset);
        }
        p.records += batch.records.len() as u64;
        p.bytes += batch
            .records
            .iter()
            .map(|r| r.payload_len() as u64)
            .sum::<u64>();
        p.last_offset = last;
        p.high_watermark = p.high_watermark.max(batch.high_watermark);
    }

    fn partition_mut(&mut self, partition: i32) -> &mut PartitionProgress {
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionProgress {
                partition,
                ..PartitionProgress::default()
            })
    }

    fn refresh_status(&mut self) {
        if self.status == FeedStatus::Streaming && self.partitions.values().all(|p| p.caught_up) {
            self.status = FeedStatus::CaughtUp;
        }
    }

    fn fail(&mut self, message: String) {
        self.push_error(message);
        self.status = FeedStatus::Failed;
    }

    fn push_error(&mut self, message: String) {
        if self.errors.len() == MAX_ERRORS {
            self.errors.pop();
        }
        self.errors.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PartitionInfo, Record, encode};
    use proptest::prelude::*;

    fn hello(partitions: &[(i32, i64)]) -> ServerMessage<'static> {
        ServerMessage::Hello(Hello {
            subscription: 0,
            topic: "t".into(),
            source: "test".into(),
            partitions: partitions
                .iter()
                .map(|&(partition, high)| PartitionInfo {
                    partition,
                    low_watermark: 0,
                    high_watermark: high,
                    start_offset: 0,
                })
                .collect(),
            schemas: vec![],
        })
    }

    fn batch(partition: i32, offsets: std::ops::Range<i64>, value: &[u8]) -> ServerMessage<'_> {
        ServerMessage::Records(RecordBatch {
            subscription: 0,
            partition,
            high_watermark: offsets.end,
            records: offsets
                .map(|offset| Record {
                    offset,
                    timestamp_ms: 0,
                    key: None,
                    value: Some(value),
                })
                .collect(),
        })
    }

    #[test]
    fn counts_records_bytes_and_offsets_per_partition() {
        let mut feed = Feed::new();
        assert_eq!(feed.snapshot().status, FeedStatus::Connecting);
        feed.apply(&hello(&[(0, 3), (1, 2), (2, 0)]));
        assert_eq!(feed.snapshot().status, FeedStatus::Streaming);
        feed.apply_frame(&encode(&batch(0, 0..3, b"abcd")).unwrap());
        feed.apply(&batch(1, 0..2, b"xy"));
        let s = feed.snapshot();
        assert_eq!(s.total_records, 5);
        assert_eq!(s.total_bytes, 3 * 4 + 2 * 2);
        assert_eq!(s.partitions[0].last_offset, Some(2));
        assert_eq!(s.partitions[1].last_offset, Some(1));
        assert!(
            s.partitions[2].caught_up,
            "an empty partition starts caught up"
        );
        assert_eq!(s.partitions[2].last_offset, None);
        feed.apply(&ServerMessage::CaughtUp {
            subscription: 0,
            partition: 0,
            next_offset: 3,
        });
        assert_eq!(feed.snapshot().status, FeedStatus::Streaming);
        feed.apply(&ServerMessage::CaughtUp {
            subscription: 0,
            partition: 1,
            next_offset: 2,
        });
        assert_eq!(feed.snapshot().status, FeedStatus::CaughtUp);
    }

    #[test]
    fn a_backwards_batch_is_refused_whole() {
        let mut feed = Feed::new();
        feed.apply(&hello(&[(0, 10)]));
        feed.apply(&batch(0, 0..5, b"a"));
        feed.apply(&batch(0, 4..8, b"a"));
        let s = feed.snapshot();
        assert_eq!(s.total_records, 5);
        assert_eq!(s.partitions[0].last_offset, Some(4));
        assert_eq!(s.status, FeedStatus::Failed);
        assert!(
            s.errors[0].contains("offset 4 arrived after offset 4"),
            "{:?}",
            s.errors
        );
    }

    #[test]
    fn garbage_frames_are_errors_not_panics() {
        let mut feed = Feed::new();
        feed.apply_frame(&[]);
        feed.apply_frame(&[1, 0xff, 0xff]);
        let s = feed.snapshot();
        assert_eq!(s.errors.len(), 2);
        assert_eq!(s.status, FeedStatus::Failed);
        assert_eq!(s.messages, 2);
    }

    #[test]
    fn compressed_frames_count_as_the_frames_inside() {
        let mut feed = Feed::new();
        feed.apply(&hello(&[(0, 300)]));
        let frame = encode(&batch(0, 0..300, b"a value")).unwrap();
        feed.apply_frame(&crate::protocol::compress(0, &frame).unwrap());
        let s = feed.snapshot();
        assert_eq!((s.messages, s.total_records), (2, 300));
        assert_eq!(s.partitions[0].last_offset, Some(299));
        let broken = ServerMessage::Compressed {
            subscription: 0,
            frame: &[0xff, 0xff, 0xff],
        };
        feed.apply_frame(&encode(&broken).unwrap());
        let s = feed.snapshot();
        assert_eq!(
            (s.messages, s.total_records, s.status),
            (3, 300, FeedStatus::Failed)
        );
        assert!(s.errors[0].contains("compressed frame"), "{:?}", s.errors);
    }

    #[test]
    fn frames_of_other_subscriptions_are_skipped() {
        let mut feed = Feed::for_subscription(1);
        let mut other = batch(0, 0..3, b"v");
        feed.apply_frame(&encode(&other).unwrap());
        assert_eq!(feed.snapshot().messages, 0);
        if let ServerMessage::Records(b) = &mut other {
            b.subscription = 1;
        }
        feed.apply_frame(&encode(&other).unwrap());
        let everyone = ServerMessage::Error {
            subscription: None,
            message: "bad client message".into(),
        };
        feed.apply_frame(&encode(&everyone).unwrap());
        let s = feed.snapshot();
        assert_eq!((s.messages, s.total_records), (2, 3));
        assert_eq!(s.errors, ["bad client message"]);
    }

    #[test]
    fn errors_are_bounded() {
        let mut feed = Feed::new();
        for _ in 0..(MAX_ERRORS * 3) {
            feed.apply_frame(&[]);
        }
        assert_eq!(feed.snapshot().errors.len(), MAX_ERRORS);
    }

    proptest! {
        /// However the records of a partition are split into batches, the feed counts them all once.
        #[test]
        fn totals_do_not_depend_on_batching(
            sizes in proptest::collection::vec(0i64..50, 1..20),
            partitions in 1i32..4,
        ) {
            let mut feed = Feed::new();
            let total: i64 = sizes.iter().sum();
            feed.apply(&hello(&(0..partitions).map(|p| (p, total)).collect::<Vec<_>>()));
            let mut next = vec![0i64; partitions as usize];
            for (i, size) in sizes.iter().enumerate() {
                let p = (i as i32) % partitions;
                let start = next[p as usize];
                feed.apply(&batch(p, start..start + size, b"v"));
                next[p as usize] += size;
            }
            let s = feed.snapshot();
            prop_assert_eq!(s.total_records as i64, total);
            prop_assert_eq!(s.total_bytes as i64, total);
            for (p, n) in next.iter().enumerate() {
                let progress = &s.partitions[p];
                prop_assert_eq!(progress.records as i64, *n);
                prop_assert_eq!(progress.last_offset, if *n == 0 { None } else { Some(n - 1) });
            }
        }
    }
}
