//! Embeds the built page in the binary, so `replay-bridge serve` serves it with no `--www`.
//!
//! The page comes from, in this order:
//! - `STREAMGLASS_EMBED_SITE=DIR` (relative to the workspace root): a site built already (`cargo
//!   xtask test` and `demo` set it to the one they have just built, so it is built once);
//!   `STREAMGLASS_EMBED_SITE=none` embeds no page (the binary then serves one only with
//!   `--www`);
//! - otherwise the page is built here: `cargo xtask site --no-apt --out $OUT_DIR/site`, run with
//!   its own target folder (`<target>/embedded-site`, so the cargo running this script and the one
//!   it starts never wait on each other's lock), and rebuilt when the page's sources change. It
//!   installs what the page needs and is missing (the wasm32 target, wasm-bindgen-cli in
//!   `~/.cache/streamglass`, `npm ci`), never a system package. This is what makes
//!   `cargo install --path replay-bridge` a working tool.
//!
//! It writes `$OUT_DIR/site.rs`: one [`EmbeddedFile`] per file of the site, with its gzip and
//! brotli forms as `cargo xtask site` precompressed them, and an entity tag for each form (a hash
//! of its bytes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SITE_ENV: &str = "STREAMGLASS_EMBED_SITE";

fn main() {
    println!("cargo:rerun-if-env-changed={SITE_ENV}");
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().unwrap_or(&manifest).to_path_buf();
    let site = match std::env::var_os(SITE_ENV) {
        Some(dir) if dir == "none" => None,
        Some(dir) => {
            let dir = root.join(dir);
            println!("cargo:rerun-if-changed={}", dir.display());
            Some(dir)
        }
        None => Some(build_site(&root)),
    };
    let out = PathBuf::from(env("OUT_DIR")).join("site.rs");
    let code = match &site {
        Some(dir) => embed(dir),
        None => "pub static FILES: &[EmbeddedFile] = &[];\n".to_owned(),
    };
    if let Err(e) = std::fs::write(&out, code) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

fn fail(message: &str) -> ! {
    eprintln!("replay-bridge build: {message}");
    std::process::exit(1)
}

/// Runs `cargo xtask site` into `$OUT_DIR/site`; returns that folder.
fn build_site(root: &Path) -> PathBuf {
    for input in [
        "www",
        "wasm/src",
        "wasm/Cargo.toml",
        "core/src",
        "core/Cargo.toml",
        "xtask/src",
        "xtask/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
        "package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let site = PathBuf::from(env("OUT_DIR")).join("site");
    // Gone (cleaned by hand): built again.
    println!("cargo:rerun-if-changed={}", site.display());
    // Cargo runs build scripts in the package's folder; a relative target folder is taken from
    // the workspace root (where cargo is usually run).
    let target = root
        .join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()))
        .join("embedded-site");
    println!(
        "cargo:warning=building the page to embed it (cargo xtask site, in {}); the first time \
         takes minutes. Set {SITE_ENV}=DIR to embed a site built already, or =none for no page.",
        target.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "run", "--locked", "--quiet", "-p", "xtask", "--", "site", "--no-apt",
        ])
        .arg("--out")
        .arg(&site)
        // The build script's output is cargo's to read: the child's goes to stderr.
        .stdout(Stdio::from(std::io::stderr()));
    // What cargo tells a build script about this build (its package, target, profile, flags, and
    // wrappers such as clippy's) is not the nested build's business; the user's own settings
    // (CARGO_HOME, proxies, registries, offline, the jobserver) pass through.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let of_this_build = [
            "CARGO_CFG_",
            "CARGO_FEATURE_",
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name.starts_with("CLIPPY")
            || matches!(
                name.as_ref(),
                "CARGO_ENCODED_RUSTFLAGS"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BUILD_TARGET"
                    | "CARGO_TARGET_DIR"
                    | "RUSTFLAGS"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTC_LINKER"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "DEBUG"
                    | "NUM_JOBS"
            );
        if of_this_build {
            command.env_remove(name.as_ref());
        }
    }
    command.env("CARGO_TARGET_DIR", &target);
    match command.status() {
        Ok(status) if status.success() => site,
        Ok(status) => fail(&format!(
            "`cargo xtask site` failed ({status}): the page could not be built to embed it. \
             Set {SITE_ENV}=none to build the bridge without its page (serve it with --www)."
        )),
        Err(e) => fail(&format!("cannot run cargo to build the page: {e}")),
    }
}

/// The Rust source of the embedded site in `dir`.
fn embed(dir: &Path) -> String {
    if !dir.join("index.html").is_file() {
        fail(&format!(
            "{} holds no built page (index.html): build it with `cargo xtask site`",
            dir.display()
        ));
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    let mut code = String::from("pub static FILES: &[EmbeddedFile] = &[\n");
    for (url, path) in files {
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
        // Each form: its bytes (or None) and its entity tag, the hash of the bytes it serves.
        let mut etags = vec![format!("\"{:016x}\"", fnv1a(&bytes))];
        let mut encoded = |suffix: &str| {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            let encoded = PathBuf::from(name);
            match std::fs::read(&encoded) {
                Ok(bytes) => {
                    etags.push(format!("\"{:016x}\"", fnv1a(&bytes)));
                    format!("Some(include_bytes!({:?}))", encoded.display().to_string())
                }
                Err(_) => {
                    etags.push(String::new());
                    "None".to_owned()
                }
            }
        };
        let (gzip, brotli) = (encoded(".gz"), encoded(".br"));
        let _ = writeln!(
            code,
            "    EmbeddedFile {{ path: {url:?}, etags: {etags:?}, raw: include_bytes!({:?}), \
             gzip: {gzip}, brotli: {brotli} }},",
            path.display().to_string(),
        );
    }
    code.push_str("];\n");
    code
}

/// The files under `dir` (not their `.gz` and `.br` forms), with their URL paths from `/`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())))
            .path();
        if path.is_dir() {
            walk(root, &path, files);
            continue;
        }
        let name = path.to_string_lossy();
        if name.ends_with(".gz") || name.ends_with(".br") {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let url = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push((format!("/{url}"), path));
    }
}

/// FNV-1a, 64 bits: an ETag that changes with the file.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
