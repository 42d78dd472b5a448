//! Alpaca's REST transport: one pooled client, the `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY`
//! headers on every request (marked sensitive, built from the [`Secret`]s per request so no
//! long-lived plain copy is kept), and the mapping of Alpaca's `{code, message}` errors.
//!
//! A 429 without `Retry-After` takes its delay from `X-Ratelimit-Reset` (epoch seconds), the
//! header Alpaca actually sends; the last `X-Ratelimit-*` values seen are kept for callers
//! that want to pace themselves.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::models::ErrorBody;
use crate::brokers::http::{body_text, classify, client, parse_json, transport};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// The trading API's request budget, from the last answer's `X-Ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub remaining: u32,
    /// When the window resets, in seconds since the Unix epoch.
    pub reset_epoch_secs: u64,
}

pub(super) struct AlpacaHttp {
    client: Client,
    base: Url,
    key: Secret,
    secret: Secret,
    timeout: Duration,
    rate: Mutex<Option<RateLimit>>,
}

impl AlpacaHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        // Pasted keys often carry a trailing newline or space; Alpaca's never do.
        let present = |s: &Option<Secret>| {
            s.as_ref()
                .map(|s| Secret::new(s.expose().trim()))
                .filter(|s| !s.is_empty())
        };
        let key = present(&cfg.api_key)
            .ok_or_else(|| BrokerError::Config("Alpaca needs the API key ID".into()))?;
        let secret = present(&cfg.api_secret)
            .ok_or_else(|| BrokerError::Config("Alpaca needs the API secret key".into()))?;
        for (s, what) in [(&key, "API key ID"), (&secret, "API secret key")] {
            if HeaderValue::from_str(s.expose()).is_err() {
                let msg = format!("the {what} contains characters an HTTP header cannot carry");
                return Err(BrokerError::Config(msg));
            }
        }
        let base = Url::parse(&cfg.rest_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| BrokerError::Config(format!("bad REST URL {:?}", cfg.rest_url)))?;
        Ok(Self {
            client: client(cfg.timeout, &cfg.rest_url)?,
            base,
            key,
            secret,
            timeout: cfg.timeout,
            rate: Mutex::new(None),
        })
    }

    /// The URL of `segments` under the base (each segment percent-encoded, so an id can never
    /// change the path's shape).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The key ID and secret key, for the data stream's in-band auth.
    pub(super) fn credentials(&self) -> (&Secret, &Secret) {
        (&self.key, &self.secret)
    }

    pub(super) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate.lock().ok().and_then(|g| *g)
    }

    pub(super) async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, BrokerError> {
        let text = self.send(self.request(Method::GET, url)).await?;
        parse_json(&text)
    }

    pub(super) async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, BrokerError> {
        let text = self
            .send(self.request(Method::POST, url).json(body))
            .await?;
        parse_json(&text)
    }

    pub(super) async fn delete(&self, url: Url) -> Result<(), BrokerError> {
        self.send(self.request(Method::DELETE, url))
            .await
            .map(|_| ())
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        for (name, s) in [
            ("apca-api-key-id", &self.key),
            ("apca-api-secret-key", &self.secret),
        ] {
            // Checked in `new`, so this cannot fail.
            if let Ok(mut v) = HeaderValue::from_str(s.expose()) {
                v.set_sensitive(true);
                headers.insert(name, v);
            }
        }
        self.client.request(method, url).headers(headers)
    }

    /// Sends a request; returns the body of a success, or the classified error.
    async fn send(&self, req: RequestBuilder) -> Result<String, BrokerError> {
        let resp = req.send().await.map_err(|e| transport(e, self.timeout))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        self.note_rate_limit(&headers);
        let text = body_text(resp, self.timeout).await?;
        if status.is_success() {
            return Ok(text);
        }
        Err(error_from(status, &headers, &text))
    }

    fn note_rate_limit(&self, headers: &HeaderMap) {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let (Some(limit), Some(remaining), Some(reset)) = (
            num("x-ratelimit-limit"),
            num("x-ratelimit-remaining"),
            num("x-ratelimit-reset"),
        ) else {
            return;
        };
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let seen = RateLimit {
            limit: clamp(limit),
            remaining: clamp(remaining),
            reset_epoch_secs: reset,
        };
        if let Ok(mut g) = self.rate.lock() {
            *g = Some(seen);
        }
    }
}

/// Classifies a non-success answer from its status and Alpaca's `{code, message}` body.
fn error_from(status: StatusCode, headers: &HeaderMap, text: &str) -> BrokerError {
    let parsed = serde_json::from_str::<ErrorBody>(text).ok();
    if status == StatusCode::NOT_FOUND && parsed.as_ref().is_none_or(|b| b.message.is_none()) {
        // Alpaca's 404s say what is missing; a bare one comes from elsewhere (a wrong REST
        // URL, a proxy). Reporting it as "not found" would let a caller conclude an order
        // does not exist and place it again.
        let msg = "HTTP 404 without an Alpaca error body; check the REST URL";
        return BrokerError::Protocol(msg.into());
    }
    let body = parsed.unwrap_or_default();
    let message = body
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let prefix: String = text.chars().take(120).filter(|c| !c.is_control()).collect();
            if prefix.trim().is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            } else {
                prefix
            }
        });
    match classify(status, headers, body.code(), message) {
        BrokerError::RateLimited { retry_after: None } => BrokerError::RateLimited {
            retry_after: reset_delay(headers),
        },
        e => e,
    }
}

/// The time until `X-Ratelimit-Reset`, at least 1 s and at most a minute (Alpaca's window).
fn reset_delay(headers: &HeaderMap) -> Option<Duration> {
    let reset = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).clamp(1, 60)))
}
