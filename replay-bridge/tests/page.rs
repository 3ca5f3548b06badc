//! The binary alone serves the page: `replay-bridge serve --recording FILE`, with no `--www`,
//! answers `/` and every file of the page built into it, precompressed as a browser asks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use replay_bridge::embedded::FILES;

const BIN: &str = env!("CARGO_BIN_EXE_replay-bridge");

/// A `serve` process, killed when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --recording <a generated one>` on a free port, with `args` and the environment
/// `env`; the process and its address.
fn serve(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> (Serving, String) {
    let recording = dir.join("t.sgrec");
    let generated = Command::new(BIN)
        .args(["generate", "--count", "100", "--partitions", "1", "--out"])
        .arg(&recording)
        .env("RUST_LOG", "error")
        .output()
        .expect("run generate");
    assert!(generated.status.success(), "{generated:?}");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--recording"])
        .arg(&recording)
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run serve");
    let stdout = child.stdout.take().expect("stdout");
    let serving = Serving(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    // "Streamglass is serving … at http://127.0.0.1:PORT/"
    let addr = line
        .trim()
        .rsplit_once("http://")
        .map(|(_, a)| a.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    (serving, addr)
}

/// `GET path` with `Accept-Encoding: accept`: the status line, the headers (lowercase) and the body.
fn get(addr: &str, path: &str, accept: &str) -> (String, String, Vec<u8>) {
    request(addr, "GET", path, &format!("Accept-Encoding: {accept}\r\n"))
}

/// `method path` with the header lines `extra`: the status line, the headers (lowercase) and the
/// body.
fn request(addr: &str, method: &str, path: &str, extra: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (
        status.to_owned(),
        headers.to_owned(),
        response[split + 4..].to_vec(),
    )
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

#[test]
fn serve_with_no_www_serves_the_page_built_into_it() {
    if FILES.is_empty() {
        streamglass_tests::skip_or_fail(
            "serve's embedded page",
            "this build embeds no page (STREAMGLASS_EMBED_SITE=none)",
        );
        return;
    }
    // The page `cargo xtask test` built, when it told the build to embed it: the binary must hold
    // exactly that.
    if let Some(site) = std::env::var_os("STREAMGLASS_EMBED_SITE").filter(|s| s != "none") {
        let site = std::path::PathBuf::from(site);
        for file in FILES {
            let on_disk = std::fs::read(site.join(&file.path[1..])).expect("a site file");
            assert!(on_disk == file.raw, "{} differs from the site's", file.path);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (_serving, addr) = serve(dir.path(), &[], &[]);

    let (status, headers, body) = get(&addr, "/", "identity");
    assert!(status.ends_with("200 ok"), "{status}");
    assert_eq!(header(&headers, "content-type"), Some("text/html"));
    let index = String::from_utf8(body).expect("utf-8");
    assert!(index.contains("app.js"), "{index}");
    assert!(header(&headers, "content-security-policy").is_some());

    let wasm = FILES
        .iter()
        .find(|f| f.path == "/pkg/streamglass_wasm_bg.wasm")
        .expect("the wasm bundle is embedded");
    let path = wasm.path;
    let (_, headers, body) = get(&addr, path, "identity");
    assert_eq!(header(&headers, "content-type"), Some("application/wasm"));
    assert!(body == wasm.raw, "the raw bundle");

    let (_, headers, body) = get(&addr, path, "gzip");
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert!(inflated == wasm.raw, "the gzip body inflates to the bundle");

    // What Chromium asks for: brotli, the smallest, with its own entity tag.
    let (_, headers, body) = get(&addr, path, "gzip, deflate, br, zstd");
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert!(Some(&body[..]) == wasm.brotli, "the embedded brotli form");
    let etag = header(&headers, "etag").expect("an etag").to_owned();
    assert_eq!(header(&headers, "vary"), Some("accept-encoding"));

    // A browser's revalidation: the same form is not sent again; another form has another tag.
    let (status, headers, body) = request(
        &addr,
        "GET",
        path,
        &format!("Accept-Encoding: br\r\nIf-None-Match: {etag}\r\n"),
    );
    assert!(status.ends_with("304 not modified"), "{status}");
    assert!(body.is_empty());
    assert_eq!(header(&headers, "etag"), Some(etag.as_str()));
    let (status, _, _) = request(
        &addr,
        "GET",
        path,
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"),
    );
    assert!(
        status.ends_with("200 ok"),
        "the gzip form is another: {status}"
    );

    // HEAD: the headers of the GET, no body.
    let (status, headers, body) = request(&addr, "HEAD", path, "Accept-Encoding: gzip\r\n");
    assert!(status.ends_with("200 ok"), "{status}");
    assert_eq!(
        header(&headers, "content-length"),
        Some(wasm.gzip.expect("a gzip form").len().to_string().as_str())
    );
    assert!(body.is_empty());

    // Nothing else is a file's method.
    let (status, headers, _) = request(&addr, "POST", "/index.html", "Content-Length: 0\r\n");
    assert!(status.ends_with("405 method not allowed"), "{status}");
    assert_eq!(header(&headers, "allow"), Some("get, head"));

    // Files the page does not hold are not found, whatever the path says.
    for path in ["/nope.js", "/../Cargo.toml", "/%2e%2e/Cargo.toml", "/pkg/"] {
        let (status, _, _) = get(&addr, path, "identity");
        assert!(status.ends_with("404 not found"), "{path}: {status}");
    }
}

/// `--open` hands the URL it prints to the user's browser (`$BROWSER`, as xdg-open would).
#[cfg(unix)]
#[test]
fn serve_open_opens_the_url_in_the_browser() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let opened = dir.path().join("opened");
    let browser = dir.path().join("browser");
    std::fs::write(
        &browser,
        // Written whole, then renamed: the test never reads half a file.
        format!(
            "#!/bin/sh\necho \"$1\" > {0}.part && mv {0}.part {0}\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (_serving, addr) = serve(dir.path(), &["--open"], &[("BROWSER", &browser)]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !opened.is_file() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&opened).expect("the browser was started");
    assert_eq!(text.trim(), format!("http://{addr}/"));
}
