//! Benchmarks (run with `cargo bench -p brokerdesk-core --bench vault_store`):
//! - seal/open of one secret, against a baseline of copying the same bytes;
//! - `accounts_list` with 1,000 accounts (2,000 sealed secrets), against a baseline of a
//!   raw `SELECT *` of the same rows measured in the same run. Target: list < 50 ms.
//!
//! The password KDF is excluded (the vault is keychain-protected in memory).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment, Timeframe};
use brokerdesk_core::store::Store;
use brokerdesk_core::vault::crypto::{Key, Sealer};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Secret};

fn per_iter(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e9 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bench_seal_open() {
    let sealer = Sealer::new(&Key::generate().expect("rng"));
    let secret = b"0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef";
    let binding = "account:7f9c2ba4-e88f-11ee-a506-0242ac120002:api_key";
    let n = 100_000u32;
    let sealed = sealer.seal(binding, secret).expect("seal");

    let t = Instant::now();
    for _ in 0..n {
        black_box(secret.to_vec());
    }
    let copy_ns = per_iter(t.elapsed(), n);
    let t = Instant::now();
    for _ in 0..n {
        black_box(
            sealer
                .seal(black_box(binding), black_box(secret))
                .expect("seal"),
        );
    }
    let seal_ns = per_iter(t.elapsed(), n);
    let t = Instant::now();
    for _ in 0..n {
        black_box(
            sealer
                .open(black_box(binding), black_box(&sealed))
                .expect("open"),
        );
    }
    let open_ns = per_iter(t.elapsed(), n);
    println!(
        "seal one secret ({} B):  {seal_ns:>8.0} ns   ({:.1}x a plain copy at {copy_ns:.0} ns)",
        secret.len(),
        seal_ns / copy_ns
    );
    println!(
        "open one secret:         {open_ns:>8.0} ns   ({:.1}x a plain copy)",
        open_ns / copy_ns
    );
}

async fn bench_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bd = Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .expect("open");
    bd.init(None).await.expect("init");
    let t = Instant::now();
    for i in 0..1000 {
        let mut a = AccountInput::new(
            format!("Account {i:04}"),
            BrokerKind::Alpaca,
            Environment::Practice,
        );
        a.credentials.api_key = Some(Secret::new(format!("PKBENCHKEY{i:010}")));
        a.credentials.api_secret = Some(Secret::new(format!("bench-secret-{i:030}")));
        a.instruments = vec!["AAPL".into(), "MSFT".into(), "SPY".into()];
        a.timeframes = vec![Timeframe::M5, Timeframe::H1];
        bd.account_add(a).await.expect("add");
    }
    println!(
        "add 1,000 accounts:      {:>8.1} ms total",
        t.elapsed().as_secs_f64() * 1e3
    );

    let store = Store::open(dir.path()).await.expect("store");
    let mut raw = Vec::new();
    let mut list = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let rows = sqlx::query("SELECT * FROM accounts")
            .fetch_all(store.pool())
            .await
            .expect("raw");
        raw.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(black_box(rows).len(), 1000);
        let t = Instant::now();
        let accounts = bd.accounts_list().await.expect("list");
        list.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(black_box(accounts).len(), 1000);
    }
    let (raw_ms, list_ms) = (median(raw), median(list));
    println!(
        "account list, 1,000:     {list_ms:>8.2} ms median of 15 (target < 50 ms: {})   ({:.1}x a raw SELECT * at {raw_ms:.2} ms)",
        if list_ms < 50.0 { "met" } else { "MISSED" },
        list_ms / raw_ms
    );
}

fn main() {
    println!("brokerdesk-core benchmarks (vault + store)");
    bench_seal_open();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(bench_list()),
        Err(e) => eprintln!("cannot start tokio: {e}"),
    }
}
