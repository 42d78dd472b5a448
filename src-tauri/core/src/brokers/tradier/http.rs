//! Tradier's REST transport: one pooled client; `Authorization: Bearer` (marked sensitive)
//! and `Accept: application/json` on every request, because Tradier answers XML otherwise;
//! form-encoded POST bodies; and the mapping of Tradier's error bodies.
//!
//! Errors come in two shapes: Apigee faults (`{"fault":{"faultstring","detail":{"errorcode"}}}`,
//! sometimes as XML even to a JSON request) and validation errors (`{"errors":{"error":…}}`).
//! A `keymanagement.*` fault is [`BrokerError::Auth`], except "Datastore Error", which is
//! transient and maps to a retryable [`BrokerError::Unavailable`] whatever its status.
//! Validation errors are [`BrokerError::Rejected`] (code `order_finalized` for a cancel of a
//! final order, else `validation`). A 429 without `Retry-After` takes its delay from
//! `X-Ratelimit-Expiry` (epoch ms); the last `X-Ratelimit-*` values seen are kept.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::models::{ErrorsBody, FaultBody};
use crate::brokers::http::{body_text, classify, client, parse_json, retry_after, transport};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// The request budget from the last answer's `X-Ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub allowed: u32,
    pub used: u32,
    pub available: u32,
    /// When the window ends, in milliseconds since the Unix epoch.
    pub expiry_epoch_ms: u64,
}

pub(super) struct TradierHttp {
    client: Client,
    base: Url,
    /// `Bearer <token>`, marked sensitive.
    auth: HeaderValue,
    /// Kept only to scrub it from any error text.
    token: Secret,
    timeout: Duration,
    rate: Mutex<Option<RateLimit>>,
}

impl TradierHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        // Pasted tokens often carry a trailing newline or space; Tradier's never do.
        let token = cfg
            .api_key
            .as_ref()
            .map(|s| Secret::new(s.expose().trim()))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| BrokerError::Config("Tradier needs an access token".into()))?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                BrokerError::Config(
                    "the access token contains characters an HTTP header cannot carry".into(),
                )
            })?;
        auth.set_sensitive(true);
        let base = Url::parse(&cfg.rest_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| BrokerError::Config(format!("bad REST URL {:?}", cfg.rest_url)))?;
        Ok(Self {
            client: client(cfg.timeout, &cfg.rest_url)?,
            base,
            auth,
            token,
            timeout: cfg.timeout,
            rate: Mutex::new(None),
        })
    }

    /// The URL of `segments` under the base (`…/v1`), each percent-encoded, so an id can
    /// never change the path's shape.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(super) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate.lock().ok().and_then(|g| *g)
    }

    pub(super) async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, BrokerError> {
        self.send(self.request(Method::GET, url)).await
    }

    /// POSTs a form (`application/x-www-form-urlencoded`), as Tradier requires.
    pub(super) async fn post_form<T: DeserializeOwned>(
        &self,
        url: Url,
        form: &[(&str, String)],
    ) -> Result<T, BrokerError> {
        // Encoded here: reqwest's `form` needs a feature this crate does not enable.
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .request(Method::POST, url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    pub(super) async fn delete<T: DeserializeOwned>(&self, url: Url) -> Result<T, BrokerError> {
        self.send(self.request(Method::DELETE, url)).await
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json")
    }

    /// Sends a request; returns the parsed body of a success, or the classified error.
    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, BrokerError> {
        let resp = req.send().await.map_err(|e| transport(e, self.timeout))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        self.note_rate_limit(&headers);
        let text = body_text(resp, self.timeout).await?;
        // Never let the token reach a message, should an answer ever echo it.
        let text = text.replace(self.token.expose(), "[redacted]");
        if status.is_success() {
            // Some validation failures are reported with 200.
            if let Ok(e) = serde_json::from_str::<ErrorsBody>(&text) {
                return Err(rejected(StatusCode::BAD_REQUEST, e.errors.error.into_vec()));
            }
            return parse_json(&text);
        }
        Err(error_from(status, &headers, &text))
    }

    fn note_rate_limit(&self, headers: &HeaderMap) {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let (Some(allowed), Some(used), Some(available), Some(expiry)) = (
            num("x-ratelimit-allowed"),
            num("x-ratelimit-used"),
            num("x-ratelimit-available"),
            num("x-ratelimit-expiry"),
        ) else {
            return;
        };
        let seen = RateLimit {
            allowed: clamp(allowed),
            used: clamp(used),
            available: clamp(available),
            expiry_epoch_ms: expiry,
        };
        if let Ok(mut g) = self.rate.lock() {
            *g = Some(seen);
        }
    }
}

/// A validation refusal.
fn rejected(status: StatusCode, messages: Vec<String>) -> BrokerError {
    let message = messages.join("; ");
    let code = if message.contains("order already in finalized state") {
        "order_finalized"
    } else {
        "validation"
    };
    BrokerError::Rejected {
        status: status.as_u16(),
        code: code.into(),
        message,
    }
}

/// Reads an Apigee fault, as JSON or as XML.
fn fault(text: &str) -> Option<(String, String)> {
    if let Ok(f) = serde_json::from_str::<FaultBody>(text) {
        let code = f.fault.detail.map(|d| d.errorcode).unwrap_or_default();
        return Some((f.fault.faultstring, code));
    }
    let tag = |name: &str| {
        let start = text.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + text[start..].find(&format!("</{name}>"))?;
        Some(text[start..end].trim().to_string())
    };
    text.contains("<fault>").then(|| {
        (
            tag("faultstring").unwrap_or_default(),
            tag("errorcode").unwrap_or_default(),
        )
    })
}

/// Classifies a non-success answer.
fn error_from(status: StatusCode, headers: &HeaderMap, text: &str) -> BrokerError {
    let limited = |e: BrokerError| match e {
        BrokerError::RateLimited { retry_after: None } => BrokerError::RateLimited {
            retry_after: expiry_delay(headers),
        },
        e => e,
    };
    if let Some((faultstring, code)) = fault(text) {
        let message = if faultstring.is_empty() {
            status.canonical_reason().unwrap_or("fault").to_string()
        } else {
            faultstring
        };
        if message.eq_ignore_ascii_case("Datastore Error") {
            return BrokerError::Unavailable {
                status: status.as_u16(),
                message,
            };
        }
        if code.starts_with("keymanagement.") {
            return BrokerError::Auth(message);
        }
        return limited(classify(status, headers, code, message));
    }
    if let Ok(e) = serde_json::from_str::<ErrorsBody>(text) {
        let messages = e.errors.error.into_vec();
        return match status.as_u16() {
            404 => BrokerError::NotFound(messages.join("; ")),
            401 | 429 | 500..=599 => limited(classify(
                status,
                headers,
                String::new(),
                messages.join("; "),
            )),
            _ => rejected(status, messages),
        };
    }
    if text.contains("order already in finalized state") {
        return rejected(status, vec![text.trim().to_string()]);
    }
    if status == StatusCode::NOT_FOUND {
        // A bare 404 comes from a wrong REST URL or a proxy, not from Tradier; calling it
        // "not found" would let a caller conclude an order does not exist and place it again.
        let msg = "HTTP 404 without a Tradier error body; check the REST URL";
        return BrokerError::Protocol(msg.into());
    }
    let prefix: String = text.chars().take(120).filter(|c| !c.is_control()).collect();
    let message = if prefix.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string()
    } else {
        prefix
    };
    limited(classify(status, headers, String::new(), message))
}

/// The time until `X-Ratelimit-Expiry` (epoch ms), at least 1 s and at most a minute.
fn expiry_delay(headers: &HeaderMap) -> Option<Duration> {
    if let Some(d) = retry_after(headers) {
        return Some(d);
    }
    let expiry: u64 = headers
        .get("x-ratelimit-expiry")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let now = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis(),
    )
    .ok()?;
    let secs = expiry.saturating_sub(now).div_ceil(1000);
    Some(Duration::from_secs(secs.clamp(1, 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_faults_are_read() {
        let xml = "<?xml version='1.0' encoding='UTF-8'?><fault><faultstring>Gateway Timeout\
                   </faultstring><detail><errorcode>messaging.adaptors.http.flow.GatewayTimeout\
                   </errorcode></detail></fault>";
        let e = error_from(StatusCode::GATEWAY_TIMEOUT, &HeaderMap::new(), xml);
        assert_eq!(
            e,
            BrokerError::Unavailable {
                status: 504,
                message: "Gateway Timeout".into()
            }
        );
    }

    #[test]
    fn a_bare_finalized_text_is_a_rejection() {
        let e = error_from(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            "order already in finalized state: filled",
        );
        assert!(matches!(e, BrokerError::Rejected { code, .. } if code == "order_finalized"));
    }
}
