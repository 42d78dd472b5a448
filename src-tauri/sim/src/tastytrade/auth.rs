//! OAuth2 and quote tokens.
//!
//! `POST /oauth/token` trades the refresh token and client secret (a JSON body, and no
//! `Authorization` header) for an access token that lasts `token_ttl` (900 s by default).
//! Its errors use the OAuth shape Tastytrade is seen sending there,
//! `{"error_code":"invalid_grant","error_description":"Invalid JWT"}` (tastyware/tastytrade
//! issue #281), not the API's error envelope. An access token is valid until its expiry or
//! until [`Faults::expire_sessions`](crate::Faults::expire_sessions) moves the epoch on.
//!
//! `GET /api-quote-tokens` hands out a DXLink token (24 h unless
//! [`SimState::set_quote_token_ttl`](super::SimState::set_quote_token_ttl) says otherwise)
//! and the URL of this simulator's DXLink socket, built from the request's `Host`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::wire::{self, ApiError};
use super::{lock, SimState};
use crate::faults::RefuseAuth;

/// How long a quote token lasts by default.
const QUOTE_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Issued tokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub ttl: Duration,
    /// Access token → (expiry, epoch at issue).
    access: HashMap<String, (Instant, u64)>,
    /// Quote token → expiry.
    quote: HashMap<String, Instant>,
    /// How long quote tokens issued from now on last.
    pub quote_ttl: Duration,
    pub issued: u64,
}

/// Why an access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Unknown,
    Expired,
}

impl Tokens {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            access: HashMap::new(),
            quote: HashMap::new(),
            quote_ttl: QUOTE_TOKEN_TTL,
            issued: 0,
        }
    }

    fn issue(&mut self, epoch: u64) -> String {
        let token = format!("tt-access-{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        // Forget long-dead tokens so a long demo session does not grow without bound.
        self.access
            .retain(|_, (exp, _)| *exp + Duration::from_secs(3600) > now);
        self.access.insert(token.clone(), (now + self.ttl, epoch));
        self.issued += 1;
        token
    }

    pub(crate) fn check(&self, token: &str, epoch: u64) -> Result<(), Refusal> {
        match self.access.get(token) {
            None => Err(Refusal::Unknown),
            Some((exp, issued_in)) if *issued_in != epoch || Instant::now() >= *exp => {
                Err(Refusal::Expired)
            }
            Some(_) => Ok(()),
        }
    }

    fn issue_quote(&mut self) -> String {
        let token = format!("dxlink-{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        self.quote.retain(|_, exp| *exp > now);
        self.quote.insert(token.clone(), now + self.quote_ttl);
        token
    }

    /// Expires every quote token issued so far.
    pub(crate) fn expire_quotes(&mut self) {
        self.quote.clear();
    }

    pub(crate) fn quote_ok(&self, token: &str) -> bool {
        self.quote
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    wire::reply(
        status,
        &json!({ "error_code": code, "error_description": description }),
    )
}

/// `POST /oauth/token`.
pub(crate) async fn token(
    State(s): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key("authorization") {
        let msg = "the token request must not carry an Authorization header";
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", msg);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Invalid JSON");
    };
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    if field("grant_type") != "refresh_token" {
        let msg = "grant_type must be refresh_token";
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", msg);
    }
    let good = field("refresh_token") == s.inner.refresh_token
        && field("client_secret") == s.inner.client_secret;
    if refuse.is_some() || !good {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", "Invalid JWT");
    }
    let epoch = s.faults().session_epoch();
    let (token, ttl) = {
        let mut t = lock(&s.inner.tokens);
        (t.issue(epoch), t.ttl)
    };
    let body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "id_token": Value::Null,
    });
    wire::reply(StatusCode::OK, &body)
}

/// `GET /api-quote-tokens` (behind the bearer gate).
pub(crate) async fn quote_token(State(s): State<SimState>, headers: HeaderMap) -> Response {
    let Some(host) = headers.get("host").and_then(|h| h.to_str().ok()) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "no Host header")
            .into_response();
    };
    let token = lock(&s.inner.tokens).issue_quote();
    wire::data(
        "/api-quote-tokens",
        json!({
            "token": token,
            "dxlink-url": format!("ws://{host}/dxlink"),
            "level": "api",
        }),
    )
}
