//! The topic browser, as a user uses it: a Tansu broker holding Avro trades (fastavro, framed
//! for a registry subject) and UTF-8 text (confluent-kafka's `StringSerializer`), served with no
//! `--topic`; the page lists both with their formats, and opening each makes a live ring table of
//! its newest N records, with no code written, equal field by field to what the producers wrote;
//! and a broker with an Avro, a JSON and a Protobuf topic (confluent-kafka's ProtobufSerializer).

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use replay_bridge::kafka::KafkaConfig;
use replay_bridge::registry::SchemaRegistry;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::server;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADE_SCHEMA;
use serde_json::Value;
use streamglass_tests::tansu::broker;
use streamglass_tests::{browser_site, workspace_root};

use super::time_notebook::Shown;
use super::{common, run_script};

/// Trades written, and how many of the newest the page opens (so the ring cuts some off).
const TRADES: u64 = 900;
const NEWEST: u64 = 500;
/// Lines of text written: fewer than NEWEST, so the text table holds them all.
const LINES: u64 = 240;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_browser_opens_an_avro_and_a_text_topic_as_tables() {
    let Some(site) = browser_site("page: topic browser") else {
        return;
    };
    let Some((env, tansu)) = broker("page: topic browser") else {
        return;
    };
    tansu.create_topic("shop.trades", 3).unwrap();
    tansu.create_topic("shop.text", 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("trade.avsc");
    std::fs::write(&schema, TRADE_SCHEMA).unwrap();
    let written = dir.path().join("trades.jsonl");
    let out = Command::new(env.python())
        .arg(workspace_root().join("tests/python/produce_trades.py"))
        .args(["--bootstrap", &tansu.addr, "--topic", "shop.trades"])
        .args(["--count", &TRADES.to_string(), "--schema-id", "3"])
        .arg("--schema")
        .arg(&schema)
        .arg("--records")
        .arg(&written)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // (partition, offset) → the trade as fastavro was given it.
    let trades: BTreeMap<(i64, i64), Value> = std::fs::read_to_string(&written)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                (v[0].as_i64().unwrap(), v[1].as_i64().unwrap()),
                v[2].clone(),
            )
        })
        .collect();
    assert_eq!(trades.len() as u64, TRADES);
    let out = Command::new(env.python())
        .arg(workspace_root().join("tests/python/produce_text.py"))
        .args(["--bootstrap", &tansu.addr, "--topic", "shop.text"])
        .args(["--count", &LINES.to_string(), "--kind", "string"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: HashMap<(i64, i64), (String, String)> = printed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = |i: usize| r[i].as_str().unwrap().to_owned();
            (
                (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()),
                (text(2), text(3)),
            )
        })
        .collect();

    let addr = serve_every_topic(
        &tansu.addr,
        site,
        "shop.trades-value",
        3,
        "AVRO",
        TRADE_SCHEMA,
    )
    .await;

    let plan = serde_json::json!({
        "newest": NEWEST,
        "open": {"shop.trades": NEWEST, "shop.text": LINES},
    });
    let shown = run_script(
        "topic-browser.mjs",
        &format!("http://{addr}/"),
        &plan.to_string(),
        "topic-browser",
    )
    .await;

    // The list: both topics, their formats and record counts.
    let listed = |topic: &str| entry(&shown, "listed", topic);
    let t = listed("shop.trades");
    assert_eq!(
        (&t["value"], &t["key"]),
        (&"avro".into(), &"none".into()),
        "{t}"
    );
    assert_eq!(t["records"], TRADES.to_string(), "{t}");
    let t = listed("shop.text");
    assert_eq!(
        (&t["value"], &t["key"]),
        (&"string".into(), &"string".into()),
        "{t}"
    );
    assert_eq!(t["records"], LINES.to_string(), "{t}");

    let opened = |topic: &str| entry(&shown, "opened", topic);

    // The Avro topic: the call shown, and the newest 500 trades, each as fastavro was given it.
    let o = opened("shop.trades");
    assert_eq!(o["state"], "done", "{o}");
    assert_eq!(
        o["call"],
        "const shop_trades = await session.consumeToTable({ topic: \"shop.trades\", offsets: \"-500\", \
         tableType: { ring: 500 }, key: \"ignore\", value: { avro: \"shop.trades-value\" } });\n\
         return { shop_trades };",
        "{o}"
    );
    let table = Shown::of(&o["table"], "shop_trades");
    assert_eq!(table.rows.len() as u64, NEWEST);
    let mut by_partition: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in 0..table.rows.len() {
        let key = (
            table.long(row, "KafkaPartition"),
            table.long(row, "KafkaOffset"),
        );
        let want = &trades[&key];
        let what = format!("trade at {key:?}: {want}");
        assert_eq!(
            table.string(row, "Id"),
            want["Id"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(
            table.long(row, "Timestamp"),
            want["Timestamp"].as_i64().unwrap() * 1_000,
            "{what}"
        );
        for field in ["Exchange", "Instrument", "Type"] {
            assert_eq!(
                table.string(row, field),
                want[field].as_str().unwrap(),
                "{what}"
            );
        }
        for field in ["Price", "Size"] {
            assert_eq!(
                table.double(row, field),
                want[field].as_f64().unwrap(),
                "{what}"
            );
        }
        by_partition.entry(key.0).or_default().push(key.1);
    }
    // The newest of each partition: contiguous offsets up to the partition's last.
    for (partition, mut offsets) in by_partition {
        offsets.sort_unstable();
        let last = trades
            .keys()
            .filter(|k| k.0 == partition)
            .map(|k| k.1)
            .max();
        assert_eq!(offsets.last().copied(), last, "partition {partition}");
        assert!(
            offsets.windows(2).all(|w| w[1] == w[0] + 1),
            "partition {partition}: {offsets:?}"
        );
    }

    // The text topic: every line, with its key.
    let o = opened("shop.text");
    assert_eq!(o["state"], "done", "{o}");
    let call = o["call"].as_str().unwrap();
    assert!(
        call.contains("topic: \"shop.text\"")
            && call.contains("key: \"string\", value: \"string\""),
        "{call}"
    );
    let table = Shown::of(&o["table"], "shop_text");
    assert_eq!(table.rows.len() as u64, LINES);
    for row in 0..table.rows.len() {
        let key = (
            table.long(row, "KafkaPartition"),
            table.long(row, "KafkaOffset"),
        );
        let (k, v) = &lines[&key];
        assert_eq!(
            (&table.string(row, "Key"), &table.string(row, "Value")),
            (k, v),
            "{key:?}"
        );
    }
}

/// Against a recording, the browser lists its one topic and opens its newest N trades, each as
/// apache-avro reads the recorded value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_browser_opens_a_recordings_topic() {
    use apache_avro::types::Value as Avro;
    use replay_bridge::recording::RecordingReader;
    use replay_bridge::trades::TRADES_TOPIC;

    let Some(site) = browser_site("page: topic browser on a recording") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    replay_bridge::record::generate(&path, 3_000, 3, 5).unwrap();
    let schema = apache_avro::Schema::parse_str(TRADE_SCHEMA).unwrap();
    // (partition, offset) → (Id, Price), decoded by apache-avro.
    let mut recorded: HashMap<(i64, i64), (String, f64)> = HashMap::new();
    for record in RecordingReader::open(&path).unwrap() {
        let r = record.unwrap();
        let value = r.value.unwrap();
        let Avro::Record(fields) =
            apache_avro::from_avro_datum(&schema, &mut &value[5..], None).unwrap()
        else {
            panic!("not a record");
        };
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let (Avro::Union(_, id), Avro::Double(price)) = (field("Id"), field("Price")) else {
            panic!("unexpected types");
        };
        let Avro::String(id) = *id else {
            panic!("Id is a string");
        };
        recorded.insert((i64::from(r.partition), r.offset), (id, price));
    }
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let plan = serde_json::json!({"newest": 1000, "open": {TRADES_TOPIC: 1000}});
    let shown = run_script(
        "topic-browser.mjs",
        &format!("http://{addr}/"),
        &plan.to_string(),
        "topic-browser-recording",
    )
    .await;
    let listed = &shown["listed"][0];
    assert_eq!(
        (&listed["topic"], &listed["value"]),
        (&TRADES_TOPIC.into(), &"avro".into())
    );
    assert_eq!(listed["records"], "3000");
    let o = &shown["opened"][0];
    assert_eq!(o["state"], "done", "{o}");
    let call = o["call"].as_str().unwrap();
    // The recording's subject is TopicRecordNameStrategy's: the topic's newest.
    assert!(
        call.contains("offsets: \"-1000\", tableType: { ring: 1000 }")
            && call.contains("value: { avro: true }"),
        "{call}"
    );
    let table = Shown::of(&o["table"], "table");
    assert_eq!(table.rows.len(), 1000);
    for row in 0..table.rows.len() {
        let key = (
            table.long(row, "KafkaPartition"),
            table.long(row, "KafkaOffset"),
        );
        let (id, price) = &recorded[&key];
        assert_eq!(table.string(row, "Id"), *id, "{key:?}");
        assert_eq!(table.double(row, "Price"), *price, "{key:?}");
    }
}

/// Serves every topic of the broker at `broker` (no `--topic`) and the page `site`, with a
/// registry holding one schema (`subject`, `id`, its registry type and text); the address.
async fn serve_every_topic(
    broker: &str,
    site: std::path::PathBuf,
    subject: &str,
    id: u32,
    schema_type: &str,
    schema: &str,
) -> std::net::SocketAddr {
    let registry = common::registry::start(vec![common::registry::Registered {
        subject: subject.into(),
        id,
        schema_type: schema_type.into(),
        schema: schema.into(),
    }])
    .await;
    serve_every_topic_with(broker, site, &registry).await
}

/// Serves every topic of the broker at `broker` and the page `site`, with the registry at
/// `registry`; the address.
async fn serve_every_topic_with(
    broker: &str,
    site: std::path::PathBuf,
    registry: &str,
) -> std::net::SocketAddr {
    let schemas = SchemaSource::Registry(
        SchemaRegistry::new(registry, None, Duration::from_secs(10)).unwrap(),
    );
    let config = KafkaConfig::new(broker, Duration::from_secs(10));
    let source = Source::kafka(&config, &[], schemas).await.unwrap();
    let app = server::router_offering(
        vec![server::Offered::named(Arc::new(source))],
        Some(site),
        server::ServeOptions::default(),
    )
    .unwrap();
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = server::local_addr(&listener).unwrap();
    tokio::spawn(server::serve(listener, app));
    addr
}

/// The entry of `topic` in the script's list `list` (`listed`, `opened`).
fn entry(shown: &serde_json::Value, list: &str, topic: &str) -> serde_json::Value {
    shown[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == topic)
        .unwrap_or_else(|| panic!("{topic} not in {list}: {shown}"))
        .clone()
}

/// JSON values written by `json.dumps` (confluent-kafka, no schema in the records): a topic with
/// no subject opens with columns inferred from its records; a topic whose `<topic>-value` subject
/// is a JSON Schema opens with the schema's columns (`Size` a double, where inference gives an
/// int). Every field of every record equals what the producer wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_browser_opens_json_topics_inferred_and_by_their_json_schema() {
    const SCHEMA: &str = r#"{"type":"object","properties":{
        "Id":{"type":"string"},"Exchange":{"type":"string"},"Price":{"type":"number"},
        "Size":{"type":"number"},"Tags":{"type":"array","items":{"type":"string"}}}}"#;
    let Some(site) = browser_site("page: topic browser, JSON") else {
        return;
    };
    let Some((env, tansu)) = broker("page: topic browser, JSON") else {
        return;
    };
    // (topic, records, producer seed)
    let topics = [("shop.json", 180u64, 3u64), ("shop.jsonschema", 120, 4)];
    let mut written: HashMap<&str, HashMap<(i64, i64), Value>> = HashMap::new();
    for (topic, count, seed) in topics {
        tansu.create_topic(topic, 2).unwrap();
        let out = Command::new(env.python())
            .arg(workspace_root().join("tests/python/produce_text.py"))
            .args(["--bootstrap", &tansu.addr, "--topic", topic])
            .args(["--count", &count.to_string(), "--kind", "json"])
            .args(["--seed", &seed.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let records = printed["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let value: Value = serde_json::from_str(r[3].as_str().unwrap()).unwrap();
                ((r[0].as_i64().unwrap(), r[1].as_i64().unwrap()), value)
            })
            .collect::<HashMap<_, _>>();
        assert_eq!(records.len() as u64, count);
        written.insert(topic, records);
    }
    let addr = serve_every_topic(
        &tansu.addr,
        site,
        "shop.jsonschema-value",
        21,
        "JSON",
        SCHEMA,
    )
    .await;

    let plan = serde_json::json!({
        "newest": 1000,
        "open": {"shop.json": 180, "shop.jsonschema": 120},
    });
    let shown = run_script(
        "topic-browser.mjs",
        &format!("http://{addr}/"),
        &plan.to_string(),
        "topic-browser-json",
    )
    .await;
    for (topic, _, _) in topics {
        let listed = entry(&shown, "listed", topic);
        assert_eq!(listed["value"], "json", "{listed}");
        let o = entry(&shown, "opened", topic);
        assert_eq!(o["state"], "done", "{o}");
        assert!(
            o["call"].as_str().unwrap().contains("value: \"json\""),
            "{o}"
        );
        let name = topic.replace('.', "_");
        let table = Shown::of(&o["table"], &name);
        let records = &written[topic];
        assert_eq!(table.rows.len(), records.len(), "{topic}");
        // By the schema, Size is a number (a double column); inferred from small integers, an
        // int.
        let by_schema = topic == "shop.jsonschema";
        let size_type = &o["table"]["types"][table.at("Size")];
        assert_eq!(
            size_type,
            if by_schema { "double" } else { "int" },
            "{topic}: {}",
            o["table"]["types"]
        );
        for row in 0..table.rows.len() {
            let key = (
                table.long(row, "KafkaPartition"),
                table.long(row, "KafkaOffset"),
            );
            let want = &records[&key];
            let what = format!("{topic} at {key:?}: {want}");
            for field in ["Id", "Exchange"] {
                assert_eq!(
                    table.string(row, field),
                    want[field].as_str().unwrap(),
                    "{what}"
                );
            }
            assert_eq!(
                table.double(row, "Price"),
                want["Price"].as_f64().unwrap(),
                "{what}"
            );
            let size = want["Size"].as_i64().unwrap();
            if by_schema {
                assert_eq!(table.double(row, "Size"), size as f64, "{what}");
            } else {
                assert_eq!(table.long(row, "Size"), size, "{what}");
            }
            // An array: its compact JSON text, as json.dumps' compact form would write it.
            let tags = serde_json::to_string(&want["Tags"]).unwrap();
            assert_eq!(table.string(row, "Tags"), tags, "{what}");
        }
    }
}

/// A broker with an Avro, a JSON and a Protobuf topic, every topic served with one registry: the
/// Avro trades (fastavro, framed for `shop.trades-value`), `json.dumps` documents (columns
/// inferred), and Protobuf trades written by confluent-kafka's `ProtobufSerializer` in two schema
/// versions (it registers `shop.proto-value` versions 1 and 2 itself). Each opens, with no code
/// written, as a table equal field by field to what its producer wrote; the Protobuf table has
/// the newest version's columns, null in the added one for the first version's records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_browser_opens_avro_json_and_protobuf_topics() {
    const EACH: usize = 90;
    let Some(site) = browser_site("page: topic browser, Avro, JSON and Protobuf") else {
        return;
    };
    let Some((env, tansu)) = broker("page: topic browser, Avro, JSON and Protobuf") else {
        return;
    };
    let registry = common::registry::start(vec![common::registry::Registered {
        subject: "shop.trades-value".into(),
        id: 3,
        schema_type: "AVRO".into(),
        schema: TRADE_SCHEMA.into(),
    }])
    .await;
    let run = |script: &str, args: &[&str]| {
        let out = Command::new(env.python())
            .arg(workspace_root().join(script))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // Avro.
    tansu.create_topic("shop.trades", 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("trade.avsc");
    std::fs::write(&schema, TRADE_SCHEMA).unwrap();
    let written = dir.path().join("trades.jsonl");
    let (schema, written_arg) = (
        schema.to_string_lossy().into_owned(),
        written.to_string_lossy().into_owned(),
    );
    run(
        "tests/python/produce_trades.py",
        &[
            "--bootstrap",
            &tansu.addr,
            "--topic",
            "shop.trades",
            "--count",
            "150",
            "--schema-id",
            "3",
            "--schema",
            &schema,
            "--records",
            &written_arg,
        ],
    );
    let trades: HashMap<(i64, i64), Value> = std::fs::read_to_string(&written)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                (v[0].as_i64().unwrap(), v[1].as_i64().unwrap()),
                v[2].clone(),
            )
        })
        .collect();
    // JSON.
    tansu.create_topic("shop.json", 2).unwrap();
    let printed: Value = serde_json::from_slice(&run(
        "tests/python/produce_text.py",
        &[
            "--bootstrap",
            &tansu.addr,
            "--topic",
            "shop.json",
            "--count",
            "120",
            "--kind",
            "json",
            "--seed",
            "5",
        ],
    ))
    .unwrap();
    let docs: HashMap<(i64, i64), Value> = printed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value: Value = serde_json::from_str(r[3].as_str().unwrap()).unwrap();
            ((r[0].as_i64().unwrap(), r[1].as_i64().unwrap()), value)
        })
        .collect();
    // Protobuf, two versions.
    tansu.create_topic("shop.proto", 2).unwrap();
    let mut protos: HashMap<(i64, i64), Value> = HashMap::new();
    for (version, first) in [(1, 0), (2, EACH)] {
        let proto = workspace_root().join(format!("tests/proto/trade_v{version}.proto"));
        let printed: Value = serde_json::from_slice(&run(
            "tests/python/produce_protobuf.py",
            &[
                "--bootstrap",
                &tansu.addr,
                "--registry",
                &registry,
                "--topic",
                "shop.proto",
                "--proto",
                &proto.to_string_lossy(),
                "--count",
                &EACH.to_string(),
                "--first",
                &first.to_string(),
            ],
        ))
        .unwrap();
        for r in printed["records"].as_array().unwrap() {
            protos.insert(
                (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()),
                r[2].clone(),
            );
        }
    }
    assert_eq!(protos.len(), 2 * EACH);

    let addr = serve_every_topic_with(&tansu.addr, site, &registry).await;
    let plan = serde_json::json!({
        "newest": 1000,
        "open": {"shop.trades": 150, "shop.json": 120, "shop.proto": 2 * EACH},
    });
    let shown = run_script(
        "topic-browser.mjs",
        &format!("http://{addr}/"),
        &plan.to_string(),
        "topic-browser-three",
    )
    .await;
    for (topic, format) in [
        ("shop.trades", "avro"),
        ("shop.json", "json"),
        ("shop.proto", "protobuf"),
    ] {
        let listed = entry(&shown, "listed", topic);
        assert_eq!(listed["value"], format, "{listed}");
        let o = entry(&shown, "opened", topic);
        assert_eq!(o["state"], "done", "{o}");
    }
    let call = |topic: &str| {
        entry(&shown, "opened", topic)["call"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(call("shop.trades").contains("value: { avro: \"shop.trades-value\" }"));
    assert!(call("shop.json").contains("value: \"json\""));
    assert!(call("shop.proto").contains("value: { protobuf: \"shop.proto-value\" }"));
    let opened = |topic: &str| entry(&shown, "opened", topic)["table"].clone();
    let key =
        |t: &Shown<'_>, row: usize| (t.long(row, "KafkaPartition"), t.long(row, "KafkaOffset"));

    // The Avro and the JSON topic carry the same trade fields: each row equals its producer's.
    let same_trades = |topic: &str, name: &str, written: &HashMap<(i64, i64), Value>| {
        let table = opened(topic);
        let t = Shown::of(&table, name);
        assert_eq!(t.rows.len(), written.len(), "{topic}");
        for row in 0..t.rows.len() {
            let want = &written[&key(&t, row)];
            for field in ["Id", "Exchange"] {
                assert_eq!(
                    t.string(row, field),
                    want[field].as_str().unwrap(),
                    "{want}"
                );
            }
            assert_eq!(
                t.double(row, "Price"),
                want["Price"].as_f64().unwrap(),
                "{want}"
            );
        }
    };
    same_trades("shop.trades", "shop_trades", &trades);
    same_trades("shop.json", "shop_json", &docs);

    let table = opened("shop.proto");
    let t = Shown::of(&table, "shop_proto");
    assert_eq!(t.rows.len(), protos.len());
    let types: Vec<&str> = table["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let type_of = |c: &str| types[t.at(c)];
    assert_eq!(
        [
            "timestamp",
            "venue__lat",
            "seq",
            "delta",
            "fills",
            "tags",
            "trader"
        ]
        .map(type_of),
        [
            "timestamp",
            "double",
            "long",
            "int",
            "double[]",
            "string[]",
            "string"
        ],
        "{types:?}"
    );
    let cell = |row: usize, c: &str| t.rows[row][t.at(c)].clone();
    let mut traders = 0;
    for row in 0..t.rows.len() {
        let want = &protos[&key(&t, row)];
        let what = format!("{want} → {}", t.rows[row]);
        assert_eq!(
            cell(row, "id"),
            want.get("id").cloned().unwrap_or("".into()),
            "{what}"
        );
        match want.get("timestamp") {
            Some(ns) => assert_eq!(t.long(row, "timestamp"), ns.as_i64().unwrap(), "{what}"),
            None => assert!(cell(row, "timestamp").is_null(), "{what}"),
        }
        match want.get("venue") {
            Some(v) => {
                assert_eq!(cell(row, "venue__exchange"), v["exchange"], "{what}");
                assert_eq!(
                    t.double(row, "venue__lat"),
                    v["lat"].as_f64().unwrap(),
                    "{what}"
                );
            }
            None => assert!(
                cell(row, "venue__exchange").is_null() && cell(row, "venue__lat").is_null(),
                "{what}"
            ),
        }
        for c in ["instrument", "type", "ok", "delta", "tags"] {
            assert_eq!(cell(row, c), want[c], "{c}: {what}");
        }
        assert_eq!(t.long(row, "seq"), want["seq"].as_i64().unwrap(), "{what}");
        for c in ["price", "size"] {
            assert_eq!(t.double(row, c), want[c].as_f64().unwrap(), "{c}: {what}");
        }
        let floats = |v: &Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_f64().unwrap())
                .collect()
        };
        assert_eq!(
            floats(&cell(row, "fills")),
            floats(&want["fills"]),
            "{what}"
        );
        assert_eq!(
            cell(row, "trader"),
            want.get("trader").cloned().unwrap_or(Value::Null),
            "{what}"
        );
        traders += usize::from(want.get("trader").is_some());
    }
    assert_eq!(traders, EACH / 2);
}
