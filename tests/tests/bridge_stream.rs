//! The bridge end to end without a browser: a source goes in, and a WebSocket client (reading the
//! protocol exactly as the page does) gets every record, once, byte for byte.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use replay_bridge::kafka::KafkaConfig;
use replay_bridge::recording::RecordingReader;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADES_TOPIC;
use replay_bridge::{Error, inspect, record};
use streamglass_core::protocol::Compression;
use streamglass_tests::producers::{self, Produced};
use streamglass_tests::tansu::broker;
use streamglass_tests::ws::{self, Received};

const TIMEOUT: Duration = Duration::from_secs(120);

/// Per partition: (count, first offset, last offset), from what a client received.
fn received_ranges(records: &[Received]) -> BTreeMap<i32, (u64, i64, i64)> {
    common::ranges(records.iter().map(|r| (r.partition, r.offset)))
}

fn assert_feed_matches(drained: &ws::Drained, expected: &BTreeMap<i32, (u64, i64, i64)>) {
    let snapshot = drained.feed.snapshot();
    let total: u64 = expected.values().map(|e| e.0).sum();
    assert_eq!(snapshot.total_records, total);
    for p in &snapshot.partitions {
        let (count, _, last) = expected.get(&p.partition).copied().unwrap_or((0, 0, -1));
        assert_eq!(p.records, count, "partition {}", p.partition);
        assert_eq!(
            p.last_offset,
            (count > 0).then_some(last),
            "partition {}",
            p.partition
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_recording_arrives_whole_and_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    let written = record::generate(&path, 25_000, 3, 11).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;

    let drained = ws::drain(&format!("ws://{addr}/ws"), TIMEOUT)
        .await
        .unwrap();

    let hello = drained.feed.hello().unwrap();
    assert_eq!(hello.topic, TRADES_TOPIC);
    assert_eq!(hello.schemas.len(), 1);
    let summary = inspect::summarize(&path).unwrap();
    assert_eq!(summary.records, 25_000);
    let expected = common::generated_ranges(&written);
    assert_feed_matches(&drained, &expected);
    common::assert_dense(&drained.records, "a client");

    let mut from_file: Vec<Received> = RecordingReader::open(&path)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            Received {
                partition: r.partition,
                offset: r.offset,
                timestamp_ms: r.timestamp_ms,
                key: r.key,
                value: r.value,
            }
        })
        .collect();
    let mut got = drained.records.clone();
    from_file.sort_by_key(|r| (r.partition, r.offset));
    got.sort_by_key(|r| (r.partition, r.offset));
    assert!(
        got == from_file,
        "the socket must deliver the file's records byte for byte"
    );
}

/// A 3-partition topic written by librdkafka, streamed from Tansu, recorded, then replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snappy_frames_carry_the_same_records_in_fewer_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    let written = record::generate(&path, 30_000, 3, 5).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let mut session = ws::Session::connect(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    // Two subscriptions of the same records on one connection, one compressed; a small window,
    // so credit (which counts the inflated frames) paces both many times over.
    let window = 256 << 10;
    session
        .subscribe(1, "beginning", None, window)
        .await
        .unwrap();
    session.compression = Compression::Snappy;
    session
        .subscribe(2, "beginning", None, window)
        .await
        .unwrap();
    session
        .until(TIMEOUT, |s| s.ended.len() == 2)
        .await
        .expect("both subscriptions end");

    let expected = common::generated_ranges(&written);
    for id in [1, 2] {
        assert_eq!(received_ranges(&session.records[&id]), expected);
        common::assert_dense(&session.records[&id], "a client");
    }
    // Partitions interleave differently; each partition's records are the same.
    let by_partition = |id: u32| {
        let mut records = session.records[&id].clone();
        records.sort_by_key(|r| (r.partition, r.offset));
        records
    };
    assert!(
        by_partition(1) == by_partition(2),
        "compressed frames must carry the very same records"
    );
    // The compressed frames cross in fewer bytes than they inflate to (what credit counts), and
    // than the plain subscription's.
    let (plain, packed, inflated) = (session.wire[&1], session.wire[&2], session.bytes[&2]);
    assert!(
        packed * 10 < plain * 6 && packed * 10 < inflated * 6,
        "snappy frames: {packed} bytes (inflated {inflated}) against {plain}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tansu_topic_from_confluent_kafka_streams_records_and_replays_identically() {
    let Some((env, tansu)) = broker("tansu confluent-kafka") else {
        return;
    };
    let topic = TRADES_TOPIC;
    tansu.create_topic(topic, 3).unwrap();
    let schemas = common::schema_dir();
    let schema = schemas.path().join("1-trade.avsc");
    let produced =
        producers::produce_with_confluent_kafka(&env, &tansu.addr, topic, 12_000, &schema, 1)
            .unwrap_or_else(|e| panic!("{e}\n{}", tansu.log_tail()));
    assert_eq!(produced.total, 12_000);
    assert!(
        produced.partitions.len() > 1,
        "librdkafka spread the records: {produced:?}"
    );

    let addr = common::start_kafka_bridge(
        &tansu.addr,
        topic,
        SchemaSource::Dir(schemas.path().to_owned()),
        Duration::from_secs(10),
    )
    .await;
    let live = ws::drain(&format!("ws://{addr}/ws"), TIMEOUT)
        .await
        .unwrap();
    assert_feed_matches(&live, &produced.partitions);
    assert_eq!(received_ranges(&live.records), produced.partitions);
    common::assert_dense(&live.records, "a client");
    assert_eq!(live.feed.hello().unwrap().schemas[0].id, 1);
    assert!(live.records.iter().all(|r| r.key.is_none() && r.value.as_ref().is_some_and(|v| v[..5] == [0, 0, 0, 0, 1])));

    // Record the topic, then replay the recording: the same records, offsets and timestamps.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recorded.sgrec");
    let schema_infos = replay_bridge::schemas::load_schema_dir(schemas.path(), topic).unwrap();
    let written = record::record(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(10)),
        topic,
        &"beginning".parse().unwrap(),
        &path,
        schema_infos,
        |_, _| {},
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(written.records, 12_000);
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let replayed = ws::drain(&format!("ws://{addr}/ws"), TIMEOUT)
        .await
        .unwrap();
    let mut a = live.records.clone();
    let mut b = replayed.records.clone();
    a.sort_by_key(|r| (r.partition, r.offset));
    b.sort_by_key(|r| (r.partition, r.offset));
    assert!(
        a == b,
        "the replay must equal the live stream byte for byte"
    );
    assert_eq!(
        replayed.feed.hello().unwrap().schemas,
        live.feed.hello().unwrap().schemas
    );

    // `record --seek -3000`: the newest 3,000 in total, spread over partitions as the seek says,
    // each partition's records ending at its end.
    let newest = dir.path().join("newest.sgrec");
    let written = record::record(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(10)),
        topic,
        &"-3000".parse().unwrap(),
        &newest,
        Vec::new(),
        |_, _| {},
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(written.records, 3_000);
    let marks: Vec<streamglass_core::seek::Watermarks> = produced
        .partitions
        .iter()
        .map(|(p, (_, first, last))| streamglass_core::seek::Watermarks {
            partition: *p,
            low: *first,
            high: last + 1,
        })
        .collect();
    let want: BTreeMap<i32, (u64, i64, i64)> = marks
        .iter()
        .zip(streamglass_core::seek::newest_total(&marks, 3_000))
        .filter(|(_, n)| *n > 0)
        .map(|(m, n)| (m.partition, (n, m.high - n as i64, m.high - 1)))
        .collect();
    let recorded: Vec<_> = replay_bridge::recording::RecordingReader::open(&newest)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let got = common::ranges(recorded.iter().map(|r| (r.partition, r.offset)));
    assert_eq!(got, want, "record --seek -3000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tansu_topic_from_rskafka_streams_every_record_then_tails_new_ones() {
    let Some((_env, tansu)) = broker("tansu rskafka") else {
        return;
    };
    let topic = "trades-rskafka";
    tansu.create_topic(topic, 3).unwrap();
    let produced: Produced =
        producers::produce_with_rskafka(&tansu.addr, topic, 3, common::trade_values(9_000, 5), 250)
            .await
            .unwrap();
    assert_eq!(produced.total, 9_000);
    let addr = common::start_kafka_bridge(
        &tansu.addr,
        topic,
        SchemaSource::None,
        Duration::from_secs(10),
    )
    .await;
    let url = format!("ws://{addr}/ws");
    let drained = ws::drain(&url, TIMEOUT).await.unwrap();
    assert_feed_matches(&drained, &produced.partitions);
    assert_eq!(received_ranges(&drained.records), produced.partitions);
    common::assert_dense(&drained.records, "a client");

    // Records produced after the catch-up arrive too: the bridge keeps tailing.
    let mut session = ws::Session::connect(&url).await.unwrap();
    session
        .subscribe(0, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    session.until(TIMEOUT, |s| s.settled(0)).await.unwrap();
    let more =
        producers::produce_with_rskafka(&tansu.addr, topic, 3, common::trade_values(600, 6), 200)
            .await
            .unwrap();
    let wanted = 9_600;
    session
        .until(TIMEOUT, |s| s.feeds[&0].snapshot().total_records >= wanted)
        .await
        .expect("tailed records arrive");
    assert_eq!(more.total, 600);
    assert_eq!(session.feeds[&0].snapshot().total_records, wanted);
    common::assert_dense(&session.records[&0], "a client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_topic_is_a_clear_error() {
    let Some((_env, tansu)) = broker("tansu unknown topic") else {
        return;
    };
    tansu.create_topic("exists", 1).unwrap();
    let err = Source::kafka(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(5)),
        &["no-such-topic".to_owned()],
        SchemaSource::None,
    )
    .await
    .err()
    .expect("an unknown topic must fail");
    assert!(matches!(err, Error::UnknownTopic { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("no-such-topic") && text.contains("exists"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_damaged_midway_delivers_what_is_intact_then_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.sgrec");
    record::generate(&path, 40_000, 3, 4).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // A damaged file is refused when the bridge starts; this one is damaged after it started.
    let source = Source::recording(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let refused = Source::recording(&path).err().expect("refused at start");
    assert!(
        refused.to_string().contains("is corrupt after"),
        "{refused}"
    );
    let intact = RecordingReader::open(&path)
        .unwrap()
        .take_while(Result::is_ok)
        .count() as u64;
    assert!(intact > 0 && intact < 40_000);

    let addr = common::start_bridge(source, None).await;
    let mut session = ws::Session::connect(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    session
        .subscribe(0, "beginning", None, ws::WINDOW)
        .await
        .unwrap();
    session
        .until(TIMEOUT, |s| {
            s.status(0) == Some(streamglass_core::FeedStatus::Failed)
        })
        .await
        .expect("the error arrives");
    let snapshot = session.feeds[&0].snapshot();
    assert_eq!(
        snapshot.total_records, intact,
        "every intact record, then the error"
    );
    assert_eq!(snapshot.errors.len(), 1, "{:?}", snapshot.errors);
    assert!(
        snapshot.errors[0].contains(&format!("is corrupt after {intact} records")),
        "{:?}",
        snapshot.errors
    );
}
