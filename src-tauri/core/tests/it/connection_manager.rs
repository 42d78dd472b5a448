//! The connection manager against real simulators on 127.0.0.1: many accounts on several
//! sims where only a killed sim's accounts reconnect, a half-open price stream found dead
//! within two heartbeats, refused credentials that stop retrying, a 429's `Retry-After`,
//! events and persisted history, and no credential anywhere. Waits poll for conditions
//! with generous limits (a loaded CI machine), never sleep for a fixed time to pass.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod sims;

use std::time::Duration;

use brokerdesk_core::brokers::BrokerError;
use brokerdesk_core::connection::manager::{
    Channel, ConnectionEvent, ConnectionManager, ManagerOptions, WorstState,
};
use brokerdesk_core::connection::{Backoff, ConnState};
use brokerdesk_core::store::Store;
use brokerdesk_sim::Fault;
use tokio::sync::broadcast;

use self::sims::*;

const LONG: Duration = Duration::from_secs(15);

fn options() -> ManagerOptions {
    ManagerOptions {
        backoff: Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(200),
        },
        keepalive: Duration::from_millis(250),
        price_heartbeat: Some(HEARTBEAT),
        keep_events: 1_000,
        request_timeout: None,
    }
}

fn drain(rx: &mut broadcast::Receiver<ConnectionEvent>) -> Vec<ConnectionEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn instruments() -> Vec<String> {
    vec!["EUR_USD".to_string()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_killed_sims_accounts_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut sims = [
        Sim::start(Kind::Oanda).await,
        Sim::start(Kind::Alpaca).await,
        Sim::start(Kind::Tradier).await,
    ];
    let m = ConnectionManager::new(options(), Some(store.clone()));
    let mut rx = m.subscribe();
    let mut ids: Vec<(String, Kind)> = Vec::new();
    for (sim, n) in sims.iter().zip([4usize, 3, 3]) {
        for i in 0..n {
            let id = format!("{:?}-{i}", sim.kind).to_lowercase();
            // Every account streams prices too: two channels each.
            m.add_account(&id, &id, sim.config(i, false), &sims::instruments(sim.kind))
                .await
                .unwrap();
            ids.push((id, sim.kind));
        }
    }
    let channels = |_: Kind| vec![Channel::Order, Channel::Price];
    let all = |m: &ConnectionManager, k: Option<Kind>, f: fn(&ConnState) -> bool| {
        ids.iter()
            .filter(|(_, kind)| k.is_none_or(|k| k == *kind))
            .all(|(id, kind)| channels(*kind).iter().all(|c| is(m, id, *c, f)))
    };
    wait_until(LONG, "10 accounts connected", || all(&m, None, connected)).await;
    wait_until(LONG, "prices in every account's book", || {
        ids.iter()
            .all(|(id, _)| m.feed(id).is_some_and(|f| !f.book().is_empty()))
    })
    .await;
    assert_eq!(m.worst_state(), WorstState::Connected);
    assert_eq!(m.snapshot().len(), 10);
    // Ten accounts on three brokers share one pooled HTTP client (a pool per host inside).
    assert_eq!(m.client_pool().len(), 1);
    drain(&mut rx);

    sims[0].kill().await;
    wait_until(LONG, "the OANDA accounts reconnecting", || {
        all(&m, Some(Kind::Oanda), reconnecting)
    })
    .await;
    assert_eq!(m.worst_state(), WorstState::Reconnecting);
    // Two more keepalives: the others must have proved alive meanwhile.
    tokio::time::sleep(options().keepalive * 2).await;
    assert!(all(&m, Some(Kind::Alpaca), connected));
    assert!(all(&m, Some(Kind::Tradier), connected));
    let events = drain(&mut rx);
    assert!(
        // Late `Connecting`/`Connected` of the first connection may still arrive (the followers
        // publish after persisting); the others must never leave it.
        events.iter().all(|e| e.account_id.starts_with("oanda")
            || matches!(e.state, ConnState::Connecting | ConnState::Connected)),
        "only OANDA accounts leave Connected: {events:?}"
    );

    sims[0].revive().await;
    wait_until(LONG, "the OANDA accounts back", || all(&m, None, connected)).await;
    // The followers publish each change after persisting it: the last `Connected` events may
    // trail the state the manager already reports, so collect until they are all in.
    let mut events = drain(&mut rx);
    let oanda_back = |events: &[ConnectionEvent]| {
        ids.iter()
            .filter(|(_, k)| *k == Kind::Oanda)
            .all(|(id, _)| {
                events
                    .iter()
                    .rev()
                    .find(|e| &e.account_id == id && e.channel == Channel::Order)
                    .is_some_and(|e| e.state == ConnState::Connected)
            })
    };
    let deadline = tokio::time::Instant::now() + LONG;
    while !oanda_back(&events) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        events.extend(drain(&mut rx));
    }
    for (id, _) in ids.iter().filter(|(_, k)| *k == Kind::Oanda) {
        let states: Vec<&ConnState> = events
            .iter()
            .filter(|e| &e.account_id == id && e.channel == Channel::Order)
            .map(|e| &e.state)
            .collect();
        assert_eq!(
            states.last(),
            Some(&&ConnState::Connected),
            "{id}: {states:?}"
        );
    }
    let snapshot = serde_json::to_string(&m.snapshot()).unwrap();
    assert_no_secret(&snapshot);
    m.shutdown().await;
    assert_eq!(m.worst_state(), WorstState::Idle);

    // (e) The persisted history holds the whole story of a killed account.
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT channel, state, detail FROM connection_events WHERE account_id = 'oanda-0' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let order: Vec<&str> = rows
        .iter()
        .filter(|r| r.0 == "order")
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(order.first(), Some(&"connecting"), "{order:?}");
    assert!(order.contains(&"reconnecting"), "{order:?}");
    assert_eq!(
        order[order.len() - 2..],
        ["connected", "disconnected"],
        "{order:?}"
    );
    for r in &rows {
        assert_no_secret(&format!("{r:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_price_stream_is_found_dead_within_two_heartbeats() {
    let sim = Sim::start(Kind::Oanda).await;
    let m = ConnectionManager::new(options(), None);
    m.add_account("o", "o", sim.config(0, false), &instruments())
        .await
        .unwrap();
    wait_until(LONG, "price connected", || {
        is(&m, "o", Channel::Price, connected)
    })
    .await;
    // Let a few heartbeats flow, then go silent without closing.
    wait_until(LONG, "messages", || {
        m.snapshot()[0].channels[1].last_heartbeat_at.is_some()
    })
    .await;
    // Watch events, not polled states: the first retry is immediate and opening a stream
    // succeeds even while it is half-open, so `Reconnecting` may last a millisecond.
    let mut rx = m.subscribe();
    sim.faults.set_half_open(true);
    let started = std::time::Instant::now();
    let event = tokio::time::timeout(LONG, async {
        loop {
            let e = rx.recv().await.unwrap();
            if e.channel == Channel::Price && reconnecting(&e.state) {
                return e;
            }
        }
    })
    .await
    .expect("half-open detected");
    let took = started.elapsed();
    eprintln!("half-open detected after {took:?} (heartbeat {HEARTBEAT:?})");
    // Two intervals, plus scheduling slack on a loaded machine.
    assert!(
        took <= HEARTBEAT * 2 + Duration::from_millis(300),
        "took {took:?}"
    );
    let ConnState::Reconnecting { last_error, .. } = event.state else {
        panic!("reconnecting")
    };
    assert!(
        last_error.contains("no message or heartbeat"),
        "{last_error}"
    );
    sim.faults.set_half_open(false);
    wait_until(LONG, "price back", || {
        is(&m, "o", Channel::Price, connected)
    })
    .await;
    m.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_fail_without_retrying_and_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let sim = Sim::start(Kind::Tradier).await;
    let m = ConnectionManager::new(options(), Some(store.clone()));
    let mut rx = m.subscribe();
    m.add_account("t", "t", sim.config(0, true), &[])
        .await
        .unwrap();
    let failed = |s: &ConnState| matches!(s, ConnState::Failed { .. });
    wait_until(LONG, "failed", || is(&m, "t", Channel::Order, failed)).await;
    let Some(ConnState::Failed { code, reason }) = m.state("t", Channel::Order) else {
        panic!("failed")
    };
    assert_eq!(code, brokerdesk_core::Code::BrokerAuth);
    assert_no_secret(&reason);
    assert_eq!(m.worst_state(), WorstState::Disconnected);
    let requests = sim.faults.requests();
    // No retry: nothing more reaches the broker over several keepalives and backoffs.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        sim.faults.requests(),
        requests,
        "a refused login was retried"
    );

    // A reconnect request is the user acting: it tries once more.
    m.reconnect("t").unwrap();
    wait_until(LONG, "a new try", || sim.faults.requests() > requests).await;
    assert!(m.reconnect("nope").is_err());

    let snapshot = serde_json::to_string(&m.snapshot()).unwrap();
    assert_no_secret(&snapshot);
    m.shutdown().await;
    for e in drain(&mut rx) {
        assert_no_secret(&serde_json::to_string(&e).unwrap());
    }
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, detail FROM connection_events ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows[0].0, "connecting");
    assert_eq!(rows[1].0, "failed");
    for r in &rows {
        assert_no_secret(&format!("{r:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_waits_for_retry_after() {
    let sim = Sim::start(Kind::Alpaca).await;
    sim.faults.set(Some(Fault::RateLimit {
        retry_after_secs: 1,
    }));
    let m = ConnectionManager::new(options(), None);
    m.add_account("a", "a", sim.config(0, false), &[])
        .await
        .unwrap();
    wait_until(LONG, "rate limited", || {
        is(&m, "a", Channel::Order, reconnecting)
    })
    .await;
    let Some(ConnState::Reconnecting {
        next_retry_ms,
        last_error,
        ..
    }) = m.state("a", Channel::Order)
    else {
        panic!("reconnecting")
    };
    // The backoff cap is 200 ms; Retry-After (1 s) wins.
    assert!(next_retry_ms >= 1_000, "{next_retry_ms}");
    assert_eq!(
        last_error,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
        .to_string()
    );
    let requests = sim.faults.requests();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim.faults.requests(),
        requests,
        "retried before Retry-After"
    );
    sim.faults.set(None);
    wait_until(LONG, "connected after the wait", || {
        is(&m, "a", Channel::Order, connected)
    })
    .await;
    m.shutdown().await;
}
