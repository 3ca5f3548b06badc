//! The README's commands.
//!
//! - `cargo xtask demo`: installs what is missing, builds the page and the bridge (which embeds
//!   it), generates the demo recording if absent (2M trades of history, then 45 minutes more), and
//!   serves it as a live feed: the history at once, then each trade when its time comes (`--max`:
//!   all at full speed).
//! - `cargo xtask test`: installs what is missing, then fmt, clippy, `cargo test --workspace`
//!   (with every prerequisite required, so nothing skips), and the wasm tests in Node and headless
//!   Chromium.
//! - `cargo xtask site`: builds the page alone, into `target/site`.
//!
//! Tools installed with `cargo install` (wasm-pack, wasm-bindgen-cli at exactly the version in
//! `Cargo.lock`) go into a cache outside the checkout, `~/.cache/streamglass/tools/`, so a fresh
//! clone on the same machine does not rebuild them, and a fresh machine always does.

mod install;
mod precompress;
mod reorder;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use run::{Cmd, Failure};

const USAGE: &str = "usage: cargo xtask <demo [--count N] [--future-mins M] [--max] [--listen ADDR] \
     | test | site [--out DIR] [--no-apt]>";

/// The bridge's build embeds the site this names (`replay-bridge/build.rs`); without it, the
/// bridge's build runs `cargo xtask site` itself.
const EMBED_SITE: &str = "STREAMGLASS_EMBED_SITE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("site") => site(&args[1..]),
        _ => Err(Failure(USAGE.into())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target folder, absolute (a relative `CARGO_TARGET_DIR` is cargo's, from where it runs),
/// as the paths handed to other processes must be.
fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    std::path::absolute(&dir).unwrap_or(dir)
}

/// `cargo xtask site [--out DIR] [--no-apt]`: the page, into `DIR` (default `target/site`);
/// `--no-apt` installs no Debian package (the bridge's build script asks for it: a build must
/// not run apt-get), using binaryen's wasm-opt only if it is there.
fn site(args: &[String]) -> Result<(), Failure> {
    let mut out = target_dir().join("site");
    let mut apt = true;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => {
                let dir = args
                    .next()
                    .ok_or_else(|| Failure(format!("--out needs a folder. {USAGE}")))?;
                out = std::path::absolute(dir).map_err(Failure::io("--out"))?;
            }
            "--no-apt" => apt = false,
            _ => return Err(Failure(format!("unknown option {arg}. {USAGE}"))),
        }
    }
    let tools = install::wasm_toolchain(apt)?;
    build_site(&tools, &out)
}

/// The wasm build's own rustflags, kept with the flags they would otherwise meet: flags from the
/// environment (`CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`) replace those of cargo's config, so
/// with them these join them there (as `CARGO_ENCODED_RUSTFLAGS`, separated by 0x1f); without,
/// they join the config's `target.…rustflags` through `--config`.
///
/// - `-Zlocation-detail=none`: see `build_site`.
/// - `--cfg streamglass_site`: the core's decoder loops are optimised for speed inside the
///   profile's opt-level "z" (`#[optimize(speed)]`, unstable, under the build's RUSTC_BOOTSTRAP;
///   see core/src/lib.rs): Protobuf in Chromium 13.5 -> 15.0-15.4M records/s, the bundle the same
///   within noise (BENCHMARKS.md, *Issue 17's two bars on main*).
fn with_site_rustflags(cmd: Cmd) -> Cmd {
    const FLAGS: [&str; 3] = ["-Zlocation-detail=none", "--cfg", "streamglass_site"];
    let given: Option<Vec<String>> = match std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        Ok(encoded) => Some(
            encoded
                .split('\x1f')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Err(_) => std::env::var("RUSTFLAGS")
            .ok()
            .map(|flags| flags.split_whitespace().map(str::to_owned).collect()),
    };
    match given {
        Some(mut flags) => {
            flags.extend(FLAGS.map(str::to_owned));
            cmd.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
                .env_remove("RUSTFLAGS")
        }
        None => {
            let quoted = FLAGS.map(|f| format!("\"{f}\"")).join(", ");
            cmd.args([
                "--config",
                &format!("target.wasm32-unknown-unknown.rustflags=[{quoted}]"),
            ])
        }
    }
}

/// The standard library as the page's build compiles it (`-Zbuild-std`, from the `rust-src`
/// component; unstable, taken under the build's RUSTC_BOOTSTRAP) rather than rustup's
/// precompiled copy: 11.9 KB served gzip smaller, no slower (BENCHMARKS.md, *The bundle with
/// std built for it*).
///
/// - `panic = "immediate-abort"`: a panic is a trap where it happens (`unreachable`), with no
///   message formatted, no hook and no location. The page never saw them: the build aborted on a
///   panic already, the wasm package installs no hook, and std's default one wrote to a stderr
///   wasm32-unknown-unknown discards. std's panic machinery and the message code of every
///   bounds check, `unwrap` and `expect` leave the bundle.
/// - `optimize_for_size`: std's size-minded algorithms (`sort_unstable` as heapsort, `sort` as a
///   plain merge sort, integer formatting without the two-digit table); the page's hot sorts
///   (the grid's by one column, `ops/sort_keys.rs`) are the core's own radix sort.
/// - std, alloc, core and the allocator at opt-level 3, as rustup builds them, while the
///   profile makes every other crate "z": their non-generic code (UTF-8 validation, `memchr`,
///   the allocator) is on the decoders' hot path, and at "z" the bundle is larger besides
///   (314.5 against 313.0 KB served gzip).
const SITE_STD: &[&str] = &[
    "-Zbuild-std=std,panic_abort",
    "-Zbuild-std-features=optimize_for_size",
    "-Zpanic-immediate-abort",
    "--config",
    "profile.wasm-release.panic=\"immediate-abort\"",
    "--config",
    "profile.wasm-release.package.core.opt-level=3",
    "--config",
    "profile.wasm-release.package.alloc.opt-level=3",
    "--config",
    "profile.wasm-release.package.std.opt-level=3",
    "--config",
    "profile.wasm-release.package.dlmalloc.opt-level=3",
];

/// Builds the wasm package in the size-tuned profile and lays out the page in `site`.
fn build_site(tools: &install::Tools, site: &Path) -> Result<(), Failure> {
    let build = Cmd::new("cargo")
        .args([
            "build",
            "-p",
            "streamglass-wasm",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["--profile", "wasm-release"])
        .args(if tools.build_std { SITE_STD } else { &[] })
        // Panics carry no file, line or column (`-Zlocation-detail=none`): the page never shows
        // a panic's message. With rustup's precompiled std every panicking site kept its own
        // 16-byte `Location` and the file names (785 sites, 114 files: 7.4 KB served gzip); with
        // std built for the bundle and immediate-abort panics most of those are gone, and the
        // flag keeps out the rest (four of the core's file names). The flag is unstable;
        // RUSTC_BOOTSTRAP lets this stable toolchain take it for this build only.
        // With `--target`, the flags reach neither build scripts nor proc-macros (see
        // `with_site_rustflags`). RUSTC_BOOTSTRAP does reach build scripts: some probe for
        // nightly features with it (thiserror, proc-macro2), and their crates are rebuilt when
        // it flips, so a plain `cargo build` in the same target directory after this one
        // rebuilds them.
        .env("RUSTC_BOOTSTRAP", "1");
    with_site_rustflags(build).run()?;
    let mut wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/streamglass_wasm.wasm");
    // The flag must have taken: a bundle with panic locations names the core's source files
    // (std's own are `library/core/src/…`).
    let built = std::fs::read(&wasm).map_err(Failure::io("read the built wasm"))?;
    let ours = |at: usize| at < 8 || &built[at - 8..at] != b"library/";
    if (0..built.len().saturating_sub(8))
        .any(|at| built[at..].starts_with(b"core/src/") && ours(at))
    {
        return Err(Failure(
            "the wasm build kept its panic locations (-Zlocation-detail=none did not apply)"
                .to_owned(),
        ));
    }
    if let Some(wasm_opt) = &tools.wasm_opt {
        wasm = optimise_bundle(wasm_opt, &wasm)?;
    }
    let _ = std::fs::remove_dir_all(site);
    // The name section wasm-bindgen writes (its shims' names: 5.4 KB raw) and the producers
    // section serve only a debugger; the page's build panics by aborting.
    Cmd::new(&tools.wasm_bindgen)
        .args(["--remove-name-section", "--remove-producers-section"])
        .args(["--target", "web", "--out-dir"])
        .arg(site.join("pkg"))
        .arg(&wasm)
        .run()?;
    // The functions in an order gzip compresses better (src/reorder.rs): the last rewrite of
    // the bundle, as wasm-bindgen lays its functions out anew.
    reorder::reorder_functions(&site.join("pkg/streamglass_wasm_bg.wasm"))?;
    for entry in std::fs::read_dir(root().join("www")).map_err(Failure::io("www"))? {
        let path = entry.map_err(Failure::io("www"))?.path();
        if path.is_file() {
            let name = path.file_name().unwrap_or_default();
            std::fs::copy(&path, site.join(name)).map_err(Failure::io("copy www"))?;
        }
    }
    // Two of the page's libraries, served as they are published (no bundler): regular-table (a
    // virtualised grid) and uPlot (the chart).
    let vendor = site.join("vendor");
    std::fs::create_dir_all(&vendor).map_err(Failure::io("vendor"))?;
    for (from, to) in [
        (
            "regular-table/dist/esm/regular-table.js",
            "regular-table.js",
        ),
        ("uplot/dist/uPlot.esm.js", "uPlot.esm.js"),
        ("uplot/dist/uPlot.min.css", "uPlot.min.css"),
    ] {
        std::fs::copy(root().join("node_modules").join(from), vendor.join(to))
            .map_err(Failure::io("copy node_modules (run npm ci)"))?;
    }
    // The notebook's editor: CodeMirror 6 is many ES modules with bare imports, so the pieces
    // the page uses (xtask/codemirror-entry.js) are bundled and minified into one file by
    // esbuild, pinned in package.json (offline after `npm ci`).
    Cmd::new(root().join("node_modules/.bin/esbuild"))
        .arg(root().join("xtask/codemirror-entry.js"))
        .args([
            "--bundle",
            "--minify",
            "--format=esm",
            "--legal-comments=none",
            "--log-level=warning",
        ])
        .arg(format!(
            "--outfile={}",
            vendor.join("codemirror.js").display()
        ))
        .run()?;
    let (raw, gz, br) = precompress::site(site)?.unwrap_or_default();
    println!(
        "xtask: page built in {} (wasm {} bytes; served gzip {gz}, brotli {br})",
        site.display(),
        raw
    );
    let (page_gz, editor_gz) = precompress::page_script_gzip(site)?;
    println!(
        "xtask: the page's JavaScript and CSS with its vendored libraries: served gzip {page_gz} (the editor, vendor/codemirror.js: {editor_gz})"
    );
    Ok(())
}

/// Runs binaryen's `wasm-opt` over the module rustc linked; returns the optimised copy (same file
/// name, in an `opt` folder beside it, as wasm-bindgen names its output after its input).
///
/// `-O1 --converge` (binaryen 108, Debian's): 362.2 → 359.4 KB served gzip (zopfli). With `-O1`,
/// the `-O2`/`-O3` passes that shrink code without inlining, SSA form and `-O1` again, the whole
/// list repeated until the module stops shrinking (`--converge` applies to every pass given):
/// 1.9 KB less (see BENCHMARKS.md, *The bundle back under its budget (session 19)*). The size
/// levels (`-Os`, `-Oz`) and `-O2` give a smaller raw file but a larger gzipped one (by 10 to
/// 20 KB); see BENCHMARKS.md. It runs before wasm-bindgen, not after as wasm-bindgen advises:
/// binaryen 108 rewrites the export of wasm-bindgen's externref table to point at the function
/// table, and the page fails at start (`WebAssembly.Table.set(): Argument 1 is invalid`). The
/// features are those rustc enables for wasm32-unknown-unknown (the module no longer lists them:
/// its `target_features` section goes with `strip`).
fn optimise_bundle(wasm_opt: &Path, wasm: &Path) -> Result<PathBuf, Failure> {
    let dir = wasm.with_file_name("opt");
    std::fs::create_dir_all(&dir).map_err(Failure::io("wasm-opt's folder"))?;
    let out = dir.join(wasm.file_name().unwrap_or_default());
    Cmd::new(wasm_opt)
        .args([
            "--enable-bulk-memory",
            "--enable-multivalue",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-reference-types",
            "--enable-sign-ext",
            "-O1",
            "--converge",
            // Passes of binaryen's -O2/-O3 that shrink the code without inlining, then SSA
            // form and -O1 again (all of it repeated, as `--converge` says): 330,781 → 328,841
            // bytes served gzip at 26edc2a.
            "--rse",
            "--precompute-propagate",
            "--merge-locals",
            "--dae-optimizing",
            "--code-folding",
            "--ssa-nomerge",
            "-O1",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(&out)
        .run()?;
    Ok(out)
}

fn demo(args: &[String]) -> Result<(), Failure> {
    // Trades of history, then minutes of trades to come: the live part of the demo.
    let mut count: u64 = 2_000_000;
    let mut future_mins: u64 = 45;
    let mut max = false;
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--max" {
            max = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| Failure(format!("{arg} needs a value. {USAGE}")))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| Failure(format!("{arg} {value}: not a number")))
        };
        match arg.as_str() {
            "--count" => count = number()?,
            "--future-mins" => future_mins = number()?,
            "--listen" => listen = value.clone(),
            _ => return Err(Failure(format!("unknown option {arg}. {USAGE}"))),
        }
    }
    let tools = install::wasm_toolchain(true)?;
    build_site(&tools, &target_dir().join("site"))?;
    // The bridge embeds the page just built, and serves it with no --www.
    Cmd::new("cargo")
        .args(["build", "--release", "-p", "replay-bridge"])
        .env(EMBED_SITE, target_dir().join("site"))
        .run()?;
    let bridge = target_dir().join("release/replay-bridge");
    // Named by its contents: a recording of another kind (an older demo's, all history) is not
    // taken for this one.
    let recording = target_dir().join(format!("demo/trades-live-{count}-{future_mins}m.sgrec"));
    let future_secs = future_mins * 60;
    if !recording.is_file() {
        std::fs::create_dir_all(target_dir().join("demo")).map_err(Failure::io("target/demo"))?;
        Cmd::new(&bridge)
            .args([
                "generate",
                "--count",
                &count.to_string(),
                "--future-secs",
                &future_secs.to_string(),
                "--partitions",
                "3",
                "--seed",
                "1",
            ])
            .arg("--out")
            .arg(&recording)
            .run()?;
    }
    println!("xtask: starting the bridge; open the URL it prints (Ctrl-C stops it)");
    let mut serve = Cmd::new(&bridge)
        .arg("serve")
        .arg("--recording")
        .arg(&recording);
    if !max {
        // The history is sent at once; the last `future_mins` come in as if produced now.
        serve = serve.args([
            "--live-from",
            &format!("end-{future_secs}s"),
            "--speed",
            "1",
        ]);
    }
    serve.args(["--listen", &listen]).run()
}

fn test() -> Result<(), Failure> {
    let started = Instant::now();
    let mut steps: Vec<(&str, f64)> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<(), Failure>| {
        let t = Instant::now();
        println!("\nxtask: ── {name} ──");
        let result = f();
        steps.push((name, t.elapsed().as_secs_f64()));
        result.map_err(|Failure(m)| Failure(format!("{name}: {m}")))
    };
    let mut tools = None;
    step("install tools", &mut || {
        tools = Some(install::all()?);
        Ok(())
    })?;
    let tools = tools.ok_or_else(|| Failure("tools were not installed".into()))?;
    step("cargo fmt --check", &mut || {
        Cmd::new("cargo")
            .args(["fmt", "--all", "--", "--check"])
            .run()
    })?;
    // First, so that every build of the bridge below embeds it rather than building its own.
    let site = target_dir().join("site");
    step("build the page", &mut || build_site(&tools, &site))?;
    step("cargo clippy", &mut || {
        Cmd::new("cargo")
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .env(EMBED_SITE, &site)
            .run()?;
        Cmd::new("cargo")
            .args(["clippy", "-p", "streamglass-wasm", "--all-targets"])
            .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
            .run()?;
        // The benchmark examples, as they are built to run in Chromium (examples/host/mod.rs).
        Cmd::new("cargo")
            .args(["clippy", "-p", "streamglass-core", "--examples"])
            .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
            .run()
    })?;
    step("cargo test --workspace", &mut || {
        Cmd::new("cargo")
            .args(["test", "--workspace"])
            .env("STREAMGLASS_REQUIRE_ALL", "1")
            .env("STREAMGLASS_SITE", &site)
            .env(EMBED_SITE, &site)
            .run()
    })?;
    step("wasm-pack test --node", &mut || {
        Cmd::new(&tools.wasm_pack)
            .args(["test", "--node", "wasm"])
            .run()
    })?;
    step("wasm-pack test --headless --chrome", &mut || {
        Cmd::new(&tools.wasm_pack)
            .args([
                "test",
                "--headless",
                "--chrome",
                "--chromedriver",
                install::CHROMEDRIVER,
            ])
            .arg("wasm")
            .run()
    })?;
    println!(
        "\nxtask: all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for (name, seconds) in steps {
        println!("  {seconds:>7.1} s  {name}");
    }
    Ok(())
}
