//! A subscription out of credit costs nothing while it waits. Alone in its test binary, so the
//! process's CPU time is this test's.

mod common;

use std::time::Duration;

use replay_bridge::record;
use replay_bridge::server::ServeOptions;
use replay_bridge::source::Source;
use streamglass_core::protocol::ClientMessage;
use streamglass_tests::proc::cpu_time;
use streamglass_tests::ws::Session;

/// A replay whose credit runs out waits for more, doing nothing: a leftover smaller than the
/// next record once made it reserve and give back credit in a loop, a core per subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_out_of_credit_waits_without_spinning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    record::generate(&path, 50_000, 3, 6).unwrap();
    let addr = common::serve(
        Source::recording(&path).unwrap(),
        None,
        ServeOptions::default(),
    )
    .await;
    let mut session = Session::connect(&format!("ws://{addr}/ws")).await.unwrap();
    session.auto_credit = false;
    for id in 0..8 {
        session
            .subscribe(id, "beginning", None, 64 << 10)
            .await
            .unwrap();
    }
    // Read until nothing has come for a second: every window is spent.
    while tokio::time::timeout(Duration::from_secs(1), session.step())
        .await
        .is_ok()
    {}
    let received: u64 = session.bytes.values().sum();
    assert!(
        received > 7 * (60 << 10),
        "{received} bytes of 8 windows of 64 KiB"
    );
    assert!(received <= 8 * (64 << 10));
    let before = cpu_time();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = cpu_time() - before;
    assert!(
        used < Duration::from_millis(600),
        "8 subscriptions waiting for credit used {used:?} of CPU in 3 s"
    );
    // More credit, and they go on.
    session
        .send(&ClientMessage::Credit {
            subscription: 0,
            bytes: 1 << 20,
        })
        .await
        .unwrap();
    let had = session.records[&0].len();
    session
        .until(Duration::from_secs(10), |s| s.records[&0].len() > had)
        .await
        .unwrap();
}
