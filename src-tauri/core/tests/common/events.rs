//! Reading a connector's `OrderEventStream` in the tests: one reader for every broker's
//! account-event tests, and the liveness checks they share (heartbeats keep a quiet stream
//! talking within its silence limit; a half-open link goes silent past it).

use std::time::Duration;

use brokerdesk_core::brokers::{BrokerError, OrderEventStream, OrderUpdate};
use brokerdesk_sim::Faults;

/// Reads `stream` until `done` holds for every update read so far (asked after each frame),
/// `within` at most. Fails if the stream ends or fails first.
pub async fn read_updates_until(
    stream: &mut dyn OrderEventStream,
    within: Duration,
    mut done: impl FnMut(&[OrderUpdate]) -> bool,
) -> Vec<OrderUpdate> {
    let deadline = tokio::time::Instant::now() + within;
    let mut all = Vec::new();
    loop {
        let open = tokio::time::timeout_at(deadline, stream.read(&mut all))
            .await
            .unwrap_or_else(|_| panic!("timed out after {within:?}; read: {all:?}"))
            .unwrap_or_else(|e| panic!("the event stream failed: {e:?}"));
        assert!(open, "the event stream closed; read: {all:?}");
        if done(&all) {
            return all;
        }
    }
}

/// Whether `updates` name the order `broker_id` (with `client_id`, when given).
pub fn names_order(updates: &[OrderUpdate], broker_id: &str, client_id: Option<&str>) -> bool {
    updates.iter().any(|u| {
        u.broker_order_id == broker_id
            && client_id.is_none_or(|c| u.client_order_id.as_deref() == Some(c))
    })
}

/// Reads `stream` past whatever is in flight until it ends (3 s at most): `None` when it
/// closed cleanly, or the error it ended with.
pub async fn read_events_to_the_end(stream: &mut dyn OrderEventStream) -> Option<BrokerError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
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

/// Checks that a stream with no order activity still answers within its silence limit for
/// `rounds` limits in a row (heartbeats, pings), then that a half-open link goes silent past
/// it (what the owner's watchdog catches), and heals the link.
pub async fn quiet_then_silent(stream: &mut dyn OrderEventStream, faults: &Faults, rounds: u32) {
    let limit = stream.silence_limit();
    let end = tokio::time::Instant::now() + limit * rounds;
    let mut out = Vec::new();
    let mut frames = 0;
    while tokio::time::Instant::now() < end {
        let open = tokio::time::timeout(limit, stream.read(&mut out))
            .await
            .unwrap_or_else(|_| panic!("a quiet stream was silent for {limit:?}"))
            .expect("the quiet stream failed");
        assert!(open, "the quiet stream closed");
        frames += 1;
    }
    assert!(frames >= 2, "{frames} frames in {rounds} silence limits");
    assert!(out.is_empty(), "no order changed, yet: {out:?}");
    faults.set_half_open(true);
    // What was in flight drains; then nothing comes for longer than the limit.
    let mut silent = false;
    for _ in 0..20 {
        if tokio::time::timeout(limit + limit / 2, stream.read(&mut out))
            .await
            .is_err()
        {
            silent = true;
            break;
        }
    }
    faults.set_half_open(false);
    assert!(silent, "a half-open link kept talking");
}

/// [`read_updates_until`] each of `orders` (broker ids) has at least `n` updates, 2 s at
/// most; fails unless that took less than a second (events are for prompt news). Returns
/// every update read.
pub async fn read_n_each(
    stream: &mut dyn OrderEventStream,
    orders: &[&str],
    n: usize,
) -> Vec<OrderUpdate> {
    let started = std::time::Instant::now();
    let seen = read_updates_until(stream, Duration::from_secs(2), |u| {
        orders
            .iter()
            .all(|id| u.iter().filter(|x| x.broker_order_id == *id).count() >= n)
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "{took:?}");
    seen
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
