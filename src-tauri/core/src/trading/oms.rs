//! Sending live orders so that none is ever sent twice or lost.
//!
//! 1. The intent (status `pending`, a fresh client order id) is committed before anything
//!    else ([`super::store::insert`]).
//! 2. Right before the network call, `sent_at` is committed by a compare-and-set: of two
//!    processes that try to send the same order, one wins; and after a crash, an order
//!    without `sent_at` provably never left the machine.
//! 3. The answer decides: accepted → the broker's state; refused by the broker (a 4xx, bad
//!    credentials, a rate limit, an open circuit: nothing was placed) → `rejected`; no usable
//!    answer (timeout, reset, a 5xx or garbage after sending) → `unknown`. An order POST is
//!    never retried.
//! 4. An `unknown` order is looked up by its client order id on a backoff schedule
//!    ([`LOOKUP_AFTER`]: 0.5, 1, 2, 4, 8 s, then the last look 15.5 s after sending —
//!    OANDA says `NO_SUCH_ORDER` for a moment after a fill, so "not found" right away proves
//!    nothing). Found: its state is adopted. Still not found after the last look: `needs_review`,
//!    for a person to decide; it is never resent by itself. The schedule is a parameter of
//!    [`send`] and [`look_up`] so that tests can run it in milliseconds (the runtime takes it
//!    from `RuntimeOptions::lookup_after`, [`LOOKUP_AFTER`] by default).
//! 5. At start ([`recover`]): an order that was never sent and is older than [`STALE_AFTER`]
//!    is cancelled (a trader does not want a minutes-old order sent late), a younger one is
//!    sent; one sent without an outcome becomes `unknown` and is looked up. A never-sent
//!    replacement (a change at a broker that replaces orders, see [`super::modify`]) is
//!    cancelled, never sent as a new order.

use std::sync::Arc;
use std::time::Duration;

use super::intent::{OrderDraft, OrderIntent};
use super::model::{Order, OrderStatus};
use super::store::{self, OrderStoreError};
use crate::brokers::{self, Broker, BrokerError, OrderState};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// When the lookups of an `unknown` order happen, counted from when it was sent.
pub const LOOKUP_AFTER: &[Duration] = &[
    Duration::from_millis(500),
    Duration::from_millis(1_500),
    Duration::from_millis(3_500),
    Duration::from_millis(7_500),
    Duration::from_millis(15_500),
];

/// The schedule to use: `schedule`, or [`LOOKUP_AFTER`] when it is empty.
fn schedule_or_default(schedule: &[Duration]) -> &[Duration] {
    if schedule.is_empty() {
        LOOKUP_AFTER
    } else {
        schedule
    }
}

/// How old a never-sent order may be at start and still be sent.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// What the answer to an order POST means.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// The broker has it: its state.
    Placed(OrderState),
    /// The broker did not place it (or it was never sent); why.
    NotPlaced(String),
    /// Nobody can tell yet; why.
    Unknown(String),
}

/// Classifies the outcome of an order POST (see the module docs).
pub fn classify(result: Result<OrderState, BrokerError>) -> Placement {
    match result {
        Ok(state) => Placement::Placed(state),
        Err(e) => match &e {
            // Refusals, and calls that never left: nothing was placed.
            BrokerError::Auth(_)
            | BrokerError::Rejected { .. }
            | BrokerError::NotFound(_)
            | BrokerError::Config(_)
            | BrokerError::Unsupported(_)
            | BrokerError::RateLimited { .. }
            | BrokerError::CircuitOpen(_)
            // Refused in the TLS handshake, before the request was written.
            | BrokerError::CertificateChanged { .. } => Placement::NotPlaced(e.text()),
            // The request may have reached the broker and been acted on.
            BrokerError::Timeout(_)
            | BrokerError::Network(_)
            | BrokerError::Unavailable { .. }
            | BrokerError::Protocol(_) => Placement::Unknown(e.text()),
        },
    }
}

/// Returns `order` as the broker reports it: status, fills, broker id.
pub fn adopt(order: &Order, state: &OrderState, now: DateTime<Utc>) -> Order {
    let mut next = order.clone();
    next.broker_order_id = Some(state.broker_order_id.clone());
    next.status = match state.status {
        brokers::OrderStatus::Pending | brokers::OrderStatus::Open => OrderStatus::Open,
        brokers::OrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
        brokers::OrderStatus::Filled => OrderStatus::Filled,
        brokers::OrderStatus::Cancelled => OrderStatus::Cancelled,
        brokers::OrderStatus::Rejected => OrderStatus::Rejected,
    };
    next.filled_qty = state.filled_quantity.normalize();
    next.avg_fill_price = state.avg_fill_price.map(|p| p.normalize());
    next.broker_status = Some(state.broker_status.clone());
    // The broker's terms win too: a change made in place (here, or at the broker's website)
    // shows. Only the price that belongs to the order's type is taken.
    if state.quantity > Decimal::ZERO {
        next.quantity = state.quantity.normalize();
    }
    if let Some(terms) = &state.terms {
        match order.order_type {
            brokers::OrderType::Limit => {
                if let Some(p) = terms.limit_price {
                    next.limit_price = Some(p.normalize());
                }
            }
            brokers::OrderType::Stop => {
                if let Some(p) = terms.stop_price {
                    next.stop_price = Some(p.normalize());
                }
            }
            brokers::OrderType::Market => {}
        }
    }
    next.updated_at = now;
    next
}

/// Returns true when `next` (an adopted state) says something new about `order`: its
/// status, fills, broker id or terms.
pub fn differs(order: &Order, next: &Order) -> bool {
    next.status != order.status
        || next.filled_qty != order.filled_qty
        || next.avg_fill_price != order.avg_fill_price
        || next.broker_order_id != order.broker_order_id
        || next.quantity != order.quantity
        || next.limit_price != order.limit_price
        || next.stop_price != order.stop_price
}

/// The validated intent the connectors take, rebuilt from the stored order (it was checked
/// when it was placed; a row edited since into something invalid is refused here).
pub fn request(order: &Order) -> Result<OrderIntent, OmsError> {
    let price = order.limit_price.or(order.stop_price);
    let draft = OrderDraft {
        symbol: order.symbol.clone(),
        side: order.side,
        quantity: order.quantity.to_string(),
        order_type: order.order_type,
        price: price.map(|p| p.to_string()),
        time_in_force: order.time_in_force,
        stop_loss: order.stop_loss.map(|p| p.to_string()),
        take_profit: order.take_profit.map(|p| p.to_string()),
        client_order_id: Some(order.client_order_id.clone()),
    };
    OrderIntent::check(&draft).map_err(|fields| invalid(&fields))
}

/// An [`OmsError::Invalid`] listing each field's problem (`quantity: …; price: …`).
pub(crate) fn invalid(fields: &[crate::error::FieldError]) -> OmsError {
    OmsError::Invalid(
        fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Why the order system could not do something.
#[derive(Debug, thiserror::Error)]
pub enum OmsError {
    #[error(transparent)]
    Store(#[from] OrderStoreError),
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("the stored order is not valid: {0}")]
    Invalid(String),
    /// The broker could not be asked (reconciliation), or refused a change.
    #[error(transparent)]
    Broker(BrokerError),
    /// The order is not open (a change to a final or unresolved order).
    #[error("{0}")]
    NotOpen(String),
    /// The order cannot be changed (a market order).
    #[error("{0}")]
    NotModifiable(String),
    /// A change made in place was not answered.
    #[error("{0}")]
    ChangeUnknown(String),
}

impl crate::error::ErrorCode for OmsError {
    fn code(&self) -> crate::error::Code {
        match self {
            OmsError::Store(e) => e.code(),
            OmsError::Unsupported(_) => crate::error::Code::BrokerUnsupported,
            OmsError::Invalid(_) => crate::error::Code::Validation,
            OmsError::Broker(e) => e.code(),
            OmsError::NotOpen(_) => crate::error::Code::OrderNotOpen,
            OmsError::NotModifiable(_) => crate::error::Code::NotModifiable,
            OmsError::ChangeUnknown(_) => crate::error::Code::ModifyUnknown,
        }
    }
}

impl From<StoreError> for OmsError {
    fn from(e: StoreError) -> Self {
        OmsError::Store(e.into())
    }
}

impl From<sqlx::Error> for OmsError {
    fn from(e: sqlx::Error) -> Self {
        OmsError::Store(e.into())
    }
}

/// Writes `next` if the stored order is still at `next.version`; returns the stored order
/// afterwards (ours, or the one another writer got in first).
pub(crate) async fn write(store: &Store, next: &Order, detail: &str) -> Result<Order, OmsError> {
    Ok(write_cas(store, next, detail).await?.0)
}

/// Like [`write`], also saying whether this write was the one that happened.
pub(crate) async fn write_cas(
    store: &Store,
    next: &Order,
    detail: &str,
) -> Result<(Order, bool), OmsError> {
    let mut tx = store.begin_write().await?;
    let done = store::update(&mut tx, next, detail).await?;
    let stored = store::get(&mut tx, &next.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let stored = stored.unwrap_or_else(|| Order {
        version: next.version + i64::from(done),
        ..next.clone()
    });
    Ok((stored, done))
}

/// Sends a `pending` live order (see the module docs); an outcome that is unknown gets its
/// first lookup at `schedule[0]` after sending ([`LOOKUP_AFTER`] when `schedule` is empty).
/// Returns the order as it then stands; if another process claimed it first, returns it as
/// that process left it.
pub async fn send(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
    schedule: &[Duration],
) -> Result<Order, OmsError> {
    if order.status != OrderStatus::Pending || order.sent_at.is_some() {
        return Ok(order);
    }
    let req = match request(&order) {
        Ok(r) => r,
        Err(e @ (OmsError::Unsupported(_) | OmsError::Invalid(_))) => {
            let why = e.to_string();
            let mut next = order.clone();
            next.status = OrderStatus::Rejected;
            next.reason = Some(why.clone());
            next.updated_at = Utc::now();
            return write(store, &next, &why).await;
        }
        Err(e) => return Err(e),
    };
    // Claim it: committed before the request leaves.
    let mut claimed = order.clone();
    claimed.sent_at = Some(Utc::now());
    claimed.updated_at = Utc::now();
    let (stored, claimed_it) = write_cas(store, &claimed, "sending").await?;
    if !claimed_it {
        // Another process claimed it first: it sends, this one does not.
        return Ok(stored);
    }
    let outcome = classify(broker.place_order(&req).await);
    settle(store, stored, outcome, schedule).await
}

/// Records what an order POST came back with.
pub(crate) async fn settle(
    store: &Store,
    order: Order,
    outcome: Placement,
    schedule: &[Duration],
) -> Result<Order, OmsError> {
    let schedule = schedule_or_default(schedule);
    let now = Utc::now();
    match outcome {
        Placement::Placed(state) => {
            let next = adopt(&order, &state, now);
            write(store, &next, "accepted by the broker").await
        }
        Placement::NotPlaced(why) => {
            let mut next = order.clone();
            next.status = OrderStatus::Rejected;
            next.reason = Some(why.clone());
            next.updated_at = now;
            write(store, &next, &why).await
        }
        Placement::Unknown(why) => {
            let mut next = order.clone();
            next.status = OrderStatus::Unknown;
            next.reason = Some(format!(
                "no answer from the broker ({why}); looking it up by its client order id"
            ));
            next.updated_at = now;
            let stored = write(store, &next, &why).await?;
            let first = order.sent_at.unwrap_or(now) + to_chrono(schedule[0]);
            let mut conn = store.acquire().await?;
            store::schedule_lookup(&mut conn, &order.id, 0, Some(first)).await?;
            Ok(stored)
        }
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::seconds(1))
}

/// Looks an `unknown` order up once (when its lookup is due); returns it as it then stands.
/// `schedule` is the one it was sent with ([`LOOKUP_AFTER`] when empty).
pub async fn look_up(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
    schedule: &[Duration],
) -> Result<Order, OmsError> {
    if order.status != OrderStatus::Unknown {
        return Ok(order);
    }
    let schedule = schedule_or_default(schedule);
    let found = broker.get_order_by_client_id(&order.client_order_id).await;
    let now = Utc::now();
    if let Ok(Some(state)) = &found {
        let next = adopt(&order, state, now);
        return write(store, &next, "found at the broker by its client order id").await;
    }
    let mut conn = store.acquire().await?;
    let (done, _) = store::lookup_state(&mut conn, &order.id).await?;
    let done = done + 1;
    let sent = order.sent_at.unwrap_or(order.created_at);
    match schedule.get(usize::try_from(done).unwrap_or(usize::MAX)) {
        Some(after) => {
            store::schedule_lookup(&mut conn, &order.id, done, Some(sent + to_chrono(*after)))
                .await?;
            drop(conn);
            Ok(order)
        }
        None => {
            store::schedule_lookup(&mut conn, &order.id, done, None).await?;
            drop(conn);
            let last = match &found {
                Err(e) => format!("the last lookup failed: {e}"),
                _ => "the broker does not know its client order id".to_string(),
            };
            let mut next = order.clone();
            next.status = OrderStatus::NeedsReview;
            next.reason = Some(format!(
                "sent at {}, but after {done} lookups over {} s {last}; it may or may not be at the broker: check there, then mark it placed or not placed",
                sent.format("%H:%M:%S"),
                schedule.last().map(|d| d.as_secs_f64()).unwrap_or_default(),
            ));
            next.updated_at = now;
            write(store, &next, "needs review").await
        }
    }
}

/// Live orders the broker is working (open or partly filled, with the broker's id): the
/// worker reads each back every [`POLL_EVERY`], so fills and cancels made at the broker
/// reach the window within a second or two.
pub async fn working_live(store: &Store) -> Result<Vec<Order>, OmsError> {
    let mut conn = store.acquire().await?;
    let mut out = Vec::new();
    for status in [OrderStatus::Open, OrderStatus::PartiallyFilled] {
        out.extend(
            store::with_status(&mut conn, status)
                .await?
                .into_iter()
                .filter(|o| {
                    o.mode == crate::accounts::model::TradingMode::Live
                        && o.broker_order_id.is_some()
                }),
        );
    }
    Ok(out)
}

/// How often the worker reads working live orders back from their brokers.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// Reads a working live order back from its broker and adopts what changed (a fill, a
/// cancel made at the broker). Returns the order and whether it changed. A failed read
/// changes nothing (the next poll tries again).
pub async fn refresh(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
) -> Result<(Order, bool), OmsError> {
    let Some(id) = order.broker_order_id.clone() else {
        return Ok((order, false));
    };
    if !matches!(
        order.status,
        OrderStatus::Open | OrderStatus::PartiallyFilled
    ) {
        return Ok((order, false));
    }
    let state = match broker.get_order(&id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(order = %order.id, error = %e, "could not read a working order back");
            return Ok((order, false));
        }
    };
    let next = adopt(&order, &state, Utc::now());
    if !differs(&order, &next) {
        return Ok((order, false));
    }
    let (stored, done) = write_cas(store, &next, "read back from the broker").await?;
    Ok((stored, done))
}

/// Orders whose lookup is due now, oldest first.
pub async fn due_lookups(store: &Store, now: DateTime<Utc>) -> Result<Vec<Order>, OmsError> {
    let mut conn = store.acquire().await?;
    let unknown = store::with_status(&mut conn, OrderStatus::Unknown).await?;
    let mut due = Vec::new();
    for o in unknown {
        let (_, next) = store::lookup_state(&mut conn, &o.id).await?;
        if next.is_none_or(|t| t <= now) {
            due.push(o);
        }
    }
    Ok(due)
}

/// At start: never-sent orders are sent (young) or cancelled (stale); sent ones without an
/// outcome become `unknown`. Returns the orders that are to be sent now.
pub async fn recover(store: &Store, now: DateTime<Utc>) -> Result<Vec<Order>, OmsError> {
    let mut conn = store.acquire().await?;
    // Paper orders are the paper desk's (a pending one is a bracket child waiting).
    let pending: Vec<Order> = store::with_status(&mut conn, OrderStatus::Pending)
        .await?
        .into_iter()
        .filter(|o| o.mode == crate::accounts::model::TradingMode::Live)
        .collect();
    drop(conn);
    let mut to_send = Vec::new();
    for o in pending {
        if o.sent_at.is_some() {
            let mut next = o.clone();
            next.status = OrderStatus::Unknown;
            next.reason = Some(
                "Brokerdesk stopped while this order was being sent; looking it up by its client order id"
                    .into(),
            );
            next.updated_at = now;
            let stored = write(store, &next, "outcome unknown after a restart").await?;
            if stored.status == OrderStatus::Unknown {
                let mut conn = store.acquire().await?;
                store::schedule_lookup(&mut conn, &o.id, 0, Some(now)).await?;
            }
        } else if o.replaces.is_some() {
            // A change that never left: sending it now as a new order would put a second
            // order next to the original, which still works at the broker.
            let mut next = o.clone();
            next.status = OrderStatus::Cancelled;
            next.reason = Some(
                "never sent: Brokerdesk stopped before sending this change; the original order is unchanged"
                    .into(),
            );
            next.updated_at = now;
            write(store, &next, "change not sent").await?;
        } else if now - o.created_at > to_chrono(STALE_AFTER) {
            let mut next = o.clone();
            next.status = OrderStatus::Cancelled;
            next.reason = Some(format!(
                "never sent: Brokerdesk stopped before sending it, and an order {} s old is not sent late",
                (now - o.created_at).num_seconds()
            ));
            next.updated_at = now;
            write(store, &next, "not sent").await?;
        } else {
            to_send.push(o);
        }
    }
    Ok(to_send)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: brokers::OrderStatus) -> OrderState {
        OrderState {
            broker_order_id: "B1".into(),
            client_order_id: Some("bd-1".into()),
            symbol: "AAPL".into(),
            side: brokers::OrderSide::Buy,
            quantity: rust_decimal_macros::dec!(10),
            filled_quantity: rust_decimal_macros::dec!(4),
            avg_fill_price: Some(rust_decimal_macros::dec!(187.25)),
            status,
            broker_status: "partially_filled".into(),
            terms: None,
        }
    }

    #[test]
    fn an_answer_decides_placed_not_placed_or_unknown() {
        assert!(matches!(
            classify(Ok(state(brokers::OrderStatus::Open))),
            Placement::Placed(_)
        ));
        for not_placed in [
            BrokerError::Auth("no".into()),
            BrokerError::Rejected {
                status: 422,
                code: "x".into(),
                message: "insufficient buying power".into(),
            },
            BrokerError::RateLimited { retry_after: None },
            BrokerError::CircuitOpen("open".into()),
        ] {
            assert!(
                matches!(classify(Err(not_placed.clone())), Placement::NotPlaced(_)),
                "{not_placed:?}"
            );
        }
        for unknown in [
            BrokerError::Timeout(Duration::from_secs(10)),
            BrokerError::Network("connection reset".into()),
            BrokerError::Unavailable {
                status: 500,
                message: "oops".into(),
            },
            BrokerError::Protocol("garbage".into()),
        ] {
            assert!(
                matches!(classify(Err(unknown.clone())), Placement::Unknown(_)),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn the_lookups_span_more_than_fifteen_seconds() {
        assert!(LOOKUP_AFTER.windows(2).all(|w| w[0] < w[1]));
        assert!(LOOKUP_AFTER.last().is_some_and(|d| d.as_secs() >= 15));
    }
}
