//! Live prices to the UI: for every account that streams, one pump task takes the feed's
//! coalesced prices (at most the configured updates per instrument per second, latest
//! value wins) and emits them as `price-update`; broker notices (an unknown instrument, a
//! limit) go out as `price-notice`. The feed's reader never waits for the UI.
//!
//! A pump ends when its feed closes (the account was re-synced or removed), when it is
//! replaced, or at shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use brokerdesk_core::settings::DEFAULT_PRICE_UPDATES_PER_SECOND;
use brokerdesk_core::stream::feed::{Feed, PriceUpdate};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Sent with a [`PriceUpdate`] payload (`{accountId, ticks}`).
pub const PRICE_UPDATE: &str = "price-update";
/// Sent with a core `FeedNotice` payload (`{accountId, instrument, code, message, at}`).
pub const PRICE_NOTICE: &str = "price-notice";

struct Pump {
    feed: Arc<Feed>,
    stop: CancellationToken,
    task: tauri::async_runtime::JoinHandle<()>,
}

/// The pumps, by account id (managed state).
pub struct Prices {
    pumps: Mutex<HashMap<String, Pump>>,
    rate: Mutex<u32>,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            pumps: Mutex::new(HashMap::new()),
            rate: Mutex::new(DEFAULT_PRICE_UPDATES_PER_SECOND),
        }
    }
}

impl Prices {
    fn pumps(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pump>> {
        self.pumps.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rate(&self) -> u32 {
        *self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pumps `feed` to the UI, unless it already is.
    pub fn attach<R: Runtime>(&self, app: &AppHandle<R>, feed: Arc<Feed>) {
        let id = feed.account_id().to_string();
        let mut pumps = self.pumps();
        if pumps
            .get(&id)
            .is_some_and(|p| Arc::ptr_eq(&p.feed, &feed) && !p.task.inner().is_finished())
        {
            return;
        }
        if let Some(old) = pumps.remove(&id) {
            old.stop.cancel();
        }
        let stop = CancellationToken::new();
        let task =
            tauri::async_runtime::spawn(pump(app.clone(), feed.clone(), self.rate(), stop.clone()));
        pumps.insert(id, Pump { feed, stop, task });
    }

    /// Stops the pump of an account.
    pub fn detach(&self, account_id: &str) {
        if let Some(p) = self.pumps().remove(account_id) {
            p.stop.cancel();
        }
    }

    /// Applies a new updates-per-second cap: every pump restarts with it.
    pub fn set_rate<R: Runtime>(&self, app: &AppHandle<R>, rate: u32) {
        *self.rate.lock().unwrap_or_else(|e| e.into_inner()) = rate.max(1);
        let feeds: Vec<Arc<Feed>> = self.pumps().values().map(|p| p.feed.clone()).collect();
        for feed in feeds {
            self.detach(feed.account_id());
            self.attach(app, feed);
        }
    }

    /// Stops every pump and waits for them.
    pub async fn stop(&self) {
        let pumps: Vec<Pump> = self.pumps().drain().map(|(_, p)| p).collect();
        for p in pumps {
            p.stop.cancel();
            let _ = p.task.await;
        }
    }
}

async fn pump<R: Runtime>(app: AppHandle<R>, feed: Arc<Feed>, rate: u32, stop: CancellationToken) {
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
                if let Err(e) = app.emit(PRICE_UPDATE, &update) {
                    tracing::warn!(error = %e, "could not emit {PRICE_UPDATE}");
                }
            }
            notice = notices.recv() => match notice {
                Ok(n) => {
                    if let Err(e) = app.emit(PRICE_NOTICE, &n) {
                        tracing::warn!(error = %e, "could not emit {PRICE_NOTICE}");
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    tracing::debug!(account = %account_id, dropped = prices.dropped(), "price pump stopped");
}
