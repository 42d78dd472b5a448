//! Live prices for the window: for every account that streams, one pump task takes the
//! feed's coalesced prices (at most the configured updates per instrument per second, latest
//! value wins) and publishes them as `price-update`; broker notices (an unknown instrument, a
//! limit) go out as `price-notice`. The feed's reader never waits for the window.
//!
//! A pump ends when its feed closes (the account was re-synced or removed), when it is
//! replaced, or at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::events::{RuntimeEvent, UiEvent};
use crate::settings::DEFAULT_PRICE_UPDATES_PER_SECOND;
use crate::stream::feed::{Feed, PriceUpdate};

struct Pump {
    feed: Arc<Feed>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The pumps, by account id.
pub(super) struct Prices {
    out: broadcast::Sender<RuntimeEvent>,
    pumps: Mutex<HashMap<String, Pump>>,
    rate: Mutex<u32>,
}

impl Prices {
    pub(super) fn new(out: broadcast::Sender<RuntimeEvent>) -> Self {
        Self {
            out,
            pumps: Mutex::new(HashMap::new()),
            rate: Mutex::new(DEFAULT_PRICE_UPDATES_PER_SECOND),
        }
    }

    fn pumps(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pump>> {
        self.pumps.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rate(&self) -> u32 {
        *self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pumps `feed` to the window, unless it already is.
    pub(super) fn attach(&self, feed: Arc<Feed>) {
        let id = feed.account_id().to_string();
        let mut pumps = self.pumps();
        if pumps
            .get(&id)
            .is_some_and(|p| Arc::ptr_eq(&p.feed, &feed) && !p.task.is_finished())
        {
            return;
        }
        if let Some(old) = pumps.remove(&id) {
            old.stop.cancel();
        }
        let stop = CancellationToken::new();
        let task = tokio::spawn(pump(
            self.out.clone(),
            feed.clone(),
            self.rate(),
            stop.clone(),
        ));
        pumps.insert(id, Pump { feed, stop, task });
    }

    /// Stops the pump of an account.
    pub(super) fn detach(&self, account_id: &str) {
        if let Some(p) = self.pumps().remove(account_id) {
            p.stop.cancel();
        }
    }

    /// Applies a new updates-per-second cap: every pump restarts with it.
    pub(super) fn set_rate(&self, rate: u32) {
        let rate = rate.max(1);
        {
            let mut current = self.rate.lock().unwrap_or_else(|e| e.into_inner());
            if *current == rate {
                return;
            }
            *current = rate;
        }
        let feeds: Vec<Arc<Feed>> = self.pumps().values().map(|p| p.feed.clone()).collect();
        for feed in feeds {
            self.detach(feed.account_id());
            self.attach(feed);
        }
    }

    /// Stops every pump and waits for them.
    pub(super) async fn stop(&self) {
        let pumps: Vec<Pump> = self.pumps().drain().map(|(_, p)| p).collect();
        for p in pumps {
            p.stop.cancel();
            let _ = p.task.await;
        }
    }
}

async fn pump(
    out: broadcast::Sender<RuntimeEvent>,
    feed: Arc<Feed>,
    rate: u32,
    stop: CancellationToken,
) {
    let prices = feed.coalesced(rate);
    let mut notices = feed.notices();
    let account_id = feed.account_id().to_string();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            ticks = prices.next_batch() => {
                if ticks.is_empty() {
                    break;
                }
                let update = PriceUpdate { account_id: account_id.clone(), ticks };
                let _ = out.send(RuntimeEvent::Ui(UiEvent::PriceUpdate(update)));
            }
            notice = notices.recv() => match notice {
                Ok(n) => {
                    let _ = out.send(RuntimeEvent::Ui(UiEvent::PriceNotice(n)));
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    tracing::debug!(account = %account_id, dropped = prices.dropped(), "price pump stopped");
}
