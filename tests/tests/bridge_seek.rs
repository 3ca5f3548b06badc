//! Subscriptions against a real Tansu broker and against recordings: every seek spec starts each
//! partition where it should, a resumed subscription continues exactly where the last one stopped,
//! several clients share one recording, and bad input errors only the client that sent it.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use replay_bridge::recording::RecordingReader;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::{record, trades::TRADES_TOPIC};
use streamglass_core::protocol::ClientMessage;
use streamglass_core::seek::SeekSpec;
use streamglass_tests::producers;
use streamglass_tests::tansu::broker;
use streamglass_tests::ws::{self, Received, Session};

const TIMEOUT: Duration = Duration::from_secs(120);

/// The newest `n` records in total, spread round by round over the partitions in partition order
/// (Redpanda Console's definition), computed the slow way: per partition, how many.
fn newest_by_rounds(sizes: &BTreeMap<i32, i64>, n: i64) -> BTreeMap<i32, i64> {
    let mut taken: BTreeMap<i32, i64> = sizes.keys().map(|&p| (p, 0)).collect();
    let mut left = n;
    loop {
        let mut took = false;
        for (p, size) in sizes {
            let t = taken.get_mut(p).expect("partition");
            if left > 0 && *t < *size {
                *t += 1;
                left -= 1;
                took = true;
            }
        }
        if !took || left == 0 {
            return taken;
        }
    }
}

/// Per partition, the first offset received, and how many.
fn firsts(records: &[Received]) -> BTreeMap<i32, (i64, i64)> {
    let mut out = BTreeMap::new();
    for r in records {
        out.entry(r.partition).or_insert((r.offset, 0)).1 += 1;
    }
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Opens one subscription per spec on one socket, reads until all are caught up, and checks that
/// each partition starts (in the hello and in the first record) where `expected` says and runs
/// densely to the high watermark.
async fn check_specs(url: &str, highs: &BTreeMap<i32, i64>, cases: &[(&str, BTreeMap<i32, i64>)]) {
    let mut session = Session::connect(url).await.unwrap();
    for (i, (spec, _)) in cases.iter().enumerate() {
        session
            .subscribe(i as u32 + 1, spec, None, ws::WINDOW)
            .await
            .unwrap();
    }
    session
        .until(TIMEOUT, |s| {
            (1..=cases.len() as u32).all(|id| s.settled(id))
        })
        .await
        .unwrap();
    for (i, (spec, expected)) in cases.iter().enumerate() {
        let id = i as u32 + 1;
        let feed = &session.feeds[&id];
        let snapshot = feed.snapshot();
        assert!(snapshot.errors.is_empty(), "{spec}: {:?}", snapshot.errors);
        let hello = feed.hello().expect("hello");
        let starts: BTreeMap<i32, i64> = hello
            .partitions
            .iter()
            .map(|p| (p.partition, p.start_offset))
            .collect();
        assert_eq!(&starts, expected, "{spec}: start offsets in the hello");
        let records = &session.records[&id];
        common::assert_dense(records, spec);
        let got = firsts(records);
        for (p, &start) in expected {
            let high = highs[p];
            match got.get(p) {
                Some(&(first, count)) => {
                    assert_eq!(first, start, "{spec}: first offset of partition {p}");
                    assert_eq!(count, high - start, "{spec}: records of partition {p}");
                }
                None => assert_eq!(start, high, "{spec}: partition {p} sent nothing"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seek_spec_starts_each_partition_where_it_should() {
    let Some((env, tansu)) = broker("seek specs") else {
        return;
    };
    let topic = "seeks";
    tansu.create_topic(topic, 3).unwrap();
    let schemas = common::schema_dir();
    let schema = schemas.path().join("1-trade.avsc");
    let first =
        producers::produce_with_confluent_kafka(&env, &tansu.addr, topic, 3_000, &schema, 1)
            .unwrap_or_else(|e| panic!("{e}\n{}", tansu.log_tail()));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let between = now_ms();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let second =
        producers::produce_with_confluent_kafka(&env, &tansu.addr, topic, 1_500, &schema, 1)
            .unwrap_or_else(|e| panic!("{e}\n{}", tansu.log_tail()));
    let partitions = [0, 1, 2];
    let mut highs = BTreeMap::new();
    for p in partitions {
        let last = [&first, &second]
            .iter()
            .filter_map(|b| b.partitions.get(&p).map(|e| e.2))
            .max();
        highs.insert(p, last.map_or(0, |l| l + 1));
    }
    let sizes = highs.clone();
    let total: i64 = sizes.values().sum();
    assert_eq!(total, 4_500);
    let smallest = *sizes.values().min().unwrap();
    let largest = *sizes.values().max().unwrap();
    assert!(smallest > 1, "librdkafka spread the records: {sizes:?}");

    let addr = common::start_kafka_bridge(
        &tansu.addr,
        topic,
        SchemaSource::Dir(schemas.path().to_owned()),
        Duration::from_secs(10),
    )
    .await;
    let url = format!("ws://{addr}/ws");

    let each = |f: &dyn Fn(i32, i64) -> i64| -> BTreeMap<i32, i64> {
        highs.iter().map(|(&p, &h)| (p, f(p, h))).collect()
    };
    let newest = |n: i64| -> BTreeMap<i32, i64> {
        let counts = newest_by_rounds(&sizes, n);
        highs.iter().map(|(&p, &h)| (p, h - counts[&p])).collect()
    };
    let second_starts = each(&|p, h| second.partitions.get(&p).map_or(h, |e| e.1));
    // Smaller than every partition, and larger than the smallest one.
    let small_n = (smallest - 1).min(30);
    let mid_n = largest + 10;
    let cases: Vec<(String, BTreeMap<i32, i64>)> = vec![
        ("beginning".into(), each(&|_, _| 0)),
        ("end".into(), highs.clone()),
        ("100".into(), each(&|_, h| h.min(100))),
        (
            "{0: 17, 2: -50}".into(),
            each(&|p, h| match p {
                0 => 17,
                2 => (h - 50).max(0),
                _ => h,
            }),
        ),
        (format!("-{small_n}"), newest(small_n)),
        (format!("-{mid_n}"), newest(mid_n)),
        (format!("-{}", total + 100), each(&|_, _| 0)),
        ("each:-20".into(), each(&|_, h| (h - 20).max(0))),
        (
            format!("each:-{}", smallest + 5),
            each(&|_, h| (h - smallest - 5).max(0)),
        ),
        (format!("s@{between}"), second_starts),
    ];
    // -mid_n spreads: the smallest partition gives all it has only if mid_n/3 passes it.
    assert!(mid_n < total && mid_n > smallest, "{mid_n} vs {sizes:?}");
    let cases: Vec<(&str, BTreeMap<i32, i64>)> =
        cases.iter().map(|(s, e)| (s.as_str(), e.clone())).collect();
    check_specs(&url, &highs, &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seek_spec_on_a_recording_has_the_brokers_offset_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    let written = record::generate(&path, 20_000, 3, 21).unwrap();
    let highs: BTreeMap<i32, i64> = written
        .partitions
        .iter()
        .map(|p| (p.partition, p.high_watermark))
        .collect();
    let all: Vec<_> = RecordingReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let middle = all[all.len() / 2].timestamp_ms;
    let at_time: BTreeMap<i32, i64> = highs
        .iter()
        .map(|(&p, &h)| {
            let first = all
                .iter()
                .filter(|r| r.partition == p && r.timestamp_ms >= middle)
                .map(|r| r.offset)
                .min();
            (p, first.unwrap_or(h))
        })
        .collect();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let each = |f: &dyn Fn(i32, i64) -> i64| -> BTreeMap<i32, i64> {
        highs.iter().map(|(&p, &h)| (p, f(p, h))).collect()
    };
    let newest = |n: i64| -> BTreeMap<i32, i64> {
        let counts = newest_by_rounds(&highs, n);
        highs.iter().map(|(&p, &h)| (p, h - counts[&p])).collect()
    };
    let cases = [
        ("beginning", each(&|_, _| 0)),
        ("end", highs.clone()),
        ("5000", each(&|_, h| h.min(5000))),
        ("{1: 10}", each(&|p, h| if p == 1 { 10 } else { h })),
        ("-100", newest(100)),
        ("each:-7", each(&|_, h| h - 7)),
    ];
    let time_spec = format!("s@{middle}");
    let mut cases: Vec<(&str, BTreeMap<i32, i64>)> = cases.to_vec();
    cases.push((&time_spec, at_time));
    check_specs(&format!("ws://{addr}/ws"), &highs, &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_subscription_continues_exactly_where_the_killed_one_stopped() {
    let Some((_env, tansu)) = broker("resume") else {
        return;
    };
    let topic = "resume";
    tansu.create_topic(topic, 3).unwrap();
    let produced = producers::produce_with_rskafka(
        &tansu.addr,
        topic,
        3,
        common::trade_values(30_000, 8),
        500,
    )
    .await
    .unwrap();
    let addr = common::start_kafka_bridge(
        &tansu.addr,
        topic,
        SchemaSource::None,
        Duration::from_secs(10),
    )
    .await;
    let url = format!("ws://{addr}/ws");

    // A small window, so the bridge is mid-stream when the socket dies.
    let mut first = Session::connect(&url).await.unwrap();
    first
        .subscribe(0, "beginning", None, 64 << 10)
        .await
        .unwrap();
    first
        .until(TIMEOUT, |s| {
            s.records.get(&0).is_some_and(|r| r.len() >= 7_000)
        })
        .await
        .unwrap();
    let before = first.records[&0].clone();
    let hello = first.feeds[&0].hello().unwrap().clone();
    first.kill().await;
    assert!((before.len() as u64) < produced.total, "killed mid-stream");

    let mut resume: BTreeMap<i32, i64> = hello
        .partitions
        .iter()
        .map(|p| (p.partition, p.start_offset))
        .collect();
    for r in &before {
        resume.insert(r.partition, r.offset + 1);
    }
    let mut second = Session::connect(&url).await.unwrap();
    second
        .subscribe(0, "end", Some(resume), ws::WINDOW)
        .await
        .unwrap();
    second.until(TIMEOUT, |s| s.settled(0)).await.unwrap();
    assert!(second.feeds[&0].snapshot().errors.is_empty());

    let mut all = before;
    all.extend(second.records[&0].iter().cloned());
    all.sort_by_key(|r| (r.partition, r.offset));
    common::assert_dense(&all, "before and after the disconnect");
    assert_eq!(all.len() as u64, produced.total, "no loss, no duplicate");
    for (p, (count, low, high)) in &produced.partitions {
        let mine: Vec<&Received> = all.iter().filter(|r| r.partition == *p).collect();
        assert_eq!(mine.len() as u64, *count);
        assert_eq!((mine[0].offset, mine[mine.len() - 1].offset), (*low, *high));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_clients_on_one_recording_each_get_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 60_000, 3, 5).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let url = format!("ws://{addr}/ws");
    let clients = (0..5).map(|_| ws::drain(&url, TIMEOUT));
    for drained in futures_util::future::join_all(clients).await {
        let mut drained = drained.unwrap();
        assert_eq!(drained.feed.snapshot().total_records, 60_000);
        drained.records.sort_by_key(|r| (r.partition, r.offset));
        common::assert_dense(&drained.records, "a client");
        assert_eq!(drained.records.len(), 60_000);
    }
}

/// A well-behaved client keeps streaming while another sends garbage and impossible requests;
/// each bad request is answered with an error to its sender only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_errors_that_client_only() {
    let Some((_env, tansu)) = broker("bad input") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let produced = producers::produce_with_rskafka(
        &tansu.addr,
        TRADES_TOPIC,
        3,
        common::trade_values(9_000, 4),
        300,
    )
    .await
    .unwrap();
    let addr = common::start_kafka_bridge(
        &tansu.addr,
        TRADES_TOPIC,
        SchemaSource::None,
        Duration::from_secs(3),
    )
    .await;
    let url = format!("ws://{addr}/ws");

    let mut good = Session::connect(&url).await.unwrap();
    good.subscribe(0, "beginning", None, 64 << 10)
        .await
        .unwrap();
    good.until(TIMEOUT, |s| {
        s.records.get(&0).is_some_and(|r| !r.is_empty())
    })
    .await
    .unwrap();

    let mut bad = Session::connect(&url).await.unwrap();
    bad.send_raw(vec![2, 0xff, 0xff, 0xff]).await.unwrap();
    bad.send_raw(b"not even the version".to_vec())
        .await
        .unwrap();
    bad.until(TIMEOUT, |s| s.connection_errors.len() == 2)
        .await
        .unwrap();
    assert!(
        bad.connection_errors
            .iter()
            .all(|e| e.contains("malformed client message")),
        "{:?}",
        bad.connection_errors
    );
    /// (subscription, topic, seek, resume, what the error says)
    type Ask<'a> = (
        u32,
        Option<&'a str>,
        &'a str,
        Option<BTreeMap<i32, i64>>,
        &'a str,
    );
    let asks: [Ask; 4] = [
        (
            1,
            Some("no-such-topic"),
            "beginning",
            None,
            "is not served by this bridge",
        ),
        (2, None, "{7: 0}", None, "partition 7"),
        (
            3,
            None,
            "end",
            Some(BTreeMap::from([(0, 1_000_000)])),
            "offset 1000000 is out of range",
        ),
        (4, None, "{1: 5000000}", None, "is out of range"),
    ];
    for (id, topic, seek, resume, _) in &asks {
        let seek: SeekSpec = seek.parse().unwrap();
        bad.subscribe_to(
            *id,
            topic.map(str::to_owned),
            seek,
            resume.clone(),
            ws::WINDOW,
        )
        .await
        .unwrap();
    }
    bad.send(&ClientMessage::Credit {
        subscription: 99,
        bytes: 1,
    })
    .await
    .unwrap();
    bad.until(TIMEOUT, |s| asks.iter().all(|a| s.settled(a.0)))
        .await
        .unwrap();
    for (id, _, seek, _, needle) in &asks {
        let errors = bad.feeds[id].snapshot().errors;
        assert_eq!(errors.len(), 1, "{seek}: {errors:?}");
        assert!(errors[0].contains(needle), "{seek}: {errors:?}");
    }
    // The bad client's connection still works.
    bad.subscribe(5, "each:-10", None, ws::WINDOW)
        .await
        .unwrap();
    bad.until(TIMEOUT, |s| s.settled(5)).await.unwrap();
    assert_eq!(bad.feeds[&5].snapshot().total_records, 30);

    // The good client was never told anything and gets everything.
    good.until(TIMEOUT, |s| s.settled(0)).await.unwrap();
    let snapshot = good.feeds[&0].snapshot();
    assert!(snapshot.errors.is_empty(), "{:?}", snapshot.errors);
    assert!(good.connection_errors.is_empty());
    assert_eq!(snapshot.total_records, produced.total);

    // The broker goes away: a new subscription is told so, within the timeout.
    drop(tansu);
    bad.subscribe(6, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    bad.until(TIMEOUT, |s| s.settled(6)).await.unwrap();
    let errors = bad.feeds[&6].snapshot().errors;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("timed out") || e.contains("cannot reach") || e.contains("failed")),
        "{errors:?}"
    );
}

/// A client that grants nothing back while its window lasts still gets every record of a topic
/// smaller than the window (the page grants in 512 KiB steps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_larger_than_the_topic_needs_no_grant() {
    let Some((_env, tansu)) = broker("window") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let produced = producers::produce_with_rskafka(
        &tansu.addr,
        TRADES_TOPIC,
        3,
        common::trade_values(10_000, 9),
        300,
    )
    .await
    .unwrap();
    let addr = common::start_kafka_bridge(
        &tansu.addr,
        TRADES_TOPIC,
        SchemaSource::None,
        Duration::from_secs(10),
    )
    .await;
    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    session.auto_credit = false;
    session
        .subscribe(0, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    session.until(TIMEOUT, |s| s.settled(0)).await.unwrap();
    assert_eq!(session.feeds[&0].snapshot().total_records, produced.total);
}
