//! Ingest benchmarks of the stream clients (`cargo bench -p brokerdesk-core --bench ingest`),
//! each figure printed with a baseline measured in the same run (the machine may be busy,
//! so only ratios compare across runs):
//!
//! 1. the Alpaca frame parser alone, without sockets (frames of 1 and 100 quotes, JSON and
//!    msgpack), against decoding the same bytes into a generic value (`serde_json::Value` /
//!    `rmpv::Value`), in ticks per wall second and per CPU-second of the thread;
//! 2. each connector's price stream (Alpaca in JSON and msgpack, Tradier, IBKR) against its
//!    simulator in burst mode, against a raw read loop over the same feed (the same
//!    handshake and subscription, then frames read and their messages counted, nothing
//!    parsed): the floor no client can beat.
//!
//! These were `#[ignore]`d tests before; as benches they are built in release and no longer
//! slow down or clutter the test run.

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::alpaca::stream::parse_frame;
use brokerdesk_core::brokers::alpaca::{Alpaca, AlpacaStreamOptions, Encoding};
use brokerdesk_core::brokers::ibkr::{Ibkr, StreamOptions};
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, ConnectorConfig};
use brokerdesk_core::stream::{parse_time, QuoteStream, StreamEvent};
use brokerdesk_core::Secret;
use brokerdesk_sim::{alpaca, ibkr, tradier, Faults, SimServer};
use futures_util::{SinkExt, StreamExt};
use rmpv::Value as Mp;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Reading before the clock starts (connections warm, rings pre-encoded).
const WARMUP: Duration = Duration::from_millis(300);
/// How long each socket figure is measured.
const MEASURE: Duration = Duration::from_secs(2);

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// CPU time of this thread in nanoseconds (Linux `schedstat`), so the parser figures hold
/// on a busy machine; 0 elsewhere.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Per second over `MEASURE`, after `WARMUP`: `$step` (an expression, awaited inside)
/// reads once and gives (ticks, frames) read. A macro, not a function taking a closure,
/// because each step borrows the stream mutably.
macro_rules! rate {
    ($step:expr) => {{
        let warmup = Instant::now();
        while warmup.elapsed() < WARMUP {
            let _: (u64, u64) = $step;
        }
        let (mut ticks, mut frames) = (0u64, 0u64);
        let started = Instant::now();
        while started.elapsed() < MEASURE {
            let (t, f): (u64, u64) = $step;
            ticks += t;
            frames += f;
        }
        let secs = started.elapsed().as_secs_f64();
        (ticks as f64 / secs, frames as f64 / secs)
    }};
}

/// Ticks among the events read by one `read` of a connector's stream.
async fn read_ticks(stream: &mut dyn QuoteStream, out: &mut Vec<StreamEvent>) -> (u64, u64) {
    out.clear();
    assert!(stream.read(out).await.unwrap(), "the stream ended");
    let ticks = out
        .iter()
        .filter(|e| matches!(e, StreamEvent::Tick(_)))
        .count();
    (ticks as u64, 1)
}

/// The next data frame of a raw client (text or binary), skipping pings.
async fn raw_frame(ws: &mut Ws) -> Message {
    loop {
        let msg = ws.next().await.unwrap().unwrap();
        if matches!(msg, Message::Text(_) | Message::Binary(_)) {
            return msg;
        }
    }
}

fn report(what: &str, full: (f64, f64), raw: (f64, f64)) {
    println!(
        "{what:<28} connector {:>10.0} ticks/s ({:>8.0} reads/s) | raw loop {:>10.0} msgs/s ({:>8.0} frames/s) | connector = {:.2} of raw",
        full.0,
        full.1,
        raw.0,
        raw.1,
        full.0 / raw.0
    );
}

// ---------------------------------------------------------------------------------------
// 1. The Alpaca parser alone.

/// msgpack Timestamp 64: nanoseconds in the top 30 bits, seconds in the low 34.
fn ts64(secs: u64, nanos: u32) -> Mp {
    Mp::Ext(-1, ((u64::from(nanos) << 34) | secs).to_be_bytes().to_vec())
}

/// A frame of `batch` quotes, in JSON and in msgpack (`t` as a Timestamp 64).
fn alpaca_frames(batch: usize) -> (Vec<u8>, Vec<u8>) {
    let quote = |i: usize| {
        format!(
            r#"{{"T":"q","S":"AAPL","bx":"V","bp":{:.2},"bs":2,"ax":"V","ap":{:.2},"as":3,"t":"2026-01-05T15:00:00.{:09}Z","c":["R"],"z":"C"}}"#,
            189.0 + i as f64 / 100.0,
            189.02 + i as f64 / 100.0,
            i * 1000 + 7
        )
    };
    let json = format!("[{}]", (0..batch).map(quote).collect::<Vec<_>>().join(","));
    let value = serde_json::from_str::<serde_json::Value>(&json).unwrap();
    let mp = Mp::Array(
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let mut pairs = Vec::new();
                for (k, v) in m.as_object().unwrap() {
                    let v = match (k.as_str(), v) {
                        ("t", _) => ts64(1_767_625_200, 7000),
                        (_, serde_json::Value::String(s)) => Mp::from(s.as_str()),
                        (_, serde_json::Value::Number(n)) if n.is_u64() => {
                            Mp::from(n.as_u64().unwrap())
                        }
                        (_, serde_json::Value::Number(n)) => Mp::F64(n.as_f64().unwrap()),
                        _ => Mp::Array(vec!["R".into()]),
                    };
                    pairs.push((Mp::from(k.as_str()), v));
                }
                Mp::Map(pairs)
            })
            .collect(),
    );
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, &mp).unwrap();
    (json.into_bytes(), buf)
}

/// (ticks per wall second, ticks per CPU-second) of `parse` (which returns the ticks of one
/// frame) over 700 ms.
fn parse_rate(mut parse: impl FnMut() -> usize) -> (f64, f64) {
    let started = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_millis(700) {
        for _ in 0..100 {
            n += parse();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns().saturating_sub(cpu0)) as f64 / 1e9;
    (
        n as f64 / secs,
        if cpu > 0.0 { n as f64 / cpu } else { 0.0 },
    )
}

fn parser_alone() {
    println!("1. Alpaca frame parser alone (no sockets)");
    let received_at = parse_time("2026-01-05T15:00:00Z").unwrap();
    for batch in [1usize, 100] {
        let (json, mp) = alpaca_frames(batch);
        for (encoding, bytes) in [(Encoding::Json, &json[..]), (Encoding::Msgpack, &mp[..])] {
            let mut out = Vec::with_capacity(batch);
            let full = parse_rate(|| {
                out.clear();
                parse_frame(encoding, bytes, received_at, &mut out).unwrap();
                out.len()
            });
            // The baseline: a generic value per frame, no ticks built.
            let generic = parse_rate(|| match encoding {
                Encoding::Json => serde_json::from_slice::<serde_json::Value>(bytes)
                    .unwrap()
                    .as_array()
                    .map_or(0, Vec::len),
                Encoding::Msgpack => rmpv::decode::read_value(&mut &bytes[..])
                    .unwrap()
                    .as_array()
                    .map_or(0, Vec::len),
            });
            let ns = |per_cpu_sec: f64| {
                if per_cpu_sec > 0.0 {
                    1e9 / per_cpu_sec
                } else {
                    0.0
                }
            };
            println!(
                "   {encoding:?} batch {batch:>3}: parser {:.2} M ticks/s wall, {:.2} M per CPU-second ({:.0} ns/tick) | generic decode {:.2} M/s wall, {:.2} M per CPU-second ({:.0} ns/quote) | parser = {:.2}x generic (CPU)",
                full.0 / 1e6,
                full.1 / 1e6,
                ns(full.1),
                generic.0 / 1e6,
                generic.1 / 1e6,
                ns(generic.1),
                if generic.1 > 0.0 { full.1 / generic.1 } else { full.0 / generic.0 }
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Each connector against its simulator in burst mode, and the raw read loop.

const ALPACA_KEY: &str = "PKBENCHKEY9876543210ZZ";
const ALPACA_SECRET: &str = "bench-alpaca-secret-abcdefghijklmnopqrstuvwxyz";

async fn alpaca_sim(batch: usize) -> SimServer {
    let faults = Faults::new();
    let state = alpaca::SimState::new(faults.clone(), ALPACA_KEY, ALPACA_SECRET);
    state.set_stream(alpaca::StreamSettings {
        connection_limit: 1_000,
        ..alpaca::StreamSettings::burst(batch)
    });
    SimServer::start(alpaca::router(state), faults, 0)
        .await
        .unwrap()
}

/// The raw client: the connector's handshake (connect, auth, subscribe to quotes), then
/// frames counted; the simulator puts exactly `batch` quotes in each.
async fn alpaca_raw(server: &SimServer, encoding: Encoding, batch: usize) -> (f64, f64) {
    let msgpack = encoding == Encoding::Msgpack;
    let mut req = format!("{}/v2/iex", server.ws_url())
        .into_client_request()
        .unwrap();
    if msgpack {
        req.headers_mut().insert(
            "Content-Type",
            HeaderValue::from_static("application/msgpack"),
        );
    }
    let (mut ws, _) = connect_async(req).await.unwrap();
    let send = |v: serde_json::Value| {
        if msgpack {
            // Control messages are tiny maps of strings (and one array of strings).
            let mp = Mp::Map(
                v.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_json::Value::Array(a) => {
                                Mp::Array(a.iter().map(|s| Mp::from(s.as_str().unwrap())).collect())
                            }
                            v => Mp::from(v.as_str().unwrap()),
                        };
                        (Mp::from(k.as_str()), v)
                    })
                    .collect(),
            );
            let mut buf = Vec::new();
            rmpv::encode::write_value(&mut buf, &mp).unwrap();
            Message::Binary(buf.into())
        } else {
            Message::Text(v.to_string().into())
        }
    };
    raw_frame(&mut ws).await; // connected
    ws.send(send(
        serde_json::json!({"action": "auth", "key": ALPACA_KEY, "secret": ALPACA_SECRET}),
    ))
    .await
    .unwrap();
    raw_frame(&mut ws).await; // authenticated
    ws.send(send(
        serde_json::json!({"action": "subscribe", "quotes": ["AAPL"]}),
    ))
    .await
    .unwrap();
    raw_frame(&mut ws).await; // the subscription
    let r = rate!({
        raw_frame(&mut ws).await;
        (batch as u64, 1)
    });
    let _ = ws.close(None).await;
    r
}

async fn alpaca_connector(server: &SimServer, encoding: Encoding) -> (f64, f64) {
    let stream = format!("{}/v2/iex", server.ws_url());
    let cfg = ConnectorConfig::new(
        BrokerKind::Alpaca,
        Environment::Practice,
        None,
        Some(&server.url()),
        Some(&stream),
    )
    .unwrap()
    .with_credentials(
        Some(Secret::new(ALPACA_KEY)),
        Some(Secret::new(ALPACA_SECRET)),
    );
    let connector = Alpaca::new(cfg)
        .unwrap()
        .with_stream_options(AlpacaStreamOptions {
            encoding,
            // Quotes only, the same feed as the raw client's.
            trades: false,
            ..AlpacaStreamOptions::default()
        });
    let mut stream = connector
        .open_quote_stream(&names(&["AAPL"]))
        .await
        .unwrap();
    let mut out = Vec::with_capacity(256);
    let r = rate!(read_ticks(stream.as_mut(), &mut out).await);
    stream.close().await;
    r
}

async fn alpaca_ingest() {
    println!("2a. Alpaca market data (one symbol, quotes)");
    for encoding in [Encoding::Json, Encoding::Msgpack] {
        for batch in [1, 100] {
            let server = alpaca_sim(batch).await;
            let raw = alpaca_raw(&server, encoding, batch).await;
            let full = alpaca_connector(&server, encoding).await;
            report(&format!("   {encoding:?} batch {batch}"), full, raw);
        }
    }
}

async fn tradier_ingest() {
    println!("2b. Tradier market WebSocket (4 symbols, quotes and trades)");
    const SYMBOLS: [&str; 4] = ["SPY", "AAPL", "MSFT", "TSLA"];
    let faults = Faults::new();
    let state = tradier::SimState::demo(faults.clone());
    let server = SimServer::start(tradier::router(state.clone()), faults, 0)
        .await
        .unwrap();
    let cfg = ConnectorConfig::new(
        BrokerKind::Tradier,
        Environment::Practice,
        Some(tradier::DEMO_ACCOUNT.to_string()),
        Some(&format!("{}/v1", server.url())),
        Some(&format!("{}/v1/markets/events", server.ws_url())),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(tradier::DEMO_TOKEN)), None);
    let connector = Tradier::new(cfg).unwrap();
    for batch in [1, 20, 100] {
        state.set_stream(tradier::StreamSettings {
            batch,
            burst: true,
            ..tradier::StreamSettings::default()
        });
        // The raw client: the connector's own session and payload (line breaks on), then
        // frames read and their messages counted by line.
        let session = connector.stream_session().await.unwrap();
        let (mut ws, _) = connect_async(connector.stream_url()).await.unwrap();
        ws.send(Message::text(session.payload(&SYMBOLS)))
            .await
            .unwrap();
        let raw = rate!(match raw_frame(&mut ws).await {
            Message::Text(t) => (
                t.as_bytes().iter().filter(|&&b| b == b'\n').count() as u64,
                1
            ),
            _ => (0, 1),
        });
        let _ = ws.close(None).await;

        let mut stream = connector.open_stream(&names(&SYMBOLS)).await.unwrap();
        let mut out = Vec::with_capacity(256);
        let full = rate!(read_ticks(&mut stream, &mut out).await);
        stream.close().await;
        report(&format!("   batch {batch}"), full, raw);
    }
}

async fn ibkr_ingest() {
    println!("2c. IBKR gateway WebSocket (4 symbols, 256 updates per subscription per round)");
    const SYMBOLS: [&str; 4] = ["AAPL", "MSFT", "AMD", "SPY"];
    let faults = Faults::new();
    let state = ibkr::SimState::new(faults.clone(), ibkr::DEMO_ACCOUNT);
    state.set_settings(ibkr::Settings {
        burst: true,
        batch: 256,
        ..ibkr::Settings::default()
    });
    let server = SimServer::start(ibkr::router(state.clone()), faults, 0)
        .await
        .unwrap();
    let cfg = ConnectorConfig::new(
        BrokerKind::Ibkr,
        Environment::Practice,
        Some(ibkr::DEMO_ACCOUNT.to_string()),
        Some(&format!("{}/v1/api", server.url())),
        None,
    )
    .unwrap();
    let connector = Ibkr::new(cfg).unwrap().with_stream_options(StreamOptions {
        ping_every: Duration::from_millis(150),
        tic_every: Duration::from_millis(100),
        handshake_timeout: Duration::from_secs(2),
    });

    // The raw client: the connector's cookie, the greeting, `smd` per conid, then every
    // update frame counted (one update a frame; the rare heartbeat counts too).
    connector.tickle().await.unwrap();
    let cookie = connector.ws_cookie().unwrap();
    let mut req = connector.stream_url().into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", HeaderValue::from_str(cookie.expose()).unwrap());
    let (mut ws, _) = connect_async(req).await.unwrap();
    for _ in 0..3 {
        raw_frame(&mut ws).await; // system, act, sts
    }
    for symbol in SYMBOLS {
        let conid = state.conid(symbol).unwrap();
        ws.send(Message::text(format!(
            r#"smd+{conid}+{{"fields":["31","84","85","86","88","7059"]}}"#
        )))
        .await
        .unwrap();
    }
    let raw = rate!({
        raw_frame(&mut ws).await;
        (1, 1)
    });
    let _ = ws.close(None).await;

    let mut stream = connector.open_quote_stream(&names(&SYMBOLS)).await.unwrap();
    let mut out = Vec::with_capacity(256);
    let full = rate!(read_ticks(stream.as_mut(), &mut out).await);
    stream.close().await;
    report("   burst", full, raw);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    parser_alone();
    alpaca_ingest().await;
    tradier_ingest().await;
    ibkr_ingest().await;
}
