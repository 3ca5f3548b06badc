//! A load tool for the bridge (issue 14, "Harden the bridge"). It starts the `replay-bridge`
//! binary itself, on 127.0.0.1 with a free port, once per scenario, loads it, and measures.
//!
//! ```text
//! cargo build --release -p replay-bridge --example load
//! target/release/examples/load [--bridge target/release/replay-bridge] [--recording R.sgrec]
//!     [--scenario idle-subs|stalled|flood|all] [--json report.json]
//! ```
//!
//! Without `--recording` (or with a path that does not exist yet) it first runs
//! `replay-bridge generate --count 1500000 --future-secs 2700` (into a temporary directory, or at
//! that path, to reuse it next time). Every connection is to loopback; every loop is bounded in
//! count and time; a close, a refusal or an error from the bridge is counted, never a panic.
//!
//! Scenarios:
//!
//! - **idle-subs**: one bridge, `serve --recording R --live-from 90% --speed 1`, so both kinds of
//!   subscription coexist in one process: `--recording-subs` (2,000) subscriptions `-1000000` with
//!   the page's 8 MiB window, never topped up (they get their window of history, then wait for
//!   credit), and `--live-subs` (2,000) subscriptions `end` (they wait for the live clock, which
//!   releases a trickle at speed 1), 32 to a socket (the bridge's cap), sockets of the two kinds
//!   interleaved. The load sockets read and drop what arrives, without granting credit. Once the
//!   bytes stop flowing (or `--settle-secs`), a newcomer subscribes `-1000000` with a continually
//!   topped-up 8 MiB window: its time to first record and records/s, and the latency of `GET /`
//!   (a fresh connection, until the whole response) while the load is held. A subscription that
//!   never got its `Hello` within the settle time counts as not started.
//! - **stalled**: one bridge, `serve --recording R`. First one client alone streams 1M records
//!   (the baseline), then `--normal` (5) clients at once without load; then `--stalled` (40) clients
//!   with a small SO_RCVBUF subscribe to 1M records with an 8 MiB window and never read their
//!   socket again; after `--stall-fill-secs` the 5 clients stream 1M records each again.
//! - **flood**: one bridge, `serve --recording R`: `--big` (40) clients each send one 15 MiB
//!   binary message, `--idle-ws` (1,000) WebSockets never subscribe, `--half-http` (1,000) TCP
//!   connections send `GET / HTTP/1.1\r\nHost: x\r\n` and nothing more, `--churn` (2,000) sockets
//!   connect, subscribe and drop; a client reads 1M records as the flood begins, and another once
//!   every held connection is set up. The held connections wait up to `--close-wait-secs` (45)
//!   for the bridge to close them (a close, a reset or an EOF counts; an `Error` frame or an HTTP
//!   response before it counts as "answered").
//!
//! A bridge that starts every idle subscription sends each its 8 MiB window: 16 GiB for 2,000,
//! more than a 2-core machine moves in a minute, so `--settle-secs` (60) bounds the wait before
//! the newcomer, and `--idle-credit` scales it. Each scenario takes under 2 minutes here.
//!
//! The tool raises its soft open-file limit to the hard one (rustix's safe `setrlimit`; the
//! bridge, its child, inherits it); if the hard limit is below what the scenarios hold it stops
//! and asks to be run under `ulimit -n 20000`.
//!
//! For each bridge process the tool samples /proc/PID/status every 100 ms (VmRSS, VmHWM,
//! Threads). "RSS held" is VmRSS at the end of the load, "RSS after" `--after-secs` after the
//! load's sockets are gone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use streamglass_core::protocol::{
    self, ClientMessage, Compression, PROTOCOL_VERSION, ServerMessage, Subscribe,
};
use streamglass_core::seek::{Position, SeekSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<TcpStream>;

/// A connection holds at most this many subscriptions (the bridge's `MAX_SUBSCRIPTIONS`).
const PER_SOCKET: usize = 32;
/// Connections opened at once while a scenario sets up its load.
const CONNECTING: usize = 64;
/// Any single connect (TCP and WebSocket handshake) gives up after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A `GET /` gives up after this.
const GET_TIMEOUT: Duration = Duration::from_secs(5);
/// No load task outlives this, whatever happens.
const TASK_BOUND: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    IdleSubs,
    Stalled,
    Flood,
    All,
}

#[derive(Parser)]
#[command(about = "Load the replay-bridge binary and measure it (issue 14)")]
struct Args {
    /// The bridge binary (default: $CARGO_TARGET_DIR/release/replay-bridge, else
    /// target/release/replay-bridge).
    #[arg(long)]
    bridge: Option<PathBuf>,
    /// The recording to serve; generated there first if the file does not exist (default: a
    /// fresh one in a temporary directory).
    #[arg(long)]
    recording: Option<PathBuf>,
    /// Trades of history in a generated recording.
    #[arg(long, default_value_t = 1_500_000)]
    count: u64,
    /// Seconds of future trades in a generated recording (for the live replay).
    #[arg(long, default_value_t = 2700)]
    future_secs: u64,
    #[arg(long, value_enum, default_value = "all")]
    scenario: Scenario,
    /// idle-subs: the bridge's `--live-from`.
    #[arg(long, default_value = "90%")]
    live_from: String,
    /// idle-subs: the bridge's `--speed`.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// idle-subs: subscriptions `-1000000` whose credit is never topped up.
    #[arg(long, default_value_t = 2000)]
    recording_subs: usize,
    /// idle-subs: subscriptions `end` waiting for the live clock.
    #[arg(long, default_value_t = 2000)]
    live_subs: usize,
    /// idle-subs: the initial credit of each idle subscription (the page's window).
    #[arg(long, default_value_t = 8 << 20)]
    idle_credit: u64,
    /// idle-subs: at most this long for the load's bytes to stop flowing.
    #[arg(long, default_value_t = 60)]
    settle_secs: u64,
    /// The window of every streaming client (granted back as frames are decoded).
    #[arg(long, default_value_t = 8 << 20)]
    window: u64,
    /// Records each streaming client (newcomer, normal, reader) reads (seek `-N`).
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// A streaming client gives up after this many seconds.
    #[arg(long, default_value_t = 45)]
    stream_secs: u64,
    /// stalled: clients that never read their socket.
    #[arg(long, default_value_t = 40)]
    stalled: usize,
    /// stalled: normal clients streaming at once.
    #[arg(long, default_value_t = 5)]
    normal: usize,
    /// stalled: SO_RCVBUF of a stalled client's socket (the kernel doubles it).
    #[arg(long, default_value_t = 4096)]
    stalled_rcvbuf: u32,
    /// stalled: seconds between the stalled clients' subscriptions and the normal clients.
    #[arg(long, default_value_t = 3)]
    stall_fill_secs: u64,
    /// flood: clients sending one oversized message each.
    #[arg(long, default_value_t = 40)]
    big: usize,
    /// flood: the size of that message.
    #[arg(long, default_value_t = 15 << 20)]
    big_bytes: usize,
    /// flood: WebSockets that never subscribe.
    #[arg(long, default_value_t = 1000)]
    idle_ws: usize,
    /// flood: HTTP requests sent without their final blank line.
    #[arg(long, default_value_t = 1000)]
    half_http: usize,
    /// flood: sockets that connect, subscribe and drop.
    #[arg(long, default_value_t = 2000)]
    churn: usize,
    /// flood: how long the held connections wait for the bridge to close them.
    #[arg(long, default_value_t = 45)]
    close_wait_secs: u64,
    /// Seconds after the load is gone at which "RSS after" is read.
    #[arg(long, default_value_t = 3)]
    after_secs: u64,
    /// Where the bridges' logs (stderr, RUST_LOG=warn) go, one file per scenario.
    #[arg(long, default_value_os_t = std::env::temp_dir().join("streamglass-load-logs"))]
    logs: PathBuf,
    /// Also write the results as JSON to this file (`-` for stdout).
    #[arg(long)]
    json: Option<PathBuf>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

// ---------------------------------------------------------------------------------------------
// The bridge process and its sampler

#[derive(Debug, Clone, Copy, Default, Serialize)]
struct ProcSample {
    rss: u64,
    hwm: u64,
    threads: u64,
}

/// VmRSS, VmHWM (bytes) and Threads of a process, from /proc (Linux).
fn read_status(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |v: &str| {
        v.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
            .map(|k| k * 1024)
    };
    let mut s = ProcSample::default();
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("VmRSS:") {
            s.rss = kb(v)?;
        } else if let Some(v) = line.strip_prefix("VmHWM:") {
            s.hwm = kb(v)?;
        } else if let Some(v) = line.strip_prefix("Threads:") {
            s.threads = v.trim().parse().ok()?;
        }
    }
    Some(s)
}

#[derive(Debug, Clone, Copy, Default)]
struct Peaks {
    rss: u64,
    threads: u64,
    samples: u64,
}

/// Samples a process every 100 ms on a thread of its own, until dropped or the process is gone.
struct Sampler {
    stop: Arc<AtomicBool>,
    peaks: Arc<Mutex<Peaks>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new(Mutex::new(Peaks::default()));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peaks));
        let thread = std::thread::spawn(move || {
            // Bounded: 100 ms steps for at most an hour.
            for _ in 0..36_000 {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Some(now) = read_status(pid) else { break };
                {
                    let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                    p.rss = p.rss.max(now.rss).max(now.hwm);
                    p.threads = p.threads.max(now.threads);
                    p.samples += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            stop,
            peaks,
            thread: Some(thread),
        }
    }

    fn peaks(&self) -> Peaks {
        *self.peaks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Bridge {
    child: Child,
    addr: SocketAddr,
    sampler: Sampler,
    log: PathBuf,
    args: Vec<String>,
}

impl Bridge {
    /// Starts `bin serve --recording R --listen 127.0.0.1:PORT EXTRA…` and waits until it listens.
    async fn start(
        bin: &Path,
        recording: &Path,
        extra: &[&str],
        log: PathBuf,
    ) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--recording".into(),
            recording.display().to_string(),
            "--listen".into(),
            addr.to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let logfile = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new(bin)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(logfile)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let sampler = Sampler::start(child.id());
        let mut bridge = Bridge {
            child,
            addr,
            sampler,
            log,
            args,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Ok(_)) = timeout(Duration::from_secs(1), TcpStream::connect(addr)).await {
                return Ok(bridge);
            }
            if let Ok(Some(status)) = bridge.child.try_wait() {
                return Err(format!(
                    "the bridge exited ({status}) before listening: {}",
                    bridge.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("the bridge does not listen on {addr} after 120 s"));
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn now(&self) -> ProcSample {
        read_status(self.pid()).unwrap_or_default()
    }

    fn command_line(&self) -> String {
        format!("replay-bridge {}", self.args.join(" "))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    fn log_lines(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|l| l.lines().count())
            .unwrap_or(0)
    }

    /// Whether the process still runs (it may have been killed by the kernel, or crashed).
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

async fn connect_ws(addr: SocketAddr, rcvbuf: Option<u32>) -> Result<Ws, String> {
    let attempt = async {
        let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
        if let Some(bytes) = rcvbuf {
            socket
                .set_recv_buffer_size(bytes)
                .map_err(|e| format!("SO_RCVBUF: {e}"))?;
        }
        let stream = socket
            .connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        Ok(ws)
    };
    timeout(CONNECT_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err("connect timed out".into()))
}

fn client_frame(message: &ClientMessage) -> Message {
    // Encoding our own well-formed messages cannot fail; an empty frame would be refused.
    Message::Binary(protocol::encode_client(message).unwrap_or_default().into())
}

fn subscribe(id: u32, seek: &str, credit: u64) -> Message {
    client_frame(&ClientMessage::Subscribe(Subscribe {
        subscription: id,
        topic: None,
        // Our own specs ("-N", "end") always parse; anything else would start at the end.
        seek: seek.parse().unwrap_or(SeekSpec::All(Position::End)),
        resume: None,
        credit,
        compression: Compression::None,
    }))
}

/// A server frame's variant index, read from its second byte (every index is below 128).
fn variant(wire: &[u8]) -> Option<u8> {
    (wire.len() >= 2 && wire[0] == PROTOCOL_VERSION).then(|| wire[1])
}

#[derive(Debug, Clone, Default, Serialize)]
struct Streamed {
    records: u64,
    bytes: u64,
    connect_ms: Option<f64>,
    /// From the start of the connect to the first `Records` frame.
    first_record_ms: Option<f64>,
    /// From the `Subscribe` sent to the last record counted.
    elapsed_ms: f64,
    records_per_s: f64,
    outcome: String,
}

/// One client streaming `target` records from `seek`, granting back every MiB it decoded, for
/// at most `limit`.
async fn stream_records(
    addr: SocketAddr,
    seek: &str,
    window: u64,
    target: u64,
    limit: Duration,
) -> Streamed {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    let mut out = Streamed::default();
    let mut ws = match timeout_at(deadline, connect_ws(addr, None)).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            out.outcome = format!("connect failed: {e}");
            return out;
        }
        Err(_) => {
            out.outcome = "timed out connecting".into();
            return out;
        }
    };
    out.connect_ms = Some(ms(started.elapsed()));
    if let Err(e) = ws.send(subscribe(0, seek, window)).await {
        out.outcome = format!("subscribe failed: {e}");
        return out;
    }
    let subscribed = Instant::now();
    let mut last = subscribed;
    let mut pending = 0u64;
    out.outcome = loop {
        let message = match timeout_at(deadline, ws.next()).await {
            Err(_) => break format!("timed out after {} s", limit.as_secs()),
            Ok(None) => break "closed by the bridge".into(),
            Ok(Some(Err(e))) => break format!("socket error: {e}"),
            Ok(Some(Ok(m))) => m,
        };
        let wire = match message {
            Message::Binary(wire) => wire,
            Message::Close(_) => break "closed by the bridge (close frame)".into(),
            _ => continue,
        };
        let n = match protocol::decode(&wire) {
            Err(e) => break format!("undecodable frame: {e}"),
            Ok(ServerMessage::Records(batch)) => batch.records.len() as u64,
            Ok(ServerMessage::End { .. }) => break "End before the target".into(),
            Ok(ServerMessage::Exhausted { .. }) => break "Exhausted before the target".into(),
            Ok(ServerMessage::Error { message, .. }) => break format!("error: {message}"),
            Ok(_) => continue,
        };
        if out.first_record_ms.is_none() {
            out.first_record_ms = Some(ms(started.elapsed()));
        }
        out.records += n;
        out.bytes += wire.len() as u64;
        last = Instant::now();
        if out.records >= target {
            break "done".into();
        }
        pending += wire.len() as u64;
        if pending >= 1 << 20 {
            let grant = client_frame(&ClientMessage::Credit {
                subscription: 0,
                bytes: pending,
            });
            if let Err(e) = ws.send(grant).await {
                break format!("credit failed: {e}");
            }
            pending = 0;
        }
    };
    let elapsed = last.duration_since(subscribed);
    out.elapsed_ms = ms(elapsed);
    if out.records > 0 && elapsed > Duration::ZERO {
        out.records_per_s = out.records as f64 / elapsed.as_secs_f64();
    }
    out
}

async fn stream_many(addr: SocketAddr, args: &Args, clients: usize) -> Vec<Streamed> {
    let mut set = JoinSet::new();
    for i in 0..clients {
        let seek = format!("-{}", args.records);
        let (window, records, limit) = (args.window, args.records, args.stream_limit());
        set.spawn(async move { (i, stream_records(addr, &seek, window, records, limit).await) });
    }
    let mut results = vec![Streamed::default(); clients];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = r,
            Err(e) => eprintln!("  note: a client task failed: {e}"),
        }
    }
    results
}

// ---------------------------------------------------------------------------------------------
// GET / probes

/// One `GET /` on a fresh connection: the time until the whole response (the server closes).
async fn get_root(addr: SocketAddr) -> Result<f64, String> {
    let started = Instant::now();
    let request = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut body = Vec::new();
        (&mut s).take(1 << 20).read_to_end(&mut body).await?;
        Ok::<_, std::io::Error>(body)
    };
    match timeout(GET_TIMEOUT, request).await {
        Err(_) => Err(format!("no answer within {} s", GET_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(body)) if body.starts_with(b"HTTP/1.1 200") => Ok(ms(started.elapsed())),
        Ok(Ok(body)) => Err(format!(
            "unexpected answer {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        )),
    }
}

#[derive(Debug, Clone, Default, Serialize)]
struct Latency {
    probes: usize,
    failed: usize,
    median_ms: Option<f64>,
    max_ms: Option<f64>,
    first_failure: Option<String>,
}

impl Latency {
    fn show(&self) -> String {
        match (self.median_ms, self.max_ms) {
            (Some(med), Some(max)) if self.failed == 0 => format!("{med:.1} ms ({max:.1} max)"),
            (Some(med), Some(max)) => format!(
                "{med:.1} ms ({max:.1} max), {}/{} failed",
                self.failed, self.probes
            ),
            _ if self.probes == 0 => "—".into(),
            _ => format!("{}/{} failed", self.failed, self.probes),
        }
    }
}

/// `GET /` every 200 ms until stopped (at least 3 probes, at most 1,000).
struct Prober {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Result<f64, String>>>,
}

impl Prober {
    fn start(addr: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut results = Vec::new();
            while results.len() < 1000 {
                results.push(get_root(addr).await);
                if s.load(Ordering::Relaxed) && results.len() >= 3 {
                    break;
                }
                sleep(Duration::from_millis(200)).await;
            }
            results
        });
        Self { stop, task }
    }

    async fn finish(self) -> Latency {
        self.stop.store(true, Ordering::Relaxed);
        let results = self.task.await.unwrap_or_default();
        let mut ok: Vec<f64> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .copied()
            .collect();
        ok.sort_by(f64::total_cmp);
        Latency {
            probes: results.len(),
            failed: results.len() - ok.len(),
            median_ms: ok.get(ok.len() / 2).copied(),
            max_ms: ok.last().copied(),
            first_failure: results.iter().find_map(|r| r.as_ref().err().cloned()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Idle subscriptions

#[derive(Default)]
struct LoadCounters {
    sockets: AtomicU64,
    connect_failed: AtomicU64,
    hellos: AtomicU64,
    caught_up: AtomicU64,
    errors: AtomicU64,
    ended: AtomicU64,
    bytes: AtomicU64,
    closed_by_bridge: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl LoadCounters {
    fn note_error(&self, message: String) {
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(message);
    }

    fn json(&self) -> Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "sockets": get(&self.sockets),
            "connect_failed": get(&self.connect_failed),
            "hellos": get(&self.hellos),
            "caught_up": get(&self.caught_up),
            "errors": get(&self.errors),
            "ended": get(&self.ended),
            "bytes": get(&self.bytes),
            "closed_by_bridge": get(&self.closed_by_bridge),
            "first_error": *self.first_error.lock().unwrap_or_else(|e| e.into_inner()),
        })
    }
}

/// One load socket: opens `subs` subscriptions from `seek` with `credit` each, then reads and
/// drops what arrives, never granting credit, until the bridge closes it or the task is aborted.
async fn idle_socket(
    addr: SocketAddr,
    subs: usize,
    seek: String,
    credit: u64,
    counters: Arc<LoadCounters>,
    connecting: Arc<Semaphore>,
) {
    let Ok(permit) = connecting.acquire().await else {
        return;
    };
    let mut ws = match connect_ws(addr, None).await {
        Ok(ws) => ws,
        Err(e) => {
            counters.connect_failed.fetch_add(1, Ordering::Relaxed);
            counters.note_error(e);
            return;
        }
    };
    for id in 0..subs {
        if let Err(e) = ws.feed(subscribe(id as u32, &seek, credit)).await {
            counters.note_error(format!("subscribe: {e}"));
        }
    }
    if let Err(e) = ws.flush().await {
        counters.note_error(format!("subscribe: {e}"));
    }
    counters.sockets.fetch_add(1, Ordering::Relaxed);
    drop(permit);
    let deadline = tokio::time::Instant::now() + TASK_BOUND;
    loop {
        let wire = match timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Binary(wire)))) => wire,
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                counters.closed_by_bridge.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(Some(Ok(_))) => continue,
        };
        counters
            .bytes
            .fetch_add(wire.len() as u64, Ordering::Relaxed);
        let counter = match variant(&wire) {
            Some(1) => continue,
            Some(0) => &counters.hellos,
            Some(2) => &counters.caught_up,
            Some(3) => {
                if let Ok(ServerMessage::Error { message, .. }) = protocol::decode(&wire) {
                    counters.note_error(message);
                }
                &counters.errors
            }
            Some(4) | Some(5) => &counters.ended,
            _ => continue,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One kind of idle subscription: how many, from where, with what credit.
struct IdleKind<'a> {
    total: usize,
    seek: &'a str,
    counters: &'a Arc<LoadCounters>,
}

/// Spawns the `socket`-th socket of `kind`, if there is one.
fn spawn_idle_socket(
    set: &mut JoinSet<()>,
    addr: SocketAddr,
    kind: &IdleKind<'_>,
    credit: u64,
    connecting: &Arc<Semaphore>,
    socket: usize,
) {
    let start = socket * PER_SOCKET;
    if start < kind.total {
        set.spawn(idle_socket(
            addr,
            PER_SOCKET.min(kind.total - start),
            kind.seek.to_owned(),
            credit,
            Arc::clone(kind.counters),
            Arc::clone(connecting),
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Debug, Clone, Default, Serialize)]
struct ScenarioReport {
    name: String,
    bridge: String,
    peak_rss_mib: f64,
    rss_held_mib: f64,
    rss_after_mib: f64,
    peak_threads: u64,
    threads_after: u64,
    /// The measured client's time to first record (newcomer, or the flood's reader).
    first_record_ms: Option<f64>,
    /// Records/s of the measured clients under load.
    client_records_per_s: Vec<f64>,
    /// Records/s of the baseline (one client alone), where there is one.
    baseline_records_per_s: Option<f64>,
    get_root: Latency,
    closed_by_bridge: String,
    bridge_exited: Option<String>,
    bridge_log_lines: usize,
    seconds: f64,
    details: Value,
}

fn rates(clients: &[Streamed]) -> Vec<f64> {
    clients.iter().map(|c| c.records_per_s).collect()
}

fn show_rates(rates: &[f64]) -> String {
    if rates.is_empty() {
        return "—".into();
    }
    rates
        .iter()
        .map(|r| format!("{:.2}M", r / 1e6))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_streamed(label: &str, s: &Streamed) {
    println!(
        "  {label}: {} records in {:.0} ms ({:.2}M/s), first record at {}, {}",
        s.records,
        s.elapsed_ms,
        s.records_per_s / 1e6,
        s.first_record_ms
            .map_or("never".into(), |t| format!("{t:.0} ms")),
        s.outcome
    );
}

/// Fills in the process figures at the end of a scenario: "held" now, "after" once the load is
/// dropped (the caller drops it before calling `after`).
async fn finish_process(
    bridge: &mut Bridge,
    report: &mut ScenarioReport,
    held: ProcSample,
    after_secs: u64,
) {
    report.rss_held_mib = mib(held.rss);
    sleep(Duration::from_secs(after_secs)).await;
    let after = bridge.now();
    let peaks = bridge.sampler.peaks();
    report.peak_rss_mib = mib(peaks.rss.max(after.hwm));
    report.rss_after_mib = mib(after.rss);
    report.peak_threads = peaks.threads.max(after.threads);
    report.threads_after = after.threads;
    report.bridge_exited = bridge.exited();
    report.bridge_log_lines = bridge.log_lines();
    report.bridge = bridge.command_line();
}

// ---------------------------------------------------------------------------------------------
// Scenarios

impl Args {
    fn stream_limit(&self) -> Duration {
        Duration::from_secs(self.stream_secs)
    }
}

async fn idle_subs(
    args: &Args,
    bin: &Path,
    recording: &Path,
    logs: &Path,
) -> Result<ScenarioReport, String> {
    let started = Instant::now();
    let speed = args.speed.to_string();
    let mut bridge = Bridge::start(
        bin,
        recording,
        &["--live-from", &args.live_from, "--speed", &speed],
        logs.join("idle-subs.log"),
    )
    .await?;
    let addr = bridge.addr;
    println!("  bridge: {} (pid {})", bridge.command_line(), bridge.pid());
    let recorded = Arc::new(LoadCounters::default());
    let live = Arc::new(LoadCounters::default());
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let mut load = JoinSet::new();
    let rec_seek = format!("-{}", args.records);
    let (rec_sockets, live_sockets) = (
        args.recording_subs.div_ceil(PER_SOCKET),
        args.live_subs.div_ceil(PER_SOCKET),
    );
    // Interleaved: a recording socket, a live socket, …
    let kinds = [
        IdleKind {
            total: args.recording_subs,
            seek: &rec_seek,
            counters: &recorded,
        },
        IdleKind {
            total: args.live_subs,
            seek: "end",
            counters: &live,
        },
    ];
    for i in 0..rec_sockets.max(live_sockets) {
        for kind in &kinds {
            spawn_idle_socket(&mut load, addr, kind, args.idle_credit, &connecting, i);
        }
    }
    let sockets = (rec_sockets + live_sockets) as u64;
    let connect_deadline = Instant::now() + Duration::from_secs(60);
    let done = |c: &LoadCounters| {
        c.sockets.load(Ordering::Relaxed) + c.connect_failed.load(Ordering::Relaxed)
    };
    while done(&recorded) + done(&live) < sockets && Instant::now() < connect_deadline {
        sleep(Duration::from_millis(50)).await;
    }
    let connected_s = started.elapsed().as_secs_f64();
    // Settle: until the bytes stop flowing (under 1 MiB in 2 s, after at least 5 s), or the bound.
    let settle_start = Instant::now();
    // The recording subscriptions' bytes only: the live ones receive a trickle for ever.
    let total_bytes =
        || recorded.bytes.load(Ordering::Relaxed) + live.bytes.load(Ordering::Relaxed);
    let history_bytes = || recorded.bytes.load(Ordering::Relaxed);
    let mut history = vec![history_bytes()];
    while settle_start.elapsed() < Duration::from_secs(args.settle_secs) {
        sleep(Duration::from_millis(500)).await;
        history.push(history_bytes());
        let n = history.len();
        if settle_start.elapsed() >= Duration::from_secs(5)
            && n > 4
            && history[n - 1] - history[n - 5] < 1 << 20
        {
            break;
        }
    }
    let settled_s = settle_start.elapsed().as_secs_f64();
    let hellos = |c: &LoadCounters| c.hellos.load(Ordering::Relaxed);
    println!(
        "  load: {} recording subs on {rec_sockets} sockets ({} started), {} live subs on {live_sockets} sockets ({} started); {:.0} MiB received; connected in {connected_s:.1} s, settled in {settled_s:.1} s",
        args.recording_subs,
        hellos(&recorded),
        args.live_subs,
        hellos(&live),
        mib(total_bytes()),
    );
    let prober = Prober::start(addr);
    let newcomer = stream_records(
        addr,
        &rec_seek,
        args.window,
        args.records,
        args.stream_limit(),
    )
    .await;
    let get_root = prober.finish().await;
    show_streamed("newcomer", &newcomer);
    println!("  GET /: {}", get_root.show());
    let held = bridge.now();
    let closed = recorded.closed_by_bridge.load(Ordering::Relaxed)
        + live.closed_by_bridge.load(Ordering::Relaxed);
    let details = json!({
        "recording_subs": recorded.json(),
        "live_subs": live.json(),
        "recording_seek": rec_seek,
        "idle_credit": args.idle_credit,
        "connected_s": connected_s,
        "settled_s": settled_s,
        "newcomer": newcomer,
    });
    load.abort_all();
    while load.join_next().await.is_some() {}
    let mut report = ScenarioReport {
        name: "idle-subs".into(),
        first_record_ms: newcomer.first_record_ms,
        client_records_per_s: vec![newcomer.records_per_s],
        get_root,
        closed_by_bridge: format!("{closed} of {sockets} sockets"),
        details,
        ..Default::default()
    };
    finish_process(&mut bridge, &mut report, held, args.after_secs).await;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn stalled(
    args: &Args,
    bin: &Path,
    recording: &Path,
    logs: &Path,
) -> Result<ScenarioReport, String> {
    let started = Instant::now();
    let mut bridge = Bridge::start(bin, recording, &[], logs.join("stalled.log")).await?;
    let addr = bridge.addr;
    println!("  bridge: {} (pid {})", bridge.command_line(), bridge.pid());
    let seek = format!("-{}", args.records);
    let solo = stream_records(addr, &seek, args.window, args.records, args.stream_limit()).await;
    show_streamed("solo baseline", &solo);
    let unloaded = stream_many(addr, args, args.normal).await;
    println!(
        "  {} clients at once, no stalled client: {} records/s",
        args.normal,
        show_rates(&rates(&unloaded))
    );
    // The stalled clients: subscribe, then never poll their socket again.
    let mut stalled_sockets = Vec::new();
    let mut stall_failures = Vec::new();
    for i in 0..args.stalled {
        match connect_ws(addr, Some(args.stalled_rcvbuf)).await {
            Ok(mut ws) => {
                match timeout(CONNECT_TIMEOUT, ws.send(subscribe(0, &seek, args.window))).await {
                    Ok(Ok(())) => stalled_sockets.push(ws),
                    Ok(Err(e)) => stall_failures.push(format!("stalled {i}: subscribe: {e}")),
                    Err(_) => stall_failures.push(format!("stalled {i}: subscribe timed out")),
                }
            }
            Err(e) => stall_failures.push(format!("stalled {i}: {e}")),
        }
    }
    sleep(Duration::from_secs(args.stall_fill_secs)).await;
    let filled = bridge.now();
    println!(
        "  {} stalled clients subscribed ({} failed); bridge RSS {:.0} MiB after {} s",
        stalled_sockets.len(),
        stall_failures.len(),
        mib(filled.rss),
        args.stall_fill_secs
    );
    let prober = Prober::start(addr);
    let loaded = stream_many(addr, args, args.normal).await;
    let get_root = prober.finish().await;
    for (i, c) in loaded.iter().enumerate() {
        show_streamed(&format!("normal {i} with stalled clients"), c);
    }
    println!("  GET /: {}", get_root.show());
    let held = bridge.now();
    let details = json!({
        "solo": solo,
        "unloaded": unloaded,
        "loaded": loaded,
        "stalled_subscribed": stalled_sockets.len(),
        "stalled_failures": stall_failures,
        "stalled_rcvbuf": args.stalled_rcvbuf,
        "rss_after_fill_mib": mib(filled.rss),
    });
    drop(stalled_sockets);
    let mut report = ScenarioReport {
        name: "stalled".into(),
        first_record_ms: loaded
            .iter()
            .filter_map(|c| c.first_record_ms)
            .reduce(f64::max),
        client_records_per_s: rates(&loaded),
        baseline_records_per_s: Some(solo.records_per_s),
        get_root,
        closed_by_bridge: "not observed (stalled sockets are never read)".into(),
        details,
        ..Default::default()
    };
    finish_process(&mut bridge, &mut report, held, args.after_secs).await;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What became of one held flood connection.
#[derive(Debug, Clone)]
enum Held {
    OpenFailed(String),
    /// Closed (or reset) by the bridge this long after the connect began; whether it had answered.
    Closed {
        after_s: f64,
        answered: bool,
    },
    StillOpen {
        answered: bool,
    },
}

fn summarize(outcomes: &[Held]) -> Value {
    let mut closes: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| match o {
            Held::Closed { after_s, .. } => Some(*after_s),
            _ => None,
        })
        .collect();
    closes.sort_by(f64::total_cmp);
    let answered = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Held::Closed { answered: true, .. } | Held::StillOpen { answered: true }
            )
        })
        .count();
    let open_failed: Vec<&String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Held::OpenFailed(e) => Some(e),
            _ => None,
        })
        .collect();
    json!({
        "total": outcomes.len(),
        "open_failed": open_failed.len(),
        "first_open_failure": open_failed.first(),
        "closed_by_bridge": closes.len(),
        "still_open": outcomes.iter().filter(|o| matches!(o, Held::StillOpen { .. })).count(),
        "answered": answered,
        "close_after_s_min": closes.first(),
        "close_after_s_median": closes.get(closes.len() / 2),
        "close_after_s_max": closes.last(),
    })
}

fn show_group(name: &str, v: &Value) -> String {
    let s = |k: &str| v[k].as_f64().map_or("—".into(), |x| format!("{x:.1} s"));
    format!(
        "{name}: {} of {} closed by the bridge (after {} min, {} median, {} max), {} still open, {} answered, {} failed to open",
        v["closed_by_bridge"],
        v["total"],
        s("close_after_s_min"),
        s("close_after_s_median"),
        s("close_after_s_max"),
        v["still_open"],
        v["answered"],
        v["open_failed"]
    )
}

/// What every held flood connection shares.
#[derive(Clone)]
struct Flood {
    addr: SocketAddr,
    /// The end of the wait for the bridge to close them.
    deadline: tokio::time::Instant,
    connecting: Arc<Semaphore>,
    /// Connections set up (opened and their bytes sent) or failed to.
    ready: Arc<AtomicU64>,
}

impl Flood {
    fn set_up(&self) {
        self.ready.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads until the bridge closes the socket (or the deadline); `Some` bytes mean an answer.
    async fn wait_close(&self, ws: &mut Ws, begun: Instant) -> Held {
        let mut answered = false;
        // Bounded by the deadline, and by 10,000 messages.
        for _ in 0..10_000 {
            match timeout_at(self.deadline, ws.next()).await {
                Err(_) => return Held::StillOpen { answered },
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    return Held::Closed {
                        after_s: begun.elapsed().as_secs_f64(),
                        answered,
                    };
                }
                Ok(Some(Ok(_))) => answered = true,
            }
        }
        Held::StillOpen { answered }
    }
}

/// Sends one oversized binary message, then waits for the bridge to close the socket.
async fn big_sender(flood: Flood, bytes: usize) -> Held {
    let begun = Instant::now();
    let permit = flood.connecting.acquire().await;
    let mut ws = match connect_ws(flood.addr, None).await {
        Ok(ws) => ws,
        Err(e) => {
            flood.set_up();
            return Held::OpenFailed(e);
        }
    };
    drop(permit);
    let mut message = vec![0xAB; bytes.max(2)];
    message[0] = PROTOCOL_VERSION;
    let sent = timeout_at(flood.deadline, ws.send(Message::Binary(message.into()))).await;
    flood.set_up();
    match sent {
        Err(_) => Held::StillOpen { answered: false },
        Ok(Err(_)) => Held::Closed {
            after_s: begun.elapsed().as_secs_f64(),
            answered: false,
        },
        Ok(Ok(())) => flood.wait_close(&mut ws, begun).await,
    }
}

/// Opens a WebSocket that never subscribes, then waits for the bridge to close it.
async fn idle_ws(flood: Flood) -> Held {
    let begun = Instant::now();
    let permit = flood.connecting.acquire().await;
    let opened = connect_ws(flood.addr, None).await;
    drop(permit);
    flood.set_up();
    match opened {
        Ok(mut ws) => flood.wait_close(&mut ws, begun).await,
        Err(e) => Held::OpenFailed(e),
    }
}

/// Sends an HTTP request without its final blank line, then waits for the bridge to close.
async fn half_http(flood: Flood) -> Held {
    let begun = Instant::now();
    let permit = flood.connecting.acquire().await;
    let connected = timeout(CONNECT_TIMEOUT, TcpStream::connect(flood.addr)).await;
    drop(permit);
    let mut stream = match connected {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            flood.set_up();
            return Held::OpenFailed(format!("connect: {e}"));
        }
        Err(_) => {
            flood.set_up();
            return Held::OpenFailed("connect timed out".into());
        }
    };
    let written = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    flood.set_up();
    if written.is_err() {
        return Held::Closed {
            after_s: begun.elapsed().as_secs_f64(),
            answered: false,
        };
    }
    let mut answered = false;
    let mut buf = [0u8; 4096];
    // Bounded by the deadline, and by 1,000 reads (a response is one or two).
    for _ in 0..1000 {
        match timeout_at(flood.deadline, stream.read(&mut buf)).await {
            Err(_) => return Held::StillOpen { answered },
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Held::Closed {
                    after_s: begun.elapsed().as_secs_f64(),
                    answered,
                };
            }
            Ok(Ok(_)) => answered = true,
        }
    }
    Held::StillOpen { answered }
}

/// Connects, subscribes and drops, `count` times, 32 at a time, until done or the deadline.
async fn churn(
    addr: SocketAddr,
    count: usize,
    seek: String,
    credit: u64,
    deadline: tokio::time::Instant,
) -> Value {
    let began = Instant::now();
    let gate = Arc::new(Semaphore::new(32));
    let mut set = JoinSet::new();
    let mut launched = 0;
    for _ in 0..count {
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        let Ok(permit) = Arc::clone(&gate).acquire_owned().await else {
            break;
        };
        let seek = seek.clone();
        set.spawn(async move {
            let result = match connect_ws(addr, None).await {
                Ok(mut ws) => {
                    match timeout(CONNECT_TIMEOUT, ws.send(subscribe(0, &seek, credit))).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(e)) => Err(format!("subscribe: {e}")),
                        Err(_) => Err("subscribe timed out".to_string()),
                    }
                }
                Err(e) => Err(e),
            };
            drop(permit);
            result
        });
        launched += 1;
    }
    let (mut ok, mut failed, mut first_failure) = (0, 0, None);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                failed += 1;
                first_failure.get_or_insert(e);
            }
            Err(e) => {
                failed += 1;
                first_failure.get_or_insert(e.to_string());
            }
        }
    }
    json!({
        "total": count,
        "launched": launched,
        "subscribed_and_dropped": ok,
        "failed": failed,
        "first_failure": first_failure,
        "seconds": began.elapsed().as_secs_f64(),
    })
}

async fn flood(
    args: &Args,
    bin: &Path,
    recording: &Path,
    logs: &Path,
) -> Result<ScenarioReport, String> {
    let started = Instant::now();
    let mut bridge = Bridge::start(bin, recording, &[], logs.join("flood.log")).await?;
    let addr = bridge.addr;
    println!("  bridge: {} (pid {})", bridge.command_line(), bridge.pid());
    let seek = format!("-{}", args.records);
    let flood = Flood {
        addr,
        deadline: tokio::time::Instant::now() + Duration::from_secs(args.close_wait_secs),
        connecting: Arc::new(Semaphore::new(CONNECTING)),
        ready: Arc::new(AtomicU64::new(0)),
    };
    let mut big = JoinSet::new();
    for _ in 0..args.big {
        big.spawn(big_sender(flood.clone(), args.big_bytes));
    }
    let mut idle = JoinSet::new();
    let mut half = JoinSet::new();
    for _ in 0..args.idle_ws.max(args.half_http) {
        if idle.len() < args.idle_ws {
            idle.spawn(idle_ws(flood.clone()));
        }
        if half.len() < args.half_http {
            half.spawn(half_http(flood.clone()));
        }
    }
    let churning = tokio::spawn(churn(
        addr,
        args.churn,
        seek.clone(),
        args.window,
        flood.deadline,
    ));
    // One reader as the flood begins, one once every held connection is set up.
    let prober = Prober::start(addr);
    let reader_start =
        stream_records(addr, &seek, args.window, args.records, args.stream_limit()).await;
    show_streamed("reader as the flood begins", &reader_start);
    let held_total = (args.big + args.idle_ws + args.half_http) as u64;
    let set_up_by = Instant::now() + Duration::from_secs(30);
    while flood.ready.load(Ordering::Relaxed) < held_total && Instant::now() < set_up_by {
        sleep(Duration::from_millis(50)).await;
    }
    let set_up_s = started.elapsed().as_secs_f64();
    println!(
        "  {} of {held_total} held connections set up after {set_up_s:.1} s",
        flood.ready.load(Ordering::Relaxed)
    );
    let reader_held =
        stream_records(addr, &seek, args.window, args.records, args.stream_limit()).await;
    let get_root = prober.finish().await;
    show_streamed("reader while the flood is held", &reader_held);
    println!("  GET /: {}", get_root.show());
    let churned = churning
        .await
        .unwrap_or_else(|e| json!({ "task_failed": e.to_string() }));
    let collect = |mut set: JoinSet<Held>| async move {
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.unwrap_or_else(|e| Held::OpenFailed(format!("task: {e}"))));
        }
        out
    };
    // Each held task returns when the bridge closes it, or at the deadline (holding it till then).
    let (big, idle, half) = (collect(big).await, collect(idle).await, collect(half).await);
    let held = bridge.now();
    let peak_during = bridge.sampler.peaks();
    let groups = [
        ("oversized messages", summarize(&big)),
        ("idle WebSockets", summarize(&idle)),
        ("half-sent HTTP requests", summarize(&half)),
    ];
    for (name, v) in &groups {
        println!("  {}", show_group(name, v));
    }
    println!(
        "  churn: {} connect-subscribe-drop of {} ({} failed) in {:.1} s",
        churned["subscribed_and_dropped"],
        churned["total"],
        churned["failed"],
        churned["seconds"].as_f64().unwrap_or(0.0)
    );
    let closed: u64 = groups
        .iter()
        .map(|(_, v)| v["closed_by_bridge"].as_u64().unwrap_or(0))
        .sum();
    let total: u64 = groups
        .iter()
        .map(|(_, v)| v["total"].as_u64().unwrap_or(0))
        .sum();
    println!(
        "  bridge during: peak RSS {:.0} MiB, RSS {:.0} MiB at the end of the hold, {} threads",
        mib(peak_during.rss),
        mib(held.rss),
        held.threads
    );
    let details = json!({
        "reader_start": reader_start,
        "reader_held": reader_held,
        "set_up_s": set_up_s,
        "oversized": groups[0].1,
        "idle_ws": groups[1].1,
        "half_http": groups[2].1,
        "churn": churned,
        "close_wait_s": args.close_wait_secs,
        "big_bytes": args.big_bytes,
    });
    drop((big, idle, half));
    let mut report = ScenarioReport {
        name: "flood".into(),
        first_record_ms: reader_start.first_record_ms,
        client_records_per_s: vec![reader_start.records_per_s, reader_held.records_per_s],
        get_root,
        closed_by_bridge: format!("{closed} of {total} held"),
        details,
        ..Default::default()
    };
    finish_process(&mut bridge, &mut report, held, args.after_secs).await;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Set-up

/// Raises the soft limit on open files to the hard one if it is below `need`.
fn raise_nofile(need: u64) -> Result<u64, String> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= need {
        return Ok(current);
    }
    limit.current = limit.maximum;
    if let Err(e) = setrlimit(Resource::Nofile, limit) {
        return Err(format!("setrlimit(NOFILE) failed: {e}"));
    }
    let now = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    if now < need {
        return Err(format!(
            "this run needs about {need} file descriptors but the hard limit is {now}: run it under `ulimit -n 20000` (or scale the scenario down)"
        ));
    }
    Ok(now)
}

fn default_bridge() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("release/replay-bridge")
}

fn generate(bin: &Path, out: &Path, count: u64, future_secs: u64) -> Result<(), String> {
    let started = Instant::now();
    println!(
        "generating {}: replay-bridge generate --out {} --count {count} --future-secs {future_secs}",
        out.display(),
        out.display()
    );
    let status = Command::new(bin)
        .args(["generate", "--out"])
        .arg(out)
        .args([
            "--count",
            &count.to_string(),
            "--future-secs",
            &future_secs.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !status.success() {
        return Err(format!("generate failed: {status}"));
    }
    println!("  generated in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn print_table(reports: &[ScenarioReport]) {
    println!();
    println!(
        "| scenario | peak RSS | RSS held | RSS after | peak threads | time to first record | records/s per client (solo) | GET / median (max) | closed by the bridge |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let baseline = r
            .baseline_records_per_s
            .map_or(String::new(), |b| format!(" ({:.2}M solo)", b / 1e6));
        println!(
            "| {} | {:.0} MiB | {:.0} MiB | {:.0} MiB | {} | {} | {}{} | {} | {} |",
            r.name,
            r.peak_rss_mib,
            r.rss_held_mib,
            r.rss_after_mib,
            r.peak_threads,
            r.first_record_ms
                .map_or("never".into(), |t| format!("{t:.0} ms")),
            show_rates(&r.client_records_per_s),
            baseline,
            r.get_root.show(),
            r.closed_by_bridge,
        );
    }
}

async fn run(args: Args) -> Result<(), String> {
    let scenarios: Vec<Scenario> = match args.scenario {
        Scenario::All => vec![Scenario::IdleSubs, Scenario::Stalled, Scenario::Flood],
        one => vec![one],
    };
    // Ours and the bridge's (a child inherits the limit): every held connection, with room.
    let need = scenarios
        .iter()
        .map(|s| match s {
            Scenario::IdleSubs => (args.recording_subs + args.live_subs).div_ceil(PER_SOCKET) + 64,
            Scenario::Stalled => args.stalled + 2 * args.normal + 64,
            _ => args.big + args.idle_ws + args.half_http + 2 * CONNECTING + 64,
        })
        .max()
        .unwrap_or(0) as u64
        + 256;
    let nofile = raise_nofile(need)?;
    let bin = args.bridge.clone().unwrap_or_else(default_bridge);
    if !bin.is_file() {
        return Err(format!(
            "no bridge binary at {}: build it with `cargo build --release -p replay-bridge`, or pass --bridge",
            bin.display()
        ));
    }
    let workdir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let recording = match &args.recording {
        Some(path) if path.is_file() => path.clone(),
        Some(path) => {
            generate(&bin, path, args.count, args.future_secs)?;
            path.clone()
        }
        None => {
            let path = workdir.path().join("load.sgrec");
            generate(&bin, &path, args.count, args.future_secs)?;
            path
        }
    };
    std::fs::create_dir_all(&args.logs).map_err(|e| format!("{}: {e}", args.logs.display()))?;
    let logs = args.logs.as_path();
    println!(
        "bridge {}, recording {}, open-file limit {nofile}; bridge logs in {}",
        bin.display(),
        recording.display(),
        logs.display()
    );
    let mut reports = Vec::new();
    for scenario in scenarios {
        let name = match scenario {
            Scenario::IdleSubs => "idle-subs",
            Scenario::Stalled => "stalled",
            Scenario::Flood => "flood",
            Scenario::All => continue,
        };
        println!("\n== {name}");
        let result = match scenario {
            Scenario::IdleSubs => idle_subs(&args, &bin, &recording, logs).await,
            Scenario::Stalled => stalled(&args, &bin, &recording, logs).await,
            _ => flood(&args, &bin, &recording, logs).await,
        };
        match result {
            Ok(report) => {
                println!(
                    "  bridge: peak RSS {:.0} MiB, RSS held {:.0} MiB, after {:.0} MiB, peak threads {}{}; {} log lines; {:.0} s",
                    report.peak_rss_mib,
                    report.rss_held_mib,
                    report.rss_after_mib,
                    report.peak_threads,
                    report
                        .bridge_exited
                        .as_ref()
                        .map_or(String::new(), |s| format!(", EXITED ({s})")),
                    report.bridge_log_lines,
                    report.seconds
                );
                reports.push(report);
            }
            Err(e) => {
                println!("  scenario failed: {e}");
                reports.push(ScenarioReport {
                    name: name.into(),
                    details: json!({ "failed": e }),
                    ..Default::default()
                });
            }
        }
    }
    print_table(&reports);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&json!({
            "bridge": bin.display().to_string(),
            "recording": recording.display().to_string(),
            "scenarios": reports,
        }))
        .map_err(|e| e.to_string())?;
        if path.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("JSON written to {}", path.display());
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
