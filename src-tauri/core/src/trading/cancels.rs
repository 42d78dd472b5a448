//! Cancels that the broker did not answer, retried from a persisted queue.
//!
//! A cancel is safe to repeat (cancelling a cancelled order changes nothing), so unlike an
//! order POST it is retried — but only when the failure says nothing happened or nobody can
//! tell: a timeout, a reset, a 5xx, garbage, a rate limit, an open circuit. A refusal (the
//! order is already filled, unknown to the broker, bad credentials) is not retried: the
//! order's state is read back from the broker instead.
//!
//! The queue is a table (`cancel_queue`), so a restart does not forget a cancel. The order
//! worker retries each when due: after 1, 2, 4, 8, 16, 32, 60, 60 s (±20 % jitter, so many
//! queued cancels do not hit a recovering broker at once). Confirmed: the broker's state is
//! adopted. Still unanswered after [`RETRIES`] attempts (about two minutes): the order goes
//! to **Needs review**, with what was tried and what to do.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::model::{Order, OrderStatus};
use super::oms::{adopt, write, OmsError};
use super::store::{self, fmt_time};
use crate::brokers::{Broker, BrokerError};
use crate::store::{Store, StoreError};

/// How many times a cancel is sent before its order goes to Needs review.
pub const RETRIES: u32 = 8;

/// Whether a failed cancel may be sent again: the broker did not refuse it.
pub fn retryable(e: &BrokerError) -> bool {
    matches!(
        e,
        BrokerError::Timeout(_)
            | BrokerError::Network(_)
            | BrokerError::Unavailable { .. }
            | BrokerError::Protocol(_)
            | BrokerError::RateLimited { .. }
            | BrokerError::CircuitOpen(_)
    )
}

/// The wait before attempt `attempt + 1`, after `attempt` failed ones: 1 s doubling to a
/// 60 s cap, ±20 % jitter (`jitter` in 0..=1 picks where in that band).
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 1_000u64
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
        .min(60_000);
    // The jitter only spreads retries in time; it never touches money.
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_millis((base as f64 * factor) as u64)
}

fn random_jitter() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

/// Queues a cancel the broker did not answer (its first attempt, `error`); records it on
/// the order's history. Queuing one already queued changes nothing.
pub async fn queue(
    store: &Store,
    order: &Order,
    error: &BrokerError,
    now: DateTime<Utc>,
) -> Result<(), OmsError> {
    let mut tx = store.begin_write().await?;
    let added = sqlx::query(
        "INSERT INTO cancel_queue (order_id, attempts, next_at, last_error, queued_at)
         VALUES (?, 1, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(&order.id)
    .bind(fmt_time(later(now, backoff(1, random_jitter()))))
    .bind(error.text())
    .bind(fmt_time(now))
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .rows_affected();
    if added == 1 {
        store::event(
            &mut tx,
            &order.id,
            order.status,
            &format!(
                "cancel requested; the broker did not answer ({}): retrying in the background",
                error.text()
            ),
            now,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Whether a cancel of this order is queued.
pub async fn is_queued(store: &Store, order_id: &str) -> Result<bool, OmsError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cancel_queue WHERE order_id = ?")
        .bind(order_id)
        .fetch_one(store.pool())
        .await
        .map_err(StoreError::from)?;
    Ok(n > 0)
}

/// The queued cancels due now, with how many attempts each has had.
pub async fn due(store: &Store, now: DateTime<Utc>) -> Result<Vec<(Order, u32)>, OmsError> {
    let rows = sqlx::query(
        "SELECT order_id, attempts FROM cancel_queue WHERE next_at <= ? ORDER BY next_at",
    )
    .bind(fmt_time(now))
    .fetch_all(store.pool())
    .await
    .map_err(StoreError::from)?;
    let mut out = Vec::new();
    let mut conn = store.acquire().await?;
    for r in rows {
        let id: String = r.try_get("order_id").map_err(StoreError::from)?;
        let attempts: i64 = r.try_get("attempts").map_err(StoreError::from)?;
        if let Some(o) = store::get(&mut conn, &id).await? {
            out.push((o, u32::try_from(attempts).unwrap_or(RETRIES)));
        }
    }
    Ok(out)
}

async fn dequeue(store: &Store, order_id: &str) -> Result<(), OmsError> {
    sqlx::query("DELETE FROM cancel_queue WHERE order_id = ?")
        .bind(order_id)
        .execute(store.pool())
        .await
        .map_err(StoreError::from)?;
    Ok(())
}

/// Sends a queued cancel again (see the module docs); returns the order as it then stands.
pub async fn retry(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
    attempts: u32,
) -> Result<Order, OmsError> {
    let Some(broker_id) = order.broker_order_id.clone() else {
        dequeue(store, &order.id).await?;
        return Ok(order);
    };
    if order.status.is_final() || order.status == OrderStatus::NeedsReview {
        // Settled meanwhile (filled, cancelled at the broker, resolved by hand).
        dequeue(store, &order.id).await?;
        return Ok(order);
    }
    let now = Utc::now();
    match broker.cancel_order(&broker_id).await {
        Ok(()) => {
            dequeue(store, &order.id).await?;
            match broker.get_order(&broker_id).await {
                Ok(state) => {
                    let next = adopt(&order, &state, now);
                    write(
                        store,
                        &next,
                        &format!("cancel confirmed by the broker (attempt {})", attempts + 1),
                    )
                    .await
                }
                // Confirmed; the once-a-second read-back records the broker's state.
                Err(_) => Ok(order),
            }
        }
        Err(e) if retryable(&e) && attempts + 1 < RETRIES => {
            sqlx::query(
                "UPDATE cancel_queue SET attempts = ?, next_at = ?, last_error = ? WHERE order_id = ?",
            )
            .bind(i64::from(attempts + 1))
            .bind(fmt_time(later(now, backoff(attempts + 1, random_jitter()))))
            .bind(e.text())
            .bind(&order.id)
            .execute(store.pool())
            .await
            .map_err(StoreError::from)?;
            Ok(order)
        }
        Err(e) => {
            dequeue(store, &order.id).await?;
            // A refusal may mean the order is already done: its state decides.
            if !retryable(&e) {
                if let Ok(state) = broker.get_order(&broker_id).await {
                    let next = adopt(&order, &state, now);
                    if next.status.is_final() {
                        return write(
                            store,
                            &next,
                            &format!(
                                "cancel refused ({}): the order is {}",
                                e.text(),
                                next.status
                            ),
                        )
                        .await;
                    }
                }
            }
            let mut next = order.clone();
            next.status = OrderStatus::NeedsReview;
            next.reason = Some(if retryable(&e) {
                format!(
                    "the cancel was sent {} times and the broker never confirmed it (last: {}); the order may still be working: cancel it at the broker, then resolve it here as placed with broker id {broker_id} to read its state back",
                    attempts + 1,
                    e.text()
                )
            } else {
                format!(
                    "the broker refused the cancel ({}); the order may still be working: check it at the broker, then resolve it here as placed with broker id {broker_id} to read its state back",
                    e.text()
                )
            });
            next.updated_at = now;
            write(store, &next, "cancel failed: needs review").await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute_with_a_fifth_of_jitter() {
        let mid: Vec<u64> = (1..=RETRIES)
            .map(|a| backoff(a, 0.5).as_millis() as u64)
            .collect();
        assert_eq!(mid, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
        assert_eq!(backoff(3, 0.0), Duration::from_millis(3200));
        assert_eq!(backoff(3, 1.0), Duration::from_millis(4800));
        // The whole schedule spans minutes, not seconds.
        let total: Duration = (1..RETRIES).map(|a| backoff(a, 0.0)).sum();
        assert!(total >= Duration::from_secs(90), "{total:?}");
    }

    #[test]
    fn only_failures_that_placed_nothing_certain_are_retried() {
        assert!(retryable(&BrokerError::Timeout(Duration::from_secs(5))));
        assert!(retryable(&BrokerError::Unavailable {
            status: 500,
            message: "x".into()
        }));
        assert!(retryable(&BrokerError::RateLimited { retry_after: None }));
        assert!(!retryable(&BrokerError::Rejected {
            status: 422,
            code: "x".into(),
            message: "already filled".into()
        }));
        assert!(!retryable(&BrokerError::Auth("no".into())));
        assert!(!retryable(&BrokerError::NotFound("gone".into())));
    }
}
