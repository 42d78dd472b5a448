//! The live order worker: at start it recovers what a crash left behind ([`oms::recover`]:
//! never-sent orders sent or cancelled, sent ones looked up), then it looks up every
//! `unknown` order when its lookup is due, whoever sent it (this process or the CLI), and
//! every second it reads the working live orders back from their brokers (a limit filled or
//! an order cancelled at the broker shows within a second or two). Order changes made
//! elsewhere arrive through the change watcher's [`OrdersChanged`] nudge. Cancels the
//! broker did not answer are retried from their queue when due ([`cancels`]). Every
//! connected live account's open orders are reconciled with its broker at start, within a
//! second of every (re)connect, whenever its order-event stream (re)opens, and every few
//! seconds ([`reconcile`]): orders placed outside Brokerdesk appear as `external`.
//!
//! Each connected live account's order-event stream is followed ([`super::order_events`]):
//! its updates arrive here through a channel and are adopted at once (a fill shows as soon
//! as the broker reports it). While an account's stream is open its working orders are read
//! back every [`SLOW_POLL`] instead of every second, as a safety net.
//!
//! While the runtime is held in the safe state ([`super::safe`]) it only retries queued
//! cancels: the recovery, the lookups and the polls wait until the checks pass.
//!
//! Every state change goes through the store's compare-and-set, so this worker and a CLI
//! command working on the same order never both move it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::order_events::{self, Signal};

use crate::accounts::model::TradingMode;
use crate::api::Brokerdesk;
use crate::brokers::{self, Broker, OrderUpdate};
use crate::connection::manager::{Channel, ConnectionManager};
use crate::connection::ConnState;
use crate::trading::model::{Order, OrderStatus};
use crate::trading::reconcile::Occasion;
use crate::trading::{cancels, oms, reconcile, store as order_store};

/// How often due lookups are checked when nothing nudges the worker.
const TICK: Duration = Duration::from_millis(250);
/// How often the set of connected live accounts is looked at (a newly connected one is
/// reconciled, and its order-event stream followed).
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);
/// How often a working order is read back while its account's order-event stream is open.
pub(super) const SLOW_POLL: Duration = Duration::from_secs(5);

/// The order-event followers and what they said.
#[derive(Default)]
struct Followers {
    tasks: HashMap<String, (CancellationToken, JoinHandle<()>)>,
    /// Accounts whose stream is open now (their orders are polled every [`SLOW_POLL`]).
    streaming: HashSet<String>,
    /// Accounts whose broker has no order-event stream (not followed again until they
    /// disconnect).
    unsupported: HashSet<String>,
    /// The connected live accounts at the last look.
    connected: HashSet<String>,
    /// Every account seen connected since the worker started (a later connect is a
    /// reconnect).
    seen: HashSet<String>,
}

impl Followers {
    /// Stops every follower and waits for them.
    async fn stop(&mut self) {
        for (_, (token, task)) in self.tasks.drain() {
            token.cancel();
            let _ = task.await;
        }
    }
}

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
    let mut last_slow_poll = tokio::time::Instant::now();
    // The first look at the connected accounts reconciles each; the periodic one follows.
    let mut last_reconcile = tokio::time::Instant::now();
    let mut last_supervise: Option<tokio::time::Instant> = None;
    let (tx, mut rx) = mpsc::channel::<Signal>(1024);
    let mut followers = Followers::default();
    let mut sessions = manager.subscribe();
    loop {
        let signal = tokio::select! {
            () = cancel.cancelled() => break,
            () = nudge.notified() => None,
            () = tokio::time::sleep(TICK) => None,
            s = rx.recv() => s,
            e = sessions.recv() => {
                // An order session that connected (again): looked at now, even if it dropped
                // and came back between two looks.
                if let Ok(e) = e {
                    if e.channel == Channel::Order && e.state == ConnState::Connected {
                        followers.connected.remove(&e.account_id);
                        last_supervise = None;
                    }
                }
                None
            }
        };
        if let Some(signal) = signal {
            if !safe.is_held() && core.is_unlocked() {
                on_signal(&core, &manager, &mut followers, signal, &on_change).await;
            }
            // Drain what else is waiting before the periodic work.
            while let Ok(s) = rx.try_recv() {
                if !safe.is_held() && core.is_unlocked() {
                    on_signal(&core, &manager, &mut followers, s, &on_change).await;
                }
            }
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
            followers.stop().await;
            followers.connected.clear();
            followers.streaming.clear();
            continue;
        }
        if last_supervise.is_none_or(|t| t.elapsed() >= SUPERVISE_EVERY) {
            last_supervise = Some(tokio::time::Instant::now());
            supervise(&core, &manager, &mut followers, &tx, &on_change, &cancel).await;
        }
        if last_reconcile.elapsed() >= reconcile::EVERY {
            last_reconcile = tokio::time::Instant::now();
            reconcile_live(&core, &manager, &followers.connected, &on_change, &cancel).await;
        }
        if last_poll.elapsed() >= oms::POLL_EVERY {
            last_poll = tokio::time::Instant::now();
            // Accounts with an open order-event stream are read back less often.
            let all = last_slow_poll.elapsed() >= SLOW_POLL;
            if all {
                last_slow_poll = last_poll;
            }
            let skip = if all {
                HashSet::new()
            } else {
                followers.streaming.clone()
            };
            poll_working(&core, &manager, &skip, &on_change, &cancel).await;
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
    followers.stop().await;
}

/// Looks at the live accounts whose order session is connected: one newly connected (at
/// start, or back after a drop) is reconciled at once, so what happened while it was away
/// shows; each is followed by an order-event stream; the followers of accounts no longer
/// connected or no longer live are stopped.
async fn supervise(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    followers: &mut Followers,
    tx: &mpsc::Sender<Signal>,
    on_change: &(impl Fn(&Order) + Send + Sync),
    cancel: &CancellationToken,
) {
    let accounts = match core.accounts_list().await {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(code = %e.code, "could not list the accounts to follow");
            return;
        }
    };
    let now: HashSet<String> = accounts
        .iter()
        .filter(|a| {
            a.mode == TradingMode::Live
                && manager.state(&a.id, Channel::Order) == Some(ConnState::Connected)
        })
        .map(|a| a.id.clone())
        .collect();
    // Newly connected (at start, or a reconnect the event below missed): reconcile now.
    for id in now.difference(&followers.connected) {
        if let Some(broker) = manager.connector(id) {
            let occasion = if followers.seen.contains(id) {
                Occasion::Reconnect
            } else {
                Occasion::Routine
            };
            reconcile_one(core, id, &broker, occasion, on_change).await;
        }
    }
    followers.seen.extend(now.iter().cloned());
    // Gone: stop following.
    let gone: Vec<String> = followers
        .tasks
        .keys()
        .filter(|id| !now.contains(*id))
        .cloned()
        .collect();
    for id in gone {
        if let Some((token, task)) = followers.tasks.remove(&id) {
            token.cancel();
            let _ = task.await;
        }
        followers.streaming.remove(&id);
    }
    followers.unsupported.retain(|id| now.contains(id));
    // Follow the rest (again, if a follower ended because the account disconnected).
    for id in &now {
        if followers.unsupported.contains(id) {
            continue;
        }
        if followers
            .tasks
            .get(id)
            .is_some_and(|(_, task)| !task.is_finished())
        {
            continue;
        }
        let token = cancel.child_token();
        let task = tokio::spawn(order_events::follow(
            id.clone(),
            manager.clone(),
            tx.clone(),
            token.clone(),
        ));
        followers.tasks.insert(id.clone(), (token, task));
    }
    followers.connected = now;
}

/// Acts on what a follower said.
async fn on_signal(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    followers: &mut Followers,
    signal: Signal,
    on_change: &(impl Fn(&Order) + Send + Sync),
) {
    match signal {
        Signal::Opened(id) => {
            followers.streaming.insert(id.clone());
            if let Some(broker) = manager.connector(&id) {
                reconcile_one(core, &id, &broker, Occasion::EventStream, on_change).await;
            }
        }
        Signal::Closed(id) => {
            followers.streaming.remove(&id);
        }
        Signal::Unsupported(id) => {
            followers.streaming.remove(&id);
            followers.unsupported.insert(id);
        }
        Signal::Update(id, update) => {
            let Some(broker) = manager.connector(&id) else {
                return;
            };
            if let Err(e) = apply_update(core, &id, &broker, *update, on_change).await {
                tracing::warn!(error = %e, "could not record an order event");
            }
        }
    }
}

/// Adopts what an order event says: the state it carries, or the order read back from the
/// broker when it carries none. An event about an order this profile does not know
/// reconciles the account (it was placed elsewhere).
async fn apply_update(
    core: &Arc<Brokerdesk>,
    account_id: &str,
    broker: &Arc<dyn Broker>,
    update: OrderUpdate,
    on_change: &(impl Fn(&Order) + Send + Sync),
) -> Result<(), oms::OmsError> {
    let store = core.store();
    let mut conn = store.acquire().await?;
    let local = order_store::by_broker_ref(
        &mut conn,
        account_id,
        &update.broker_order_id,
        update.client_order_id.as_deref(),
    )
    .await?;
    drop(conn);
    let Some(order) = local else {
        reconcile_one(core, account_id, broker, Occasion::UnknownOrder, on_change).await;
        return Ok(());
    };
    // Being sent right now (its sender settles it), waiting for a person, or settled.
    if !matches!(
        order.status,
        OrderStatus::Open | OrderStatus::PartiallyFilled | OrderStatus::Unknown
    ) || order.mode != TradingMode::Live
    {
        return Ok(());
    }
    let state = match update.state {
        Some(s) if s.broker_order_id == update.broker_order_id => s,
        _ => match broker.get_order(&update.broker_order_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(order = %order.id, error = %e, "could not read an order an event named");
                return Ok(());
            }
        },
    };
    let next = oms::adopt(&order, &state, Utc::now());
    if oms::differs(&order, &next) {
        let stored = oms::write(&store, &next, "reported by the broker's event stream").await?;
        on_change(&stored);
    }
    Ok(())
}

/// Reconciles one account's open orders with its broker now.
async fn reconcile_one(
    core: &Arc<Brokerdesk>,
    account_id: &str,
    broker: &Arc<dyn Broker>,
    occasion: Occasion,
    on_change: &(impl Fn(&Order) + Send + Sync),
) {
    match reconcile::open_orders(&core.store(), account_id, broker, Utc::now(), occasion).await {
        Ok(changed) => {
            for o in &changed {
                on_change(o);
            }
        }
        Err(e) => tracing::debug!(error = %e, "could not reconcile an account's orders"),
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
/// [`reconcile`]): orders placed outside Brokerdesk are recorded as `external`. A stopped or
/// reconnecting account is not asked (it is reconciled as soon as it connects again).
async fn reconcile_live(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    connected: &HashSet<String>,
    on_change: &(impl Fn(&Order) + Send + Sync),
    cancel: &CancellationToken,
) {
    for id in connected {
        if cancel.is_cancelled() {
            return;
        }
        let Some(broker) = manager.connector(id) else {
            continue;
        };
        reconcile_one(core, id, &broker, Occasion::Routine, on_change).await;
    }
}

/// Reads every working live order back from its broker once (see [`oms::refresh`]).
async fn poll_working(
    core: &Arc<Brokerdesk>,
    manager: &Arc<ConnectionManager>,
    skip_accounts: &HashSet<String>,
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
        if skip_accounts.contains(&order.account_id) {
            continue;
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
