//! The live order worker: at start it recovers what a crash left behind ([`oms::recover`]:
//! never-sent orders sent or cancelled, sent ones looked up), then it looks up every
//! `unknown` order when its lookup is due, whoever sent it (this process or the CLI), and
//! every second it reads the working live orders back from their brokers (a limit filled or
//! an order cancelled at the broker shows within a second or two). Order changes made
//! elsewhere arrive through the change watcher's [`OrdersChanged`] nudge. Cancels the
//! broker did not answer are retried from their queue when due ([`cancels`]). Every
//! connected live account's open orders are reconciled with its broker at start and every
//! few seconds ([`reconcile`]): orders placed outside Brokerdesk appear as `external`.
//!
//! While the runtime is held in the safe state ([`super::safe`]) it only retries queued
//! cancels: the recovery, the lookups and the polls wait until the checks pass.
//!
//! Every state change goes through the store's compare-and-set, so this worker and a CLI
//! command working on the same order never both move it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::api::Brokerdesk;
use crate::brokers::{self, Broker};
use crate::connection::manager::ConnectionManager;
use crate::trading::model::Order;
use crate::trading::{cancels, oms, reconcile};

/// How often due lookups are checked when nothing nudges the worker.
const TICK: Duration = Duration::from_millis(250);

/// Returns the connector for an order's account: the running connection's (its session and
/// pooled client), else a new one from the stored configuration.
pub(super) async fn connector_for(
    core: &Brokerdesk,
    manager: &ConnectionManager,
    account_id: &str,
) -> Option<Arc<dyn Broker>> {
    if let Some(c) = manager.connector(account_id) {
        return Some(c);
    }
    match core.connection_config(account_id).await {
        Ok(Some((_, mut cfg))) => {
            if let Some(t) = manager.options().request_timeout {
                cfg.timeout = t;
            }
            brokers::connector(cfg).ok().map(Arc::from)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(code = %e.code, "no connector for the order's account");
            None
        }
    }
}

/// Runs until cancelled; `lookup_after` is the OMS's lookup schedule.
pub(super) async fn work(
    core: Arc<Brokerdesk>,
    manager: Arc<ConnectionManager>,
    nudge: Arc<Notify>,
    lookup_after: Arc<[Duration]>,
    safe: Arc<super::safe::SafeGate>,
    on_change: impl Fn(&Order) + Send + Sync,
    cancel: CancellationToken,
) {
    let store = core.store();
    // In the safe state nothing is recovered (sent) until the checks pass.
    let mut recovered = false;
    if !safe.is_held() {
        recover(&core, &manager, &lookup_after, &on_change).await;
        recovered = true;
    }
    let mut last_poll = tokio::time::Instant::now();
    // The first reconciliation runs at the first tick.
    let mut last_reconcile: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = nudge.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        if safe.is_held() {
            // Cancels only reduce risk: queued ones are still retried (see `super::safe`).
            if core.is_unlocked() {
                retry_cancels(&core, &manager, &on_change, &cancel).await;
            }
            continue;
        }
        if !recovered {
            recover(&core, &manager, &lookup_after, &on_change).await;
            recovered = true;
        }
        if !core.is_unlocked() {
            continue;
        }
        if last_reconcile.is_none_or(|t| t.elapsed() >= reconcile::EVERY) {
            last_reconcile = Some(tokio::time::Instant::now());
            reconcile_live(&core, &manager, &on_change, &cancel).await;
        }
        if last_poll.elapsed() >= oms::POLL_EVERY {
            last_poll = tokio::time::Instant::now();
            poll_working(&core, &manager, &on_change, &cancel).await;
        }
        let due = match oms::due_lookups(&store, Utc::now()).await {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "could not read the orders to look up");
                continue;
            }
        };
        for order in due {
            if cancel.is_cancelled() {
                break;
            }
            let Some(broker) = connector_for(&core, &manager, &order.account_id).await else {
                continue;
            };
            match oms::look_up(&store, &broker, order, &lookup_after).await {
                Ok(o) => on_change(&o),
                Err(e) => tracing::warn!(error = %e, "an order lookup failed"),
            }
        }
        retry_cancels(&core, &manager, &on_change, &cancel).await;
    }
}

/// Sends the queued cancels that are due again ([`cancels::retry`]).
async fn retry_cancels(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    on_change: &(impl Fn(&Order) + Send + Sync),
    cancel: &CancellationToken,
) {
    let store = core.store();
    let due = match cancels::due(&store, Utc::now()).await {
        Ok(d) => d,
        Err(e) => {
            tracing::debug!(error = %e, "could not read the queued cancels");
            return;
        }
    };
    for (order, attempts) in due {
        if cancel.is_cancelled() {
            return;
        }
        let Some(broker) = connector_for(core, manager, &order.account_id).await else {
            continue;
        };
        let before = order.version;
        match cancels::retry(&store, &broker, order, attempts).await {
            Ok(o) if o.version != before => on_change(&o),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a queued cancel could not be retried"),
        }
    }
}

/// Recovers what a crash left behind ([`oms::recover`]): sends the never-sent orders that
/// should go, cancels the others.
async fn recover(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    lookup_after: &Arc<[Duration]>,
    on_change: &(impl Fn(&Order) + Send + Sync),
) {
    let store = core.store();
    match oms::recover(&store, Utc::now()).await {
        Ok(to_send) => {
            for order in to_send {
                if let Some(broker) = connector_for(core, manager, &order.account_id).await {
                    match oms::send(&store, &broker, order, lookup_after).await {
                        Ok(o) => on_change(&o),
                        Err(e) => tracing::warn!(error = %e, "could not send a recovered order"),
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not recover the orders"),
    }
}

/// Reconciles every connected live account's open orders with its broker once (see
/// [`reconcile`]): orders placed outside Brokerdesk are recorded as `external`.
async fn reconcile_live(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    on_change: &(impl Fn(&Order) + Send + Sync),
    cancel: &CancellationToken,
) {
    let accounts = match core.accounts_list().await {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(code = %e.code, "could not list the accounts to reconcile");
            return;
        }
    };
    let store = core.store();
    for account in accounts
        .iter()
        .filter(|a| a.mode == crate::accounts::model::TradingMode::Live)
    {
        if cancel.is_cancelled() {
            return;
        }
        // Only a connected account: a stopped one is not asked (it is reconciled within
        // seconds of connecting again).
        let Some(broker) = manager.connector(&account.id) else {
            continue;
        };
        match reconcile::open_orders(&store, &account.id, &broker, Utc::now()).await {
            Ok(changed) => {
                for o in &changed {
                    on_change(o);
                }
            }
            Err(e) => tracing::debug!(error = %e, "could not reconcile an account's orders"),
        }
    }
}

/// Reads every working live order back from its broker once (see [`oms::refresh`]).
async fn poll_working(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    on_change: &(impl Fn(&Order) + Send + Sync),
    cancel: &CancellationToken,
) {
    let store = core.store();
    let working = match oms::working_live(&store).await {
        Ok(w) => w,
        Err(e) => {
            tracing::debug!(error = %e, "could not read the working orders");
            return;
        }
    };
    for order in working {
        if cancel.is_cancelled() {
            return;
        }
        let Some(broker) = connector_for(core, manager, &order.account_id).await else {
            continue;
        };
        match oms::refresh(&store, &broker, order).await {
            Ok((o, true)) => on_change(&o),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not record a working order's state"),
        }
    }
}
