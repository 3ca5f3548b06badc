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

/// `cat` of the recording at `path` with `args`: each line's (partition, offset, timestamp ms).
fn cat_lines(path: &std::path::Path, args: &[&str]) -> Vec<(i64, i64, i64)> {
    let mut all = vec!["cat", "--recording", path.to_str().unwrap()];
    all.extend(args);
    let (out, _) = run(&all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let ts = v["KafkaTimestamp"].as_str().map_or(0, |t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .unwrap()
                    .timestamp_millis()
            });
            (
                v["KafkaPartition"].as_i64().unwrap(),
                v["KafkaOffset"].as_i64().unwrap(),
                ts,
            )
        })
        .collect()
}

#[test]
fn cat_seeks_and_counts_as_kcat_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    generate(&path, 4);
    let all = cat_lines(&path, &[]);
    assert_eq!(all.len(), 1234);
    let per_partition = |lines: &[(i64, i64, i64)]| {
        let mut n = std::collections::BTreeMap::new();
        for (p, _, _) in lines {
            *n.entry(*p).or_insert(0) += 1;
        }
        n
    };
    let high: std::collections::BTreeMap<i64, i64> =
        all.iter().fold(Default::default(), |mut m, &(p, o, _)| {
            let e = m.entry(p).or_insert(0);
            *e = (*e).max(o + 1);
            m
        });
    // kcat's -o -10: the newest 10 of every partition.
    let each = cat_lines(&path, &["-o", "each:-10"]);
    assert_eq!(
        per_partition(&each).values().copied().collect::<Vec<_>>(),
        [10, 10]
    );
    assert!(each.iter().all(|&(p, o, _)| o >= high[&p] - 10));
    // -25: the newest 25 in total, spread over the partitions.
    let newest = cat_lines(&path, &["--offset", "-25"]);
    assert_eq!(newest.len(), 25);
    assert!(newest.iter().all(|&(p, o, _)| o >= high[&p] - 13));
    // An offset, and a map of them; `end` prints nothing.
    let from = cat_lines(&path, &["-o", "600"]);
    assert!(from.iter().all(|&(_, o, _)| o >= 600));
    assert_eq!(
        from.len(),
        all.iter().filter(|&&(_, o, _)| o >= 600).count()
    );
    let map = cat_lines(&path, &["-o", "{1: -3}"]);
    assert_eq!(
        per_partition(&map).into_iter().collect::<Vec<_>>(),
        [(1, 3)]
    );
    assert!(cat_lines(&path, &["-o", "end"]).is_empty());
    // By time: each partition from its first record at or after it.
    let mut times: Vec<i64> = all.iter().map(|&(_, _, t)| t).collect();
    times.sort_unstable();
    let middle = times[times.len() / 2];
    let since = cat_lines(&path, &["-o", &format!("s@{middle}")]);
    let want: Vec<(i64, i64, i64)> = all
        .iter()
        .filter(|&&(p, o, _)| {
            let first = all
                .iter()
                .filter(|&&(q, _, t)| q == p && t >= middle)
                .map(|&(_, o, _)| o)
                .min();
            first.is_some_and(|f| o >= f)
        })
        .copied()
        .collect();
    assert!(!since.is_empty() && since.len() < all.len());
    assert_eq!(since, want);
    // -c: the first N records printed, then exit.
    assert_eq!(cat_lines(&path, &["-c", "7"]), all[..7]);
    assert_eq!(
        cat_lines(&path, &["-o", "each:-10", "--count", "3"]),
        each[..3]
    );
    // A bad spec is a usage error.
    let (out, _) = run(&[
        "cat",
        "--recording",
        path.to_str().unwrap(),
        "-o",
        "sideways",
    ]);
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

/// Runs with stdout a pipe whose reader is already gone, as `| head -1` leaves it.
fn run_into_closed_pipe(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(writer)
        .output()
        .expect("run replay-bridge")
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.sgrec");
    let p = path.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &[
            "generate",
            "--out",
            p,
            "--count",
            "20000",
            "--partitions",
            "200",
        ],
        &["inspect", p],
        &["inspect", "--json", p],
        &["cat", "--recording", p],
    ];
    for args in commands {
        let out = run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    // The output is long: 200 partitions, not cut by the closed pipe of the generate above.
    let (out, _) = run(&["inspect", p]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 208);
}

#[test]
fn a_broker_list_naming_no_broker_is_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.sgrec");
    let o = out_path.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["record", "--broker", "", "--topic", "t", "--out", o],
            "no broker given",
        ),
        (
            &["record", "--broker", " , ", "--topic", "t", "--out", o],
            "no broker given",
        ),
        (
            &["serve", "--broker", "", "--topic", "t"],
            "no broker given",
        ),
        (
            &["cat", "--broker", "localhost", "--topic", "t"],
            "\"localhost\" is not HOST:PORT",
        ),
    ];
    for (args, needle) in cases {
        let (out, took) = run(&[args, &["--timeout-secs", "60"]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("--broker") && stderr.contains(needle),
            "{stderr}"
        );
        assert!(
            took < Duration::from_secs(30),
            "waited for a broker: {took:?}"
        );
    }
    assert!(!out_path.exists());
}

#[test]
fn www_that_is_a_file_is_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    generate(&path, 2);
    let file = dir.path().join("index.html");
    std::fs::write(&file, "<html>").unwrap();
    let serve = |www: &std::path::Path| {
        run(&[
            "serve",
            "--recording",
            path.to_str().unwrap(),
            "--www",
            www.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .0
    };
    assert_one_line_error(&serve(&file), "index.html is not a directory");
    assert_one_line_error(&serve(&dir.path().join("nope")), "nope does not exist");
}

#[test]
fn log_lines_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.sgrec");
    let out = Command::new(BIN)
        .args(["record", "--broker", "127.0.0.1:9", "--topic", "t"])
        .args(["--timeout-secs", "1", "--out", out_path.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("no value schemas"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn generate_refuses_a_future_it_could_never_reach() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.sgrec");
    let mut child = Command::new(BIN)
        .args(["generate", "--out", path.to_str().unwrap(), "--count", "10"])
        .args(["--future-secs", "1000000000000000"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("generate --future-secs 1e15 still runs after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_one_line_error(
        &out,
        "--future-secs 1000000000000000: at most 315360000 (ten years)",
    );
    assert!(!path.exists());
}

/// `cat --format csv`: Python's own `csv` reader finds a header row and one row per record whose
/// every field is the text of the same record's value in `cat`'s JSON lines (strings as they
/// are, numbers and times as their JSON text, nulls empty).
#[test]
fn cat_prints_csv_that_pythons_csv_reader_reads_as_the_json_lines() {
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => return streamglass_tests::skip_or_fail("cli cat --format csv", &e),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    generate(&path, 5);
    let recording = path.to_str().unwrap();
    let (jsonl, _) = run(&["cat", "--recording", recording, "-c", "300"]);
    let (csv, _) = run(&[
        "cat",
        "--recording",
        recording,
        "-c",
        "300",
        "--format",
        "csv",
    ]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let csv_path = dir.path().join("t.csv");
    std::fs::write(&csv_path, &csv.stdout).unwrap();
    let read = std::process::Command::new(env.python())
        .args([
            "-c",
            "import csv, json, sys\n\
             rows = list(csv.reader(open(sys.argv[1], newline='')))\n\
             print(json.dumps(rows))",
        ])
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&read.stdout).unwrap();
    let objects: Vec<serde_json::Map<String, serde_json::Value>> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!((rows.len(), objects.len()), (301, 300));
    // The header names every column once, the metadata first.
    let header = &rows[0];
    let mut names = header.clone();
    names.sort();
    assert_eq!(names, objects[0].keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        header[..3],
        ["KafkaPartition", "KafkaOffset", "KafkaTimestamp"]
    );
    for (row, object) in rows[1..].iter().zip(&objects) {
        let want: Vec<String> = header
            .iter()
            .map(|name| match &object[name] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(row, &want);
    }
}
