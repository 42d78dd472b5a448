//! Fault switches shared by every simulator. Each switch can be flipped at any time from a
//! test; the middleware applies request-level faults before the broker's handler runs, and
//! stream handlers consult [`Faults::stream_cut`] / [`Faults::half_open`] while streaming.
//!
//! Order faults ([`OrderFault`]) act around the handler that books orders, so that a test
//! can make the broker *accept* an order and then fail to say so: every simulator wraps its
//! order-placing route in [`order_gate`] (and IBKR its confirmation reply, which is where an
//! order with questions gets booked, in [`confirm_gate`]). The handler notes what it did on
//! its answer ([`note_order`]: the client order id, booked or not); the gate then counts the
//! request, records the client id, and applies the fault: drop the connection without an
//! answer ([`OrderFault::AcceptThenCut`], through the [`ConnCut`] handle of the connection,
//! see [`crate::SimServer`]), answer 500 ([`OrderFault::AcceptThen500`]), answer late
//! ([`OrderFault::SlowAccept`]), answer 500 without booking ([`OrderFault::RefuseWith500`]),
//! or draw one of these per request from a seeded generator ([`OrderFault::Random`]).
//! After-accept faults apply only to an answer that booked an order; a refusal (unknown
//! symbol, duplicate client id) is answered as it is.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

/// A fault to inject into REST answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer every request with the broker's own "bad credentials" error.
    RefuseAuth,
    /// Answer 429 with `Retry-After: secs`.
    RateLimit { retry_after_secs: u64 },
    /// Answer 500 (or the given 5xx).
    ServerError(u16),
    /// Answer 200 with a body that is not JSON.
    Garbage,
}

/// The switches. All methods are cheap and thread-safe.
#[derive(Debug, Default)]
pub struct Faults {
    fault: Mutex<Option<Fault>>,
    /// Delay before answering each request.
    delay_ms: AtomicU64,
    /// The server is "down" (connections reset) until this instant.
    down_until: Mutex<Option<Instant>>,
    /// Streams stop sending anything, but keep the socket open.
    half_open: AtomicBool,
    /// Cancelled to cut every open stream; replaced after each cut.
    cut: Mutex<CancellationToken>,
    /// Sessions/tokens issued before this count are expired.
    session_epoch: AtomicU64,
    /// Requests served (for tests that count calls).
    requests: AtomicU64,
    /// The order fault and what the order handlers saw.
    orders: Mutex<OrderLog>,
}

/// A fault for the order-placing requests (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderFault {
    /// The order is booked, then the connection is dropped without an answer.
    AcceptThenCut,
    /// The order is booked, then the answer is a 500.
    AcceptThen500,
    /// The order is booked, and the answer comes after this delay (make it longer than the
    /// client's timeout).
    SlowAccept(Duration),
    /// The answer is a 500 and nothing is booked.
    RefuseWith500,
    /// Each order request draws a fault (or none) from a seeded generator.
    Random(RandomOrderFaults),
}

/// The random order-fault mode: request `n` draws from `seed` and `n` alone, so a run with
/// the same seed and the same order of requests draws the same faults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomOrderFaults {
    pub seed: u64,
    /// Relative weights of: no fault, cut after accept, 500 after accept, 500 before accept,
    /// slow accept.
    pub weights: [u32; 5],
    /// How late a slow accept answers.
    pub slow_by: Duration,
}

impl RandomOrderFaults {
    /// Every outcome equally likely.
    pub fn new(seed: u64, slow_by: Duration) -> Self {
        Self {
            seed,
            weights: [1; 5],
            slow_by,
        }
    }
}

/// What one order request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drawn {
    None,
    Cut,
    After500,
    Before500,
    Slow(Duration),
}

/// How many order requests got each fault (after-accept faults count only when an order
/// was booked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// Order submissions that reached the order gate (IBKR's confirmation replies are not
    /// counted).
    pub requests: u64,
    pub cut_after_accept: u64,
    pub error_after_accept: u64,
    pub error_before_accept: u64,
    pub slow_accept: u64,
}

#[derive(Debug, Default)]
struct OrderLog {
    fault: Option<OrderFault>,
    /// Draws so far (the random mode's request index).
    draws: u64,
    /// The client order id of every submission that reached the handler, in order.
    submitted: Vec<String>,
    /// The client order id of every order booked, in order.
    booked: Vec<String>,
    stats: OrderStats,
}

/// What an order handler did, noted on its answer for [`order_gate`] (a response
/// extension: it never goes on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNote {
    /// The client order id the request carried.
    pub client_id: Option<String>,
    /// Whether the request booked an order.
    pub booked: bool,
}

/// Notes on `resp` what the order handler did (see [`OrderNote`]).
pub fn note_order(mut resp: Response, client_id: Option<&str>, booked: bool) -> Response {
    resp.extensions_mut().insert(OrderNote {
        client_id: client_id.map(str::to_string),
        booked,
    });
    resp
}

/// The handle to drop one connection of a [`crate::SimServer`] without an answer; the
/// server puts it in every request's extensions as `ConnectInfo<ConnCut>`.
#[derive(Debug, Clone, Default)]
pub struct ConnCut(Arc<AtomicBool>);

impl ConnCut {
    /// From now on, the connection fails every read and write, and is closed with a reset.
    pub fn cut(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cut(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// A handle that does not keep the connection's record alive.
    pub(crate) fn weak(&self) -> WeakConnCut {
        WeakConnCut(Arc::downgrade(&self.0))
    }
}

/// A [`ConnCut`] of a connection that may have ended.
#[derive(Debug, Clone)]
pub(crate) struct WeakConnCut(std::sync::Weak<AtomicBool>);

impl WeakConnCut {
    /// Cuts the connection if it is still open; returns whether it was.
    pub(crate) fn cut(&self) -> bool {
        self.0
            .upgrade()
            .map(|c| c.store(true, Ordering::SeqCst))
            .is_some()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// The next 64 bits of SplitMix64 from `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Faults {
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self::default())
    }

    /// Sets (or clears with `None`) the REST fault.
    pub fn set(&self, f: Option<Fault>) {
        if let Ok(mut g) = self.fault.lock() {
            *g = f;
        }
    }

    pub fn current(&self) -> Option<Fault> {
        self.fault.lock().ok().and_then(|g| g.clone())
    }

    /// Slows every answer down by `d`.
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Goes down for `d`: requests get a 503 and open streams are cut.
    pub fn go_down_for(&self, d: Duration) {
        if let Ok(mut g) = self.down_until.lock() {
            *g = Some(Instant::now() + d);
        }
        self.cut_streams();
    }

    pub fn is_down(&self) -> bool {
        self.down_until
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|t| Instant::now() < t)
    }

    /// Streams keep their sockets open but send nothing (a half-open link).
    pub fn set_half_open(&self, on: bool) {
        self.half_open.store(on, Ordering::SeqCst);
    }

    pub fn half_open(&self) -> bool {
        self.half_open.load(Ordering::SeqCst)
    }

    /// Holds a stream socket while the links are half-open (it reads and writes nothing,
    /// so pings go unanswered): `true` once the link heals (at once when it is not
    /// half-open), `false` when `cut` ends the socket meanwhile.
    pub async fn hold_while_half_open(&self, cut: &CancellationToken) -> bool {
        while self.half_open() {
            tokio::select! {
                () = cut.cancelled() => return false,
                () = tokio::time::sleep(Duration::from_millis(25)) => {}
            }
        }
        true
    }

    /// Cuts every open stream now (the clients see the connection drop).
    pub fn cut_streams(&self) {
        if let Ok(mut g) = self.cut.lock() {
            g.cancel();
            *g = CancellationToken::new();
        }
    }

    /// Returns a token cancelled at the next [`Faults::cut_streams`].
    pub fn stream_cut(&self) -> CancellationToken {
        self.cut.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Expires every session or token issued so far.
    pub fn expire_sessions(&self) {
        self.session_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// The current session epoch (sessions embed it; older ones are expired).
    pub fn session_epoch(&self) -> u64 {
        self.session_epoch.load(Ordering::SeqCst)
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn order_log(&self) -> std::sync::MutexGuard<'_, OrderLog> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (or clears with `None`) the order fault; it stays until changed.
    pub fn set_order_fault(&self, f: Option<OrderFault>) {
        self.order_log().fault = f;
    }

    pub fn order_fault(&self) -> Option<OrderFault> {
        self.order_log().fault.clone()
    }

    /// Order submissions that reached the order gate so far.
    pub fn order_requests(&self) -> u64 {
        self.order_log().stats.requests
    }

    /// The order requests and the faults they got.
    pub fn order_stats(&self) -> OrderStats {
        self.order_log().stats
    }

    /// The client order id of every submission that reached the order handler, in order
    /// (an id sent twice shows twice, even where the broker refused the second).
    pub fn submitted_client_ids(&self) -> Vec<String> {
        self.order_log().submitted.clone()
    }

    /// The client order id of every order booked, in order.
    pub fn booked_client_ids(&self) -> Vec<String> {
        self.order_log().booked.clone()
    }

    /// Draws the fault of one order request.
    fn draw_order_fault(&self) -> Drawn {
        let mut log = self.order_log();
        let n = log.draws;
        log.draws += 1;
        match &log.fault {
            None => Drawn::None,
            Some(OrderFault::AcceptThenCut) => Drawn::Cut,
            Some(OrderFault::AcceptThen500) => Drawn::After500,
            Some(OrderFault::SlowAccept(d)) => Drawn::Slow(*d),
            Some(OrderFault::RefuseWith500) => Drawn::Before500,
            Some(OrderFault::Random(r)) => {
                let total: u64 = r.weights.iter().map(|w| u64::from(*w)).sum();
                if total == 0 {
                    return Drawn::None;
                }
                let mut x = mix(r.seed ^ mix(n)) % total;
                let outcomes = [
                    Drawn::None,
                    Drawn::Cut,
                    Drawn::After500,
                    Drawn::Before500,
                    Drawn::Slow(r.slow_by),
                ];
                for (w, d) in r.weights.iter().zip(outcomes) {
                    let w = u64::from(*w);
                    if x < w {
                        return d;
                    }
                    x -= w;
                }
                Drawn::None
            }
        }
    }
}

/// The 500 of an order fault.
fn order_server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        "{\"message\":\"internal server error\"}",
    )
        .into_response()
}

/// Wraps an order-placing route: counts the submission and applies the order fault (see the
/// module docs).
pub async fn order_gate(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    order_step(&faults, req, next, true).await
}

/// Wraps a route that may book an order submitted earlier (IBKR's confirmation reply): like
/// [`order_gate`], without counting a submission.
pub async fn confirm_gate(State(faults): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    order_step(&faults, req, next, false).await
}

async fn order_step(faults: &Faults, req: Request, next: Next, submission: bool) -> Response {
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnCut>>()
        .map(|c| c.0.clone());
    if submission {
        faults.order_log().stats.requests += 1;
    }
    let drawn = faults.draw_order_fault();
    if drawn == Drawn::Before500 {
        faults.order_log().stats.error_before_accept += 1;
        return order_server_error();
    }
    let resp = next.run(req).await;
    let note = resp.extensions().get::<OrderNote>().cloned();
    let booked = {
        let mut log = faults.order_log();
        let note = note.unwrap_or(OrderNote {
            client_id: None,
            booked: false,
        });
        if let (true, Some(id)) = (submission, &note.client_id) {
            log.submitted.push(id.clone());
        }
        if let (true, Some(id)) = (note.booked, &note.client_id) {
            log.booked.push(id.clone());
        }
        if note.booked {
            match drawn {
                Drawn::Cut => log.stats.cut_after_accept += 1,
                Drawn::After500 => log.stats.error_after_accept += 1,
                Drawn::Slow(_) => log.stats.slow_accept += 1,
                Drawn::None | Drawn::Before500 => {}
            }
        }
        note.booked
    };
    if !booked {
        return resp;
    }
    match drawn {
        Drawn::None | Drawn::Before500 => resp,
        Drawn::Cut => match conn {
            Some(c) => {
                // The answer is written to a connection that fails: hyper drops it, and the
                // client sees the line go dead after its request was taken.
                c.cut();
                resp
            }
            // Served without a cuttable connection: a head and then a body that breaks.
            None => {
                let broken = futures_util::stream::once(async {
                    Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "cut after accept",
                    ))
                });
                (StatusCode::OK, Body::from_stream(broken)).into_response()
            }
        },
        Drawn::After500 => order_server_error(),
        Drawn::Slow(d) => {
            tokio::time::sleep(d).await;
            resp
        }
    }
}

/// Applies delay, down-time and the generic faults. Broker-specific auth refusals are left
/// to each simulator (the body differs per broker): the middleware marks the request with a
/// `RefuseAuth` extension instead.
pub async fn middleware(
    State(faults): State<std::sync::Arc<Faults>>,
    mut req: Request,
    next: Next,
) -> Response {
    faults.requests.fetch_add(1, Ordering::SeqCst);
    let delay = faults.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if faults.is_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
    }
    match faults.current() {
        Some(Fault::RateLimit { retry_after_secs }) => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                Body::from("{\"message\":\"rate limit exceeded\"}"),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        Some(Fault::ServerError(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "{\"message\":\"internal server error\"}").into_response()
        }
        Some(Fault::Garbage) => (StatusCode::OK, "<html>\u{0}\u{1}not json at all").into_response(),
        Some(Fault::RefuseAuth) => {
            req.extensions_mut().insert(RefuseAuth);
            next.run(req).await
        }
        None => next.run(req).await,
    }
}

/// Marks a request whose credentials the simulator must refuse.
#[derive(Debug, Clone, Copy)]
pub struct RefuseAuth;

#[cfg(test)]
mod tests;
