//! Pricing: `GET …/pricing` (a snapshot) and `GET …/pricing/stream`, an HTTP/1.1 chunked
//! body with one JSON object per line — the current prices first (`snapshot=true`, the
//! default), then changed prices every `price_interval` and a HEARTBEAT every
//! `heartbeat_interval`. Errors (account, instruments) are ordinary JSON answers sent
//! before streaming starts.
//!
//! Faults: [`Faults::stream_cut`] aborts the body (the client sees the connection drop
//! mid-stream, with no final chunk); [`Faults::half_open`] keeps the connection but sends
//! nothing, not even heartbeats, for as long as it is on.
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::market::PriceLine;
use super::{wire, SimState};

#[derive(Debug, Deserialize)]
pub struct PricingQuery {
    instruments: Option<String>,
    snapshot: Option<String>,
}

/// Checks the account and the instruments; returns the instrument names, or the answer.
fn validate(st: &SimState, id: &str, q: &PricingQuery) -> Result<Vec<String>, Box<Response>> {
    st.with_book(|b| {
        if !b.accounts.contains_key(id) {
            return Err(Box::new(wire::no_account()));
        }
        let names: Vec<String> = wire::instrument_list(q.instruments.as_deref())
            .into_iter()
            .map(str::to_string)
            .collect();
        if names.is_empty() || names.iter().any(|n| b.market.get(n).is_none()) {
            return Err(Box::new(wire::error(
                StatusCode::BAD_REQUEST,
                None,
                wire::BAD_INSTRUMENTS,
            )));
        }
        Ok(names)
    })
}

/// Returns the current price lines of `names`.
fn prices(st: &SimState, names: &[String]) -> Vec<PriceLine> {
    let time = wire::now();
    st.with_book(|b| {
        names
            .iter()
            .filter_map(|n| Some(PriceLine::of(n, b.market.get(n)?, time.clone())))
            .collect()
    })
}

/// `GET /v3/accounts/{id}/pricing?instruments=…`.
pub async fn pricing(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Query<PricingQuery>,
) -> Response {
    match validate(&st, &id, &q) {
        Ok(names) => wire::reply(
            StatusCode::OK,
            json!({ "time": wire::now(), "prices": prices(&st, &names) }),
        ),
        Err(resp) => *resp,
    }
}

/// `GET /v3/accounts/{id}/pricing/stream?instruments=…&snapshot=true`.
pub async fn stream(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Query<PricingQuery>,
) -> Response {
    let names = match validate(&st, &id, &q) {
        Ok(names) => names,
        Err(resp) => return *resp,
    };
    let cut = st.faults.stream_cut();
    let fast = st.stream_rate.map(|rate| Fast::new(&st, &names, rate));
    let mut pump = Pump {
        fast,
        prices: ticker(st.price_interval),
        heartbeats: ticker(st.heartbeat_interval),
        st,
        names,
        sent: HashMap::new(),
        queue: VecDeque::new(),
        cut,
        ended: false,
    };
    if q.snapshot.as_deref() != Some("false") {
        pump.queue_prices(true);
    }
    let body = Body::from_stream(futures_util::stream::unfold(pump, Pump::next));
    (
        StatusCode::OK,
        [("content-type", "application/octet-stream")],
        body,
    )
        .into_response()
}

pub(super) fn ticker(period: Duration) -> Interval {
    let mut t = interval_at(Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// Lines per chunk written at once in rate / burst mode (about 40 KB).
const FAST_CHUNK: u64 = 128;

/// Rate or burst mode: PRICE lines from a ring encoded when the stream opened.
struct Fast {
    ring: Vec<String>,
    next: usize,
    /// Lines per second; 0 = as fast as the client reads.
    rate: u64,
    start: Instant,
    sent: u64,
}

impl Fast {
    fn new(st: &SimState, names: &[String], rate: u64) -> Self {
        let mut ring = Vec::new();
        for _ in 0..16 {
            for line in prices(st, names) {
                if let Ok(mut s) = serde_json::to_string(&line) {
                    s.push('\n');
                    ring.push(s);
                }
            }
        }
        Self {
            ring,
            next: 0,
            rate,
            start: Instant::now(),
            sent: 0,
        }
    }

    /// Lines owed now (0: wait until [`Fast::due`]).
    fn owed(&mut self) -> u64 {
        if self.rate == 0 {
            return FAST_CHUNK;
        }
        let due = (self.start.elapsed().as_secs_f64() * self.rate as f64) as u64;
        if due.saturating_sub(self.sent) > self.rate {
            // A second behind (a slow reader): drop the backlog.
            self.sent = due.saturating_sub(1);
        }
        due.saturating_sub(self.sent).min(FAST_CHUNK)
    }

    fn due(&self) -> Instant {
        self.start + Duration::from_secs_f64((self.sent + 1) as f64 / self.rate.max(1) as f64)
    }

    fn chunk(&mut self, n: u64) -> String {
        let mut out = String::with_capacity(n as usize * 320);
        for _ in 0..n {
            out.push_str(&self.ring[self.next]);
            self.next = (self.next + 1) % self.ring.len();
        }
        self.sent += n;
        out
    }
}

/// Produces the lines of one stream.
struct Pump {
    fast: Option<Fast>,
    st: Arc<SimState>,
    names: Vec<String>,
    /// The last (bid, ask) sent per instrument: only changes are sent.
    sent: HashMap<String, (String, String)>,
    queue: VecDeque<String>,
    prices: Interval,
    heartbeats: Interval,
    cut: CancellationToken,
    ended: bool,
}

impl Pump {
    fn queue_prices(&mut self, all: bool) {
        for line in prices(&self.st, &self.names) {
            let top = |b: &[super::market::Bucket]| b.first().map(|b| b.price.clone());
            let key = (
                top(&line.bids).unwrap_or_default(),
                top(&line.asks).unwrap_or_default(),
            );
            if !all && self.sent.get(&line.instrument) == Some(&key) {
                continue;
            }
            self.sent.insert(line.instrument.clone(), key);
            if let Ok(mut s) = serde_json::to_string(&line) {
                s.push('\n');
                self.queue.push_back(s);
            }
        }
    }

    /// Queues a HEARTBEAT line (none while half-open).
    fn queue_heartbeat(&mut self) {
        if !self.st.faults.half_open() {
            // Written by hand to keep OANDA's field order.
            let line = format!("{{\"type\":\"HEARTBEAT\",\"time\":\"{}\"}}\n", wire::now());
            self.queue.push_back(line);
        }
    }

    /// The next chunk: one line, or an error that aborts the connection on a cut.
    async fn next(mut self) -> Option<(Result<String, std::io::Error>, Self)> {
        if self.ended {
            return None;
        }
        loop {
            if self.cut.is_cancelled() {
                self.ended = true;
                let err = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "stream cut");
                return Some((Err(err), self));
            }
            if let Some(line) = self.queue.pop_front() {
                if !self.st.faults.half_open() {
                    return Some((Ok(line), self));
                }
                continue;
            }
            if let Some(fast) = self.fast.as_mut().filter(|f| !f.ring.is_empty()) {
                let owed = fast.owed();
                if owed > 0 && !self.st.faults.half_open() {
                    let chunk = fast.chunk(owed);
                    return Some((Ok(chunk), self));
                }
                let due = fast.due().max(Instant::now() + Duration::from_micros(100));
                tokio::select! {
                    _ = self.cut.cancelled() => {}
                    _ = tokio::time::sleep_until(due) => {}
                    _ = self.heartbeats.tick() => self.queue_heartbeat(),
                }
                continue;
            }
            tokio::select! {
                _ = self.cut.cancelled() => {}
                _ = self.prices.tick() => {
                    if !self.st.faults.half_open() {
                        self.queue_prices(false);
                    }
                }
                _ = self.heartbeats.tick() => self.queue_heartbeat(),
            }
        }
    }
}
