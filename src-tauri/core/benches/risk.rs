//! Risk benchmark (`cargo bench -p brokerdesk-core --bench risk`). Every figure is measured in
//! this run, each against a baseline measured beside it:
//!
//! 1. pre-trade check: `risk::check::check` with every limit set and both loss budgets, on an
//!    account holding 20 positions — p50 / p99 per call over 200,000 calls (target p99 < 50 µs,
//!    excluding I/O), against the same call on an account without limits (the baseline: the
//!    status and reduce-only tests every order pays);
//! 2. equity recomputation: 20 accounts × 20 positions; each quote re-marks one position,
//!    sums the account's floating P&L into its equity and re-assesses both budgets
//!    (`risk::assess`); 10,000 quotes/s for 5 s, paced — the CPU the work takes (as % of
//!    one core) and the lag from a quote's due time to its assessment, p50 / p99 (target p99 <
//!    5 ms), against the same pacing loop doing only the re-mark (the baseline).
//!
//! The breach-to-status latency through the runtime (a simulator's price moves → the status
//! changes) and the kill switch's wall time at five brokers' simulators are measured by the
//! tests `risk::a_floating_loss_on_a_moved_price_breaches_the_daily_budget` and
//! `risk::the_kill_switch_stops_trading_at_five_brokers` (`cargo test -p brokerdesk-core
//! --test it -- risk:: --nocapture` prints both).

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::hint::black_box;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{AccountStatus, PropFirmPreset, PropFirmRules, RiskLimits};
use brokerdesk_core::accounts::validate::fill_preset;
use brokerdesk_core::brokers::OrderSide;
use brokerdesk_core::risk::check::{self, Exposure};
use brokerdesk_core::risk::{assess, LossState, ResetClock};
use chrono::Utc;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const CALLS: usize = 200_000;
const ACCOUNTS: usize = 20;
const POSITIONS: usize = 20;
const RATE: u64 = 10_000;
const SECONDS: u64 = 5;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn rules() -> PropFirmRules {
    let mut r = PropFirmRules {
        preset: PropFirmPreset::Ftmo,
        initial_balance: Some(dec!(100000)),
        ..PropFirmRules::default()
    };
    fill_preset(&mut r);
    r
}

fn positions() -> Vec<Exposure> {
    (0..POSITIONS)
        .map(|i| Exposure {
            symbol: format!("SYM{i}"),
            quantity: Decimal::from(100 + i as i64),
            notional: Some(Decimal::from(1_000 + 10 * i as i64)),
        })
        .collect()
}

/// Times `f` per call; returns sorted durations.
fn time_calls(mut f: impl FnMut()) -> Vec<Duration> {
    let mut out = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        f();
        out.push(t.elapsed());
    }
    out.sort_unstable();
    out
}

fn pre_trade() {
    let r = rules();
    let clock = ResetClock::parse(&r.reset_time, &r.reset_timezone).unwrap();
    let now = Utc::now();
    let (state, _) = LossState::roll(None, &r, &clock, dec!(100000), dec!(100500), now);
    let (_, assessment) = assess("Bench", &r, state, dec!(100500));
    let limits = RiskLimits {
        max_position_size_pct: Some(dec!(50)),
        max_open_positions: Some(50),
        max_qty: Some(dec!(100000)),
        max_leverage: Some(dec!(30)),
        require_stop_loss: true,
        max_correlation: None,
        max_risk_per_trade_pct: Some(dec!(2)),
        allowed_instruments: (0..40).map(|i| format!("SYM{i}")).collect(),
    };
    let none = RiskLimits::default();
    let pos = positions();
    let order = check::Order {
        symbol: "SYM30",
        side: OrderSide::Buy,
        quantity: dec!(100),
        price: Some(dec!(10.5)),
        stop_loss: Some(dec!(10.2)),
        notional: Some(dec!(1050)),
    };
    let account = |limits, budgets| check::Account {
        name: "Bench",
        status: AccountStatus::Active,
        rules: &r,
        limits,
        hours: None,
        weekend_trading: true,
        zone: chrono_tz::UTC,
        equity: Some(dec!(100500)),
        positions: &pos,
        budgets,
    };
    let full = account(&limits, Some(&assessment));
    let bare = account(&none, None);
    assert!(check::check(&full, &order, now).is_ok());
    let base = time_calls(|| {
        black_box(check::check(black_box(&bare), black_box(&order), now)).ok();
    });
    let all = time_calls(|| {
        black_box(check::check(black_box(&full), black_box(&order), now)).ok();
    });
    println!("1. pre-trade check ({CALLS} calls each, 20 positions held)");
    println!(
        "   baseline (no limits): p50 {:.2} µs, p99 {:.2} µs",
        us(pct(&base, 0.5)),
        us(pct(&base, 0.99))
    );
    println!(
        "   every limit + both budgets: p50 {:.2} µs, p99 {:.2} µs (target p99 < 50 µs) — {:.1}× the baseline at p99",
        us(pct(&all, 0.5)),
        us(pct(&all, 0.99)),
        pct(&all, 0.99).as_secs_f64() / pct(&base, 0.99).as_secs_f64().max(1e-9)
    );
}

struct Book {
    state: LossState,
    marks: Vec<Decimal>,
    qty: Vec<Decimal>,
    avg: Vec<Decimal>,
    balance: Decimal,
}

/// Paces `RATE` quotes a second for `SECONDS`, running `work` on each; returns (busy time,
/// sorted lags).
fn paced(mut work: impl FnMut(usize, Decimal)) -> (Duration, Vec<Duration>) {
    let total = (RATE * SECONDS) as usize;
    let start = Instant::now();
    let mut busy = Duration::ZERO;
    let mut lags = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / RATE);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let t = Instant::now();
        let px = dec!(10) + Decimal::new((i % 200) as i64, 3);
        work(i, px);
        let end = Instant::now();
        busy += end - t;
        lags.push(end - due);
    }
    lags.sort_unstable();
    (busy, lags)
}

fn equity() {
    let r = rules();
    let clock = ResetClock::parse(&r.reset_time, &r.reset_timezone).unwrap();
    let now = Utc::now();
    let mut books: Vec<Book> = (0..ACCOUNTS)
        .map(|_| Book {
            state: LossState::roll(None, &r, &clock, dec!(100000), dec!(100000), now).0,
            marks: vec![dec!(10); POSITIONS],
            qty: vec![dec!(100); POSITIONS],
            avg: vec![dec!(10); POSITIONS],
            balance: dec!(100000),
        })
        .collect();
    let (base_busy, base_lags) = paced(|i, px| {
        let b = &mut books[i % ACCOUNTS];
        b.marks[(i / ACCOUNTS) % POSITIONS] = px;
        black_box(&b.marks);
    });
    let (busy, lags) = paced(|i, px| {
        let b = &mut books[i % ACCOUNTS];
        b.marks[(i / ACCOUNTS) % POSITIONS] = px;
        let floating: Decimal = (0..POSITIONS)
            .map(|p| (b.marks[p] - b.avg[p]) * b.qty[p])
            .sum();
        let equity = b.balance + floating;
        let (s, a) = assess("Bench", &r, b.state.clone(), equity);
        b.state = s;
        black_box(a);
    });
    let window = Duration::from_secs(SECONDS);
    println!(
        "2. equity + budgets on every quote: {ACCOUNTS} accounts × {POSITIONS} positions, {RATE} quotes/s for {SECONDS} s"
    );
    println!(
        "   baseline (re-mark only): CPU {:.1}% of a core, lag p50 {:.1} µs, p99 {:.1} µs",
        base_busy.as_secs_f64() / window.as_secs_f64() * 100.0,
        us(pct(&base_lags, 0.5)),
        us(pct(&base_lags, 0.99))
    );
    println!(
        "   re-mark + equity + assess: CPU {:.1}% of a core, lag p50 {:.1} µs, p99 {:.1} µs (target p99 < 5 ms) — {:.1}× the baseline's CPU",
        busy.as_secs_f64() / window.as_secs_f64() * 100.0,
        us(pct(&lags, 0.5)),
        us(pct(&lags, 0.99)),
        busy.as_secs_f64() / base_busy.as_secs_f64().max(1e-9)
    );
}

fn main() {
    pre_trade();
    equity();
}
