//! One subscription: resolve where each partition starts, send the hello, then stream records as
//! credit allows, from a broker (one task per partition, tailing with long polls) or from a
//! recording (one async task reading shared [`crate::blocks`], paced).
//!
//! Nothing here holds a thread while it waits: waits for credit, the bridge's budget, the socket,
//! the pace or the live clock are async, and a recording's blocks are read on the blocking pool
//! one block at a time. A replay lets go of its block whenever it may wait long, and keeps its
//! place as a position, so thousands of idle subscriptions cost a few hundred bytes each.
//!
//! Invariants: a partition's records go out in strictly increasing offset order, from its start
//! offset on, each at most once; a `Records` frame is queued only after its exact length was taken
//! from the subscription's [`Credit`]; a fetch asks the broker for no more bytes than the credit
//! reserved for it, and holds its size of the connection's [`ConnectionBudget`] until its frames
//! are written; a replay builds frames only within credit it has reserved and budget it holds.
//! `CaughtUp` is sent once per partition, when the partition reaches the high watermark it had when
//! the subscription started. A recording replayed as live ([`crate::live`]) has the live edge for
//! its high watermarks, and sends no record before the server's clock releases it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use streamglass_core::protocol::{
    self, Compression, Hello, PartitionInfo, ServerMessage, Subscribe, SubscriptionId,
};
use streamglass_core::seek::{Position, SeekSpec, Watermarks};
use tokio::sync::mpsc;

use crate::blocks::Block;
use crate::credit::{Closed, ConnectionBudget, Credit, Held, Reservation};
use crate::frames::{self, FrameBuilder, MAX_FRAME_PAYLOAD};
use crate::kafka::KafkaPartition;
use crate::live::{self, LiveClock};
use crate::pace::Pacer;
use crate::source::{KafkaSource, RecordingSource, Source};
use crate::{Error, Result};

/// Bytes asked of the broker per fetch, at most (less when the credit is smaller).
pub const FETCH_BYTES: u64 = 4 << 20;
/// How long a fetch at the end of a partition waits for new records.
const TAIL_WAIT: Duration = Duration::from_millis(500);
/// Bytes a fetch at the end of a partition asks for, at most: a long poll holds no more of the
/// budget than this while it waits.
const TAIL_FETCH_BYTES: u64 = 64 << 10;
/// Credit a replay reserves at a time, at most: the frames it builds fit in it.
const REPLAY_RESERVE: u64 = 1 << 20;
/// A paced or live replay sends what is due on multiples of this, never before it is due: a
/// record arrives at most this late, and a subscription sends at most 10 frames a second of a
/// trickle (2,000 live subscriptions made 400,000 a second, one a record, when each woke for
/// its own record).
const RELEASE_TICK: Duration = Duration::from_millis(100);
/// A replay that will sleep longer than this lets go of its block first.
const KEEP_BLOCK_WAIT: Duration = Duration::from_millis(20);
/// Frame size a recording replay aims at.
const RECORDING_FRAME: usize = 256 << 10;
/// Room for a frame's header beyond its records.
const FRAME_HEADER: usize = 64;
/// A paced replay flushes and sleeps only for waits longer than this.
const PACE_SLACK: Duration = Duration::from_millis(2);

/// A frame on its way to the socket, holding its share of the budget until written.
pub struct Outgoing {
    pub frame: Vec<u8>,
    pub held: Held,
}

/// Why a subscription stopped.
enum Stop {
    /// The client unsubscribed or went away: nothing to report.
    Closed,
    Failed(Error),
}

impl From<Closed> for Stop {
    fn from(_: Closed) -> Self {
        Self::Closed
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

/// Where a subscription's frames go.
#[derive(Clone)]
pub struct Sink {
    pub id: SubscriptionId,
    /// How `Records` frames cross the socket. Credit and budget count a frame's own length,
    /// compressed or not.
    pub compression: Compression,
    pub credit: Arc<Credit>,
    pub out: mpsc::Sender<Outgoing>,
    pub budget: ConnectionBudget,
}

impl Sink {
    /// Sends a message that is not records (not counted against credit).
    async fn control(&self, message: &ServerMessage<'_>) -> Result<(), Stop> {
        let frame = frames::encode(message)?;
        self.out
            .send(Outgoing {
                frame,
                held: Held::none(),
            })
            .await
            .map_err(|_| Stop::Closed)
    }

    /// Queues the builder's records as one frame, its length taken from `reservation` (which a
    /// caller sizes to hold it), its bytes counted in `held` until written.
    async fn flush(
        &self,
        builder: &mut FrameBuilder,
        high_watermark: i64,
        reservation: &mut Reservation,
        held: &Held,
    ) -> Result<(), Stop> {
        if builder.is_empty() {
            return Ok(());
        }
        let len = builder.frame_len(high_watermark) as u64;
        if len > self.credit.window() {
            return Err(self.too_large(builder.partition(), len));
        }
        self.credit.take_for_frame(reservation, len).await?;
        let frame = match self.compression {
            Compression::None => builder.finish(high_watermark),
            Compression::Snappy => protocol::compress(self.id, &builder.finish(high_watermark))
                .map_err(|e| Stop::Failed(e.into()))?,
        };
        self.out
            .send(Outgoing {
                frame,
                held: held.clone(),
            })
            .await
            .map_err(|_| Stop::Closed)
    }

    /// The failure of a record that needs a frame of `len` bytes, more than the window.
    fn too_large(&self, partition: i32, len: u64) -> Stop {
        Stop::Failed(Error::Subscription {
            subscription: self.id,
            reason: format!(
                "a record of partition {partition} needs a frame of {len} bytes, more than the {} bytes of credit the subscription opened with",
                self.credit.window()
            ),
        })
    }

    /// The frame length a builder may reach before it is flushed.
    fn frame_limit(&self, target: usize) -> usize {
        (self.credit.window().min(usize::MAX as u64) as usize).min(target)
    }
}

/// Takes between `min` and `max` bytes of credit (waiting for `min`), then holds as much of the
/// connection's budget (waiting for it). The one order: nothing waits for credit while it holds
/// budget (a frame is only ever built within credit already reserved), so partitions waiting
/// for the budget with credit and partitions waiting for credit with the budget cannot meet.
async fn reserve(sink: &Sink, min: u64, max: u64) -> Result<(Reservation, Held), Stop> {
    let reservation = sink.credit.reserve_between(min, max).await?;
    let held = sink.budget.hold(reservation.left()).await;
    Ok((reservation, held))
}

/// Runs one subscription to its end. A failure is logged with its context and sent to the client
/// as an `Error` for this subscription; the connection and its other subscriptions go on.
pub async fn run(source: Arc<Source>, subscribe: Subscribe, sink: Sink) {
    let id = subscribe.subscription;
    let described = source.describe();
    let seek = subscribe.seek.to_string();
    let result = match &*source {
        Source::Kafka(kafka) => stream_kafka(kafka, &subscribe, &sink).await,
        Source::Recording(recording) => replay(recording, &subscribe, &sink).await,
    };
    if let Err(Stop::Failed(e)) = result {
        tracing::warn!(subscription = id, source = %described, seek = %seek, error = %e, "subscription failed");
        let message = ServerMessage::Error {
            subscription: Some(id),
            message: e.to_string(),
        };
        let _ = sink.control(&message).await;
    }
}

/// Start offsets for every partition: the seek spec resolved, explicit offsets checked, then the
/// resume points (each checked) put over it.
pub fn start_offsets(
    topic: &str,
    seek: &SeekSpec,
    resume: Option<&BTreeMap<i32, i64>>,
    marks: &[Watermarks],
    by_time: &BTreeMap<i32, i64>,
) -> Result<BTreeMap<i32, i64>> {
    let mark = |partition: i32| -> Result<&Watermarks> {
        marks
            .iter()
            .find(|m| m.partition == partition)
            .ok_or_else(|| Error::UnknownPartition {
                topic: topic.to_owned(),
                partition,
                available: marks
                    .iter()
                    .map(|m| m.partition.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let in_range = |partition: i32, offset: i64| -> Result<()> {
        let m = mark(partition)?;
        if offset < m.low || offset > m.high {
            return Err(Error::OffsetOutOfRange {
                topic: topic.to_owned(),
                partition,
                offset,
                low: m.low,
                high: m.high,
            });
        }
        Ok(())
    };
    if let SeekSpec::PerPartition(map) = seek {
        for (&partition, position) in map {
            mark(partition)?;
            if let Position::Offset(offset) = position {
                in_range(partition, *offset)?;
            }
        }
    }
    let mut starts = seek.resolve(marks, by_time)?;
    for (&partition, &offset) in resume.into_iter().flatten() {
        in_range(partition, offset)?;
        starts.insert(partition, offset);
    }
    Ok(starts)
}

fn hello(
    id: SubscriptionId,
    topic: &str,
    source: String,
    marks: &[Watermarks],
    starts: &BTreeMap<i32, i64>,
    schemas: Vec<streamglass_core::protocol::SchemaInfo>,
) -> ServerMessage<'static> {
    ServerMessage::Hello(Hello {
        subscription: id,
        topic: topic.to_owned(),
        source,
        partitions: marks
            .iter()
            .map(|m| PartitionInfo {
                partition: m.partition,
                low_watermark: m.low,
                high_watermark: m.high,
                start_offset: starts.get(&m.partition).copied().unwrap_or(m.high),
            })
            .collect(),
        schemas,
    })
}

/// Partitions of a topic a subscription connects to at once.
const OPENS_AT_ONCE: usize = 8;

async fn stream_kafka(kafka: &KafkaSource, subscribe: &Subscribe, sink: &Sink) -> Result<(), Stop> {
    // The listing's partitions: no metadata request per subscription.
    let (name, partitions) = kafka.served.resolve(subscribe.topic.as_deref()).await?;
    let topic = kafka.cluster.listed_topic(&name, &partitions);
    let topic = &topic;
    let lookups = partitions.iter().map(|&p| async move {
        let client = topic.partition(p).await?;
        let (low, high) = client.watermarks().await?;
        Ok::<_, Error>((
            client,
            Watermarks {
                partition: p,
                low,
                high,
            },
        ))
    });
    // A few partitions connected at a time, however many the topic has.
    let lookups: Vec<_> = lookups.collect();
    let found: Vec<_> = futures_util::stream::iter(lookups)
        .buffered(OPENS_AT_ONCE)
        .try_collect()
        .await?;
    let marks: Vec<Watermarks> = found.iter().map(|(_, m)| *m).collect();
    let mut by_time = BTreeMap::new();
    for (&partition, &ms) in &subscribe.seek.timestamps(topic.partitions()) {
        if let Some((client, _)) = found.iter().find(|(_, m)| m.partition == partition)
            && let Some(offset) = client.offset_at_time(ms).await?
        {
            by_time.insert(partition, offset);
        }
    }
    let starts = start_offsets(
        &name,
        &subscribe.seek,
        subscribe.resume.as_ref(),
        &marks,
        &by_time,
    )?;
    let schemas = kafka.schemas.for_topic(&name).await?;
    let source = format!("kafka {} topic {name}", kafka.cluster.broker());
    sink.control(&hello(sink.id, &name, source, &marks, &starts, schemas))
        .await?;
    // Each partition reserves at most its share of the window, so partitions long-polling at
    // their end cannot hold the credit a partition with records to send needs.
    let share = (sink.credit.window() / found.len().max(1) as u64)
        .clamp(1, FETCH_BYTES.min(sink.budget.share() / 2));
    let mut tails = tokio::task::JoinSet::new();
    for (client, m) in found {
        let start = starts.get(&m.partition).copied().unwrap_or(m.high);
        tails.spawn(tail_partition(client, start, m.high, share, sink.clone()));
    }
    // The first partition to fail ends the subscription; the others stop with it.
    while let Some(joined) = tails.join_next().await {
        match joined {
            Ok(Ok(())) | Ok(Err(Stop::Closed)) => {}
            Ok(Err(stop)) => return Err(stop),
            Err(e) => return Err(Stop::Failed(std::io::Error::other(e.to_string()).into())),
        }
    }
    Ok(())
}

/// Sends one partition from `start` on, fetching only as credit allows (at most `share` bytes
/// reserved at a time), then tails it.
async fn tail_partition(
    partition: Arc<KafkaPartition>,
    start: i64,
    initial_high: i64,
    share: u64,
    sink: Sink,
) -> Result<(), Stop> {
    let p = partition.partition();
    let mut next = start;
    let mut high = initial_high;
    let mut caught_up = false;
    let mut builder = FrameBuilder::new(sink.id, p);
    let limit = sink.frame_limit(MAX_FRAME_PAYLOAD + FRAME_HEADER);
    loop {
        if !caught_up && next >= initial_high {
            caught_up = true;
            let message = ServerMessage::CaughtUp {
                subscription: sink.id,
                partition: p,
                next_offset: next,
            };
            sink.control(&message).await?;
        }
        let (wait, ask) = if next >= high {
            (TAIL_WAIT, share.min(TAIL_FETCH_BYTES))
        } else {
            (Duration::ZERO, share)
        };
        let (mut reservation, mut held) = reserve(&sink, 1, ask).await?;
        let max_bytes = i32::try_from(reservation.left()).unwrap_or(i32::MAX);
        let fetched = match partition.fetch(next, max_bytes, wait).await {
            Ok(fetched) => fetched,
            Err(e) => {
                sink.credit.refund(reservation);
                return Err(e.into());
            }
        };
        high = high.max(fetched.high_watermark);
        for r in &fetched.records {
            let (key, value) = (r.key.as_deref(), r.value.as_deref());
            let size = FrameBuilder::record_len(r.offset, r.timestamp_ms, key, value);
            // Frames fit the credit reserved (their length bounded with the largest header), so
            // a flush never waits for credit while the fetch holds the budget.
            let room = limit.min(reservation.left() as usize);
            if !builder.is_empty() && builder.frame_len(i64::MAX) + size > room {
                sink.flush(&mut builder, high, &mut reservation, &held)
                    .await?;
            }
            if builder.is_empty() && (size + FRAME_HEADER) as u64 > reservation.left() {
                // A record the reservation cannot take (a broker returns a whole batch, whatever
                // it was asked for): its credit is waited for holding no budget.
                let need = (size + FRAME_HEADER) as u64;
                if need > sink.credit.window() {
                    return Err(sink.too_large(p, need));
                }
                sink.credit.refund(reservation);
                drop(held);
                (reservation, held) = reserve(&sink, need, need).await?;
            }
            builder.push(r.offset, r.timestamp_ms, key, value);
            next = r.offset + 1;
        }
        sink.flush(&mut builder, high, &mut reservation, &held)
            .await?;
        sink.credit.refund(reservation);
    }
}

impl Source {
    fn served_topic_of(topics: &[String], asked: Option<&str>) -> Result<String> {
        match asked {
            None => topics
                .first()
                .cloned()
                .ok_or_else(|| Error::InvalidArgument("no topic is served".into())),
            Some(t) if topics.iter().any(|s| s == t) => Ok(t.to_owned()),
            Some(t) => Err(Error::TopicNotServed {
                topic: t.to_owned(),
                served: topics.join(", "),
            }),
        }
    }
}

/// For each partition, the first offset whose record is at or after the given time (in offset
/// order, as a broker's ListOffsets by time answers). The block index says where the first such
/// record can be (the blocks before hold none), so only from there is the file read, a block at a
/// time, through the shared blocks: async, and cancelled with the subscription.
async fn offsets_at_times(
    recording: &RecordingSource,
    wanted: &BTreeMap<i32, i64>,
) -> Result<BTreeMap<i32, i64>> {
    let mut found = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    let store = recording.blocks();
    let mut position = recording
        .index()
        .time_from(wanted)
        .unwrap_or_else(|| store.first());
    while let Some(block) = store.block(position).await? {
        let mut pos = 0;
        while let Some(read) = block.record_at(pos) {
            let (view, after) = read.map_err(|reason| Error::CorruptRecording {
                path: recording.path.clone(),
                records: 0,
                reason: format!("in the block at byte {position}: {reason}"),
            })?;
            pos = after;
            if let Some(&ms) = wanted.get(&view.partition)
                && view.timestamp_ms >= ms
            {
                found.entry(view.partition).or_insert(view.offset);
                if found.len() == wanted.len() {
                    return Ok(found);
                }
            }
        }
        position = block.next;
    }
    Ok(found)
}

/// One partition's replay state.
struct Replayed {
    builder: FrameBuilder,
    /// Bytes of the reservation the builder's frame may take when flushed (its length now, plus
    /// room for its header).
    charged: u64,
    start: i64,
    /// The next offset to send.
    next: i64,
    /// The high watermark when the subscription started: `CaughtUp` is sent on reaching it.
    caught_up_at: i64,
    caught_up: bool,
    /// The recording's high watermark: the partition is done on reaching it.
    end: i64,
    done: bool,
    /// The largest timestamp read so far in the partition: a live replay's release time.
    release_ms: i64,
}

/// The credit a replay has reserved and the budget it holds for it: every frame it builds fits
/// in them, so what it has read but not sent is always counted.
struct Batch {
    reserved: Option<(Reservation, Held)>,
    /// Bytes of the reservation promised to frames being built.
    promised: u64,
}

impl Batch {
    /// Bytes of the reservation not yet promised to a frame.
    fn room(&self) -> u64 {
        self.reserved
            .as_ref()
            .map_or(0, |(r, _)| r.left().saturating_sub(self.promised))
    }

    /// Sends every builder's frame within the reservation, then gives back what is left of it.
    async fn release(
        &mut self,
        state: &mut BTreeMap<i32, Replayed>,
        sink: &Sink,
        high: impl Fn(&Replayed) -> i64,
    ) -> Result<(), Stop> {
        for r in state.values_mut() {
            self.flush(r, sink, high(r)).await?;
        }
        if let Some((reservation, _held)) = self.reserved.take() {
            sink.credit.refund(reservation);
        }
        self.promised = 0;
        Ok(())
    }

    /// Sends one builder's frame, taking its length from the reservation.
    async fn flush(&mut self, r: &mut Replayed, sink: &Sink, high: i64) -> Result<(), Stop> {
        if r.builder.is_empty() {
            return Ok(());
        }
        // Records are only pushed into builders within a reservation (`room`).
        let Some((reservation, held)) = &mut self.reserved else {
            return Err(Stop::Failed(
                std::io::Error::other("a frame was built without credit reserved for it").into(),
            ));
        };
        sink.flush(&mut r.builder, high, reservation, held).await?;
        self.promised = self.promised.saturating_sub(r.charged);
        r.charged = 0;
        Ok(())
    }

    /// Reserves credit for the next frames, at least `at_least` bytes, and holds the budget for
    /// them (see [`reserve`]).
    async fn reserve(&mut self, sink: &Sink, at_least: u64) -> Result<(), Stop> {
        let want = at_least.max(REPLAY_RESERVE.min(sink.budget.share() / 2));
        self.reserved = Some(reserve(sink, at_least, want).await?);
        self.promised = 0;
        Ok(())
    }
}

/// Replays a recording to one subscription. Replayed as live, seeks resolve against the live
/// edge, records after it go out as the server's clock releases them, and `Exhausted` ends the
/// replay instead of `End`.
///
/// The loop reads one record at a time from a shared [`Block`]; whenever it must wait (for the
/// clock, credit, the budget or the socket) it drops the record and, for a wait that may be long,
/// the block, then reads the same record again: no borrow lives across a wait.
async fn replay(
    recording: &RecordingSource,
    subscribe: &Subscribe,
    sink: &Sink,
) -> Result<(), Stop> {
    let meta = &recording.meta;
    let live = recording.live.as_ref();
    let topic = Source::served_topic_of(
        std::slice::from_ref(&meta.topic),
        subscribe.topic.as_deref(),
    )?;
    let ends = live::watermarks(meta);
    let marks = live.map_or_else(|| ends.clone(), |clock| clock.marks(clock.elapsed()));
    let partitions: Vec<i32> = marks.iter().map(|m| m.partition).collect();
    let times = subscribe.seek.timestamps(&partitions);
    let by_time = offsets_at_times(recording, &times).await?;
    let starts = start_offsets(
        &topic,
        &subscribe.seek,
        subscribe.resume.as_ref(),
        &marks,
        &by_time,
    )?;
    let how = live.map_or_else(|| format!("pace {}", recording.pace), LiveClock::describe);
    let early = recording.stopped_early().map_or("", |_| ", stopped early");
    let source = format!(
        "recording {} of {topic} ({how}{early})",
        recording.path.display()
    );
    let hello = hello(
        sink.id,
        &topic,
        source,
        &marks,
        &starts,
        meta.schemas.clone(),
    );
    sink.control(&hello).await?;
    let mut state: BTreeMap<i32, Replayed> = marks
        .iter()
        .zip(&ends)
        .map(|(m, e)| {
            let start = starts.get(&m.partition).copied().unwrap_or(m.high);
            let replayed = Replayed {
                builder: FrameBuilder::new(sink.id, m.partition),
                charged: 0,
                start,
                next: start,
                caught_up_at: m.high,
                caught_up: false,
                end: e.high,
                done: false,
                release_ms: i64::MIN,
            };
            (m.partition, replayed)
        })
        .collect();
    let caught_up = |partition: i32, next_offset: i64| ServerMessage::CaughtUp {
        subscription: sink.id,
        partition,
        next_offset,
    };
    // The high watermark a frame reports: the live edge (at least past what is sent), or the end.
    let high = |r: &Replayed| match live {
        Some(clock) => clock
            .high(r.builder.partition(), clock.elapsed())
            .unwrap_or(r.end)
            .max(r.next),
        None => r.end,
    };
    for r in state.values_mut() {
        if r.start >= r.caught_up_at {
            r.caught_up = true;
            sink.control(&caught_up(r.builder.partition(), r.start))
                .await?;
        }
        r.done = r.start >= r.end;
    }
    let limit = sink.frame_limit(RECORDING_FRAME) as u64;
    let mut pacer = Pacer::new(recording.pace);
    let started = Instant::now();
    let mut open = state.values().filter(|r| !r.done).count();
    let store = recording.blocks();
    let mut position = store.first();
    // Start at the first block that holds something wanted (a seek deep into a large recording).
    let wanted: BTreeMap<i32, i64> = state
        .iter()
        .filter(|(_, r)| !r.done)
        .map(|(&p, r)| (p, r.start))
        .collect();
    if open > 0
        && let Some(from) = recording.index().read_from(&wanted)
    {
        position = from.position;
        for (p, latest) in from.latest_before {
            if let Some(r) = state.get_mut(&p) {
                r.release_ms = r.release_ms.max(latest);
            }
        }
    }
    let mut batch = Batch {
        reserved: None,
        promised: 0,
    };
    let mut kept: Option<Arc<Block>> = None;
    // Where the next record starts in the block at `position`.
    let mut pos = 0usize;
    let mut failure = None;
    // Records read from the file, as the damage report counts them.
    let mut read = 0u64;
    while open > 0 {
        let block = match kept.take() {
            Some(block) => block,
            None => match store.block(position).await {
                Ok(Some(block)) => {
                    if pos == 0 {
                        store.prefetch(block.next);
                    }
                    block
                }
                Ok(None) => break,
                Err(Error::CorruptRecording { path, reason, .. }) => {
                    failure = Some(Error::CorruptRecording {
                        path,
                        records: read,
                        reason,
                    });
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            },
        };
        let (view, after) = match block.record_at(pos) {
            None => {
                position = block.next;
                pos = 0;
                continue;
            }
            Some(Ok(read)) => read,
            Some(Err(reason)) => {
                failure = Some(Error::CorruptRecording {
                    path: recording.path.clone(),
                    records: read,
                    reason: format!("in the block at byte {position}: {reason}"),
                });
                break;
            }
        };
        let Some(r) = state.get_mut(&view.partition) else {
            (pos, read) = (after, read + 1);
            kept = Some(block);
            continue;
        };
        r.release_ms = r.release_ms.max(view.timestamp_ms);
        if r.done || view.offset < r.start {
            (pos, read) = (after, read + 1);
            kept = Some(block);
            continue;
        }
        // Waits end on the release tick, so records due close together go out in one frame, and
        // every live replay of the bridge wakes at the same instants.
        let wait = match live {
            Some(clock) => {
                let elapsed = clock.elapsed();
                on_tick(clock.wait(r.release_ms, elapsed), elapsed)
            }
            // At full speed nothing waits, and the clock is not read for every record.
            None if pacer.is_max() => Duration::ZERO,
            None => {
                let elapsed = started.elapsed();
                on_tick(pacer.wait(view.timestamp_ms, elapsed), elapsed)
            }
        };
        // Never early; what is due goes out before a sleep worth a flush. After the sleep the
        // same record is read again.
        if !wait.is_zero() {
            if wait > PACE_SLACK {
                // The socket may keep us: the block is let go first.
                drop(block);
                batch.release(&mut state, sink, high).await?;
            } else if wait <= KEEP_BLOCK_WAIT {
                kept = Some(block);
            }
            sleep_unless_closed(wait, sink).await?;
            continue;
        }
        let size =
            FrameBuilder::record_len(view.offset, view.timestamp_ms, view.key, view.value) as u64;
        if size + FRAME_HEADER as u64 > sink.credit.window() {
            return Err(sink.too_large(view.partition, size + FRAME_HEADER as u64));
        }
        // A full frame goes out first (the block is let go: the socket may keep us waiting).
        if !r.builder.is_empty() && r.charged + size > limit {
            let high = high(r);
            drop(block);
            batch.flush(r, sink, high).await?;
            continue;
        }
        let grows = size
            + if r.builder.is_empty() {
                FRAME_HEADER as u64
            } else {
                0
            };
        if batch.room() < grows {
            // Out of reserved credit: send what is built, then wait for more, holding nothing.
            drop(block);
            batch.release(&mut state, sink, high).await?;
            batch.reserve(sink, grows).await?;
            continue;
        }
        r.builder
            .push(view.offset, view.timestamp_ms, view.key, view.value);
        r.charged += grows;
        batch.promised += grows;
        r.next = view.offset + 1;
        (pos, read) = (after, read + 1);
        if r.caught_up || r.next < r.caught_up_at {
            if r.next < r.end {
                kept = Some(block);
                continue;
            }
        } else {
            drop(block);
            let high = high(r);
            batch.flush(r, sink, high).await?;
            r.caught_up = true;
            let partition = r.builder.partition();
            let next = r.next;
            sink.control(&caught_up(partition, next)).await?;
        }
        if r.next >= r.end {
            let high = high(r);
            batch.flush(r, sink, high).await?;
            r.done = true;
            open -= 1;
        }
    }
    // What was read intact goes out before the damage is reported.
    batch.release(&mut state, sink, high).await?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    for r in state.values_mut().filter(|r| !r.caught_up) {
        r.caught_up = true;
        sink.control(&caught_up(r.builder.partition(), r.caught_up_at))
            .await?;
    }
    let last = match live {
        Some(clock) => ServerMessage::Exhausted {
            subscription: sink.id,
            last_timestamp_ms: clock.last_ms(),
            message: clock.exhausted_message(),
        },
        None => ServerMessage::End {
            subscription: sink.id,
        },
    };
    sink.control(&last).await
}

/// `wait` from `elapsed`, lengthened to end on the next [`RELEASE_TICK`] (zero stays zero).
fn on_tick(wait: Duration, elapsed: Duration) -> Duration {
    if wait.is_zero() {
        return wait;
    }
    let tick = RELEASE_TICK.as_nanos();
    let due = (elapsed + wait).as_nanos();
    let aligned = due.div_ceil(tick) * tick;
    Duration::from_nanos(u64::try_from(aligned).unwrap_or(u64::MAX)).saturating_sub(elapsed)
}

/// Sleeps `wait`, stopping early when the subscription is closed.
async fn sleep_unless_closed(wait: Duration, sink: &Sink) -> Result<(), Stop> {
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        () = sink.out.closed() => Err(Stop::Closed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks() -> Vec<Watermarks> {
        vec![
            Watermarks {
                partition: 0,
                low: 10,
                high: 100,
            },
            Watermarks {
                partition: 1,
                low: 0,
                high: 5,
            },
        ]
    }

    fn starts(seek: &str, resume: Option<BTreeMap<i32, i64>>) -> Result<Vec<i64>> {
        let seek: SeekSpec = seek.parse().unwrap();
        Ok(
            start_offsets("t", &seek, resume.as_ref(), &marks(), &BTreeMap::new())?
                .into_values()
                .collect(),
        )
    }

    #[test]
    fn waits_end_on_the_release_tick_and_never_early() {
        let ms = Duration::from_millis;
        assert_eq!(on_tick(Duration::ZERO, ms(1234)), Duration::ZERO);
        assert_eq!(on_tick(ms(1), ms(1234)), ms(66));
        assert_eq!(on_tick(ms(66), ms(1234)), ms(66));
        assert_eq!(on_tick(ms(67), ms(1234)), ms(166));
        for (wait, elapsed) in [(1, 0), (99, 1), (100, 0), (250, 7)] {
            let got = on_tick(ms(wait), ms(elapsed));
            assert!(got >= ms(wait));
            assert_eq!((ms(elapsed) + got).as_millis() % 100, 0);
        }
    }

    #[test]
    fn resume_points_override_the_seek_and_are_checked() {
        assert_eq!(
            starts("end", Some(BTreeMap::from([(1, 3)]))).unwrap(),
            [100, 3]
        );
        assert_eq!(starts("beginning", None).unwrap(), [10, 0]);
        let e = starts("end", Some(BTreeMap::from([(0, 5)]))).unwrap_err();
        assert!(
            matches!(
                e,
                Error::OffsetOutOfRange {
                    partition: 0,
                    offset: 5,
                    low: 10,
                    high: 100,
                    ..
                }
            ),
            "{e}"
        );
        let e = starts("end", Some(BTreeMap::from([(7, 0)]))).unwrap_err();
        assert!(
            e.to_string()
                .contains("partition 7 of t does not exist (partitions: 0, 1)"),
            "{e}"
        );
    }

    #[test]
    fn explicit_map_offsets_out_of_range_are_errors_but_an_offset_for_all_is_clamped() {
        let e = starts("{1: 6}", None).unwrap_err();
        assert!(
            e.to_string()
                .contains("offset 6 is out of range for t/1 (offsets 0..5"),
            "{e}"
        );
        assert!(
            starts("{9: 1}", None)
                .unwrap_err()
                .to_string()
                .contains("partition 9")
        );
        assert_eq!(starts("{1: 5}", None).unwrap(), [100, 5]);
        assert_eq!(starts("50", None).unwrap(), [50, 5]);
    }
}
