//! Tastytrade's REST transport: OAuth2 access tokens, the envelope, and error mapping.
//!
//! The refresh token and client secret buy an access token at `POST /oauth/token` (a JSON
//! body and deliberately no `Authorization` header). The token is cached and refreshed 60 s
//! before its `expires_in` runs out (half-way, for lifetimes under two minutes), and once
//! more when a call comes back 401 with a code saying the token expired; a second 401 is an
//! auth failure. The cache sits behind an async mutex held across the refresh, so callers
//! racing an expiry wait for one refresh instead of each starting their own; the
//! generation number lets a caller drop only the token it actually used.
//!
//! Every request carries `User-Agent: brokerdesk/<version>` (the shared client's; Tastytrade
//! answers 401 without one) and, in production only, `Accept-Version` as the SDK sends it.
//! Errors: 401 → Auth; 404 with the envelope → NotFound, a bare 404 → Protocol (a wrong
//! REST URL must not read as "no such order"); 422 (`preflight_check_failure`,
//! `validation_error`) → Rejected with the inner messages; 429/5xx/transport as shared.
//! Every error is scrubbed of the three secrets before it leaves.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Client, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::Mutex;
use url::Url;
use zeroize::Zeroizing;

use super::models::{token_expired, Envelope, ErrorBody, TokenResponse};
use crate::accounts::model::Environment;
use crate::brokers::http::{self, body_text, classify, client, parse_json, transport};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// Refresh this long before the access token expires (what the SDK does).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The API version the SDK pins in production.
const ACCEPT_VERSION: &str = "20251101";

struct Cached {
    /// `Bearer <token>`, marked sensitive.
    header: HeaderValue,
    /// Kept to scrub it from errors.
    token: Secret,
    refresh_at: Instant,
    generation: u64,
}

pub(super) struct TastyHttp {
    client: Client,
    base: Url,
    refresh_token: Secret,
    client_secret: Secret,
    production: bool,
    timeout: Duration,
    cached: Mutex<Option<Cached>>,
    /// The current access token, for scrubbing errors (readable while the cache above is
    /// locked for a refresh).
    last_token: std::sync::Mutex<Option<Secret>>,
    /// When the current access token expires (it is refreshed before then).
    expires_at: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl TastyHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        let refresh_token = http::credential(&cfg.api_key).ok_or_else(|| {
            BrokerError::Config("Tastytrade needs the OAuth refresh token (API key)".into())
        })?;
        let client_secret = http::credential(&cfg.api_secret).ok_or_else(|| {
            BrokerError::Config("Tastytrade needs the OAuth client secret (API secret)".into())
        })?;
        Ok(Self {
            client: client(cfg.timeout, &cfg.rest_url)?,
            base: http::base_url(&cfg.rest_url, "REST")?,
            refresh_token,
            client_secret,
            production: cfg.environment == Environment::Live,
            timeout: cfg.timeout,
            cached: Mutex::new(None),
            last_token: std::sync::Mutex::new(None),
            expires_at: std::sync::Mutex::new(None),
        })
    }

    /// When the current access token expires, once one was obtained.
    pub(super) fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.expires_at.lock().ok().and_then(|a| *a)
    }

    /// The URL of `segments` under the base (see [`http::url`]).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        http::url(&self.base, segments.iter().copied())
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if self.production {
            h.insert("accept-version", HeaderValue::from_static(ACCEPT_VERSION));
        }
        h
    }

    /// Returns a valid access token header and its generation, refreshing when due.
    async fn access(&self) -> Result<(HeaderValue, u64), BrokerError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if Instant::now() < c.refresh_at {
                return Ok((c.header.clone(), c.generation));
            }
        }
        let generation = cached.as_ref().map_or(1, |c| c.generation + 1);
        let fresh = self.refresh(generation).await?;
        let out = (fresh.header.clone(), generation);
        if let Ok(mut last) = self.last_token.lock() {
            *last = Some(Secret::new(fresh.token.expose()));
        }
        *cached = Some(fresh);
        Ok(out)
    }

    /// Forgets the token of `generation` (a newer one, fetched meanwhile, is kept).
    async fn invalidate(&self, generation: u64) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.generation == generation) {
            *cached = None;
        }
    }

    /// `POST /oauth/token`, without an Authorization header.
    async fn refresh(&self, generation: u64) -> Result<Cached, BrokerError> {
        let body = Zeroizing::new(
            json!({
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token.expose(),
                "client_secret": self.client_secret.expose(),
            })
            .to_string(),
        );
        let req = self
            .client
            .post(self.url(&["oauth", "token"]))
            .headers(self.headers())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.as_str().to_owned());
        let (status, headers, text) = self.send(req).await?;
        let text = Zeroizing::new(text);
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
            let (code, message) = body.parts();
            let message = message.unwrap_or_else(|| http::reason(status));
            let e = match status.as_u16() {
                400 | 401 | 403 => BrokerError::Auth(format!(
                    "Tastytrade refused the refresh token or client secret ({code}: {message})"
                )),
                404 => BrokerError::Protocol(
                    "HTTP 404 from the token endpoint; check the REST URL".into(),
                ),
                _ => classify(status, &headers, code, message),
            };
            return Err(self.scrub(e));
        }
        // No prefix of the answer is quoted on failure: it may hold the access token.
        let token: TokenResponse = serde_json::from_str(&text).map_err(|_| {
            BrokerError::Protocol("the token answer has no usable access_token".into())
        })?;
        let raw = token.access_token.expose().trim();
        let header = http::sensitive_header(&Zeroizing::new(format!("Bearer {raw}")))
            .ok_or_else(|| BrokerError::Protocol("the access token is not header-safe".into()))?;
        let life = Duration::from_secs(token.expires_in.unwrap_or(900));
        if let Ok(mut at) = self.expires_at.lock() {
            *at = chrono::Duration::from_std(life)
                .ok()
                .map(|d| chrono::Utc::now() + d);
        }
        let usable = if life > 2 * REFRESH_MARGIN {
            life - REFRESH_MARGIN
        } else {
            life / 2
        };
        Ok(Cached {
            header,
            token: Secret::new(raw),
            refresh_at: Instant::now() + usable,
            generation,
        })
    }

    /// `Bearer <access token>`, the current one (refreshed when due): what the account
    /// streamer wants in every message's `auth-token`.
    pub(super) async fn bearer(&self) -> Result<Secret, BrokerError> {
        let (header, _) = self.access().await?;
        let text = header
            .to_str()
            .map_err(|_| BrokerError::Protocol("the access token is not plain text".into()))?;
        Ok(Secret::new(text))
    }

    /// Calls the API and returns `data` parsed as `T`; refreshes the token once on a 401
    /// that says it expired.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&RawValue>,
    ) -> Result<T, BrokerError> {
        let mut retried = false;
        loop {
            let (auth, generation) = self.access().await?;
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .headers(self.headers())
                .header(AUTHORIZATION, auth);
            if let Some(b) = body {
                req = req.json(b);
            }
            let (status, headers, text) = self.send(req).await?;
            if status.is_success() {
                let env: Envelope<T> = parse_json(&text).map_err(|e| self.scrub(e))?;
                return Ok(env.data);
            }
            let parsed = serde_json::from_str::<ErrorBody>(&text).ok();
            let (code, message) = parsed.as_ref().map(ErrorBody::parts).unwrap_or_default();
            if status == StatusCode::UNAUTHORIZED && token_expired(&code) && !retried {
                tracing::debug!(code = %code, "Tastytrade access token expired; refreshing");
                self.invalidate(generation).await;
                retried = true;
                continue;
            }
            if status == StatusCode::NOT_FOUND && parsed.as_ref().is_none_or(|b| b.error.is_none())
            {
                return Err(http::no_error_body("a Tastytrade", ""));
            }
            let message = message
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| http::fallback_message(status, &text));
            return Err(self.scrub(classify(status, &headers, code, message)));
        }
    }

    /// Sends a request; returns the status, headers and body text of any HTTP answer.
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, String), BrokerError> {
        let resp = req
            .send()
            .await
            .map_err(|e| self.scrub(transport(e, self.timeout)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = body_text(resp, self.timeout)
            .await
            .map_err(|e| self.scrub(e))?;
        Ok((status, headers, text))
    }

    /// Removes the refresh token, client secret and access token from an error, should a
    /// server or a proxy ever echo one back.
    pub(super) fn scrub(&self, e: BrokerError) -> BrokerError {
        let access = self
            .last_token
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|s| Zeroizing::new(s.expose().to_string())));
        let mut secrets: Vec<&str> = vec![self.refresh_token.expose(), self.client_secret.expose()];
        if let Some(a) = access.as_ref() {
            secrets.push(a.as_str());
        }
        e.scrubbed(&secrets)
    }
}
