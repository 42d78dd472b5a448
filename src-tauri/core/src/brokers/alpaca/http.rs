//! Alpaca's REST transport: one pooled client, the `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY`
//! headers on every request (marked sensitive, built from the [`Secret`]s per request so no
//! long-lived plain copy is kept), and the mapping of Alpaca's `{code, message}` errors.
//!
//! A 429 without `Retry-After` takes its delay from `X-Ratelimit-Reset` (epoch seconds), the
//! header Alpaca actually sends; the last `X-Ratelimit-*` values seen are kept for callers
//! that want to pace themselves.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::models::ErrorBody;
use crate::brokers::http::{self, body_text, classify, client, parse_json, transport};
use crate::brokers::http::{RateHeaders, RateLimit, RateMeter};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// Alpaca's rate-limit headers (the reset in epoch seconds).
const RATE_HEADERS: RateHeaders = RateHeaders {
    limit: "x-ratelimit-limit",
    remaining: "x-ratelimit-remaining",
    used: None,
    reset: "x-ratelimit-reset",
    reset_in_ms: false,
};

pub(super) struct AlpacaHttp {
    client: Client,
    base: Url,
    key: Secret,
    secret: Secret,
    timeout: Duration,
    rate: RateMeter,
}

impl AlpacaHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        let key = http::credential(&cfg.api_key)
            .ok_or_else(|| BrokerError::Config("Alpaca needs the API key ID".into()))?;
        let secret = http::credential(&cfg.api_secret)
            .ok_or_else(|| BrokerError::Config("Alpaca needs the API secret key".into()))?;
        for (s, what) in [(&key, "API key ID"), (&secret, "API secret key")] {
            if HeaderValue::from_str(s.expose()).is_err() {
                let msg = format!("the {what} contains characters an HTTP header cannot carry");
                return Err(BrokerError::Config(msg));
            }
        }
        Ok(Self {
            client: client(cfg.timeout, &cfg.rest_url)?,
            base: http::base_url(&cfg.rest_url, "REST")?,
            key,
            secret,
            timeout: cfg.timeout,
            rate: RateMeter::new(RATE_HEADERS),
        })
    }

    /// The URL of `segments` under the base (see [`http::url`]).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        http::url(&self.base, segments.iter().copied())
    }

    /// The key ID and secret key, for the data stream's in-band auth.
    pub(super) fn credentials(&self) -> (&Secret, &Secret) {
        (&self.key, &self.secret)
    }

    pub(super) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate.last()
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

    pub(super) async fn patch<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        url: Url,
        body: &B,
    ) -> Result<T, BrokerError> {
        let text = self
            .send(self.request(Method::PATCH, url).json(body))
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
            if let Some(v) = http::sensitive_header(s.expose()) {
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
        self.rate.note(&headers);
        let text = body_text(resp, self.timeout).await?;
        if status.is_success() {
            return Ok(text);
        }
        Err(error_from(status, &headers, &text))
    }
}

/// Classifies a non-success answer from its status and Alpaca's `{code, message}` body.
fn error_from(status: StatusCode, headers: &HeaderMap, text: &str) -> BrokerError {
    let parsed = serde_json::from_str::<ErrorBody>(text).ok();
    if status == StatusCode::NOT_FOUND && parsed.as_ref().is_none_or(|b| b.message.is_none()) {
        // Alpaca's 404s say what is missing; a bare one comes from elsewhere.
        return http::no_error_body("an Alpaca", "");
    }
    let body = parsed.unwrap_or_default();
    let message = body
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| http::fallback_message(status, text));
    RATE_HEADERS.fill_delay(classify(status, headers, body.code(), message), headers)
}
