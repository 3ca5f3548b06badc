//! How many connections the bridge opens to a broker: Tansu advertises a counting relay's address,
//! so every connection the bridge makes (bootstrap, metadata, each partition) passes the relay.

mod common;

use std::time::{Duration, Instant};

use replay_bridge::kafka::{IDLE_PARTITIONS_KEPT, KafkaConfig, POLLS_PER_CONNECTION};
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use streamglass_tests::relay::Relay;
use streamglass_tests::tansu::{Tansu, TansuOptions};
use streamglass_tests::{producers, ws};

const SUBSCRIPTIONS: u32 = 10;
const PARTITIONS: i32 = 3;
const RECORDS: usize = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_subscriptions_share_a_few_broker_connections() {
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => {
            streamglass_tests::skip_or_fail(
                "ten_subscriptions_share_a_few_broker_connections",
                &format!("no Python environment: {e}"),
            );
            return;
        }
    };
    let started = Instant::now();
    let (relay, tansu) = behind_relay(&env).await;
    tansu.create_topic("conn", PARTITIONS).expect("topic");
    let produced = producers::produce_with_rskafka(
        &relay.addr,
        "conn",
        PARTITIONS,
        common::trade_values(RECORDS, 3),
        250,
    )
    .await
    .expect("produce");
    assert_eq!(produced.total, RECORDS as u64);
    // The producer's connections are closed; count from here.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = relay.accepted();

    let config = KafkaConfig::new(&relay.addr, Duration::from_secs(10));
    let schemas = common::schema_dir();
    let source = Source::kafka(
        &config,
        &["conn".to_owned()],
        SchemaSource::Dir(schemas.path().to_owned()),
    )
    .await
    .expect("source");
    let addr = common::start_bridge(source, None).await;
    let mut session = ws::Session::connect(&format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    for id in 0..SUBSCRIPTIONS {
        session
            .subscribe(id, "beginning", None, ws::WINDOW)
            .await
            .expect("subscribe");
    }
    session
        .until(Duration::from_secs(120), |s| {
            (0..SUBSCRIPTIONS).all(|id| s.settled(id))
        })
        .await
        .expect("every subscription catches up");
    for id in 0..SUBSCRIPTIONS {
        assert_eq!(session.records[&id].len(), RECORDS, "subscription {id}");
    }
    // Every subscription long-polls at the end for a while: the polls spread over connections.
    let _ = session
        .until(Duration::from_secs(2), |_| false)
        .await
        .expect_err("nothing more to read");
    let opened = relay.accepted() - before;
    let per_partition = 1 + (SUBSCRIPTIONS as usize).div_ceil(POLLS_PER_CONNECTION);
    let bound = 1 + PARTITIONS as usize * per_partition;
    eprintln!(
        "{SUBSCRIPTIONS} subscriptions of {PARTITIONS} partitions opened {opened} connections \
         (bound {bound}; {} open now) in {:.1} s",
        relay.open(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        opened <= bound,
        "{opened} connections for {SUBSCRIPTIONS} subscriptions (at most {bound} expected)"
    );
}

/// Any page may subscribe to any served topic: the partitions a subscription opened are kept
/// only while held, and at most `IDLE_PARTITIONS_KEPT` once idle (the least recently used
/// closed), so reading a wide topic once does not leave a connection per partition open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_partition_clients_are_closed_beyond_a_bound() {
    // Wider than the bound allows even with a poll connection each: without closing idle
    // clients, each partition's prompt connection alone would pass it.
    const WIDE: i32 = 80;
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => {
            streamglass_tests::skip_or_fail(
                "idle_partition_clients_are_closed_beyond_a_bound",
                &format!("no Python environment: {e}"),
            );
            return;
        }
    };
    let (relay, tansu) = behind_relay(&env).await;
    tansu.create_topic("wide", WIDE).expect("topic");
    tansu.create_topic("narrow", 1).expect("topic");
    let config = KafkaConfig::new(&relay.addr, Duration::from_secs(10));
    let source = Source::kafka(&config, &[], SchemaSource::None)
        .await
        .expect("source");
    let addr = common::start_bridge(source, None).await;

    // Every partition of the wide topic opened, then let go when the page goes.
    let while_held = read_once(&addr, "wide", || relay.open()).await;
    assert!(while_held > WIDE as usize, "{while_held} open while held");

    // A partition asked for closes the idle ones past the bound: ask for the narrow topic's
    // until the wide subscription has let go of its partitions and they are closed.
    // Each partition kept has a prompt and at most one poll connection; metadata one more.
    let bound = 1 + 2 * (IDLE_PARTITIONS_KEPT + 1);
    assert!(bound < WIDE as usize, "the test's topic is wide enough");
    let mut open = relay.open();
    for _ in 0..120 {
        read_once(&addr, "narrow", || ()).await;
        open = relay.open();
        if open <= bound {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("{while_held} connections open while {WIDE} partitions were held, {open} after");
    assert!(
        open <= bound,
        "{open} connections open (at most {bound} expected)"
    );
}

/// Subscribes to `topic` from the beginning on a new connection until caught up, notes `seen`
/// then, and closes the connection.
async fn read_once<T>(addr: &str, topic: &str, seen: impl FnOnce() -> T) -> T {
    let mut session = ws::Session::connect(&format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let seek = "beginning".parse().unwrap();
    session
        .subscribe_to(1, Some(topic.into()), seek, None, ws::WINDOW)
        .await
        .expect("subscribe");
    session
        .until(Duration::from_secs(120), |s| s.settled(1))
        .await
        .expect("caught up");
    let noted = seen();
    session.kill().await;
    noted
}

/// A Tansu broker that advertises a counting relay's address, and the relay.
async fn behind_relay(env: &streamglass_tests::python::PythonEnv) -> (Relay, Tansu) {
    let port = streamglass_tests::free_port().expect("port");
    let relay = Relay::start(&format!("127.0.0.1:{port}"))
        .await
        .expect("relay");
    let options = TansuOptions {
        port: Some(port),
        advertised: Some(relay.addr.clone()),
        ..TansuOptions::default()
    };
    let tansu = Tansu::start_with(&env.tansu().expect("tansu"), &options).expect("tansu");
    (relay, tansu)
}
