//! Every topic of a broker: `serve --broker` with no `--topic`, the glob allow-list, and
//! `GET /topics`' facts, on a Tansu broker whose topics independent producers wrote (Avro trades
//! by fastavro framed for a registry subject, UTF-8 text and `json.dumps` documents by
//! confluent-kafka's `StringSerializer`, and an empty topic), checked against what the producers
//! say the broker acknowledged.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::registry::{self, Registered};
use replay_bridge::catalog::Catalog;
use replay_bridge::kafka::KafkaConfig;
use replay_bridge::registry::SchemaRegistry;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADE_SCHEMA;
use serde_json::Value;
use streamglass_core::seek::SeekSpec;
use streamglass_tests::tansu::{Tansu, broker};
use streamglass_tests::{producers, workspace_root, ws};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `tests/python/produce_text.py`: per partition, the records acknowledged.
fn produce_text(
    env: &streamglass_tests::python::PythonEnv,
    tansu: &Tansu,
    topic: &str,
    kind: &str,
    count: u64,
) -> BTreeMap<i32, u64> {
    let out = Command::new(env.python())
        .arg(workspace_root().join("tests/python/produce_text.py"))
        .args(["--bootstrap", &tansu.addr, "--topic", topic])
        .args(["--count", &count.to_string(), "--kind", kind])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        tansu.log_tail()
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut counts = BTreeMap::new();
    for r in printed["records"].as_array().expect("records") {
        *counts.entry(r[0].as_i64().unwrap() as i32).or_default() += 1;
    }
    counts
}

/// `GET /topics` on the bridge at `addr`, parsed.
async fn topics(addr: &str) -> Value {
    let (status, body) = common::http_get(addr, "/topics", None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn names(answer: &Value) -> Vec<&str> {
    answer["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["topic"].as_str().unwrap())
        .collect()
}

fn topic<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == name)
        .unwrap_or_else(|| panic!("no {name} in {answer}"))
}

/// The topic's partitions' records (high - low) equal what the producer had acknowledged.
fn assert_counts(facts: &Value, produced: &BTreeMap<i32, u64>, partitions: usize) {
    let listed = facts["partitions"].as_array().unwrap();
    assert_eq!(listed.len(), partitions, "{facts}");
    for p in listed {
        let partition = p["partition"].as_i64().unwrap() as i32;
        let stored = p["high"].as_i64().unwrap() - p["low"].as_i64().unwrap();
        let want = produced.get(&partition).copied().unwrap_or(0);
        assert_eq!(stored as u64, want, "partition {partition}: {facts}");
    }
    assert_eq!(
        facts["records"].as_u64(),
        Some(produced.values().sum::<u64>()),
        "{facts}"
    );
}

/// Subscribes to `topic` (`""`: none named) from the beginning: the records delivered, or the
/// error the bridge sent.
async fn consume(addr: &str, topic: &str) -> Result<u64, String> {
    let mut session = ws::Session::connect(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let seek: SeekSpec = "beginning".parse().unwrap();
    session
        .subscribe_to(
            1,
            (!topic.is_empty()).then(|| topic.to_owned()),
            seek,
            None,
            ws::WINDOW,
        )
        .await
        .unwrap();
    session.until(TIMEOUT, |s| s.settled(1)).await.unwrap();
    let snapshot = session.feeds[&1].snapshot();
    match snapshot.errors.first() {
        Some(e) => Err(e.clone()),
        None => Ok(snapshot.total_records),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_topic_of_a_broker_with_its_facts() {
    let Some((env, tansu)) = broker("every topic of a broker") else {
        return;
    };
    for (name, partitions) in [
        ("shop.trades", 3),
        ("shop.text", 2),
        ("shop.json", 2),
        ("shop.empty", 1),
        ("_schemas", 1),
        ("__internal", 1),
    ] {
        tansu.create_topic(name, partitions).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("trade.avsc");
    std::fs::write(&schema, TRADE_SCHEMA).unwrap();
    let trades =
        producers::produce_with_confluent_kafka(&env, &tansu.addr, "shop.trades", 600, &schema, 7)
            .unwrap_or_else(|e| panic!("{e}\n{}", tansu.log_tail()));
    let trades: BTreeMap<i32, u64> = trades
        .partitions
        .iter()
        .map(|(p, (count, _, _))| (*p, *count))
        .collect();
    let text = produce_text(&env, &tansu, "shop.text", "string", 200);
    let json = produce_text(&env, &tansu, "shop.json", "json", 150);

    let url = registry::start(vec![Registered {
        subject: "shop.trades-value".into(),
        id: 7,
        schema_type: "AVRO".into(),
        schema: TRADE_SCHEMA.into(),
    }])
    .await;
    let schemas =
        SchemaSource::Registry(SchemaRegistry::new(&url, None, Duration::from_secs(10)).unwrap());
    let config = KafkaConfig::new(&tansu.addr, Duration::from_secs(10));

    // No --topic: every topic but the internal ones.
    let source = Source::kafka(&config, &[], schemas.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", tansu.log_tail()));
    assert!(
        source.describe().ends_with("every topic"),
        "{}",
        source.describe()
    );
    let addr = common::start_bridge(source, None).await;
    let answer = topics(&addr).await;
    assert_eq!(answer["source"], "kafka");
    assert_eq!(answer["truncated"], false);
    assert_eq!(
        names(&answer),
        ["shop.empty", "shop.json", "shop.text", "shop.trades"]
    );

    let t = topic(&answer, "shop.trades");
    assert_counts(t, &trades, 3);
    assert_eq!(t["value"]["format"], "avro", "{t}");
    assert_eq!(t["value"]["from"], "registry", "{t}");
    assert_eq!(t["value"]["subjects"][0]["subject"], "shop.trades-value");
    assert_eq!(t["value"]["subjects"][0]["id"], 7);
    assert_eq!(t["value"]["subjects"][0]["schemaType"], "AVRO");
    assert_eq!(
        t["value"]["schemaIds"],
        serde_json::json!([7]),
        "framed with id 7"
    );
    assert_eq!(t["key"]["format"], "none", "null keys: {t}");
    assert!(t["error"].is_null(), "{t}");

    let t = topic(&answer, "shop.text");
    assert_counts(t, &text, 2);
    assert_eq!(
        (&t["value"]["format"], &t["value"]["from"]),
        (&"string".into(), &"records".into()),
        "{t}"
    );
    assert_eq!(t["key"]["format"], "string", "{t}");

    let t = topic(&answer, "shop.json");
    assert_counts(t, &json, 2);
    assert_eq!(t["value"]["format"], "json", "{t}");
    assert_eq!(t["key"]["format"], "string", "{t}");

    let t = topic(&answer, "shop.empty");
    assert_counts(t, &BTreeMap::new(), 1);
    assert_eq!(t["value"]["format"], "unknown", "{t}");
    assert_eq!(t["key"]["format"], "unknown", "{t}");
    // The first answer has nothing to measure a rate against.
    assert!(t["recordsPerSecond"].is_null(), "{t}");

    // Any served topic can be subscribed; an internal one is refused, clearly.
    assert_eq!(consume(&addr, "shop.text").await, Ok(200));
    let refused = consume(&addr, "__internal").await.unwrap_err();
    assert!(
        refused.contains("\"__internal\" is not served") && refused.contains("shop.trades"),
        "{refused}"
    );
    // With every topic served, none is the default: a subscription must name one.
    let unnamed = consume(&addr, "").await.unwrap_err();
    assert!(
        unnamed.contains("must name its topic") && unnamed.contains("--topic"),
        "{unnamed}"
    );
    // A topic made after the bridge started is served once a subscription names it.
    tansu.create_topic("shop.later", 1).unwrap();
    tokio::time::sleep(replay_bridge::served::MIN_RELISTING).await;
    assert_eq!(consume(&addr, "shop.later").await, Ok(0));

    // A later answer, past FACTS_TTL and more writes: the rates are the watermarks' growth.
    let more = produce_text(&env, &tansu, "shop.text", "string", 100);
    assert_eq!(more.values().sum::<u64>(), 100);
    tokio::time::sleep(replay_bridge::catalog::FACTS_TTL).await;
    let later = topics(&addr).await;
    let rate = |name: &str| topic(&later, name)["recordsPerSecond"].as_f64();
    let text_rate = rate("shop.text").unwrap_or_else(|| panic!("no rate: {later}"));
    assert!(text_rate > 0.0, "{later}");
    assert_eq!(rate("shop.empty"), Some(0.0), "{later}");
    assert_eq!(topic(&later, "shop.text")["records"], 300, "{later}");

    // A registry that never answers what a schema id is: at the deadline the answer is what
    // was found, the topic framed with an id saying it was not described in time, rather than
    // an error with nothing.
    let slow = registry::start_silent_on_ids(Vec::new()).await;
    let slow = SchemaRegistry::new(&slow, None, Duration::from_secs(600)).unwrap();
    let source = Source::kafka(&config, &[], SchemaSource::Registry(slow))
        .await
        .unwrap();
    let answer = Catalog::with_deadline(Duration::from_secs(3))
        .answer("kafka", &source)
        .await
        .expect("an answer at the deadline, not an error");
    let framed = answer
        .topics
        .iter()
        .find(|t| t.topic == "shop.trades")
        .unwrap_or_else(|| panic!("{answer:?}"));
    let error = framed.error.as_deref().unwrap_or_default();
    assert!(error.contains("not described within the 3 s"), "{framed:?}");
    // Its watermarks, probed before the registry held the answer up, stand.
    assert_eq!(framed.records, Some(600), "{framed:?}");

    // --topic names and glob patterns: an allow-list.
    let source = Source::kafka(&config, &["shop.t*".into()], schemas)
        .await
        .unwrap();
    let addr = common::start_bridge(source, None).await;
    let answer = topics(&addr).await;
    assert_eq!(names(&answer), ["shop.text", "shop.trades"]);
    assert_counts(topic(&answer, "shop.trades"), &trades, 3);
    assert_eq!(consume(&addr, "shop.trades").await, Ok(600));
    let refused = consume(&addr, "shop.json").await.unwrap_err();
    assert!(refused.contains("\"shop.json\" is not served"), "{refused}");
    // A literal name that does not exist fails the start, naming what does.
    let missing = Source::kafka(&config, &["shop.nope".into()], SchemaSource::None)
        .await
        .err()
        .expect("an unknown topic fails the start")
        .to_string();
    assert!(
        missing.contains("shop.nope") && missing.contains("shop.text"),
        "{missing}"
    );
}

/// A recording offers its one topic, with the header's watermarks and schemas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_lists_its_one_topic() {
    use replay_bridge::trades::{TRADES_SUBJECT, TRADES_TOPIC};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    let written = replay_bridge::record::generate(&path, 5_000, 3, 4).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let answer = topics(&addr).await;
    assert_eq!(answer["source"], "recording");
    assert_eq!(names(&answer), [TRADES_TOPIC]);
    let t = topic(&answer, TRADES_TOPIC);
    let produced: BTreeMap<i32, u64> = written
        .partitions
        .iter()
        .map(|p| (p.partition, (p.high_watermark - p.low_watermark) as u64))
        .collect();
    assert_counts(t, &produced, 3);
    assert_eq!(t["records"], 5_000);
    assert_eq!(t["value"]["format"], "avro", "{t}");
    assert_eq!(t["value"]["from"], "recording", "{t}");
    assert_eq!(t["value"]["subjects"][0]["subject"], TRADES_SUBJECT, "{t}");
    // `?source=` names it; another name is a 404 listing the sources.
    let (status, _) = common::http_get(&addr, "/topics?source=recording", None).await;
    assert_eq!(status, 200);
    let (status, body) = common::http_get(&addr, "/topics?source=kafka", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("recording"), "{body}");
    // Another site's page may not read it.
    let (status, _) = common::http_get(&addr, "/topics", Some("http://evil.example")).await;
    assert_eq!(status, 403);
}
