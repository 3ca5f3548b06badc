//! The bridge's TLS and SASL against a broker that demands them.
//!
//! The Tansu these tests run cannot secure a listener itself (docs/ARCHITECTURE.md, "Security"),
//! so the secured broker is Tansu behind `tests/python/secure_front.py` (TLS by OpenSSL, the
//! broker's side of SASL PLAIN and SCRAM; see `streamglass_tests::secure`). librdkafka produces
//! through the same front with the same credentials, so every login here is one a reference
//! client makes too. The bridge runs for real: `serve` (streaming to a WebSocket client),
//! `record` and `cat`. Bad credentials and an untrusted CA must fail with a clear error within the
//! timeout, never hang. Against Tansu's own `--authentication`, every login fails: that is checked
//! too, as the one thing a real broker's SASL can show here.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use replay_bridge::cat::{self, CatOptions, SideFormat};
use replay_bridge::kafka::{KafkaConfig, SaslMechanism};
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::{record, tls};
use streamglass_tests::python::PythonEnv;
use streamglass_tests::secure::{Certificates, SecureBroker, Security};
use streamglass_tests::tansu::{Tansu, TansuOptions};
use streamglass_tests::{producers, ws};

const TOPIC: &str = "secure-trades";
const COUNT: u64 = 600;
const TIMEOUT: Duration = Duration::from_secs(120);
/// The bridge's bound on broker calls in these tests: failures must come within it (plus slack).
const CALL_TIMEOUT: Duration = Duration::from_secs(4);

fn env(test: &str) -> Option<PythonEnv> {
    match streamglass_tests::python::env() {
        Ok(env) => Some(env),
        Err(e) => {
            streamglass_tests::skip_or_fail(test, &format!("no Python environment: {e}"));
            None
        }
    }
}

fn users() -> Vec<(String, String)> {
    vec![("alice".into(), "alice-secret".into())]
}

/// A secured broker with a 3-partition topic holding `COUNT` trades produced by librdkafka with
/// `client` settings; what the producer says it wrote.
fn secured_topic(
    env: &PythonEnv,
    security: &Security,
    client: &[(&str, &str)],
) -> (SecureBroker, tempfile::TempDir, producers::Produced) {
    let broker = SecureBroker::start(env, security).expect("secured broker");
    broker.tansu.create_topic(TOPIC, 3).expect("topic");
    let schemas = common::schema_dir();
    let produced = producers::produce_with_confluent_kafka_configured(
        env,
        broker.bootstrap(),
        TOPIC,
        COUNT,
        &schemas.path().join("1-trade.avsc"),
        1,
        client,
    )
    .unwrap_or_else(|e| panic!("{e}\nfront:\n{}", broker.front.log_tail()));
    assert_eq!(produced.total, COUNT);
    (broker, schemas, produced)
}

fn bridge_config(
    broker: &str,
    ca: Option<&std::path::Path>,
    sasl: Option<(SaslMechanism, &str)>,
) -> KafkaConfig {
    let mut config = KafkaConfig::new(broker, CALL_TIMEOUT);
    if let Some(ca) = ca {
        config.tls = Some(tls::client_config(Some(ca)).expect("TLS config"));
    }
    if let Some((mechanism, password)) = sasl {
        config.sasl = Some(mechanism.config("alice".into(), password.into()));
    }
    config
}

/// `serve`s the topic with `config` and reads it from the beginning over a WebSocket: every record
/// the producer acknowledged arrives, once.
async fn serve_and_check(
    config: &KafkaConfig,
    schemas: &tempfile::TempDir,
    produced: &producers::Produced,
    front: &SecureBroker,
) {
    let source = Source::kafka(
        config,
        &[TOPIC.to_owned()],
        SchemaSource::Dir(schemas.path().to_owned()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\nfront:\n{}", front.front.log_tail()));
    let addr = common::start_bridge(source, None).await;
    let drained = ws::drain(&format!("ws://{addr}/ws"), TIMEOUT)
        .await
        .expect("drain");
    let got = common::ranges(drained.records.iter().map(|r| (r.partition, r.offset)));
    assert_eq!(got, produced.partitions);
    common::assert_dense(&drained.records, "a client of the secured broker");
    assert_eq!(drained.feed.hello().expect("hello").schemas.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alone_carries_serve_record_and_cat() {
    let Some(env) = env("tls_alone_carries_serve_record_and_cat") else {
        return;
    };
    let started = Instant::now();
    let certs = Certificates::generate().expect("certificates");
    let security = Security {
        tls: Some((certs.server_cert.clone(), certs.server_key.clone())),
        users: Vec::new(),
    };
    let ca = certs.ca.to_str().expect("path");
    let client = [("security.protocol", "SSL"), ("ssl.ca.location", ca)];
    let (broker, schemas, produced) = secured_topic(&env, &security, &client);
    let config = bridge_config(broker.bootstrap(), Some(&certs.ca), None);
    serve_and_check(&config, &schemas, &produced, &broker).await;

    let written = record_topic(&config, "beginning", "record over TLS").await;
    assert_eq!(written.records, COUNT);

    let options = CatOptions {
        key: SideFormat::Ignore,
        value: SideFormat::Avro,
        subject: None,
        schemas: SchemaSource::Dir(schemas.path().to_owned()),
        follow: false,
        start: streamglass_core::seek::SeekSpec::All(streamglass_core::seek::Position::Beginning),
        count: None,
        json_key_spec: None,
        json_spec: None,
        json_infer: 1_000,
        output: replay_bridge::cat::OutputFormat::Jsonl,
        timeout: CALL_TIMEOUT,
    };
    let mut printed = Vec::new();
    let summary = cat::cat_kafka(&config, TOPIC, &options, &mut printed)
        .await
        .expect("cat over TLS");
    assert_eq!((summary.rows, summary.errors), (COUNT, 0));
    eprintln!("tls_alone: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plain_and_scram_log_in_and_stream() {
    let Some(env) = env("sasl_plain_and_scram_log_in_and_stream") else {
        return;
    };
    let started = Instant::now();
    let security = Security {
        tls: None,
        users: users(),
    };
    let client = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "alice"),
        ("sasl.password", "alice-secret"),
    ];
    let (broker, schemas, produced) = secured_topic(&env, &security, &client);
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let config = bridge_config(broker.bootstrap(), None, Some((mechanism, "alice-secret")));
        serve_and_check(&config, &schemas, &produced, &broker).await;
    }
    let log = broker.front.log_tail();
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        assert!(log.contains(&format!("{mechanism} logged in")), "{log}");
    }
    eprintln!("sasl: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_scram_sha_512_streams_and_records() {
    let Some(env) = env("tls_with_scram_sha_512_streams_and_records") else {
        return;
    };
    let started = Instant::now();
    let certs = Certificates::generate().expect("certificates");
    let security = Security {
        tls: Some((certs.server_cert.clone(), certs.server_key.clone())),
        users: users(),
    };
    let ca = certs.ca.to_str().expect("path");
    let client = [
        ("security.protocol", "SASL_SSL"),
        ("ssl.ca.location", ca),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "alice-secret"),
    ];
    let (broker, schemas, produced) = secured_topic(&env, &security, &client);
    let config = bridge_config(
        broker.bootstrap(),
        Some(&certs.ca),
        Some((SaslMechanism::ScramSha512, "alice-secret")),
    );
    serve_and_check(&config, &schemas, &produced, &broker).await;
    let written = record_topic(&config, "each:-10", "record over TLS with SCRAM").await;
    let per_partition: BTreeMap<i32, i64> = written
        .partitions
        .iter()
        .map(|p| (p.partition, p.high_watermark - p.low_watermark))
        .collect();
    assert_eq!(written.records, 30, "{per_partition:?}");
    eprintln!("tls+scram: {:.1} s", started.elapsed().as_secs_f64());
}

/// Records [`TOPIC`] from `seek` with `config` into a temporary file; panics with `context` if
/// recording fails.
async fn record_topic(config: &KafkaConfig, seek: &str, context: &str) -> record::Written {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("secure.sgrec");
    let seek = seek.parse().unwrap();
    record::record(
        config,
        TOPIC,
        &seek,
        &out,
        Vec::new(),
        |_, _| {},
        std::future::pending(),
    )
    .await
    .expect(context)
}

/// Connects the bridge with `config`; it must fail within the call timeout (and some slack), with
/// an error containing every one of `needles`.
async fn assert_refused(config: &KafkaConfig, needles: &[&str], context: &str) {
    let started = Instant::now();
    let result = tokio::time::timeout(
        CALL_TIMEOUT * 3,
        Source::kafka(config, &[TOPIC.to_owned()], SchemaSource::None),
    )
    .await;
    let elapsed = started.elapsed();
    let error = match result {
        Err(_) => panic!("{context}: no answer after {elapsed:?}: the bridge hangs"),
        Ok(Ok(_)) => panic!("{context}: the bridge connected"),
        Ok(Err(e)) => e.to_string(),
    };
    eprintln!("{context}: after {elapsed:.1?}: {error}");
    for needle in needles {
        assert!(
            error.to_lowercase().contains(&needle.to_lowercase()),
            "{context}: {error:?} should say {needle:?}"
        );
    }
    assert!(
        elapsed < CALL_TIMEOUT + Duration::from_secs(2),
        "{context}: took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_untrusted_certificates_are_clear_errors() {
    let Some(env) = env("bad_credentials_and_untrusted_certificates_are_clear_errors") else {
        return;
    };
    let certs = Certificates::generate().expect("certificates");
    let security = Security {
        tls: Some((certs.server_cert.clone(), certs.server_key.clone())),
        users: users(),
    };
    let broker = SecureBroker::start(&env, &security).expect("secured broker");
    let at = broker.bootstrap();
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let config = bridge_config(at, Some(&certs.ca), Some((mechanism, "wrong")));
        assert_refused(
            &config,
            &[at, "refused the SASL", "AuthenticationFailed"],
            &format!("{mechanism:?} with a wrong password"),
        )
        .await;
    }
    let untrusted = bridge_config(
        at,
        Some(&certs.other_ca),
        Some((SaslMechanism::ScramSha256, "alice-secret")),
    );
    assert_refused(&untrusted, &[at, "TLS", "certificate"], "an untrusted CA").await;
    // Mozilla's roots alone (--tls without --tls-ca) do not trust a private CA either.
    let mut web_roots = bridge_config(at, None, None);
    web_roots.tls = Some(tls::client_config(None).expect("TLS config"));
    assert_refused(
        &web_roots,
        &[at, "TLS", "certificate"],
        "the web's roots only",
    )
    .await;
    let plaintext = bridge_config(at, None, Some((SaslMechanism::ScramSha256, "alice-secret")));
    assert_refused(&plaintext, &[at], "plaintext to a TLS listener").await;
}

/// Tansu's own SASL (`--authentication`): the handshake is real, and no login can succeed (it
/// stores no SCRAM user and offers no PLAIN). The bridge must say so, not hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tansu_authentication_refuses_every_login_with_a_clear_error() {
    let Some(env) = env("tansu_authentication_refuses_every_login_with_a_clear_error") else {
        return;
    };
    let options = TansuOptions {
        authentication: true,
        ..TansuOptions::default()
    };
    let tansu = Tansu::start_with(&env.tansu().expect("tansu"), &options).expect("tansu");
    for (mechanism, needles) in [
        (
            SaslMechanism::ScramSha256,
            vec!["refused the SASL", "unknown user"],
        ),
        (
            SaslMechanism::ScramSha512,
            vec!["refused the SASL", "unknown user"],
        ),
        (SaslMechanism::Plain, vec!["SASL"]),
    ] {
        let mut needles = needles;
        needles.push(&tansu.addr);
        let config = bridge_config(&tansu.addr, None, Some((mechanism, "alice-secret")));
        assert_refused(&config, &needles, &format!("Tansu {mechanism:?}")).await;
    }
    let anonymous = bridge_config(&tansu.addr, None, None);
    assert_refused(&anonymous, &[&tansu.addr], "Tansu without SASL").await;
}
