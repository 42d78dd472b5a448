//! Reading an account-event stream in tests.

use std::time::Duration;

use brokerdesk_core::brokers::{
    Broker, BrokerError, OrderEventStream, OrderSide, OrderStatus, OrderUpdate,
};
use rust_decimal_macros::dec;
use tokio::time::Instant;

use super::stock_order;

/// One read of `stream` that must come by `deadline` (failing with `what`).
async fn read_by(
    stream: &mut dyn OrderEventStream,
    deadline: Instant,
    what: &str,
    buf: &mut Vec<OrderUpdate>,
) -> Result<bool, BrokerError> {
    buf.clear();
    tokio::time::timeout_at(deadline, stream.read(buf))
        .await
        .unwrap_or_else(|_| panic!("no {what} in time"))
}

/// Reads `stream` until an update satisfies `want` (within `limit`, failing with `what`
/// otherwise); returns it.
pub async fn update_where(
    stream: &mut dyn OrderEventStream,
    limit: Duration,
    what: &str,
    want: impl Fn(&OrderUpdate) -> bool,
) -> OrderUpdate {
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    loop {
        match read_by(stream, deadline, what, &mut buf).await {
            Ok(true) => {}
            Ok(false) => panic!("the stream closed before {what}"),
            Err(e) => panic!("the stream failed before {what}: {e:?}"),
        }
        if let Some(u) = buf.iter().find(|u| want(u)) {
            return u.clone();
        }
    }
}

/// Reads `stream` until it ends (within `limit`): `None` when the server closed it, or the
/// error it ended with.
pub async fn end_of(stream: &mut dyn OrderEventStream, limit: Duration) -> Option<BrokerError> {
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    loop {
        match read_by(stream, deadline, "end of the stream", &mut buf).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// What every broker's event stream must show, within `prompt` each: a market buy of 3 AAPL
/// (`<prefix>-mkt`) filling, then a limit buy of 2 at 150 (`<prefix>-lim`, below the
/// market the caller set) working and then cancelled, each update naming the broker's id
/// and the client order id. The whole state is checked where the update carries one.
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

/// Reads `stream` for `span`, each read answering within the stream's silence limit (a
/// heartbeat at least), without updates being required; fails on an error or a close.
pub async fn alive_for(stream: &mut dyn OrderEventStream, span: Duration) -> usize {
    let limit = stream.silence_limit();
    let until = Instant::now() + span;
    let mut reads = 0;
    let mut buf = Vec::new();
    while Instant::now() < until {
        let read = tokio::time::timeout(limit, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("silent for longer than the silence limit {limit:?}"));
        assert!(
            read.expect("the quiet stream failed"),
            "the quiet stream closed"
        );
        reads += 1;
    }
    reads
}

/// Waits (2 s at most) until `stream` stays silent for twice its silence limit, as a
/// half-open link does once what was in flight has been read.
pub async fn goes_silent(stream: &mut dyn OrderEventStream) {
    let until = Instant::now() + Duration::from_secs(2);
    let mut buf = Vec::new();
    while Instant::now() < until {
        match tokio::time::timeout(stream.silence_limit() * 2, stream.read(&mut buf)).await {
            Err(_) => return,
            Ok(r) => assert!(r.is_ok(), "a half-open link errs nothing: {r:?}"),
        }
    }
    panic!("the stream never went silent");
}
