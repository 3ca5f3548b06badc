//! Installing what the commands need, only when it is missing.
//!
//! - the wasm32 target and the standard library's source, `rust-src` (rustup);
//! - wasm-bindgen-cli at exactly the `wasm-bindgen` version of `Cargo.lock` (a mismatch breaks the
//!   generated JS), and wasm-pack, both with `cargo install --root <cache>/tools/...`;
//! - the npm packages (`npm ci`): the page's regular-table, uPlot and CodeMirror, esbuild (which
//!   bundles CodeMirror), and playwright-core;
//! - for the page: Debian's binaryen (apt-get), whose `wasm-opt` shrinks the bundle; without it
//!   (no apt-get, not root) the page is built all the same, a few KB larger;
//! - for tests: Debian's chromium and chromium-driver (apt-get).
//!
//! wasm-bindgen-cli is installed without `--locked`: its own lock file pins a webpki-roots that
//! the registry no longer serves.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::run::{Cmd, Failure};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const WASM_OPT: &str = "/usr/bin/wasm-opt";
const WASM_PACK_VERSION: &str = "0.15.1";

/// Paths of the installed tools.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub wasm_pack: PathBuf,
    /// binaryen's optimiser, if it could be installed.
    pub wasm_opt: Option<PathBuf>,
    /// Whether the page's build compiles std with the bundle (`rust-src` installed, and a cargo
    /// that knows the immediate-abort panic strategy).
    pub build_std: bool,
}

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STREAMGLASS_CACHE") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("streamglass")
}

fn tool_root(name: &str, version: &str) -> PathBuf {
    cache_dir().join("tools").join(format!("{name}-{version}"))
}

/// PATH with the cached tools and cargo's bin directory first.
pub fn path_with_tools() -> OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(version) = wasm_bindgen_version() {
        dirs.push(tool_root("wasm-bindgen-cli", &version).join("bin"));
    }
    dirs.push(tool_root("wasm-pack", WASM_PACK_VERSION).join("bin"));
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let existing = std::env::var_os("PATH").unwrap_or_default();
    dirs.extend(std::env::split_paths(&existing));
    std::env::join_paths(dirs).unwrap_or(existing)
}

/// The `wasm-bindgen` version pinned in `Cargo.lock`.
pub fn wasm_bindgen_version() -> Result<String, Failure> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))
        .map_err(Failure::io("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|l| l.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err(Failure("Cargo.lock has no wasm-bindgen package".into()))
}

fn ensure_wasm_target() -> Result<(), Failure> {
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    Cmd::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .run()
}

/// The oldest Rust whose cargo knows `panic = "immediate-abort"` (`-Zpanic-immediate-abort`),
/// which the page's std build takes (`SITE_STD` in main.rs).
const IMMEDIATE_ABORT_SINCE: (u32, u32) = (1, 92);

/// Whether `rustc -V`'s answer (`rustc 1.95.0 (…)`, `rustc 1.97.0-nightly (…)`) names a Rust of
/// at least `since`.
fn version_at_least(version: &str, since: (u32, u32)) -> bool {
    let mut numbers = version
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().ok());
    matches!(
        (numbers.next().flatten(), numbers.next().flatten()),
        (Some(major), Some(minor)) if (major, minor) >= since
    )
}

/// Whether `rustc` is at least `IMMEDIATE_ABORT_SINCE`.
fn rustc_takes_immediate_abort() -> Result<(), Failure> {
    let version = Cmd::new("rustc").arg("-V").output().unwrap_or_default();
    match version_at_least(&version, IMMEDIATE_ABORT_SINCE) {
        true => Ok(()),
        false => Err(Failure(format!(
            "`{}` is older than Rust {}.{}",
            version.trim(),
            IMMEDIATE_ABORT_SINCE.0,
            IMMEDIATE_ABORT_SINCE.1
        ))),
    }
}

/// The standard library's source (`rust-src`): the page's build compiles std with the bundle
/// (`-Zbuild-std`, see `build_site` in main.rs).
fn ensure_rust_src() -> Result<(), Failure> {
    rustc_takes_immediate_abort()?;
    let installed = Cmd::new("rustup")
        .args(["component", "list", "--installed"])
        .output()
        .unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "rust-src") {
        return Ok(());
    }
    Cmd::new("rustup")
        .args(["component", "add", "rust-src"])
        .run()
}

/// `cargo install`s `krate` at `version` into its own cache folder unless `binary` is there.
fn ensure_cargo_tool(
    krate: &str,
    version: &str,
    binary: &str,
    locked: bool,
) -> Result<PathBuf, Failure> {
    let root = tool_root(krate, version);
    let path = root.join("bin").join(binary);
    if path.is_file() {
        return Ok(path);
    }
    let mut cmd = Cmd::new("cargo")
        .args(["install", krate, "--version", version, "--root"])
        .arg(&root);
    if locked {
        cmd = cmd.arg("--locked");
    }
    cmd.run()?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(Failure(format!(
            "{krate} installed, but {} is missing",
            path.display()
        )))
    }
}

/// What building the page needs: the wasm32 target, `rust-src` and wasm-bindgen-cli; binaryen too, with
/// apt-get if `apt` (else only if it is there).
pub fn wasm_toolchain(apt: bool) -> Result<Tools, Failure> {
    ensure_wasm_target()?;
    let build_std = match ensure_rust_src() {
        Ok(()) => true,
        Err(e) => {
            eprintln!(
                "xtask: warning: std cannot be built with the page ({}); the wasm bundle takes \
                 rustup's precompiled std, about 12 KB larger served gzip",
                e.0
            );
            false
        }
    };
    // The page serves regular-table, uPlot and CodeMirror (bundled by esbuild) from node_modules.
    ensure_npm_packages()?;
    let version = wasm_bindgen_version()?;
    let wasm_bindgen = ensure_cargo_tool("wasm-bindgen-cli", &version, "wasm-bindgen", false)?;
    let installed = if apt {
        ensure_apt(&[("binaryen", WASM_OPT)])
    } else if Path::new(WASM_OPT).is_file() {
        Ok(())
    } else {
        Err(Failure("not installed, and --no-apt".into()))
    };
    let wasm_opt = match installed {
        Ok(()) => Some(PathBuf::from(WASM_OPT)),
        Err(e) => {
            eprintln!(
                "xtask: warning: binaryen could not be installed ({}); the wasm bundle is built \
                 without wasm-opt, about 3 KB larger served gzip",
                e.0
            );
            None
        }
    };
    Ok(Tools {
        wasm_bindgen,
        // Only tests need wasm-pack; `all` installs it.
        wasm_pack: PathBuf::from("wasm-pack"),
        wasm_opt,
        build_std,
    })
}

fn ensure_apt(packages: &[(&str, &str)]) -> Result<(), Failure> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, binary)| !Path::new(binary).is_file())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Cmd::new("apt-get").arg("update").run()?;
    Cmd::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

fn ensure_npm_packages() -> Result<(), Failure> {
    let marker = crate::root().join("node_modules/.package-lock.json");
    let lock = crate::root().join("package-lock.json");
    let fresh = |m: &Path| {
        let (Ok(m), Ok(l)) = (std::fs::metadata(m), std::fs::metadata(&lock)) else {
            return false;
        };
        matches!((m.modified(), l.modified()), (Ok(m), Ok(l)) if m >= l)
    };
    if fresh(&marker) {
        return Ok(());
    }
    Cmd::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()
}

/// Everything `cargo xtask test` needs.
pub fn all() -> Result<Tools, Failure> {
    let mut tools = wasm_toolchain(true)?;
    tools.wasm_pack = ensure_cargo_tool("wasm-pack", WASM_PACK_VERSION, "wasm-pack", true)?;
    ensure_apt(&[("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)])?;
    Ok(tools)
}

#[cfg(test)]
mod tests {
    use super::version_at_least;

    #[test]
    fn rustc_versions_are_compared_by_major_and_minor() {
        let since = (1, 92);
        assert!(version_at_least(
            "rustc 1.95.0 (59807616e 2026-04-14)",
            since
        ));
        assert!(version_at_least(
            "rustc 1.92.0 (ded5c06cf 2025-12-08)",
            since
        ));
        assert!(version_at_least(
            "rustc 1.97.0-nightly (abc 2026-06-01)",
            since
        ));
        assert!(version_at_least("rustc 2.0.0", since));
        assert!(!version_at_least(
            "rustc 1.91.1 (ed61e7d7e 2025-11-07)",
            since
        ));
        assert!(!version_at_least("rustc 1.9.0", since));
        assert!(!version_at_least("", since));
        assert!(!version_at_least("rustc unknown", since));
    }
}
