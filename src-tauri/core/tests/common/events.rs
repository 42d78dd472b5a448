//! Reading a connector's `OrderEventStream` in the tests, for every broker's account-event
//! tests: one reader ([`read_until`], and [`update_where`], [`read_n_each`] on it), one
//! end-of-stream reader ([`end_of`]), one liveness check ([`alive_for`], [`goes_silent`],
//! both in [`quiet_then_silent`]), and the fill-and-cancel scenario of the brokers whose
//! updates carry the whole order ([`fill_and_cancel`]).

use std::time::Duration;

use brokerdesk_core::brokers::{
    Broker, BrokerError, OrderEventStream, OrderSide, OrderStatus, OrderUpdate,
};
use brokerdesk_sim::Faults;
use rust_decimal_macros::dec;
use tokio::time::Instant;

use super::stock_order;

/// Reads `stream` until `done` holds for every update read so far (asked after each read),
/// `within` at most (failing with `what`). Fails if the stream ends or fails first. Returns
/// every update read.
pub async fn read_until(
    stream: &mut dyn OrderEventStream,
    within: Duration,
    what: &str,
    mut done: impl FnMut(&[OrderUpdate]) -> bool,
) -> Vec<OrderUpdate> {
    let deadline = Instant::now() + within;
    let mut all = Vec::new();
    loop {
        let open = tokio::time::timeout_at(deadline, stream.read(&mut all))
            .await
            .unwrap_or_else(|_| panic!("no {what} within {within:?}; read: {all:?}"))
            .unwrap_or_else(|e| panic!("the event stream failed before {what}: {e:?}"));
        assert!(open, "the event stream closed before {what}; read: {all:?}");
        if done(&all) {
            return all;
        }
    }
}

/// [`read_until`] an update satisfies `want`; returns it.
pub async fn update_where(
    stream: &mut dyn OrderEventStream,
    within: Duration,
    what: &str,
    want: impl Fn(&OrderUpdate) -> bool,
) -> OrderUpdate {
    let all = read_until(stream, within, what, |all| all.iter().any(&want)).await;
    all.into_iter().find(|u| want(u)).expect("read until found")
}

/// [`read_until`] each of `orders` (broker ids) has at least `n` updates, 2 s at most;
/// fails unless that took less than a second (events are for prompt news). Returns every
/// update read.
pub async fn read_n_each(
    stream: &mut dyn OrderEventStream,
    orders: &[&str],
    n: usize,
) -> Vec<OrderUpdate> {
    let started = std::time::Instant::now();
    let what = format!("{n} updates of each of {orders:?}");
    let seen = read_until(stream, Duration::from_secs(2), &what, |u| {
        orders
            .iter()
            .all(|id| u.iter().filter(|x| x.broker_order_id == *id).count() >= n)
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "{took:?}");
    seen
}

/// Whether `updates` name the order `broker_id` (with `client_id`, when given).
pub fn names_order(updates: &[OrderUpdate], broker_id: &str, client_id: Option<&str>) -> bool {
    updates.iter().any(|u| {
        u.broker_order_id == broker_id
            && client_id.is_none_or(|c| u.client_order_id.as_deref() == Some(c))
    })
}

/// Fails unless `updates` name every (broker id, client id) of `orders`.
pub fn assert_names(updates: &[OrderUpdate], orders: &[(&str, &str)]) {
    for (id, coid) in orders {
        assert!(
            names_order(updates, id, Some(coid)),
            "{id} / {coid}: {updates:?}"
        );
    }
}

/// Reads `stream` past whatever is in flight until it ends (3 s at most): `None` when it
/// closed cleanly, or the error it ended with.
pub async fn end_of(stream: &mut dyn OrderEventStream) -> Option<BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut out = Vec::new();
    loop {
        out.clear();
        match tokio::time::timeout_at(deadline, stream.read(&mut out))
            .await
            .expect("the end of the event stream was not noticed in 3 s")
        {
            Ok(true) => continue,
            Ok(false) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// Reads a stream with no order activity for `span`, each read answering within the
/// stream's silence limit (a heartbeat, a ping's pong at least); fails on an error, a
/// close or an update. Returns how many reads there were.
pub async fn alive_for(stream: &mut dyn OrderEventStream, span: Duration) -> usize {
    let limit = stream.silence_limit();
    answers_within(stream, limit, span).await
}

/// [`alive_for`] with each read answering within `limit` instead of the silence limit.
pub async fn answers_within(
    stream: &mut dyn OrderEventStream,
    limit: Duration,
    span: Duration,
) -> usize {
    let until = Instant::now() + span;
    let mut reads = 0;
    let mut out = Vec::new();
    while Instant::now() < until {
        let open = tokio::time::timeout(limit, stream.read(&mut out))
            .await
            .unwrap_or_else(|_| panic!("a quiet stream was silent for {limit:?}"))
            .expect("the quiet stream failed");
        assert!(open, "the quiet stream closed");
        reads += 1;
    }
    assert!(out.is_empty(), "no order changed, yet: {out:?}");
    reads
}

/// Waits (3 s at most) until `stream` stays silent for twice its silence limit, as a
/// half-open link does once what was in flight has been read; the link errs nothing.
pub async fn goes_silent(stream: &mut dyn OrderEventStream) {
    let until = Instant::now() + Duration::from_secs(3);
    let mut out = Vec::new();
    while Instant::now() < until {
        match tokio::time::timeout(stream.silence_limit() * 2, stream.read(&mut out)).await {
            Err(_) => return,
            Ok(r) => assert!(r.is_ok(), "a half-open link errs nothing: {r:?}"),
        }
    }
    panic!("a half-open link kept talking");
}

/// [`alive_for`] `rounds` silence limits (at least two reads), then [`goes_silent`] once
/// the link is half-open (what the owner's watchdog catches), and heals the link. Returns
/// how many reads the quiet stream answered.
pub async fn quiet_then_silent(
    stream: &mut dyn OrderEventStream,
    faults: &Faults,
    rounds: u32,
) -> usize {
    let span = stream.silence_limit() * rounds;
    let reads = alive_for(stream, span).await;
    assert!(reads >= 2, "{reads} reads in {rounds} silence limits");
    faults.set_half_open(true);
    goes_silent(stream).await;
    faults.set_half_open(false);
    reads
}

/// What the event stream of a broker whose updates carry the whole order must show, within
/// `prompt` each: a market buy of 3 AAPL (`<prefix>-mkt`) filling, then a limit buy of 2 at
/// 150 (`<prefix>-lim`, below the market the caller set) working and then cancelled, each
/// update naming the broker's id and the client order id.
pub async fn fill_and_cancel(
    broker: &dyn Broker,
    events: &mut dyn OrderEventStream,
    prefix: &str,
    prompt: Duration,
) {
    let mkt = format!("{prefix}-mkt");
    let placed = broker
        .place_order(&stock_order(&mkt, OrderSide::Buy, dec!(3.0), None))
        .await
        .expect("the market order is placed");
    let started = Instant::now();
    let filled = update_where(events, prompt, "the market order's fill", |u| {
        u.state
            .as_ref()
            .is_some_and(|s| s.status == OrderStatus::Filled)
    })
    .await;
    assert!(started.elapsed() < prompt);
    assert_eq!(filled.broker_order_id, placed.broker_order_id);
    assert_eq!(filled.client_order_id.as_deref(), Some(mkt.as_str()));
    let s = filled.state.expect("a whole state");
    assert_eq!((s.symbol.as_str(), s.side), ("AAPL", OrderSide::Buy));
    assert_eq!((s.quantity, s.filled_quantity), (dec!(3.0), dec!(3.0)));
    assert!(s.avg_fill_price.is_some());

    let lim = format!("{prefix}-lim");
    let resting = broker
        .place_order(&stock_order(
            &lim,
            OrderSide::Buy,
            dec!(2.0),
            Some(dec!(150.0)),
        ))
        .await
        .expect("the limit order is placed");
    let working = update_where(events, prompt, "the limit order working", |u| {
        u.client_order_id.as_deref() == Some(lim.as_str())
    })
    .await;
    assert_eq!(working.broker_order_id, resting.broker_order_id);
    assert_eq!(working.state.map(|s| s.status), Some(OrderStatus::Open));
    broker
        .cancel_order(&resting.broker_order_id)
        .await
        .expect("the limit order is cancelled");
    let cancelled = update_where(events, prompt, "the cancel", |u| {
        u.state
            .as_ref()
            .is_some_and(|s| s.status == OrderStatus::Cancelled)
    })
    .await;
    assert_eq!(cancelled.broker_order_id, resting.broker_order_id);
    assert_eq!(cancelled.client_order_id.as_deref(), Some(lim.as_str()));
}
