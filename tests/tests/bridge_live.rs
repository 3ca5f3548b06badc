//! A recording replayed as a live feed (`serve --live-from POINT --speed K`): history at full
//! speed, then every record when the server's clock releases it and never before, seeks against
//! the live edge, and `Exhausted` after the last record.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use replay_bridge::live::LivePoint;
use replay_bridge::recording::{PartitionRange, RecordingMeta, RecordingWriter, StoredRecord};
use replay_bridge::source::Source;
use streamglass_core::protocol::{PartitionInfo, SchemaInfo};
use streamglass_tests::ws::{self, Received, Session};

const TIMEOUT: Duration = Duration::from_secs(60);
/// 2026-01-05T14:30:00Z: where the live point of these recordings is.
const T0: i64 = 1_767_623_400_000;
const PARTITIONS: i32 = 3;

/// Writes records at `times` (record time, ms), spread round-robin over the partitions with dense
/// offsets from 0, in file order; returns them.
fn write(path: &Path, times: &[i64]) -> Vec<StoredRecord> {
    let mut next = vec![0i64; PARTITIONS as usize];
    let records: Vec<StoredRecord> = times
        .iter()
        .enumerate()
        .map(|(i, &timestamp_ms)| {
            let partition = (i % PARTITIONS as usize) as i32;
            let offset = next[partition as usize];
            next[partition as usize] += 1;
            StoredRecord {
                partition,
                offset,
                timestamp_ms,
                key: None,
                value: Some(format!("record {i}").into_bytes()),
                headers: vec![],
            }
        })
        .collect();
    let meta = RecordingMeta {
        topic: "live".into(),
        partitions: (0..PARTITIONS)
            .map(|p| PartitionRange::new(p, 0, next[p as usize]))
            .collect(),
        schemas: vec![SchemaInfo {
            id: 1,
            subject: Some("live-value".into()),
            version: Some(1),
            schema: "\"string\"".into(),
            schema_type: Default::default(),
            descriptors: None,
        }],
        source: "bridge_live test".into(),
        stopped_early: None,
    };
    let mut writer = RecordingWriter::create(path, &meta).unwrap();
    for r in &records {
        writer.append(r).unwrap();
    }
    writer.finish(&meta).unwrap();
    records
}

/// A bridge replaying `path` as live; returns its address and instants just before and after its
/// clock started.
async fn live_bridge(path: &Path, point: &str, speed: f64) -> (String, Instant, Instant) {
    let point: LivePoint = point.parse().unwrap();
    let before = Instant::now();
    let source = Source::recording_live(path, point, speed).unwrap();
    let after = Instant::now();
    (common::start_bridge(source, None).await, before, after)
}

/// What one subscription received, with when.
#[derive(Default)]
struct Arrivals {
    /// When each record (in `Session::records` order) arrived.
    at: Vec<Instant>,
    /// When the hello arrived.
    hello: Option<Instant>,
    /// When every partition had caught up.
    caught_up: Option<Instant>,
    /// Records received when `Exhausted` arrived.
    exhausted_after: Option<usize>,
}

/// Reads until every subscription in `ids` is exhausted, noting when each thing arrived.
async fn read_until_exhausted(session: &mut Session, ids: &[u32]) -> BTreeMap<u32, Arrivals> {
    let mut arrivals: BTreeMap<u32, Arrivals> =
        ids.iter().map(|&id| (id, Arrivals::default())).collect();
    let read = async {
        while ids.iter().any(|id| arrivals[id].exhausted_after.is_none()) {
            assert!(session.step().await.unwrap(), "the socket closed");
            let now = Instant::now();
            for (&id, a) in &mut arrivals {
                let records = session.records.get(&id).map_or(0, Vec::len);
                a.at.resize(records, now);
                let feed = &session.feeds[&id];
                if a.hello.is_none() && feed.hello().is_some() {
                    a.hello = Some(now);
                }
                let snapshot = feed.snapshot();
                assert!(
                    snapshot.errors.is_empty(),
                    "subscription {id}: {:?}",
                    snapshot.errors
                );
                if a.caught_up.is_none()
                    && !snapshot.partitions.is_empty()
                    && snapshot.partitions.iter().all(|p| p.caught_up)
                {
                    a.caught_up = Some(now);
                }
                if a.exhausted_after.is_none() && session.exhausted.iter().any(|(e, _)| *e == id) {
                    a.exhausted_after = Some(records);
                }
            }
        }
    };
    tokio::time::timeout(TIMEOUT, read)
        .await
        .expect("every subscription exhausted in time");
    arrivals
}

/// When a record of time `ms` is due, counted from the clock's start, at `speed`.
fn due(ms: i64, speed: f64) -> Duration {
    Duration::from_secs_f64((ms - T0).max(0) as f64 / 1000.0 / speed)
}

fn hello_partitions(session: &Session, id: u32) -> Vec<PartitionInfo> {
    session.feeds[&id]
        .hello()
        .expect("hello")
        .partitions
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_after_the_live_point_arrive_over_their_record_time_and_never_early() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sgrec");
    // 2,000 records of history, then 150 spread over the 10 s after T0.
    let mut times: Vec<i64> = (0..2_000).map(|i| T0 - 2_000_000 + i * 1_000).collect();
    times.extend((1..=150).map(|i| T0 + i * 10_000 / 150));
    let records = write(&path, &times);
    let (addr, before, after) = live_bridge(&path, "2026-01-05T14:30:00Z", 1.0).await;

    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    session
        .subscribe(1, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    let arrivals = read_until_exhausted(&mut session, &[1]).await;
    let got: &[Received] = &session.records[&1];
    let at = &arrivals[&1].at;
    assert_eq!(got.len(), records.len());
    common::assert_dense(got, "a live replay");
    assert_eq!(
        arrivals[&1].exhausted_after,
        Some(records.len()),
        "Exhausted comes after the last record"
    );

    let mut last = before;
    for (r, &arrived) in got.iter().zip(at) {
        // `before` is no later than the clock's start: a record earlier than this is early.
        let earliest = before + due(r.timestamp_ms, 1.0);
        assert!(
            arrived >= earliest,
            "{}/{} (record time T0{:+} ms) arrived {:?} early",
            r.partition,
            r.offset,
            r.timestamp_ms - T0,
            earliest - arrived
        );
        let latest = after + due(r.timestamp_ms, 1.0) + Duration::from_millis(750);
        assert!(
            arrived <= latest,
            "{}/{} (record time T0{:+} ms) arrived {:?} late",
            r.partition,
            r.offset,
            r.timestamp_ms - T0,
            arrived - latest
        );
        last = last.max(arrived);
    }
    let span = last - before;
    assert!(
        span >= Duration::from_secs(10) && span <= Duration::from_secs(11),
        "the 10 s after the live point took {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_arrives_at_full_speed_long_before_the_first_release() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sgrec");
    // 150,000 records of history over the 150 s before T0; 30 records from T0 + 60 s on.
    let history = 150_000i64;
    let mut times: Vec<i64> = (0..history).map(|i| T0 - 150_000 + i).collect();
    times.extend((0..30).map(|i| T0 + 60_000 + i * 10));
    let records = write(&path, &times);
    // `end-30`: the last 30 records are the future. At x10 the first is due 6 s after the start;
    // replayed at the recorded pace, the history alone would take 15 s.
    let speed = 10.0;
    let (addr, before, _) = live_bridge(&path, "end-30", speed).await;

    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    session
        .subscribe(1, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    let arrivals = read_until_exhausted(&mut session, &[1]).await;
    let got = &session.records[&1];
    assert_eq!(got.len(), records.len());
    common::assert_dense(got, "history then future");
    let hello = hello_partitions(&session, 1);
    assert_eq!(
        hello.iter().map(|p| p.high_watermark).sum::<i64>(),
        history,
        "the live edge starts where the history ends: {hello:?}"
    );
    let first_future = got
        .iter()
        .position(|r| r.timestamp_ms > T0)
        .expect("future records");
    assert_eq!(
        first_future as i64, history,
        "all of the history comes first"
    );
    let caught_up = arrivals[&1].caught_up.expect("caught up");
    let first_release = before + due(T0 + 60_000, speed);
    assert!(
        caught_up < first_release,
        "the history ({history} records) caught up {:?} after the start, not before the first release {:?} after",
        caught_up - before,
        first_release - before
    );
    assert!(arrivals[&1].at[first_future] >= first_release);
    assert_eq!(arrivals[&1].exhausted_after, Some(records.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeks_resolve_against_the_live_edge_and_end_starts_exactly_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.sgrec");
    // 3,000 records of history, then 3,000 over 30 s of record time: 3 s at x10.
    let mut times: Vec<i64> = (0..3_000).map(|i| T0 - 3_000 + i + 1).collect();
    times.extend((1..=3_000).map(|i| T0 + i * 10));
    let records = write(&path, &times);
    let speed = 10.0;
    let (addr, before, after) = live_bridge(&path, "50%", speed).await;
    let file_high = |p: i32| records.iter().filter(|r| r.partition == p).count() as i64;
    let release_of = |p: i32, offset: i64| {
        records
            .iter()
            .find(|r| r.partition == p && r.offset == offset)
            .map(|r| r.timestamp_ms)
            .expect("record")
    };

    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    let subscribed = Instant::now();
    let far = T0 + 3_600_000;
    let specs = ["end", "-300", &format!("s@{far}"), "beginning"];
    for (i, spec) in specs.iter().enumerate() {
        session
            .subscribe(i as u32 + 1, spec, None, ws::WINDOW)
            .await
            .unwrap();
    }
    let ids = [1, 2, 3, 4];
    let arrivals = read_until_exhausted(&mut session, &ids).await;

    for (&id, spec) in ids.iter().zip(specs) {
        let hello = hello_partitions(&session, id);
        let got = &session.records[&id];
        common::assert_dense(got, spec);
        for p in &hello {
            // The edge is inside the future part: past the history, short of the recording's end.
            assert!(
                p.high_watermark >= 1_000 && p.high_watermark < file_high(p.partition),
                "{spec}: the live edge {p:?}"
            );
            let mine: Vec<&Received> = got.iter().filter(|r| r.partition == p.partition).collect();
            assert_eq!(
                mine.len() as i64,
                file_high(p.partition) - p.start_offset,
                "{spec}: {p:?}"
            );
            if let Some(first) = mine.first() {
                assert_eq!(first.offset, p.start_offset, "{spec}: {p:?}");
            }
        }
        let expected: i64 = hello
            .iter()
            .map(|p| file_high(p.partition) - p.start_offset)
            .sum();
        assert_eq!(
            got.len() as i64,
            expected,
            "{spec}: nothing missed, nothing twice"
        );
        assert_eq!(
            arrivals[&id].exhausted_after,
            Some(got.len()),
            "{spec}: Exhausted after the last record"
        );
        let starts: Vec<i64> = hello.iter().map(|p| p.start_offset).collect();
        let highs: Vec<i64> = hello.iter().map(|p| p.high_watermark).collect();
        match spec {
            "end" => assert_eq!(starts, highs),
            "-300" => assert_eq!(
                highs.iter().zip(&starts).map(|(h, s)| h - s).sum::<i64>(),
                300
            ),
            "beginning" => assert_eq!(starts, [0, 0, 0]),
            _ => assert_eq!(
                starts, highs,
                "{spec}: a time past the edge starts at the edge"
            ),
        }
    }

    // `end` starts exactly at the live edge. The clock started between `before` and `after`; the
    // edge was read between `subscribed` and the hello's arrival. So the record before the start
    // was released by the time the hello came, and the first one sent only after the subscription.
    let hello_at = arrivals[&1].hello.expect("hello") - before;
    let subscribed_at = subscribed.saturating_duration_since(after);
    for p in hello_partitions(&session, 1) {
        let previous = release_of(p.partition, p.start_offset - 1);
        assert!(
            due(previous, speed) <= hello_at,
            "{p:?}: T0{:+} ms was not released when the hello came",
            previous - T0
        );
        let first = release_of(p.partition, p.start_offset);
        assert!(
            due(first, speed) >= subscribed_at,
            "{p:?}: T0{:+} ms was released before the subscription",
            first - T0
        );
    }

    // Once the recording has run out, a new subscriber gets what it asks for, then Exhausted.
    session.subscribe(5, "-10", None, ws::WINDOW).await.unwrap();
    let late = read_until_exhausted(&mut session, &[5]).await;
    assert_eq!(session.records[&5].len(), 10);
    assert_eq!(late[&5].exhausted_after, Some(10));
    let (_, message) = session.exhausted.iter().find(|(id, _)| *id == 5).unwrap();
    assert!(message.contains("ran out"), "{message}");
    assert!(
        session.ended.is_empty(),
        "a live replay ends with Exhausted, not End"
    );
}
