//! Fault switches shared by every simulator. Each switch can be flipped at any time from a
//! test; the middleware applies request-level faults before the broker's handler runs, and
//! stream handlers consult [`Faults::stream_cut`] / [`Faults::half_open`] while streaming.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
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
