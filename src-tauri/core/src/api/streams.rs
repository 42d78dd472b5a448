//! Watchlists and price streams over the API: the instruments an account streams (kept in
//! its configuration, so they survive restarts), instrument search for autocomplete, and a
//! supervised feed for one account (what `brokerdesk stream` prints).

use std::sync::Arc;

use super::{api, Brokerdesk, DomainEvent};
use crate::accounts::model::{Account, AccountInput};
use crate::brokers::{self, BrokerError};
use crate::connection::links::LinkMetrics;
use crate::connection::{spawn, Backoff, ConnectionHandle};
use crate::error::{ApiError, Code};
use crate::stream::feed::{Feed, FeedNotice, PriceLink};
use crate::stream::InstrumentInfo;
use tokio::sync::broadcast;

/// A feed of one account and the connection that keeps it up.
pub struct FeedSession {
    pub feed: Arc<Feed>,
    /// The feed's notices from before the connection started: one subscribed afterwards
    /// (`feed.notices()`) can miss what the first connect reports, such as an instrument the
    /// broker does not offer, whenever the connection task runs first.
    pub notices: broadcast::Receiver<FeedNotice>,
    /// Watch it for `Failed` (refused credentials) and reconnect attempts.
    pub connection: ConnectionHandle,
    pub metrics: Arc<LinkMetrics>,
}

fn no_stream(account: &Account) -> ApiError {
    ApiError::new(
        Code::StreamUnavailable,
        format!(
            "{} has no price stream: the built-in paper broker streams nothing, and a broker account needs stored credentials",
            account.name
        ),
    )
}

impl Brokerdesk {
    /// Sets the instruments an account streams (its watchlist). Not a sensitive change: no
    /// step-up, credentials untouched.
    pub async fn account_set_instruments(
        &self,
        key: &str,
        instruments: Vec<String>,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let current = self.accounts.get(key).await.map_err(api)?;
            let mut input = AccountInput::from_account(&current);
            let mut list: Vec<String> = Vec::new();
            for i in instruments {
                let i = i.trim().to_string();
                if !i.is_empty() && !list.contains(&i) {
                    list.push(i);
                }
            }
            input.instruments = list;
            let a = self
                .accounts
                // A watchlist is not a security setting: not audited.
                .update(&current.id, input, None, &|_| Vec::new())
                .await
                .map_err(api)?;
            g.publish(DomainEvent::AccountChanged {
                account_id: a.id.clone(),
            });
            Ok(a)
        })
        .await
    }

    /// Searches the broker's instruments of an account (watchlist autocomplete).
    pub async fn instruments_search(
        &self,
        key: &str,
        query: &str,
    ) -> Result<Vec<InstrumentInfo>, ApiError> {
        let Some((account, cfg)) = self.connection_config(key).await? else {
            let account = self.accounts.get(key).await.map_err(api)?;
            return Err(no_stream(&account));
        };
        let broker = brokers::connector(cfg).map_err(api)?;
        match broker.search_instruments(query).await {
            Ok(list) => Ok(list),
            Err(BrokerError::Unsupported(_)) => Err(ApiError::new(
                Code::SearchUnsupported,
                format!(
                    "{}'s broker offers no instrument search; type the symbol",
                    account.name
                ),
            )),
            Err(e) => Err(api(e)),
        }
    }

    /// Opens a supervised price feed of `instruments` for one account: it reconnects with
    /// backoff and re-subscribes by itself; refused credentials end in `Failed`.
    pub async fn stream_open(
        &self,
        key: &str,
        instruments: &[String],
        backoff: Backoff,
    ) -> Result<FeedSession, ApiError> {
        let Some((account, cfg)) = self.connection_config(key).await? else {
            let account = self.accounts.get(key).await.map_err(api)?;
            return Err(no_stream(&account));
        };
        let broker: Arc<dyn brokers::Broker> = Arc::from(brokers::connector(cfg).map_err(api)?);
        let feed = Feed::new(account.id.clone(), instruments);
        let metrics = LinkMetrics::new();
        let notices = feed.notices();
        let link = PriceLink::new(broker, feed.clone(), metrics.clone());
        Ok(FeedSession {
            feed,
            notices,
            connection: spawn(link, backoff),
            metrics,
        })
    }
}
