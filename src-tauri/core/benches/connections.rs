//! Connection benchmarks (`cargo bench -p brokerdesk-core --bench connections`), against
//! the OANDA simulator on 127.0.0.1:
//! - (i) time from the server coming back (same port) to the order link `Connected`,
//!   median of 10 runs, backoff base 50 ms, cap 250 ms. Target < 1 s.
//! - (ii) time from a stream going half-open to `Reconnecting`, against the heartbeat
//!   interval (100 ms). Target ≤ 2 intervals.
//! - (iii) one REST request on a warm pooled client vs on a fresh client (new TCP
//!   connection) each time: the difference is the cost of acquiring a connection.
//!   Target: pooled request < 1 ms.

#![allow(clippy::expect_used, clippy::unwrap_used)] // bench code: a failure is the bench failing

use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::{http, ConnectorConfig};
use brokerdesk_core::connection::manager::{Channel, ConnectionManager, ManagerOptions};
use brokerdesk_core::connection::{Backoff, ConnState};
use brokerdesk_core::Secret;
use brokerdesk_sim::oanda::{router, SimState, DEMO_ACCOUNTS, DEMO_TOKEN};
use brokerdesk_sim::{Faults, SimServer};

const HEARTBEAT: Duration = Duration::from_millis(100);
const RUNS: usize = 10;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn wait(m: &ConnectionManager, ch: Channel, f: fn(&ConnState) -> bool) -> Duration {
    let t = Instant::now();
    while !m.state("b", ch).as_ref().is_some_and(f) {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    t.elapsed()
}

fn config(url: &str) -> ConnectorConfig {
    ConnectorConfig::new(
        BrokerKind::Oanda,
        Environment::Practice,
        Some(DEMO_ACCOUNTS[0].to_string()),
        Some(url),
        Some(url),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(DEMO_TOKEN)), None)
}

fn is_connected(s: &ConnState) -> bool {
    *s == ConnState::Connected
}

fn is_down(s: &ConnState) -> bool {
    matches!(s, ConnState::Reconnecting { .. })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let faults = Faults::new();
    let state = Arc::new(
        SimState::demo(faults.clone()).with_intervals(Duration::from_millis(50), HEARTBEAT),
    );
    let mut server = SimServer::start(router(state.clone()), faults.clone(), 0)
        .await
        .unwrap();
    let port = server.addr().port();
    let url = server.url();
    let backoff = Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(250),
    };
    let m = ConnectionManager::new(
        ManagerOptions {
            backoff,
            keepalive: Duration::from_millis(100),
            price_heartbeat: Some(HEARTBEAT),
            keep_events: 1_000,
            request_timeout: None,
        },
        None,
    );
    m.add_account("b", "bench", config(&url), &["EUR_USD".to_string()])
        .await
        .unwrap();
    wait(&m, Channel::Order, is_connected).await;
    wait(&m, Channel::Price, is_connected).await;

    // (i) Server back → Connected.
    let mut back = Vec::new();
    for _ in 0..RUNS {
        server.shutdown().await;
        wait(&m, Channel::Order, is_down).await;
        // Down long enough for the backoff to reach its cap.
        tokio::time::sleep(Duration::from_millis(600)).await;
        server = SimServer::start(router(state.clone()), faults.clone(), port)
            .await
            .unwrap();
        back.push(wait(&m, Channel::Order, is_connected).await);
    }
    wait(&m, Channel::Price, is_connected).await;
    println!(
        "(i)   server back -> connected: median {:?}, max {:?} (backoff cap {:?}; target < 1 s)",
        median(back.clone()),
        back.iter().max().unwrap(),
        backoff.cap
    );

    // (ii) Half-open detection.
    let mut detect = Vec::new();
    for _ in 0..RUNS {
        wait(&m, Channel::Price, is_connected).await;
        tokio::time::sleep(HEARTBEAT).await;
        // Events, not polled states: `Reconnecting` may last only a millisecond.
        let mut rx = m.subscribe();
        faults.set_half_open(true);
        let t = Instant::now();
        loop {
            let e = rx.recv().await.unwrap();
            if e.channel == Channel::Price && is_down(&e.state) {
                break;
            }
        }
        detect.push(t.elapsed());
        faults.set_half_open(false);
    }
    let med = median(detect.clone());
    println!(
        "(ii)  half-open detected: median {med:?}, max {:?} = {:.2} heartbeat intervals of {HEARTBEAT:?} (target <= 2)",
        detect.iter().max().unwrap(),
        detect.iter().max().unwrap().as_secs_f64() / HEARTBEAT.as_secs_f64()
    );
    m.shutdown().await;

    // (iii) Pooled vs fresh connection per request.
    let target = format!("{url}/v3/accounts/{}/summary", DEMO_ACCOUNTS[0]);
    let get = |c: reqwest::Client| {
        let target = target.clone();
        async move {
            let t = Instant::now();
            let r = c.get(&target).bearer_auth(DEMO_TOKEN).send().await.unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap();
            t.elapsed()
        }
    };
    let pooled = http::client(Duration::from_secs(5), &target).unwrap();
    get(pooled.clone()).await; // warm
    let mut warm = Vec::new();
    let mut fresh = Vec::new();
    for _ in 0..200 {
        warm.push(get(pooled.clone()).await);
        fresh.push(get(http::client(Duration::from_secs(5), &target).unwrap()).await);
    }
    let (w, f) = (median(warm), median(fresh));
    println!(
        "(iii) REST request: pooled {w:?}, fresh client {f:?} (x{:.1}); acquisition ≈ {:?} pooled (target < 1 ms)",
        f.as_secs_f64() / w.as_secs_f64(),
        f.saturating_sub(w)
    );
    server.shutdown().await;
}
