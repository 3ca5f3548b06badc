//! The harness behind Streamglass's integration tests.
//!
//! It finds the workspace, creates (and caches) the Python environment that provides the Tansu
//! broker, the independent `confluent-kafka` producer and `fastavro` (with `cramjam` for snappy),
//! and runs Tansu brokers on
//! free ports. Nothing here is mocked: the broker is a real Kafka-protocol server.
//!
//! Prerequisites that cannot be met (no `python3`, no Chromium) skip a test with a printed reason,
//! unless `STREAMGLASS_REQUIRE_ALL=1` (set by `cargo xtask test` and CI), where they fail it.

pub mod proc;
pub mod producers;
pub mod python;
pub mod relay;
pub mod secure;
pub mod tansu;
pub mod ws;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where tools that outlive a build are cached: `$STREAMGLASS_CACHE`, else
/// `$XDG_CACHE_HOME/streamglass`, else `~/.cache/streamglass`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STREAMGLASS_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("streamglass")
}

/// The last 20 lines of the log file at `path` (none if it cannot be read), for failure messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Whether every prerequisite must be present (`STREAMGLASS_REQUIRE_ALL=1`).
pub fn require_all() -> bool {
    std::env::var("STREAMGLASS_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Handles a missing prerequisite: panics under `STREAMGLASS_REQUIRE_ALL=1`, else prints why the
/// test is skipped. Returns normally only when the caller should skip.
pub fn skip_or_fail(test: &str, reason: &str) {
    if require_all() {
        panic!("{test}: {reason} (STREAMGLASS_REQUIRE_ALL=1, so this fails instead of skipping)");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// The built page, when everything a browser test needs is present (the site, playwright-core and
/// Debian's Chromium); otherwise [`skip_or_fail`] for `test` and `None`.
pub fn browser_site(test: &str) -> Option<PathBuf> {
    let site = std::env::var_os("STREAMGLASS_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("site"));
    let missing = if !site.join("pkg/streamglass_wasm_bg.wasm").is_file() {
        Some(format!(
            "no built page at {} (run cargo xtask site)",
            site.display()
        ))
    } else if !workspace_root()
        .join("node_modules/playwright-core")
        .is_dir()
    {
        Some("playwright-core is not installed (run npm ci)".to_owned())
    } else if !Path::new("/usr/bin/chromium").is_file() {
        Some("/usr/bin/chromium is not installed".to_owned())
    } else {
        None
    };
    match missing {
        Some(reason) => {
            skip_or_fail(test, &reason);
            None
        }
        None => Some(site),
    }
}

/// Waits until something accepts TCP connections on `addr`, up to `timeout`.
pub fn wait_for_port(addr: &str, timeout: std::time::Duration) -> Result<(), String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("nothing listens on {addr} after {timeout:?}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; bind it soon), never one this process was
/// given before: tests run on parallel threads, and the kernel may hand a port just released to
/// the next `bind(0)` before the first asker's broker has bound it (a SASL test once reached
/// another test's Tansu that way).
pub fn free_port() -> std::io::Result<u16> {
    static GIVEN: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        if given.insert(port) {
            return Ok(port);
        }
    }
}
