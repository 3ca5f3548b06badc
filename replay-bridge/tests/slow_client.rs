//! A slow client cannot make the bridge hold a topic in memory: with a 1M-record topic waiting on
//! a real Tansu broker, a client that grants little credit and reads slowly leaves the bridge
//! process's peak RSS (VmHWM) far below the topic's size.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use streamglass_core::protocol::ClientMessage;
use streamglass_tests::proc::peak_rss_of;
use streamglass_tests::tansu::Tansu;
use streamglass_tests::ws::Session;

const BIN: &str = env!("CARGO_BIN_EXE_replay-bridge");
const RECORDS: usize = 1_000_000;
const VALUE_BYTES: usize = 200;

struct Bridge(Child);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_keeps_the_bridge_memory_bounded() {
    let test = "slow client";
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => return streamglass_tests::skip_or_fail(test, &e),
    };
    if !std::path::Path::new("/proc/self/status").is_file() {
        return streamglass_tests::skip_or_fail(test, "no /proc to read RSS from");
    }
    let tansu = env
        .tansu()
        .and_then(|bin| Tansu::start(&bin))
        .unwrap_or_else(|e| panic!("Tansu did not start: {e}"));
    let topic = "big";
    tansu.create_topic(topic, 3).unwrap();
    let values: Vec<(i64, Vec<u8>)> = (0..RECORDS)
        .map(|i| {
            (
                1_700_000_000_000 + i as i64,
                vec![(i % 251) as u8; VALUE_BYTES],
            )
        })
        .collect();
    let produced =
        streamglass_tests::producers::produce_with_rskafka(&tansu.addr, topic, 3, values, 5_000)
            .await
            .unwrap();
    assert_eq!(produced.total, RECORDS as u64);
    let topic_bytes = (RECORDS * VALUE_BYTES) as u64;

    let port = streamglass_tests::free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args([
            "serve",
            "--broker",
            &tansu.addr,
            "--topic",
            topic,
            "--listen",
            &listen,
        ])
        .args(["--buffer-bytes", &(16u64 << 20).to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the bridge");
    let bridge = Bridge(child);
    streamglass_tests::wait_for_port(&listen, Duration::from_secs(30)).unwrap();

    let mut session = Session::connect(&format!("ws://{listen}/ws"))
        .await
        .unwrap();
    session.auto_credit = false;
    let window = 256 << 10;
    session
        .subscribe(0, "beginning", None, window)
        .await
        .unwrap();
    // Take the window, then stall: the bridge must stop fetching rather than buffer the topic.
    let timeout = Duration::from_secs(60);
    session
        .until(timeout, |s| {
            s.bytes.get(&0).copied().unwrap_or(0) + 8_192 > window
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = session.bytes[&0];
    assert!(
        stalled <= window,
        "never more than the credit in flight: {stalled}"
    );
    // Then read slowly: a little credit at a time.
    for _ in 0..40 {
        let before = session.bytes[&0];
        session
            .send(&ClientMessage::Credit {
                subscription: 0,
                bytes: 64 << 10,
            })
            .await
            .unwrap();
        // Each grant brings more records. (Not necessarily all of its bytes at once: credit
        // counts frame bytes, this counts payload, and a partition's share of the credit may
        // still be reserved by a fetch in flight.)
        session
            .until(timeout, |s| s.bytes[&0] > before)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let granted = window + 40 * (64 << 10);
    // In the end most of what was granted arrives.
    session
        .until(timeout, |s| s.bytes[&0] > granted * 3 / 4)
        .await
        .unwrap();
    assert!(
        session.bytes[&0] <= granted,
        "{} > {granted}",
        session.bytes[&0]
    );
    let peak = peak_rss_of(bridge.0.id());
    eprintln!(
        "slow client: bridge peak RSS {:.1} MiB with a {:.0} MiB topic waiting ({} records received)",
        peak as f64 / (1 << 20) as f64,
        topic_bytes as f64 / (1 << 20) as f64,
        session.records[&0].len()
    );
    assert!(peak > 0);
    assert!(
        peak < 64 << 20,
        "the bridge's peak RSS {peak} must stay far below the topic's {topic_bytes} bytes"
    );
}
