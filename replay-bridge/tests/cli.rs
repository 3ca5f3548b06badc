//! The `replay-bridge` binary as a user runs it: bad input ends in one clear line on stderr and a
//! non-zero exit, never a panic or a hang.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_replay-bridge");

fn run(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run replay-bridge");
    (out, started.elapsed())
}

/// `generate --count 1234 --partitions 2 --seed SEED --out PATH`, which must succeed.
fn generate(path: &std::path::Path, seed: u64) {
    let (out, _) = run(&[
        "generate",
        "--out",
        path.to_str().unwrap(),
        "--count",
        "1234",
        "--partitions",
        "2",
        "--seed",
        &seed.to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Exits 1, prints exactly one line, starting `error:` and containing `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{stderr}"
    );
}

#[test]
fn generate_inspect_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    let p = path.to_str().unwrap();
    generate(&path, 9);
    let (out, _) = run(&["inspect", "--json", p]);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records"], 1234);
    assert_eq!(summary["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(summary["schemas"][0]["name"], "io.deephaven.crypto.Trade");
    let (text, _) = run(&["inspect", p]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("records    1234"), "{text}");

    // The same seed gives the same file.
    let again = dir.path().join("again.sgrec");
    generate(&again, 9);
    assert!(
        std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap(),
        "the same seed must give the same bytes"
    );
    let other = dir.path().join("other.sgrec");
    generate(&other, 10);
    assert!(std::fs::read(&path).unwrap() != std::fs::read(&other).unwrap());
}

#[test]
fn a_missing_recording_is_one_line() {
    let (out, _) = run(&["inspect", "/nonexistent/demo.sgrec"]);
    assert_one_line_error(&out, "cannot open recording /nonexistent/demo.sgrec");
    let (out, _) = run(&[
        "serve",
        "--recording",
        "/nonexistent/demo.sgrec",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_one_line_error(&out, "cannot open recording");
}

#[test]
fn a_corrupt_recording_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.sgrec");
    std::fs::write(&junk, b"Obj\x01 definitely not a recording").unwrap();
    let (out, _) = run(&[
        "serve",
        "--recording",
        junk.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_one_line_error(&out, "is not a Streamglass recording");

    // A real recording cut in half: the header is fine, the body is not.
    let good = dir.path().join("good.sgrec");
    replay_bridge::record::generate(&good, 50_000, 2, 1).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.sgrec");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (out, _) = run(&["inspect", cut.to_str().unwrap()]);
    assert_one_line_error(&out, "is corrupt after");
}

#[test]
fn an_unreachable_broker_fails_within_the_timeout() {
    // Port 9 (discard) on loopback: nothing listens.
    let (out, took) = run(&[
        "serve",
        "--broker",
        "127.0.0.1:9",
        "--topic",
        "t",
        "--timeout-secs",
        "2",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_one_line_error(&out, "cannot reach Kafka broker 127.0.0.1:9 within 2 s");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.sgrec");
    let (out, _) = run(&[
        "record",
        "--broker",
        "127.0.0.1:9",
        "--topic",
        "t",
        "--timeout-secs",
        "2",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, "cannot reach Kafka broker");
}

#[test]
fn an_unknown_topic_is_one_line() {
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => return streamglass_tests::skip_or_fail("cli unknown topic", &e),
    };
    let tansu = streamglass_tests::tansu::Tansu::start(&env.tansu().unwrap()).unwrap();
    tansu.create_topic("real-topic", 1).unwrap();
    let (out, _) = run(&[
        "serve",
        "--broker",
        &tansu.addr,
        "--topic",
        "nope",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_one_line_error(&out, "topic \"nope\" does not exist");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("real-topic"),
        "lists the topics that exist: {stderr}"
    );
}

/// `serve --schema-registry` checks the registry at start, as `record` and `cat` do: a dead one,
/// or one answering errors, stops it with one line instead of failing every subscription later.
#[test]
fn serve_refuses_to_start_with_a_dead_or_failing_registry() {
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => return streamglass_tests::skip_or_fail("cli dead registry", &e),
    };
    let tansu = streamglass_tests::tansu::Tansu::start(&env.tansu().unwrap()).unwrap();
    tansu.create_topic("t", 1).unwrap();
    let serve = |registry: &str| {
        run(&[
            "serve",
            "--broker",
            &tansu.addr,
            "--topic",
            "t",
            "--schema-registry",
            registry,
            "--timeout-secs",
            "3",
            "--listen",
            "127.0.0.1:0",
        ])
    };
    let dead = format!(
        "http://127.0.0.1:{}",
        streamglass_tests::free_port().unwrap()
    );
    let (out, took) = serve(&dead);
    assert_one_line_error(
        &out,
        &format!("schema registry {dead}/subjects: cannot connect"),
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A registry that answers every request with HTTP 500.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let failing = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut socket in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request);
            let body = r#"{"error_code":50001,"message":"store unavailable"}"#;
            let _ = write!(
                socket,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let (out, _) = serve(&failing);
    assert_one_line_error(&out, "HTTP 500");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("store unavailable"),
        "the registry's own message is shown"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (out, _) = run(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = run(&["serve", "--topic", "t", "--recording", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cat_prints_every_record_of_a_recording_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    generate(&path, 4);
    let (out, _) = run(&["cat", "--recording", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1234);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(first.get("error").is_none(), "{first}");
    for key in [
        "KafkaPartition",
        "KafkaOffset",
        "KafkaTimestamp",
        "Exchange",
        "Price",
        "Type",
    ] {
        assert!(first.get(key).is_some(), "{key} missing from {first}");
    }
    assert!(
        lines[0].starts_with(r#"{"KafkaPartition":"#),
        "metadata columns first: {}",
        lines[0]
    );
    let (out, _) = run(&["cat", "--recording", "/nonexistent.sgrec"]);
    assert_one_line_error(&out, "/nonexistent.sgrec");
}

#[test]
fn bad_live_points_and_speeds_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    let p = path.to_str().unwrap();
    generate(&path, 4);
    let serve = |point: &str, speed: &str| {
        run(&[
            "serve",
            "--recording",
            p,
            "--live-from",
            point,
            "--speed",
            speed,
            "--listen",
            "127.0.0.1:0",
        ])
        .0
    };
    // A point that does not parse: the flag, and every form it takes.
    let out = serve("soon", "1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in ["--live-from", "RFC 3339", "90%", "end-N", "end-30m"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let out = serve("120%", "1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0% and 100%"));
    assert_one_line_error(&serve("50%", "0"), "--speed 0: give a positive number");
}
