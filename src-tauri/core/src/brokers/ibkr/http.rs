//! The Client Portal's REST transport: one pooled client, the session cookie, the mapping of
//! IBKR's `{"error":…}` answers, and the two recoveries the gateway needs.
//!
//! **Cookie.** reqwest's cookie store is not enabled, and it is not needed: in gateway mode
//! the gateway itself holds the login, and the one cookie a client must present is
//! `api={"session":"<hex>"}`, whose value `/tickle` reports. So the connector re-reads the
//! session from every `/tickle` (sent without the cookie, so a stale one can never lock it
//! out), keeps it as a [`Secret`], and sends it, marked sensitive, on every other request and
//! on the WebSocket handshake. A 401 forgets it: the user must log in again, and the next
//! `/tickle` learns the new session.
//!
//! **TLS.** A gateway on this machine over https has its certificate pinned (`brokers/pin.rs`):
//! the client trusts exactly the pinned certificate (or pins the first one, with no pin
//! yet), and sends nothing but to the configured host and port. A refused certificate is
//! [`BrokerError::CertificateChanged`], with nothing sent.
//!
//! **Recoveries.** "Bad Request: no bridge" (the brokerage session is closed) opens it with
//! `POST /iserver/auth/ssodh/init`, queries `/iserver/accounts` (IBKR wants that after the
//! bridge opens) and retries once; "Please query /accounts first" queries and retries once.
//! Both answers mean the request was not carried out, so retrying an order is safe (and the
//! cOID guards it anyway). A second "no bridge" stays [`BrokerError::Unavailable`]
//! (retryable).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use url::Url;

use crate::brokers::http::{self, body_text, classify, parse_json, transport};
use crate::brokers::pin::{self, TlsPin};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// A successful answer. Its text is kept, so typed readers parse decimals from their digits
/// ([`Answer::decode`]); [`Answer::value`] is the generic view for the protocol's own checks.
#[derive(Debug)]
pub(super) struct Answer {
    text: String,
    value: Value,
}

impl Answer {
    /// The answer as `T`, read from its text.
    pub(super) fn decode<T: DeserializeOwned>(&self) -> Result<T, BrokerError> {
        serde_json::from_str(&self.text)
            .map_err(|e| BrokerError::Protocol(format!("unexpected answer: {e}")))
    }

    /// The answer as a generic JSON value (numbers there are floats: never read money from it).
    pub(super) fn value(&self) -> &Value {
        &self.value
    }
}

/// Encodes a request body to its JSON text (so numbers written by
/// [`crate::brokers::wire::as_number`] keep their digits).
pub(super) fn body(v: &impl serde::Serialize) -> Result<Box<RawValue>, BrokerError> {
    serde_json::value::to_raw_value(v)
        .map_err(|e| BrokerError::Protocol(format!("cannot encode a request: {e}")))
}

/// What a 401 tells the user (gateway mode has nothing to re-enter in Brokerdesk).
pub(super) const LOGIN_HINT: &str =
    "not logged in at the Client Portal gateway; log in at the gateway in a browser and retry";

pub(super) struct IbkrHttp {
    client: Client,
    base: Url,
    timeout: Duration,
    /// The gateway's certificate pin, when the gateway is on this machine and speaks https
    /// (`brokers/pin.rs`); the WebSocket uses the same one.
    pin: Option<Arc<TlsPin>>,
    /// The session id from the last `/tickle`.
    session: Mutex<Option<Secret>>,
}

impl IbkrHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        let base = http::base_url(&cfg.rest_url, "REST")?;
        let local = http::is_loopback(&base);
        let mut builder = http::builder(cfg.timeout, local)
            .timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(90));
        // The gateway on this machine (https://localhost:5000) serves a self-signed
        // certificate that no trust store knows. It is pinned instead: this client trusts
        // exactly the certificate pinned for the account (the first one seen, when none is
        // pinned yet), and it only ever talks to the configured host and port (`once`
        // refuses other URLs; redirects are never followed, see `http::builder`). Any other
        // host (a gateway on another machine, api.ibkr.com) is verified by the platform's
        // trust store, as for every broker.
        let pin = if local && base.scheme() == "https" {
            let pin = match &cfg.tls_pin {
                Some(p) if p.covers(&base) => p.clone(),
                _ => TlsPin::for_url(&base, None)?,
            };
            builder = builder.tls_backend_preconfigured(pin::client_config(&pin)?);
            Some(pin)
        } else {
            None
        };
        let client = builder
            .build()
            .map_err(|e| BrokerError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            timeout: cfg.timeout,
            pin,
            session: Mutex::new(None),
        })
    }

    /// The gateway's certificate pin (`None`: plain http, or a host verified by the trust
    /// store).
    pub(super) fn pin(&self) -> Option<&Arc<TlsPin>> {
        self.pin.as_ref()
    }

    /// The TLS configuration for a WebSocket at `url`: the pinned one when `url` is the
    /// gateway's host and port over `wss`; `None` (the platform's trust store) otherwise.
    pub(super) fn ws_tls(
        &self,
        url: &str,
    ) -> Result<Option<Arc<rustls::ClientConfig>>, BrokerError> {
        let Some(pin) = &self.pin else {
            return Ok(None);
        };
        match Url::parse(url) {
            Ok(u) if u.scheme() == "wss" && pin.covers(&u) => {
                Ok(Some(Arc::new(pin::client_config(pin)?)))
            }
            _ => Ok(None),
        }
    }

    /// The error for a connection that failed: [`BrokerError::CertificateChanged`] when the
    /// gateway's certificate was refused since `refusals` (taken before connecting).
    pub(super) fn pinned_error(&self, refusals: u64, e: BrokerError) -> BrokerError {
        self.pin
            .as_ref()
            .and_then(|p| p.changed_since(refusals))
            .unwrap_or(e)
    }

    /// Handshakes refused so far (see [`IbkrHttp::pinned_error`]).
    pub(super) fn refusals(&self) -> u64 {
        self.pin.as_ref().map_or(0, |p| p.refusals())
    }

    /// The URL of `segments` under the base (see [`http::url`]).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        http::url(&self.base, segments.iter().copied())
    }

    pub(super) fn origin(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// The `api={"session":"…"}` cookie, once `/tickle` has reported a session.
    pub(super) fn cookie(&self) -> Option<Secret> {
        let g = self.session.lock().ok()?;
        let s = g.as_ref()?;
        Some(Secret::new(format!(
            "api={{\"session\":\"{}\"}}",
            s.expose()
        )))
    }

    /// The session id itself, for the WebSocket's `{"session":"…"}` message.
    pub(super) fn session(&self) -> Option<Secret> {
        let g = self.session.lock().ok()?;
        g.as_ref().map(|s| Secret::new(s.expose()))
    }

    /// The per-request timeout (also the stream's connect timeout).
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Keeps the session `/tickle` reported (only plain tokens, which a header can carry).
    pub(super) fn set_session(&self, session: Option<&str>) {
        let s = session
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(Secret::new);
        if let Ok(mut g) = self.session.lock() {
            *g = s;
        }
    }

    /// `POST /tickle`, without the cookie (it is how the session is learnt).
    pub(super) async fn tickle(&self) -> Result<Answer, BrokerError> {
        self.once(Method::POST, self.url(&["tickle"]), None, false)
            .await
    }

    /// Sends a request with the cookie, recovering once from "no bridge" and "query
    /// /accounts first".
    pub(super) async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&RawValue>,
    ) -> Result<Answer, BrokerError> {
        match self.once(method.clone(), url.clone(), body, true).await {
            Err(e) if is_no_bridge(&e) => {
                self.open_bridge().await?;
                self.once(method, url, body, true).await
            }
            Err(e) if is_accounts_first(&e) => {
                self.query_accounts().await?;
                self.once(method, url, body, true).await
            }
            r => r,
        }
    }

    /// Opens the brokerage session, then queries the accounts as IBKR requires.
    pub(super) async fn open_bridge(&self) -> Result<(), BrokerError> {
        let init = body(&json!({"publish": true, "compete": true}))?;
        let url = self.url(&["iserver", "auth", "ssodh", "init"]);
        self.once(Method::POST, url, Some(&init), true).await?;
        self.query_accounts().await
    }

    /// `GET /iserver/accounts`, which IBKR wants before orders and market data.
    pub(super) async fn query_accounts(&self) -> Result<(), BrokerError> {
        let url = self.url(&["iserver", "accounts"]);
        self.once(Method::GET, url, None, true).await.map(|_| ())
    }

    async fn once(
        &self,
        method: Method,
        url: Url,
        body: Option<&RawValue>,
        with_cookie: bool,
    ) -> Result<Answer, BrokerError> {
        // Every URL is built under the base; this keeps the pinned client (and the cookie)
        // on the configured host and port even if that ever changed.
        if url.origin() != self.base.origin() {
            return Err(BrokerError::Config(format!(
                "refusing to send a gateway request to {} (the gateway is {})",
                url.origin().ascii_serialization(),
                self.origin()
            )));
        }
        let mut headers = HeaderMap::new();
        if let Some(c) = with_cookie.then(|| self.cookie()).flatten() {
            if let Some(v) = http::sensitive_header(c.expose()) {
                headers.insert(COOKIE, v);
            }
        }
        let mut req = self.client.request(method, url).headers(headers);
        req = match body {
            Some(b) => req.json(b),
            // The gateway wants a Content-Length on every POST, even an empty one.
            None => req.body(""),
        };
        let refusals = self.refusals();
        let resp = req
            .send()
            .await
            .map_err(|e| self.pinned_error(refusals, transport(e, self.timeout)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = body_text(resp, self.timeout).await?;
        if status.is_success() {
            let value: Value = parse_json(&text)?;
            return match error_message(&value) {
                Some(m) => Err(refusal(status, m)),
                None => Ok(Answer { text, value }),
            };
        }
        let e = error_from(status, &headers, &text);
        if matches!(e, BrokerError::Auth(_)) {
            self.set_session(None);
        }
        Err(e)
    }
}

/// The text of a top-level `{"error":…}` (or `[{"error":…}]`) answer.
fn error_message(v: &Value) -> Option<String> {
    let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
    let e = first.get("error")?;
    Some(match e {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

pub(super) fn is_no_bridge(e: &BrokerError) -> bool {
    matches!(e, BrokerError::Unavailable { message, .. } if message.contains("no bridge"))
}

fn is_accounts_first(e: &BrokerError) -> bool {
    matches!(e, BrokerError::Rejected { code, .. } if code == "accounts_first")
}

/// The error for an IBKR message, whatever the status it came with.
fn refusal(status: StatusCode, message: String) -> BrokerError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("no bridge") {
        BrokerError::Unavailable {
            status: status.as_u16(),
            message: "the brokerage session is not open (no bridge)".into(),
        }
    } else if lower.contains("query /accounts first") {
        BrokerError::Rejected {
            status: status.as_u16(),
            code: "accounts_first".into(),
            message,
        }
    } else {
        BrokerError::Rejected {
            status: status.as_u16(),
            code: "ibkr".into(),
            message,
        }
    }
}

/// Classifies a non-success answer from its status and IBKR's `{"error"}` body.
fn error_from(status: StatusCode, headers: &HeaderMap, text: &str) -> BrokerError {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .as_ref()
        .and_then(error_message);
    match (status.as_u16(), message) {
        (401, _) => BrokerError::Auth(LOGIN_HINT.into()),
        // IBKR's 404s for unknown orders say so; a bare one is a wrong URL, and reading it
        // as "no such order" could make a caller place an order twice.
        (404, Some(m)) => BrokerError::NotFound(m),
        (404, None) => http::no_error_body("an IBKR", " (…/v1/api)"),
        (s, Some(m)) if s == 429 || s >= 500 && !m.contains("query /accounts first") => {
            classify(status, headers, "ibkr".into(), m)
        }
        (_, Some(m)) => refusal(status, m),
        (_, None) => classify(
            status,
            headers,
            String::new(),
            http::fallback_message(status, text),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bridge_and_accounts_first_are_recognised_whatever_the_status() {
        let h = HeaderMap::new();
        let no_bridge = r#"{"error":"Bad Request: no bridge","statusCode":400}"#;
        let e = error_from(StatusCode::BAD_REQUEST, &h, no_bridge);
        assert!(is_no_bridge(&e) && e.retryable(), "{e:?}");
        let first = r#"{"error":"Please query /accounts first"}"#;
        let e = error_from(StatusCode::INTERNAL_SERVER_ERROR, &h, first);
        assert!(is_accounts_first(&e), "{e:?}");
        let e = error_from(
            StatusCode::UNAUTHORIZED,
            &h,
            r#"{"error":"not authenticated"}"#,
        );
        assert_eq!(e, BrokerError::Auth(LOGIN_HINT.into()));
    }
}
