//! The runtime against a real profile and a real OANDA simulator: API changes re-sync the
//! connections with no caller doing anything, and a change made by another process on the
//! same profile (the CLI while the app runs) reaches the running app through the change
//! watcher. Waits poll with generous limits (a loaded CI machine), never sleep blindly.

use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::connection::manager::ManagerOptions;
use brokerdesk_core::connection::Backoff;
use brokerdesk_core::runtime::{Runtime, RuntimeEvent, RuntimeOptions, UiEvent};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};
use brokerdesk_sim::{oanda, Faults, SimServer};
use tokio::sync::broadcast;

const LONG: Duration = Duration::from_secs(15);
const PASSWORD: &str = "correct horse battery staple";
const TOKEN: &str = "sim-oanda-token-0123456789abcdef";

fn options() -> RuntimeOptions {
    fast_options(Duration::from_millis(250))
}

/// Runtime options for tests: quick backoff, watching and stats, a keepalive every
/// `keepalive`, no auto-lock and no risk watcher.
pub(crate) fn fast_options(keepalive: Duration) -> RuntimeOptions {
    RuntimeOptions {
        manager: ManagerOptions {
            backoff: Backoff {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(200),
            },
            keepalive,
            price_heartbeat: Some(Duration::from_millis(500)),
            keep_events: 1_000,
            request_timeout: None,
        },
        watch_every: Duration::from_millis(50),
        stats_every: Duration::from_millis(100),
        lost_after: Duration::from_millis(200),
        auto_lock: false,
        risk_watch: false,
        lazy_connections: false,
        backup_every: None,
        lookup_after: brokerdesk_core::trading::oms::LOOKUP_AFTER.to_vec(),
    }
}

async fn open(dir: &std::path::Path, actor: &str) -> Arc<Brokerdesk> {
    let bd = Brokerdesk::open_as(dir, Arc::new(NoKeychain), actor)
        .await
        .unwrap();
    Arc::new(bd)
}

fn oanda_account(name: &str, url: &str) -> AccountInput {
    let mut a = AccountInput::new(name, BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(TOKEN));
    a.broker_account_id = Some("101-004-1234567-001".into());
    a.rest_url = Some(url.to_string());
    a.stream_url = Some(url.to_string());
    a.instruments = vec!["EUR_USD".into()];
    a
}

/// Waits for a window event matching `f`; fails after `LONG`.
async fn expect_ui(
    rx: &mut broadcast::Receiver<RuntimeEvent>,
    what: &str,
    mut f: impl FnMut(&UiEvent) -> bool,
) -> UiEvent {
    let found = tokio::time::timeout(LONG, async {
        loop {
            match rx.recv().await {
                Ok(RuntimeEvent::Ui(e)) if f(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("runtime closed"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {what} within {LONG:?}"))
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + LONG;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {LONG:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sim() -> SimServer {
    let faults = Faults::new();
    SimServer::start(
        oanda::router(oanda::SimState::demo(faults.clone())),
        faults,
        0,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_changes_resync_the_connections_by_themselves() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), "app").await;
    app.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let rt = Runtime::start(app.clone(), options()).await;
    let mut rx = rt.subscribe();
    // Every `connections-changed`, to count them at the end.
    let mut all = rt.subscribe();
    let told = Arc::new(std::sync::Mutex::new(Vec::<Vec<String>>::new()));
    let collector = tokio::spawn({
        let told = told.clone();
        async move {
            loop {
                match all.recv().await {
                    Ok(RuntimeEvent::Ui(UiEvent::ConnectionsChanged(c))) => {
                        told.lock().unwrap().push(c.account_ids)
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => panic!("missed {n} events"),
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    });

    // Added through the API: connected, and its prices reach the window.
    let a = app
        .account_add(oanda_account("FX", &sim.url()))
        .await
        .unwrap();
    expect_ui(
        &mut rx,
        "accounts-changed",
        |e| matches!(e, UiEvent::AccountsChanged(c) if c.account_ids == [a.id.clone()]),
    )
    .await;
    expect_ui(
        &mut rx,
        "a price update",
        |e| matches!(e, UiEvent::PriceUpdate(p) if p.account_id == a.id),
    )
    .await;
    expect_ui(&mut rx, "connection stats", |e| {
        matches!(e, UiEvent::ConnectionStats(s) if s.iter().any(|c| c.account_id == a.id && c.last_message_at.is_some()))
    })
    .await;

    // A watchlist change re-subscribes without reconnecting the order channel.
    let order_since = || {
        rt.connections()
            .into_iter()
            .find(|c| c.account_id == a.id)
            .and_then(|c| {
                c.channels
                    .into_iter()
                    .find(|ch| ch.channel.as_str() == "order")
            })
            .and_then(|ch| ch.connected_since)
    };
    wait_until("the order channel connected", || order_since().is_some()).await;
    let before = order_since();
    app.account_set_instruments(&a.id, vec!["EUR_USD".into(), "GBP_USD".into()])
        .await
        .unwrap();
    wait_until("GBP_USD priced", || {
        rt.prices_snapshot(&a.id)
            .iter()
            .any(|t| t.instrument == "GBP_USD")
    })
    .await;
    assert_eq!(order_since(), before, "the watchlist change reconnected");

    // Removed through the API: disconnected.
    app.account_remove(&a.id).await.unwrap();
    wait_until("the account disconnected", || {
        rt.connections().iter().all(|c| c.account_id != a.id)
    })
    .await;
    // The windows were told the set of channels changed three times (added, watchlist,
    // removed) and never for the change watcher's echoes of those writes, which changed
    // nothing about the connections.
    wait_until("the removal told", || told.lock().unwrap().len() >= 3).await;
    rt.shutdown().await;
    drop(rx);
    collector.abort();
    assert_eq!(
        *told.lock().unwrap(),
        vec![vec![a.id.clone()], vec![a.id.clone()], vec![a.id.clone()]]
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_by_another_process_reaches_the_running_app() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), "app").await;
    app.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let rt = Runtime::start(app.clone(), options()).await;
    let mut rx = rt.subscribe();

    // The CLI: another Brokerdesk on the same data dir, unlocked with the password.
    let cli = open(dir.path(), "cli").await;
    cli.ensure_unlocked(Some(Secret::new(PASSWORD)))
        .await
        .unwrap();
    let a = cli
        .account_add(oanda_account("From the CLI", &sim.url()))
        .await
        .unwrap();
    expect_ui(&mut rx, "accounts-changed after the CLI's add", |e| {
        matches!(e, UiEvent::AccountsChanged(_))
    })
    .await;
    wait_until("the CLI's account connected in the app", || {
        rt.connections().iter().any(|c| c.account_id == a.id)
    })
    .await;
    expect_ui(
        &mut rx,
        "its prices",
        |e| matches!(e, UiEvent::PriceUpdate(p) if p.account_id == a.id),
    )
    .await;

    // Settings changed by the CLI reach the app's window too.
    let mut s = cli.settings().await.unwrap();
    s.price_updates_per_second = 7;
    cli.settings_update(s).await.unwrap();
    expect_ui(
        &mut rx,
        "settings-changed",
        |e| matches!(e, UiEvent::SettingsChanged(s) if s.price_updates_per_second == 7),
    )
    .await;

    // Removed by the CLI: the app lets the connection go.
    cli.account_remove(&a.id).await.unwrap();
    wait_until("the removed account disconnected in the app", || {
        rt.connections().iter().all(|c| c.account_id != a.id)
    })
    .await;
    cli.close().await;
    rt.shutdown().await;
    app.close().await;
}
