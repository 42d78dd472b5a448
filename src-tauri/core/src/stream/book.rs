//! The latest-quote book: one slot per instrument holding the newest price, merged field
//! by field (a trade-only update keeps the last bid and ask), and the consumers that read
//! from a feed without ever slowing its reader:
//!
//! - [`Tap`]: every tick in order, through a bounded queue; when the consumer falls behind
//!   the queue is full, later ticks are counted as dropped and only the newest one per
//!   instrument is kept, so the consumer always ends up with the latest price.
//! - [`Coalescer`]: the latest price per instrument at most once per interval (the UI's
//!   ~30 updates per second); an instrument quiet for longer than the interval is
//!   delivered at once, so coalescing adds no latency to a calm feed.
//!
//! Every lock here is a std `Mutex` held for a few map operations, never across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::Tick;
use crate::money::Decimal;

/// Something a feed hands every batch of ticks to. `push` must not block.
pub trait TickSink: Send + Sync {
    fn push(&self, ticks: &[Tick]);
    /// The feed has ended; wake the consumer.
    fn close(&self);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent, so a poisoned lock is usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Copies the fields `t` carries onto `slot`.
pub fn merge(slot: &mut Tick, t: &Tick) {
    fn set(dst: &mut Option<Decimal>, src: Option<Decimal>) {
        if src.is_some() {
            *dst = src;
        }
    }
    set(&mut slot.bid, t.bid);
    set(&mut slot.ask, t.ask);
    set(&mut slot.last, t.last);
    set(&mut slot.bid_size, t.bid_size);
    set(&mut slot.ask_size, t.ask_size);
    set(&mut slot.last_size, t.last_size);
    if t.exchange_time.is_some() {
        slot.exchange_time = t.exchange_time;
    }
    slot.received_at = t.received_at;
}

/// The latest price of every instrument of a feed.
#[derive(Debug, Default)]
pub struct QuoteBook {
    slots: Mutex<HashMap<String, Tick>>,
}

impl QuoteBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Merges a batch of ticks in.
    pub fn apply(&self, ticks: &[Tick]) {
        let mut slots = lock(&self.slots);
        for t in ticks {
            match slots.get_mut(t.instrument.as_str()) {
                Some(slot) => merge(slot, t),
                None => {
                    slots.insert(t.instrument.clone(), t.clone());
                }
            }
        }
    }

    /// The latest price of one instrument.
    pub fn get(&self, instrument: &str) -> Option<Tick> {
        lock(&self.slots).get(instrument).cloned()
    }

    /// Every instrument's latest price, sorted by instrument.
    pub fn snapshot(&self) -> Vec<Tick> {
        let mut all: Vec<Tick> = lock(&self.slots).values().cloned().collect();
        all.sort_by(|a, b| a.instrument.cmp(&b.instrument));
        all
    }

    /// Forgets instruments no longer subscribed.
    pub fn retain(&self, instruments: &[String]) {
        lock(&self.slots).retain(|k, _| instruments.iter().any(|i| i == k));
    }

    pub fn len(&self) -> usize {
        lock(&self.slots).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Default)]
struct TapState {
    queue: VecDeque<Tick>,
    /// The newest tick of each instrument that did not fit in the queue.
    overflow: HashMap<String, Tick>,
    dropped: u64,
    closed: bool,
}

/// Every tick in order, up to `capacity` waiting; beyond that only the newest per
/// instrument is kept and the rest counted as dropped.
#[derive(Debug)]
pub struct Tap {
    state: Mutex<TapState>,
    notify: Notify,
    capacity: usize,
}

impl Tap {
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(TapState::default()),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Waits for ticks and moves them into `out` (queued ones in order, then the newest of
    /// each instrument that overflowed). `false` once the feed has closed and all is read.
    pub async fn recv(&self, out: &mut Vec<Tick>) -> bool {
        loop {
            {
                let mut st = lock(&self.state);
                if !st.queue.is_empty() || !st.overflow.is_empty() {
                    out.extend(st.queue.drain(..));
                    out.extend(st.overflow.drain().map(|(_, t)| t));
                    return true;
                }
                if st.closed {
                    return false;
                }
            }
            // `notify_one` keeps a permit when nobody waits, so no wake-up is lost
            // between the check above and this await.
            self.notify.notified().await;
        }
    }

    /// Ticks that were not delivered one by one because the consumer was behind.
    pub fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }
}

impl TickSink for Tap {
    fn push(&self, ticks: &[Tick]) {
        if ticks.is_empty() {
            return;
        }
        {
            let mut st = lock(&self.state);
            for t in ticks {
                if st.queue.len() < self.capacity {
                    st.queue.push_back(t.clone());
                } else {
                    st.dropped += 1;
                    match st.overflow.get_mut(t.instrument.as_str()) {
                        Some(slot) => merge(slot, t),
                        None => {
                            st.overflow.insert(t.instrument.clone(), t.clone());
                        }
                    }
                }
            }
        }
        self.notify.notify_one();
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.notify.notify_one();
    }
}

#[derive(Debug, Default)]
struct CoalescerState {
    /// The newest undelivered tick per instrument, merged.
    pending: HashMap<String, Tick>,
    last_emit: HashMap<String, Instant>,
    dropped: u64,
    closed: bool,
}

/// The latest price per instrument, at most once per `interval` each.
#[derive(Debug)]
pub struct Coalescer {
    state: Mutex<CoalescerState>,
    notify: Notify,
    interval: Duration,
}

impl Coalescer {
    /// `max_per_second` updates per instrument at most (0 = no limit).
    pub fn new(max_per_second: u32) -> Self {
        let interval = if max_per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / max_per_second
        };
        Self {
            state: Mutex::new(CoalescerState::default()),
            notify: Notify::new(),
            interval,
        }
    }

    /// Waits until some instrument may be delivered and returns those that may, newest
    /// price each. Empty once the feed has closed.
    pub async fn next_batch(&self) -> Vec<Tick> {
        loop {
            let due = {
                let mut st = lock(&self.state);
                let now = Instant::now();
                let mut ready = Vec::new();
                let mut due: Option<Instant> = None;
                let st = &mut *st;
                st.pending.retain(|instrument, tick| {
                    let next = st
                        .last_emit
                        .get(instrument)
                        .map(|t| *t + self.interval)
                        .unwrap_or(now);
                    if next <= now {
                        st.last_emit.insert(instrument.clone(), now);
                        ready.push(tick.clone());
                        false
                    } else {
                        due = Some(due.map_or(next, |d| d.min(next)));
                        true
                    }
                });
                if !ready.is_empty() {
                    ready.sort_by(|a, b| a.instrument.cmp(&b.instrument));
                    return ready;
                }
                if st.closed {
                    return Vec::new();
                }
                due
            };
            match due {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = self.notify.notified() => {}
                    }
                }
                None => self.notify.notified().await,
            }
        }
    }

    /// Intermediate ticks replaced by a newer one before delivery.
    pub fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }
}

impl TickSink for Coalescer {
    fn push(&self, ticks: &[Tick]) {
        if ticks.is_empty() {
            return;
        }
        {
            let mut st = lock(&self.state);
            for t in ticks {
                match st.pending.get_mut(t.instrument.as_str()) {
                    Some(slot) => {
                        merge(slot, t);
                        st.dropped += 1;
                    }
                    None => {
                        st.pending.insert(t.instrument.clone(), t.clone());
                    }
                }
            }
        }
        self.notify.notify_one();
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.notify.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rust_decimal_macros::dec;

    use super::*;

    fn tick(i: &str, bid: Option<Decimal>, last: Option<Decimal>) -> Tick {
        let mut t = Tick::new(i, Utc::now());
        t.bid = bid;
        t.last = last;
        t
    }

    #[test]
    fn the_book_merges_fields() {
        let book = QuoteBook::new();
        book.apply(&[tick("AAPL", Some(dec!(1.0)), None)]);
        book.apply(&[tick("AAPL", None, Some(dec!(2.0)))]);
        let t = book.get("AAPL").unwrap();
        assert_eq!((t.bid, t.last), (Some(dec!(1.0)), Some(dec!(2.0))));
        book.retain(&[]);
        assert!(book.is_empty());
    }

    #[tokio::test]
    async fn a_full_tap_keeps_the_latest_and_counts_the_rest() {
        let tap = Tap::new(2);
        let ticks: Vec<Tick> = (0..10)
            .map(|i| tick("EUR_USD", Some(Decimal::from(i)), None))
            .collect();
        tap.push(&ticks);
        let mut out = Vec::new();
        assert!(tap.recv(&mut out).await);
        assert_eq!(out.len(), 3);
        assert_eq!(out.last().unwrap().bid, Some(dec!(9.0)));
        assert_eq!(tap.dropped(), 8);
        tap.close();
        out.clear();
        assert!(!tap.recv(&mut out).await);
    }

    #[tokio::test(start_paused = true)]
    async fn the_coalescer_limits_each_instrument_and_keeps_the_latest() {
        let c = Coalescer::new(30);
        c.push(&[tick("A", Some(dec!(1.0)), None)]);
        let first = c.next_batch().await;
        assert_eq!(first.len(), 1);
        // Within the interval: held back, merged, delivered once when due.
        c.push(&[
            tick("A", Some(dec!(2.0)), None),
            tick("A", None, Some(dec!(5.0))),
        ]);
        let started = Instant::now();
        let second = c.next_batch().await;
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(
            (second[0].bid, second[0].last),
            (Some(dec!(2.0)), Some(dec!(5.0)))
        );
        assert_eq!(c.dropped(), 1);
        c.close();
        assert!(c.next_batch().await.is_empty());
    }
}
