//! How many connections the bridge opens to a broker: Tansu advertises a counting relay's address,
//! so every connection the bridge makes (bootstrap, metadata, each partition) passes the relay.

mod common;

use std::time::{Duration, Instant};

use replay_bridge::kafka::{KafkaConfig, POLLS_PER_CONNECTION};
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
