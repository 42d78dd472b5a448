//! Stream benchmarks (`bash src-tauri/scripts/bench-stream.sh`, or
//! `cargo bench -p brokerdesk-core --bench stream`), against the Alpaca market-data
//! simulator on 127.0.0.1 in burst mode (pre-encoded frames sent as fast as the client
//! reads), with frames of 1 quote and of 100 quotes. Every figure is measured in this run:
//!
//! 1. ingest, full path (socket → parse → latest-quote book), against a raw read loop over
//!    the same socket and feed that only counts quotes in each frame (the floor). Target:
//!    full ≥ 50% of raw. Measured in JSON (Alpaca's default) and in msgpack (what the
//!    official SDK asks for).
//! 2. the same feed read by Alpaca's official Python SDK (alpaca-py `StockDataStream`,
//!    `url_override`, msgpack), when `BENCH_PYTHON` points at a Python with alpaca-py.
//!    Target: ours ≥ 10× its quotes per second, in both frame sizes.
//! 3. `brokerdesk stream ID SYMBOLS --count N --json` writing JSON lines to a pipe, when
//!    `BROKERDESK_CLI` points at the release CLI.
//! 4. tick-to-UI-event latency at 10,000 ticks/s (paced): from reading a tick off the
//!    socket to the UI's coalesced batch carrying it, p50 / p99. Target p99 < 1 ms.
//! 5. memory (RSS) while streaming 10,000 ticks/s for `BENCH_MEMORY_MINUTES` (default 10;
//!    0 skips): sampled every 10 s; flat means the last sample is within 10% of the first
//!    after warm-up.

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::brokers::alpaca::stream::{AlpacaStream, AlpacaStreamOptions, Encoding};
use brokerdesk_core::stream::feed::Feed;
use brokerdesk_core::stream::{QuoteStream, StreamEvent, Tick};
use brokerdesk_core::Secret;
use brokerdesk_sim::alpaca::{router, SimState, StreamSettings, DEMO_KEY, DEMO_SECRET};
use brokerdesk_sim::{Faults, SimServer};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "SPY", "TSLA"];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn symbols() -> Vec<String> {
    SYMBOLS.iter().map(|s| s.to_string()).collect()
}

async fn start_sim(settings: StreamSettings) -> (SimServer, String) {
    let faults = Faults::new();
    let state = SimState::demo(faults.clone());
    state.set_stream(StreamSettings {
        connection_limit: 1_000,
        symbol_limit: 1_000,
        ..settings
    });
    let server = SimServer::start(router(state), faults, 0).await.unwrap();
    let url = format!("{}/v2/iex", server.ws_url());
    (server, url)
}

/// The floor: the same handshake, then data frames read and counted (the simulator sends
/// exactly `per_frame` quotes in each), nothing parsed. With `decode`, each frame is also
/// decoded into a generic value (`serde_json::Value` / `rmpv::Value`), as a typical client
/// does before looking at it: a second reference point.
async fn raw_loop(url: &str, quotes: u64, per_frame: u64, msgpack: bool, decode: bool) -> f64 {
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    if msgpack {
        req.headers_mut()
            .insert("Content-Type", "application/msgpack".parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: serde_json::Value| {
        if msgpack {
            let mut buf = Vec::new();
            rmpv::encode::write_value(&mut buf, &json_to_mp(&v)).unwrap();
            Message::Binary(buf.into())
        } else {
            Message::Text(v.to_string().into())
        }
    };
    ws.next().await.unwrap().unwrap(); // connected
    ws.send(send(
        serde_json::json!({"action":"auth","key":DEMO_KEY,"secret":DEMO_SECRET}),
    ))
    .await
    .unwrap();
    ws.next().await.unwrap().unwrap(); // authenticated
    ws.send(send(
        serde_json::json!({"action":"subscribe","quotes":SYMBOLS}),
    ))
    .await
    .unwrap();
    ws.next().await.unwrap().unwrap(); // the subscription ack
    let mut n = 0u64;
    let mut started: Option<Instant> = None;
    while n < quotes {
        let msg = ws.next().await.unwrap().unwrap();
        if !matches!(msg, Message::Text(_) | Message::Binary(_)) {
            continue;
        }
        if decode {
            let len = match &msg {
                Message::Text(t) => serde_json::from_str::<serde_json::Value>(t)
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len)),
                Message::Binary(b) => rmpv::decode::read_value(&mut &b[..])
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len)),
                _ => None,
            };
            assert_eq!(len, Some(per_frame as usize));
        }
        if started.is_none() {
            // Timing starts after the first data frame, as for every reader.
            started = Some(Instant::now());
            continue;
        }
        n += per_frame;
    }
    let secs = started.unwrap().elapsed().as_secs_f64();
    let _ = ws.close(None).await;
    n as f64 / secs
}

fn json_to_mp(v: &serde_json::Value) -> rmpv::Value {
    match v {
        serde_json::Value::String(s) => rmpv::Value::from(s.as_str()),
        serde_json::Value::Array(a) => rmpv::Value::Array(a.iter().map(json_to_mp).collect()),
        serde_json::Value::Object(o) => rmpv::Value::Map(
            o.iter()
                .map(|(k, v)| (rmpv::Value::from(k.as_str()), json_to_mp(v)))
                .collect(),
        ),
        serde_json::Value::Bool(b) => rmpv::Value::from(*b),
        serde_json::Value::Number(n) => rmpv::Value::from(n.as_f64().unwrap_or_default()),
        serde_json::Value::Null => rmpv::Value::Nil,
    }
}

async fn open(url: &str, encoding: Encoding) -> AlpacaStream {
    let opts = AlpacaStreamOptions {
        encoding,
        trades: false,
        ..AlpacaStreamOptions::default()
    };
    AlpacaStream::connect(
        url,
        &Secret::new(DEMO_KEY),
        &Secret::new(DEMO_SECRET),
        &symbols(),
        &opts,
    )
    .await
    .unwrap()
}

/// The full path: socket → parse → normalized ticks → the feed's book.
async fn full_path(url: &str, quotes: u64, encoding: Encoding) -> f64 {
    let mut stream = open(url, encoding).await;
    let feed = Feed::new("bench", &symbols());
    let mut events: Vec<StreamEvent> = Vec::with_capacity(256);
    let mut ticks: Vec<Tick> = Vec::with_capacity(256);
    let mut n = 0u64;
    let mut started: Option<Instant> = None;
    while n < quotes {
        assert!(stream.read(&mut events).await.unwrap(), "stream ended");
        ticks.extend(events.drain(..).filter_map(|e| match e {
            StreamEvent::Tick(t) => Some(t),
            _ => None,
        }));
        if ticks.is_empty() {
            continue;
        }
        if started.is_none() {
            started = Some(Instant::now());
            ticks.clear();
            continue;
        }
        n += ticks.len() as u64;
        feed.publish(&ticks);
        ticks.clear();
    }
    let secs = started.unwrap().elapsed().as_secs_f64();
    stream.close().await;
    assert!(!feed.book().is_empty());
    n as f64 / secs
}

/// alpaca-py reading the same feed; `None` when no Python with alpaca-py is configured.
fn alpaca_py(url: &str, quotes: u64) -> Option<f64> {
    let python = std::env::var("BENCH_PYTHON").ok()?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/peers/alpaca_py_stream.py"
    );
    let out = Command::new(python)
        .args([
            script,
            url,
            DEMO_KEY,
            DEMO_SECRET,
            &SYMBOLS.join(","),
            &quotes.to_string(),
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("alpaca-py failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).ok()?;
    v["perSecond"].as_f64()
}

/// `brokerdesk stream … --count N --json` into a pipe; lines per second from the first
/// line to the last.
fn cli(sim_url: &str, ws_url: &str, lines: u64) -> Option<f64> {
    let bin = std::env::var("BROKERDESK_CLI").ok()?;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(&bin)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("BROKERDESK_NO_KEYCHAIN", "1")
            .env("BROKERDESK_PASSWORD", "bench-password-0123456789")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init"]);
    run(&[
        "account",
        "add",
        "--name",
        "Bench",
        "--broker",
        "alpaca",
        "--env",
        "practice",
        "--api-key",
        DEMO_KEY,
        "--api-secret",
        DEMO_SECRET,
        "--rest-url",
        sim_url,
        "--stream-url",
        ws_url,
    ]);
    let mut child = Command::new(&bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--json", "stream", "Bench"])
        .args(SYMBOLS)
        .args(["--count", &lines.to_string()])
        .env("BROKERDESK_NO_KEYCHAIN", "1")
        .env("BROKERDESK_PASSWORD", "bench-password-0123456789")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::with_capacity(1 << 16, child.stdout.take().unwrap());
    let mut line = String::new();
    let mut n = 0u64;
    let mut started: Option<Instant> = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if started.is_none() {
            started = Some(Instant::now());
            continue;
        }
        n += 1;
    }
    let elapsed = started.map(|t| t.elapsed().as_secs_f64());
    let _ = child.wait();
    Some(n as f64 / elapsed?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The app's reader task: reads the stream into `feed` for `run`, then closes both.
async fn spawn_reader(url: &str, feed: Arc<Feed>, run: Duration) -> tokio::task::JoinHandle<()> {
    let mut stream = open(url, Encoding::Json).await;
    tokio::spawn(async move {
        let mut events = Vec::with_capacity(64);
        let mut ticks = Vec::with_capacity(64);
        let end = Instant::now() + run;
        while Instant::now() < end {
            if !stream.read(&mut events).await.unwrap() {
                break;
            }
            ticks.extend(events.drain(..).filter_map(|e| match e {
                StreamEvent::Tick(t) => Some(t),
                _ => None,
            }));
            feed.publish(&ticks);
            ticks.clear();
        }
        stream.close().await;
        feed.close();
    })
}

/// Tick-to-UI-event latency at a paced 10,000 ticks/s: the feed runs as in the app (its own
/// reader task), the UI side is the app's coalescer. With `cap` 0 every tick is delivered
/// (the pipeline's own latency); with the app's 30 updates per instrument per second, a tick
/// that arrives just after an update waits for the next one by design.
async fn latency(url: &str, seconds: u64, cap: u32) -> (Duration, Duration, usize) {
    let feed = Feed::new("bench", &symbols());
    let ui = feed.coalesced(cap);
    let reader = spawn_reader(url, feed.clone(), Duration::from_secs(seconds)).await;
    let mut samples = Vec::new();
    loop {
        let batch = ui.next_batch().await;
        if batch.is_empty() {
            break;
        }
        let now = chrono::Utc::now();
        for t in batch {
            let d = (now - t.received_at).to_std().unwrap_or_default();
            samples.push(d);
        }
    }
    reader.await.unwrap();
    samples.sort();
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.len(),
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn memory(url: &str, minutes: u64) {
    let feed = Feed::new("bench", &symbols());
    let ui = feed.coalesced(30);
    let tap = feed.tap(1 << 16);
    let total = Duration::from_secs(minutes * 60);
    let reader = spawn_reader(url, feed.clone(), total).await;
    // A UI consumer that keeps up, and a tap nobody reads (the worst slow consumer).
    let ui_task = tokio::spawn(async move { while !ui.next_batch().await.is_empty() {} });
    let started = Instant::now();
    let mut samples: Vec<(u64, u64)> = Vec::new();
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_secs(10)).await;
        samples.push((started.elapsed().as_secs(), rss_kib()));
    }
    reader.await.unwrap();
    ui_task.await.unwrap();
    let ticks = feed.stats().ticks;
    let warm = samples
        .iter()
        .find(|(s, _)| *s >= 30)
        .copied()
        .unwrap_or(samples[0]);
    let last = *samples.last().unwrap();
    let max = samples.iter().map(|(_, r)| *r).max().unwrap_or(0);
    println!(
        "memory: {ticks} ticks in {minutes} min ({:.0}/s); RSS after warm-up {} KiB, max {} KiB, at the end {} KiB: end/warm-up = {:.3} ({}), slow tap dropped {} ticks",
        ticks as f64 / total.as_secs_f64(),
        warm.1,
        max,
        last.1,
        last.1 as f64 / warm.1.max(1) as f64,
        if (last.1 as f64) <= warm.1 as f64 * 1.10 { "flat" } else { "GROWING" },
        tap.dropped()
    );
    let series: Vec<String> = samples.iter().map(|(s, r)| format!("{s}s:{r}")).collect();
    println!("memory samples (s:KiB): {}", series.join(" "));
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("stream benchmarks (Alpaca simulator, burst mode, {} symbols)", SYMBOLS.len());
        // BENCH_ONLY=ingest or =latency runs one part.
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        let batches: &[usize] = if only.is_empty() || only == "ingest" { &[1, 100] } else { &[] };
        for &batch in batches {
            let (server, url) = start_sim(StreamSettings::burst(batch)).await;
            let n = if batch == 1 { env_u64("BENCH_QUOTES_1", 1_000_000) } else { env_u64("BENCH_QUOTES_100", 5_000_000) };
            let per = batch as u64;
            let raw = raw_loop(&url, n, per, false, false).await;
            let dec = raw_loop(&url, n, per, false, true).await;
            let full = full_path(&url, n, Encoding::Json).await;
            let raw_mp = raw_loop(&url, n, per, true, false).await;
            let dec_mp = raw_loop(&url, n, per, true, true).await;
            let full_mp = full_path(&url, n, Encoding::Msgpack).await;
            println!("\nframes of {batch} quote(s), {n} quotes per reader:");
            println!("  JSON:    raw read loop {raw:>11.0}/s | generic decode {dec:>10.0}/s | full path {full:>10.0}/s = {:.2} of raw (target ≥ 0.50), {:.2}× generic decode", full / raw, full / dec);
            println!("  msgpack: raw read loop {raw_mp:>11.0}/s | generic decode {dec_mp:>10.0}/s | full path {full_mp:>10.0}/s = {:.2} of raw, {:.2}× generic decode", full_mp / raw_mp, full_mp / dec_mp);
            let py_n = if batch == 1 { env_u64("BENCH_PY_QUOTES_1", 100_000) } else { env_u64("BENCH_PY_QUOTES_100", 1_000_000) };
            match tokio::task::block_in_place(|| alpaca_py(&url, py_n)) {
                Some(py) => println!(
                    "  alpaca-py (msgpack)      {py:>12.0} quotes/s; ours: JSON {:.1}×, msgpack {:.1}× (target ≥ 10×)",
                    full / py,
                    full_mp / py
                ),
                None => println!("  alpaca-py: skipped (set BENCH_PYTHON to a Python with alpaca-py)"),
            }
            let cli_n = if batch == 1 { env_u64("BENCH_CLI_LINES_1", 300_000) } else { env_u64("BENCH_CLI_LINES_100", 1_000_000) };
            match tokio::task::block_in_place(|| cli(&server.url(), &url, cli_n)) {
                Some(c) => println!("  brokerdesk stream → pipe {c:>12.0} lines/s = {:.2} of the full path", c / full),
                None => println!("  brokerdesk stream: skipped (set BROKERDESK_CLI to the release CLI)"),
            }
            server.shutdown().await;
        }

        if only == "ingest" {
            return;
        }
        let (server, url) = start_sim(StreamSettings::paced(10_000, 1)).await;
        let secs = env_u64("BENCH_LATENCY_SECONDS", 10);
        println!();
        for (cap, what) in [(0u32, "every tick delivered"), (30, "the app's cap, 30/s per instrument")] {
            let (p50, p99, n) = latency(&url, secs, cap).await;
            println!(
                "tick-to-UI-event latency at 10,000 ticks/s, {what} ({n} UI ticks): p50 {:.3} ms, p99 {:.3} ms (target p99 < 1 ms)",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
        let minutes = env_u64("BENCH_MEMORY_MINUTES", 10);
        if minutes > 0 {
            memory(&url, minutes).await;
        } else {
            println!("memory: skipped (BENCH_MEMORY_MINUTES=0)");
        }
        server.shutdown().await;
    });
}
