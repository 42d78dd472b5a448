//! The REST plumbing shared by every connector, in one place so that a new connector gets
//! it whole: pooled clients (see [`ClientPool`]) and timeouts; base URL validation and URL
//! building ([`base_url`], [`url`]); the config's broker checked ([`expect_broker`]) and its
//! credentials read ([`credential`]); sensitive headers; the mapping from HTTP answers to [`BrokerError`] (status classes,
//! `Retry-After`, the brokers' `X-Ratelimit-*` headers in [`RateMeter`], transport failures);
//! the fallback for an error body that is not the broker's error shape
//! ([`fallback_message`], [`no_error_body`]); bounded body reading ([`body_text`]) and JSON
//! parsing that never quotes a credential ([`parse_json`]). Broker-specific error bodies are
//! parsed by each connector's `http.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use url::Url;

use super::{BrokerError, ConnectorConfig};
use crate::accounts::model::BrokerKind;
use crate::secret::Secret;

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
    Url::parse(url).is_ok_and(|u| is_loopback(&u))
}

/// Whether the host of `url` is this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses and checks a configured base URL (`what`: "REST", "stream"): http or https, and
/// usable as a base for paths.
pub fn base_url(raw: &str, what: &str) -> Result<Url, BrokerError> {
    let url = Url::parse(raw)
        .map_err(|e| BrokerError::Config(format!("the {what} URL is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(BrokerError::Config(format!(
            "the {what} URL must be http(s)"
        )));
    }
    Ok(url)
}

/// The URL of `segments` under `base`, each segment percent-encoded, so that an id can never
/// change the path's shape (`../`, `?`, `#` stay inside their segment).
pub fn url<'a>(base: &Url, segments: impl IntoIterator<Item = &'a str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Refuses a config made for another broker's account: `name` is the connector's name as
/// users know it (`"OANDA"`).
pub fn expect_broker(
    cfg: &ConnectorConfig,
    kind: BrokerKind,
    name: &str,
) -> Result<(), BrokerError> {
    if cfg.broker == kind {
        return Ok(());
    }
    let msg = format!("a {} account cannot use the {name} connector", cfg.broker);
    Err(BrokerError::Config(msg))
}

/// A credential from the config, trimmed: pasted keys and tokens often carry a trailing
/// newline or space, and no broker's ever does. `None` when absent or blank.
pub fn credential(s: &Option<Secret>) -> Option<Secret> {
    s.as_ref()
        .map(|s| Secret::new(s.expose().trim()))
        .filter(|s| !s.is_empty())
}

/// A header value holding a credential, marked sensitive so that it never shows in `Debug`;
/// `None` when the text has characters a header cannot carry.
pub fn sensitive_header(text: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(text).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// `Authorization: Bearer <token>` for a token, marked sensitive; a config error (naming
/// `what`, never the token) when the token cannot be a header.
pub fn bearer(token: &Secret, what: &str) -> Result<HeaderValue, BrokerError> {
    let value = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
    sensitive_header(&value).ok_or_else(|| {
        BrokerError::Config(format!(
            "the {what} contains characters an HTTP header cannot carry"
        ))
    })
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

/// A number header (`X-Ratelimit-Remaining: 0`); `None` when absent or not a number.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The time until `epoch_ms` (a rate-limit window's end), in whole seconds rounded up, at
/// least 1 s and at most a minute (the brokers' windows are a minute long).
pub fn delay_until_epoch_ms(epoch_ms: u64) -> Option<Duration> {
    let now = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis(),
    )
    .ok()?;
    let secs = epoch_ms.saturating_sub(now).div_ceil(1000);
    Some(Duration::from_secs(secs.clamp(1, 60)))
}

/// The request budget a broker reported in its last answer's `X-Ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in the window.
    pub limit: u32,
    /// Requests left in the window.
    pub remaining: u32,
    /// Requests spent in the window, when the broker says (Tradier).
    pub used: Option<u32>,
    /// When the window resets, in milliseconds since the Unix epoch.
    pub resets_at_ms: u64,
}

/// The names of a broker's rate-limit headers (they differ in name and in the reset's unit).
#[derive(Debug, Clone, Copy)]
pub struct RateHeaders {
    pub limit: &'static str,
    pub remaining: &'static str,
    /// The header of requests spent, when the broker sends one (then it is required).
    pub used: Option<&'static str>,
    pub reset: &'static str,
    /// Whether the reset is in epoch milliseconds (Tradier) rather than seconds (Alpaca).
    pub reset_in_ms: bool,
}

impl RateHeaders {
    /// Reads the budget from an answer's headers; `None` unless every header is there.
    pub fn read(&self, headers: &HeaderMap) -> Option<RateLimit> {
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let used = match self.used {
            Some(name) => Some(clamp(header_u64(headers, name)?)),
            None => None,
        };
        Some(RateLimit {
            limit: clamp(header_u64(headers, self.limit)?),
            remaining: clamp(header_u64(headers, self.remaining)?),
            used,
            resets_at_ms: self.reset_ms(headers)?,
        })
    }

    fn reset_ms(&self, headers: &HeaderMap) -> Option<u64> {
        let reset = header_u64(headers, self.reset)?;
        Some(if self.reset_in_ms {
            reset
        } else {
            reset.saturating_mul(1000)
        })
    }

    /// A 429 without `Retry-After` waits until the window resets, as its headers say.
    pub fn fill_delay(&self, e: BrokerError, headers: &HeaderMap) -> BrokerError {
        match e {
            BrokerError::RateLimited { retry_after: None } => BrokerError::RateLimited {
                retry_after: self.reset_ms(headers).and_then(delay_until_epoch_ms),
            },
            e => e,
        }
    }
}

/// The last rate-limit budget seen, for callers that want to pace themselves.
#[derive(Debug)]
pub struct RateMeter {
    headers: RateHeaders,
    last: Mutex<Option<RateLimit>>,
}

impl RateMeter {
    pub fn new(headers: RateHeaders) -> Self {
        Self {
            headers,
            last: Mutex::new(None),
        }
    }

    /// Keeps the budget an answer reports (an answer without the headers changes nothing).
    pub fn note(&self, headers: &HeaderMap) {
        if let Some(seen) = self.headers.read(headers) {
            if let Ok(mut g) = self.last.lock() {
                *g = Some(seen);
            }
        }
    }

    pub fn last(&self) -> Option<RateLimit> {
        self.last.lock().ok().and_then(|g| *g)
    }
}

/// The longest part of an unexpected error body a message quotes.
const QUOTED_BODY: usize = 120;

/// The message of an error answer whose body is not the broker's error shape (a proxy's
/// page, a bare status): the body's first characters without control characters, or the
/// status's reason when the body is blank.
pub fn fallback_message(status: StatusCode, text: &str) -> String {
    let prefix: String = text
        .chars()
        .take(QUOTED_BODY)
        .filter(|c| !c.is_control())
        .collect();
    if prefix.trim().is_empty() {
        reason(status)
    } else {
        prefix
    }
}

/// The status's reason phrase (`Not Found`), or "no message".
pub fn reason(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("no message")
        .to_string()
}

/// The error for a 404 without the broker's error body. It comes from a wrong REST URL or a
/// proxy, not from the broker: calling it "not found" would let a caller conclude an order
/// does not exist and place it again.
pub fn no_error_body(broker: &str, hint: &str) -> BrokerError {
    BrokerError::Protocol(format!(
        "HTTP 404 without {broker} error body; check the REST URL{hint}"
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_under_the_base() {
        let base = base_url("https://api-fxpractice.oanda.com/", "REST").expect("valid");
        let u = url(&base, ["v3", "accounts", "101-1", "orders", "@a b/../c"]);
        assert_eq!(
            u.as_str(),
            "https://api-fxpractice.oanda.com/v3/accounts/101-1/orders/@a%20b%2F..%2Fc"
        );
        let proxied = base_url("http://127.0.0.1:9/oanda", "REST").expect("valid");
        assert_eq!(
            url(&proxied, ["v3", "accounts"]).as_str(),
            "http://127.0.0.1:9/oanda/v3/accounts"
        );
        assert!(base_url("ftp://x", "REST").is_err());
        assert!(base_url("not a url", "REST").is_err());
        assert!(base_url("mailto:a@b", "REST").is_err());
    }

    #[test]
    fn only_this_machine_counts_as_loopback() {
        let lo = |u: &str| Url::parse(u).map(|u| is_loopback(&u)).unwrap_or(false);
        assert!(lo("https://localhost:5000/v1/api"));
        assert!(lo("https://127.0.0.1:5000/v1/api"));
        assert!(lo("https://[::1]:5000/v1/api"));
        assert!(!lo("https://api.ibkr.com/v1/api"));
        assert!(!lo("https://localhost.example.com/v1/api"));
        assert!(!lo("https://192.168.1.10:5000/v1/api"));
        assert!(is_loopback_url("http://127.0.0.1:9") && !is_loopback_url("not a url"));
    }

    #[test]
    fn rate_headers_in_seconds_or_milliseconds() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x-ratelimit-limit", "200"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000000"),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
        let secs = RateHeaders {
            limit: "x-ratelimit-limit",
            remaining: "x-ratelimit-remaining",
            used: None,
            reset: "x-ratelimit-reset",
            reset_in_ms: false,
        };
        let seen = secs.read(&h).expect("all headers");
        assert_eq!((seen.limit, seen.remaining, seen.used), (200, 0, None));
        assert_eq!(seen.resets_at_ms, 1_700_000_000_000);
        let with_used = RateHeaders {
            used: Some("x-ratelimit-used"),
            ..secs
        };
        assert_eq!(with_used.read(&h), None, "a required header is missing");
        // A window that ended long ago still waits the minimum.
        let e = secs.fill_delay(BrokerError::RateLimited { retry_after: None }, &h);
        assert_eq!(
            e,
            BrokerError::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
    }

    #[test]
    fn unexpected_bodies_are_quoted_briefly_or_named_by_status() {
        assert_eq!(
            fallback_message(StatusCode::BAD_GATEWAY, " \n "),
            "Bad Gateway"
        );
        let long = "x".repeat(500);
        assert_eq!(
            fallback_message(StatusCode::BAD_REQUEST, &long).len(),
            QUOTED_BODY
        );
        assert_eq!(fallback_message(StatusCode::BAD_REQUEST, "a\u{0}b"), "ab");
    }
}
