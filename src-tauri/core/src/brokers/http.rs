//! The HTTP side shared by every connector: pooled clients (see [`ClientPool`]), timeouts,
//! and the mapping from HTTP answers to
//! [`BrokerError`]. Broker-specific error bodies are parsed by each connector; this module
//! handles what is common (status classes, `Retry-After`, transport failures).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};

use super::BrokerError;

/// The User-Agent every connector sends (Tastytrade refuses requests without one).
pub const USER_AGENT: &str = concat!("brokerdesk/", env!("CARGO_PKG_VERSION"));

/// The clients of one connection manager, one per request timeout. reqwest keeps a
/// keep-alive pool per host inside each client, so every account of a broker built under
/// the same pool reuses the same warm connections to that host. A pool belongs to one
/// runtime (its connections' tasks run there), which is why it is scoped to a manager
/// rather than global.
#[derive(Debug, Default)]
pub struct ClientPool(Mutex<HashMap<(Duration, bool), Client>>);

impl ClientPool {
    fn get(&self, timeout: Duration, loopback: bool) -> Result<Client, BrokerError> {
        let mut clients = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&(timeout, loopback)) {
            return Ok(c.clone());
        }
        let c = build_client(timeout, loopback)?;
        clients.insert((timeout, loopback), c.clone());
        Ok(c)
    }

    /// How many clients the pool holds.
    pub fn len(&self) -> usize {
        self.0.lock().map(|c| c.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

tokio::task_local! {
    static POOL: Arc<ClientPool>;
}

/// Runs `f` (which builds connectors) so that their clients come from `pool`.
pub fn with_pool<T>(pool: &Arc<ClientPool>, f: impl FnOnce() -> T) -> T {
    POOL.sync_scope(pool.clone(), f)
}

/// Returns a pooled client with the given request timeout for requests to `base_url`: the
/// scoped [`ClientPool`]'s (see [`with_pool`]), else a new one.
pub fn client(timeout: Duration, base_url: &str) -> Result<Client, BrokerError> {
    let loopback = is_loopback_url(base_url);
    match POOL.try_with(|p| p.get(timeout, loopback)) {
        Ok(c) => c,
        Err(_) => build_client(timeout, loopback),
    }
}

/// Whether `url` points at this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Starts a client builder with what every broker client must have:
/// - **no redirects**: a broker API never needs one, and following a 307 would replay the
///   request — its credential headers (Alpaca's keys, a bearer token) or body (Tastytrade's
///   refresh token) — to whatever host the answer names;
/// - **no proxy towards this machine**: a loopback endpoint (a simulator, IBKR's gateway)
///   speaks plain http, and a system proxy (`HTTP_PROXY`) would see its tokens in clear.
///   Remote brokers are reached over TLS, through the system proxy when one is set (it sees
///   the host name, not the traffic).
pub fn builder(timeout: Duration, loopback: bool) -> reqwest::ClientBuilder {
    let b = Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .tcp_nodelay(true);
    if loopback {
        b.no_proxy()
    } else {
        b
    }
}

fn build_client(timeout: Duration, loopback: bool) -> Result<Client, BrokerError> {
    builder(timeout, loopback)
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| BrokerError::Config(format!("cannot build the HTTP client: {e}")))
}

/// Maps a transport error (no HTTP answer) to a broker error.
pub fn transport(e: reqwest::Error, timeout: Duration) -> BrokerError {
    if e.is_timeout() {
        BrokerError::Timeout(timeout)
    } else if e.is_decode() || e.is_body() {
        BrokerError::Protocol(strip_url(&e))
    } else {
        BrokerError::Network(strip_url(&e))
    }
}

/// reqwest errors print the URL; ours carry no secret in URLs, but keep messages short.
/// The innermost cause is added: reqwest's own text ("error sending request") does not say
/// what went wrong ("Connection refused", "failed to lookup address").
fn strip_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), u.path());
    }
    let mut root: Option<&dyn std::error::Error> = None;
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        root = Some(cause);
        next = cause.source();
    }
    if let Some(cause) = root.map(ToString::to_string) {
        if !cause.is_empty() && !s.contains(&cause) {
            s = format!("{s}: {cause}");
        }
    }
    s
}

/// Parses `Retry-After` (seconds, or an HTTP date we treat as "soon").
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs.min(3600))),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

/// The common classification of a non-success status, given the broker's own message.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    code: String,
    message: String,
) -> BrokerError {
    match status.as_u16() {
        401 => BrokerError::Auth(message),
        403 if code.is_empty() => BrokerError::Auth(message),
        404 => BrokerError::NotFound(message),
        429 => BrokerError::RateLimited {
            retry_after: retry_after(headers),
        },
        s @ 500..=599 => BrokerError::Unavailable { status: s, message },
        s => BrokerError::Rejected {
            status: s,
            code,
            message,
        },
    }
}

/// The largest answer a broker may send (none needs more than a few MiB).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Reads a body as text, streamed with a cap: an answer larger than [`MAX_BODY`] is a
/// protocol error as soon as it passes the cap (never buffered whole first), so a hostile
/// endpoint cannot exhaust memory with a 300 MB answer.
pub async fn body_text(mut resp: Response, timeout: Duration) -> Result<String, BrokerError> {
    let too_large = || BrokerError::Protocol(format!("answer larger than {MAX_BODY} bytes"));
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(e, timeout))? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses JSON, turning garbage into a protocol error that quotes a short, safe prefix.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, BrokerError> {
    serde_json::from_str(text).map_err(|e| {
        // An answer of the right endpoint but an unexpected shape may carry a token (a
        // session, a DXLink quote token): quote nothing from one that mentions any.
        let lower = text.to_ascii_lowercase();
        if ["token", "session", "secret", "password", "cookie"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return BrokerError::Protocol(format!(
                "{e} (answer not quoted: it may hold a credential)"
            ));
        }
        let prefix: String = text.chars().take(80).filter(|c| !c.is_control()).collect();
        BrokerError::Protocol(format!("{e} (answer began {prefix:?})"))
    })
}
