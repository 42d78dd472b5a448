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

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::models::{ErrorsBody, FaultBody};
use crate::brokers::http::{self, body_text, classify, client, parse_json, transport};
use crate::brokers::http::{RateHeaders, RateLimit, RateMeter};
use crate::brokers::{BrokerError, ConnectorConfig};
use crate::secret::Secret;

/// Tradier's rate-limit headers (the window's end in epoch milliseconds).
const RATE_HEADERS: RateHeaders = RateHeaders {
    limit: "x-ratelimit-allowed",
    remaining: "x-ratelimit-available",
    used: Some("x-ratelimit-used"),
    reset: "x-ratelimit-expiry",
    reset_in_ms: true,
};

pub(super) struct TradierHttp {
    client: Client,
    base: Url,
    /// `Bearer <token>`, marked sensitive.
    auth: HeaderValue,
    /// Kept only to scrub it from any error text.
    token: Secret,
    timeout: Duration,
    rate: RateMeter,
}

impl TradierHttp {
    pub(super) fn new(cfg: &ConnectorConfig) -> Result<Self, BrokerError> {
        let token = http::credential(&cfg.api_key)
            .ok_or_else(|| BrokerError::Config("Tradier needs an access token".into()))?;
        Ok(Self {
            client: client(cfg.timeout, &cfg.rest_url)?,
            base: http::base_url(&cfg.rest_url, "REST")?,
            auth: http::bearer(&token, "access token")?,
            token,
            timeout: cfg.timeout,
            rate: RateMeter::new(RATE_HEADERS),
        })
    }

    /// The URL of `segments` under the base (`…/v1`, see [`http::url`]).
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        http::url(&self.base, segments.iter().copied())
    }

    pub(super) fn rate_limit(&self) -> Option<RateLimit> {
        self.rate.last()
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
        self.send_form(Method::POST, url, form).await
    }

    /// PUTs a form (changing an order).
    pub(super) async fn put_form<T: DeserializeOwned>(
        &self,
        url: Url,
        form: &[(&str, String)],
    ) -> Result<T, BrokerError> {
        self.send_form(Method::PUT, url, form).await
    }

    async fn send_form<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        form: &[(&str, String)],
    ) -> Result<T, BrokerError> {
        // Encoded here: reqwest's `form` needs a feature this crate does not enable.
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .request(method, url)
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
        self.rate.note(&headers);
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
    let limited = |e: BrokerError| RATE_HEADERS.fill_delay(e, headers);
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
        return http::no_error_body("a Tradier", "");
    }
    let message = http::fallback_message(status, text);
    limited(classify(status, headers, String::new(), message))
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
