//! Trading benchmark (`cargo bench -p brokerdesk-core --bench trading`), through the same
//! runtime the app runs, on a real profile (SQLite in a temp dir) and the OANDA simulator on
//! 127.0.0.1. Every figure is measured in this run:
//!
//! 1. paper: a market order on a paper account's desk, from the intent's commit to the filled
//!    order and the position booked durably (each step its own SQLite write transaction, as
//!    the app does) on a quote that arrives right after it — p50 / p99 over 2,000 orders
//!    (target p99 < 5 ms). `order_place` on the built-in paper broker adds the wait for the
//!    simulated market's next quote (it steps every 250 ms, and no order fills on a quote older
//!    than itself), which is the market's pace, not Brokerdesk's cost;
//! 2. live: a market order on an OANDA account in live mode, `order_place` end to end (intent
//!    committed before the POST, the send claimed, the answer stored) against the raw HTTP
//!    round trip of the same POST through the connector alone, p50 / p99 over 300 orders each,
//!    interleaved; the overhead is the difference (target < 3 ms at p99);
//! 3. sustained paper orders per second across 10 accounts' desks at once;
//! 4. memory: RSS after 20,000, 40,000 and 60,000 paper orders (flat: settled orders leave
//!    memory; their rows stay in SQLite).

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment, TradingMode};
use brokerdesk_core::brokers::{self, ConnectorConfig, OrderSide};
use brokerdesk_core::paper::{FeedStatus, Quote};
use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::store::Store;
use brokerdesk_core::trading::model::Order;
use brokerdesk_core::trading::paper_desk::PaperDesk;
use brokerdesk_core::trading::{store as orders, OrderContext, OrderDraft, OrderIntent};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};
use brokerdesk_sim::{oanda, Faults, SimServer};
use chrono::Utc;
use rust_decimal::Decimal;

const PAPER_ORDERS: usize = 2_000;
const LIVE_ORDERS: usize = 300;
const ACCOUNTS: usize = 10;
const PER_ACCOUNT: usize = 500;
const MEMORY_STEP: usize = 20_000;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn phone_code(secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let unix = chrono::Utc::now().timestamp();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut out) = (0u64, 0, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        bits = (bits << 5) | alphabet.iter().position(|a| *a == c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

fn side(i: usize) -> OrderSide {
    if i.is_multiple_of(2) {
        OrderSide::Buy
    } else {
        OrderSide::Sell
    }
}

/// A paper market order as `order_place` stores it.
fn paper_order(account_id: &str, i: usize) -> Order {
    let draft = OrderDraft::market("EUR_USD", side(i), "1000");
    let intent = OrderIntent::new(&draft, &OrderContext::default()).unwrap();
    Order::pending(account_id, TradingMode::Paper, &intent, Utc::now())
}

/// One paper order through the desk, durably: the intent committed, accepted, filled on the
/// next quote (fill, position and money booked in their transactions). Returns the filled
/// quantity of the order.
async fn paper_round(store: &Store, desk: &mut PaperDesk, account_id: &str, i: usize) -> Decimal {
    let order = paper_order(account_id, i);
    let mut tx = store.begin_write().await.unwrap();
    orders::insert(&mut tx, &order, "intent stored")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    desk.place(store, &order).await.unwrap();
    let mid = Decimal::new(108_500, 5);
    let quote = Quote {
        instrument: "EUR_USD".into(),
        bid: mid - Decimal::new(5, 5),
        ask: mid + Decimal::new(5, 5),
        bid_size: None,
        ask_size: None,
        time: Utc::now(),
    };
    let changed = desk
        .on_quote(store, quote, Utc::now(), FeedStatus::Fresh)
        .await
        .unwrap();
    changed
        .iter()
        .find(|o| o.id == order.id)
        .map(|o| o.filled_qty)
        .unwrap_or_default()
}

fn report(what: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p99) = (pct(&v, 0.5), pct(&v, 0.99));
    println!(
        "  {what}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(p50),
        ms(p99),
        ms(v[v.len() - 1])
    );
    (p50, p99)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Arc::new(
        Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
            .await
            .unwrap(),
    );
    bd.init(Some(Secret::new("correct horse battery staple")))
        .await
        .unwrap();
    let rt = Runtime::start(
        bd.clone(),
        RuntimeOptions {
            auto_lock: false,
            risk_watch: false,
            ..RuntimeOptions::default()
        },
    )
    .await;

    // 1. Paper, durable, through the desk.
    let store = bd.store();
    let paper = bd
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    let mut desk = PaperDesk::load(&store, &paper.id).await.unwrap();
    for i in 0..200 {
        paper_round(&store, &mut desk, &paper.id, i).await;
    }
    let mut samples = Vec::with_capacity(PAPER_ORDERS);
    for i in 0..PAPER_ORDERS {
        let t = Instant::now();
        let filled = paper_round(&store, &mut desk, &paper.id, i).await;
        samples.push(t.elapsed());
        assert_eq!(filled, Decimal::from(1000));
    }
    let one_at_a_time = samples.iter().sum::<Duration>().as_secs_f64() / PAPER_ORDERS as f64;
    println!("paper market order, intent committed → filled → position booked, durable (SQLite WAL), {PAPER_ORDERS} orders:");
    let (_, p99) = report("order → fill → position", samples);
    println!(
        "  target p99 < 5 ms: {}",
        if p99 < Duration::from_millis(5) {
            "met"
        } else {
            "NOT met"
        }
    );

    // 2. Live overhead over the raw round trip.
    let faults = Faults::new();
    let sim = SimServer::start(
        oanda::router(oanda::SimState::demo(faults.clone())),
        faults,
        0,
    )
    .await
    .unwrap();
    let mut input = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    input.credentials.api_key = Some(Secret::new(oanda::DEMO_TOKEN));
    input.broker_account_id = Some(oanda::DEMO_ACCOUNTS[0].into());
    input.rest_url = Some(sim.url());
    input.stream_url = Some(sim.url());
    input.instruments = vec!["EUR_USD".into()];
    let fx = bd.account_add(input).await.unwrap();
    let setup = bd.twofa_setup().await.unwrap();
    bd.twofa_enable(&phone_code(&base32_decode(&setup.secret)))
        .await
        .unwrap();
    let a = bd
        .account_set_mode(&fx.id, TradingMode::Live)
        .await
        .unwrap();
    assert_eq!(a.mode, TradingMode::Live);
    let raw = brokers::connector(
        ConnectorConfig::new(
            BrokerKind::Oanda,
            Environment::Practice,
            Some(oanda::DEMO_ACCOUNTS[0].to_string()),
            Some(&sim.url()),
            Some(&sim.url()),
        )
        .unwrap()
        .with_credentials(Some(Secret::new(oanda::DEMO_TOKEN)), None),
    )
    .unwrap();
    for i in 0..20 {
        rt.order_place(&fx.id, OrderDraft::market("EUR_USD", side(i), "1"))
            .await
            .unwrap();
        let intent = OrderIntent::new(
            &OrderDraft::market("EUR_USD", side(i), "1"),
            &OrderContext::default(),
        )
        .unwrap();
        raw.place_order(&intent).await.unwrap();
    }
    let (mut full, mut bare) = (Vec::new(), Vec::new());
    for i in 0..LIVE_ORDERS {
        let t = Instant::now();
        rt.order_place(&fx.id, OrderDraft::market("EUR_USD", side(i), "1"))
            .await
            .unwrap();
        full.push(t.elapsed());
        let intent = OrderIntent::new(
            &OrderDraft::market("EUR_USD", side(i), "1"),
            &OrderContext::default(),
        )
        .unwrap();
        let t = Instant::now();
        raw.place_order(&intent).await.unwrap();
        bare.push(t.elapsed());
    }
    println!("live market order on the OANDA simulator, {LIVE_ORDERS} orders each, interleaved:");
    let (f50, f99) = report(
        "order_place (intent stored first, send claimed, answer stored)",
        full,
    );
    let (b50, b99) = report("raw HTTP round trip (the connector's POST alone)", bare);
    let (o50, o99) = (f50.saturating_sub(b50), f99.saturating_sub(b99));
    println!(
        "  overhead: p50 {:.3} ms, p99 {:.3} ms (ratio at p50 {:.2}×); target < 3 ms at p99: {}",
        ms(o50),
        ms(o99),
        f50.as_secs_f64() / b50.as_secs_f64().max(1e-9),
        if o99 < Duration::from_millis(3) {
            "met"
        } else {
            "NOT met"
        }
    );

    // 3. Sustained paper orders per second across 10 accounts' desks at once.
    let mut desks = Vec::new();
    for n in 0..ACCOUNTS {
        let a = bd
            .account_add(AccountInput::new(
                format!("Paper {n}"),
                BrokerKind::Paper,
                Environment::Practice,
            ))
            .await
            .unwrap();
        let d = PaperDesk::load(&store, &a.id).await.unwrap();
        desks.push((a.id, d));
    }
    let t = Instant::now();
    let tasks: Vec<_> = desks
        .into_iter()
        .map(|(id, mut d)| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..PER_ACCOUNT {
                    paper_round(&store, &mut d, &id, i).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let took = t.elapsed();
    let total = ACCOUNTS * PER_ACCOUNT;
    println!(
        "sustained: {total} paper orders over {ACCOUNTS} accounts at once in {:.2} s = {:.0} orders/s (one account, one at a time: {:.0} orders/s; SQLite has one writer)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        1.0 / one_at_a_time
    );

    // 4. Memory over more paper orders.
    let start = rss_kib();
    let mut line = format!("memory: RSS {start} KiB");
    for step in 1..=3 {
        for i in 0..MEMORY_STEP {
            paper_round(&store, &mut desk, &paper.id, i).await;
        }
        line.push_str(&format!(", {} KiB after {}", rss_kib(), step * MEMORY_STEP));
    }
    println!("{line} paper orders");
    rt.shutdown().await;
    sim.shutdown().await;
}
