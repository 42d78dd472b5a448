//! Following each connected live account's order-event stream (Alpaca `trade_updates`,
//! OANDA's transaction stream, Tradier's account events, Tastytrade's account streamer,
//! IBKR's `sor` topic; see [`crate::brokers::OrderEventStream`]).
//!
//! One follower task per account reads its stream and hands each update to the order
//! worker through a channel; the worker is the one that writes (compare-and-set, like every
//! other order change), so a fill or a cancel reaches the window as soon as the broker tells
//! it. The follower takes the account's connector from the connection manager at every
//! (re)open, so new credentials or a new session are used. A stream that drops, errs or stays
//! silent past its limit is reopened with backoff (1 s doubling to 30 s); each open is
//! announced ([`Signal::Opened`]) so the worker reconciles the account (events may have been
//! missed while it was down). A broker without such a stream ([`BrokerError::Unsupported`])
//! is followed by the worker's polling alone.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::brokers::{BrokerError, OrderUpdate};
use crate::connection::manager::ConnectionManager;

/// The first wait before reopening a stream; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A stream that stayed open this long is reopened at once when it drops.
const STABLE: Duration = Duration::from_secs(10);

/// What a follower tells the order worker.
#[derive(Debug)]
pub(super) enum Signal {
    /// The account's stream is open: reconcile it (events may have been missed).
    Opened(String),
    /// One update about one of the account's orders.
    Update(String, Box<OrderUpdate>),
    /// The stream closed; polling covers the account until it is open again.
    Closed(String),
    /// The broker has no order-event stream: polling alone follows the account.
    Unsupported(String),
}

/// Follows `account_id`'s order-event stream until cancelled, or until the account is no
/// longer connected (the worker starts a new follower when it is again).
pub(super) async fn follow(
    account_id: String,
    manager: Arc<ConnectionManager>,
    tx: mpsc::Sender<Signal>,
    cancel: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(broker) = manager.connector(&account_id) else {
            return;
        };
        let opened = tokio::select! {
            () = cancel.cancelled() => return,
            r = broker.open_order_events() => r,
        };
        let mut stream = match opened {
            Ok(s) => s,
            Err(BrokerError::Unsupported(_)) => {
                let _ = tx.send(Signal::Unsupported(account_id)).await;
                return;
            }
            Err(e) => {
                tracing::debug!(account = %account_id, code = %crate::error::ErrorCode::code(&e), "could not open the order-event stream");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let opened_at = tokio::time::Instant::now();
        if tx.send(Signal::Opened(account_id.clone())).await.is_err() {
            stream.close().await;
            return;
        }
        let limit = stream.silence_limit();
        let mut updates = Vec::new();
        let why = loop {
            let read = tokio::select! {
                () = cancel.cancelled() => {
                    stream.close().await;
                    return;
                }
                r = tokio::time::timeout(limit, stream.read(&mut updates)) => r,
            };
            match read {
                Ok(Ok(true)) => {
                    for u in updates.drain(..) {
                        if tx
                            .send(Signal::Update(account_id.clone(), Box::new(u)))
                            .await
                            .is_err()
                        {
                            stream.close().await;
                            return;
                        }
                    }
                }
                Ok(Ok(false)) => break "closed by the broker".to_string(),
                Ok(Err(e)) => break e.text(),
                Err(_) => break format!("silent for {} s", limit.as_secs()),
            }
        };
        stream.close().await;
        tracing::info!(account = %account_id, why = %why, "the order-event stream dropped; reopening");
        if tx.send(Signal::Closed(account_id.clone())).await.is_err() {
            return;
        }
        // A stream that lived a while is reopened at once; one that keeps dropping right
        // after it opens backs off like a failed open.
        if opened_at.elapsed() >= STABLE {
            backoff = FIRST_BACKOFF;
        } else {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
