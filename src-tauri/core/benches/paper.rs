//! Paper broker benchmark (`cargo bench -p brokerdesk-core --bench paper`). Every figure is
//! measured in this run:
//!
//! 1. the order path, in memory: a market order is submitted, filled by the next quote, the
//!    fill booked in the ledger and the settled order dropped — p50 / p99 latency and
//!    throughput over 100,000 orders (the durable commit the app adds is not included);
//! 2. a baseline in the same run: inserting the same 100,000 order ids into a `HashMap`,
//!    timed the same way, and the ratio of the two;
//! 3. the simulated market's quote function, per evaluation;
//! 4. memory: RSS (from `/proc/self/statm`) before and after 100,000 orders when the caller
//!    drops settled orders, and, for contrast, after 100,000 more orders kept in the engine.

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use brokerdesk_core::paper::{
    EngineEvent, FeedStatus, Ledger, NewOrder, PaperEngine, Quote, Side, SimMarket,
};
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

const ORDERS: usize = 100_000;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Resident set size in KiB: `/proc/self/statm`'s second field, in 4 KiB pages.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4)
        .unwrap_or(0)
}

/// Order `i`: accepted at `t0 + i ms` and filled by the market's quote stamped at the same
/// instant. Buys and sells alternate with varying sizes, so the position grows, shrinks and
/// flips and every ledger branch runs.
fn order(market: &SimMarket, i: usize) -> (NewOrder, Quote) {
    let at = t0() + TimeDelta::milliseconds(i as i64);
    let mut q = market.quote("EUR_USD", at).unwrap();
    q.time = at;
    let side = if i.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let qty = Decimal::from(1_000 * (1 + (i % 7) as i64));
    (
        NewOrder::market(format!("o{i}"), "EUR_USD", side, qty, at),
        q,
    )
}

/// Runs orders `range` through the order path; returns per-order nanoseconds and the RSS
/// (KiB) at the start and after every quarter. Orders are built outside the timed part.
fn run(
    engine: &mut PaperEngine,
    ledger: &mut Ledger,
    market: &SimMarket,
    range: std::ops::Range<usize>,
    drop: bool,
) -> (Vec<u64>, Vec<u64>) {
    let spec = market.spec("EUR_USD").unwrap().clone();
    let no_rates = |_: &str| None;
    let quarter = (range.len() / 4).max(1);
    // Written through once so that its pages are resident before RSS is read: the samples
    // must not pass for growth of the engine.
    let mut samples = vec![u64::MAX; range.len()];
    let mut rss = vec![rss_kib()];
    let mut fills = 0usize;
    for (n, i) in range.enumerate() {
        let (new, quote) = order(market, i);
        let start = Instant::now();
        let mut events = engine.submit(new);
        events.extend(engine.on_quote(&quote, quote.time, FeedStatus::Fresh));
        for e in &events {
            if let EngineEvent::Filled { fill } = e {
                ledger
                    .apply_fill(fill, &spec, Decimal::ZERO, &no_rates)
                    .unwrap();
                fills += 1;
            }
        }
        if drop {
            engine.drop_settled();
        }
        samples[n] = start.elapsed().as_nanos() as u64;
        black_box(&events);
        if (n + 1).is_multiple_of(quarter) {
            rss.push(rss_kib());
        }
    }
    assert_eq!(
        fills,
        samples.len(),
        "every market order fills on its quote"
    );
    assert!(samples.iter().all(|s| *s != u64::MAX));
    (samples, rss)
}

fn main() {
    let market = SimMarket::new();

    // Warm-up: allocator, hash tables and caches settle before anything is measured.
    let mut engine = PaperEngine::default();
    let mut ledger = Ledger::default();
    run(&mut engine, &mut ledger, &market, 0..10_000, true);

    // 1 and 4: the order path with settled orders dropped, RSS around it.
    let (mut samples, rss) = run(
        &mut engine,
        &mut ledger,
        &market,
        10_000..10_000 + ORDERS,
        true,
    );
    let busy: u64 = samples.iter().sum();
    samples.sort_unstable();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!("paper order path (submit → fill → ledger → drop), {ORDERS} market orders:");
    println!(
        "  p50 {p50} ns, p99 {p99} ns, max {} ns; {:.0} orders/s (sum of the timed parts)",
        samples[samples.len() - 1],
        ORDERS as f64 / (busy as f64 / 1e9)
    );
    println!(
        "  engine holds {} orders after; position {} EUR_USD; balance {}",
        engine.len(),
        ledger
            .position("EUR_USD")
            .map(|p| p.quantity)
            .unwrap_or_default(),
        ledger.balance()
    );

    // 2: the baseline, the same ids into a HashMap, timed the same way.
    let ids: Vec<String> = (0..ORDERS).map(|i| format!("o{i}")).collect();
    let mut map: HashMap<String, u64> = HashMap::new();
    let mut base = Vec::with_capacity(ORDERS);
    for (i, id) in ids.into_iter().enumerate() {
        let start = Instant::now();
        map.insert(id, i as u64);
        base.push(start.elapsed().as_nanos() as u64);
    }
    black_box(&map);
    let base_busy: u64 = base.iter().sum();
    base.sort_unstable();
    let (b50, b99) = (percentile(&base, 0.5), percentile(&base, 0.99));
    println!("baseline (HashMap<String, u64> insert), {ORDERS} ids, timed the same way:");
    println!(
        "  p50 {b50} ns, p99 {b99} ns; {:.0} inserts/s",
        ORDERS as f64 / (base_busy as f64 / 1e9)
    );
    println!(
        "  order path / baseline: p50 {:.1}×, p99 {:.1}×, total {:.1}×",
        p50 as f64 / b50.max(1) as f64,
        p99 as f64 / b99.max(1) as f64,
        busy as f64 / base_busy.max(1) as f64
    );
    drop(map);

    // 3: the simulated market's quote function.
    let n = 200_000;
    let started = Instant::now();
    for i in 0..n {
        let at = t0() + TimeDelta::milliseconds(250 * i);
        black_box(market.quote("GBP_JPY", at));
    }
    println!(
        "sim market quote(): {:.0} ns per evaluation ({n} evaluations)",
        started.elapsed().as_nanos() as f64 / n as f64
    );

    // 4: memory.
    println!("memory (RSS from /proc/self/statm, 4 KiB pages):");
    println!(
        "  with drop_settled: at the start, then after each 25,000 orders {rss:?} KiB ({:+} KiB over {ORDERS})",
        rss[rss.len() - 1] as i64 - rss[0] as i64
    );
    let start = 10_000 + ORDERS;
    let (_, kept) = run(
        &mut engine,
        &mut ledger,
        &market,
        start..start + ORDERS,
        false,
    );
    println!(
        "  without dropping (contrast): at the start, then after each 25,000 orders {kept:?} KiB ({:+} KiB, {} orders held)",
        kept[kept.len() - 1] as i64 - kept[0] as i64,
        engine.len()
    );
}
