//! OANDA's REST plumbing: URLs under `/v3` with every segment percent-encoded (ids never
//! reshape a path), the `Authorization: Bearer` header (marked sensitive so it never shows
//! in `Debug`), and the mapping of OANDA error bodies through [`http::classify`].

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::models::ErrorBody;
use super::Oanda;
use crate::brokers::{http, BrokerError};

/// Builds `base` + `/v3/` + the segments, each percent-encoded (see [`http::url`]).
pub(super) fn v3_url(base: &Url, segments: &[&str]) -> Url {
    http::url(base, std::iter::once("v3").chain(segments.iter().copied()))
}

impl Oanda {
    /// The headers of every call. The auth value is sensitive: it never prints.
    pub(super) fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, self.auth.clone());
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        h.insert(
            "Accept-Datetime-Format",
            HeaderValue::from_static("RFC3339"),
        );
        h
    }

    /// Calls the REST API and parses a success answer as `T`.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<T, BrokerError> {
        let mut req = self
            .client
            .request(method, v3_url(&self.rest, segments))
            .headers(self.headers());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.scrub(http::transport(e, self.timeout)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = http::body_text(resp, self.timeout)
            .await
            .map_err(|e| self.scrub(e))?;
        if status.is_success() {
            http::parse_json(&text).map_err(|e| self.scrub(e))
        } else {
            Err(self.error_from(status, &headers, &text))
        }
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<T, BrokerError> {
        self.call(Method::GET, segments, None).await
    }

    /// Classifies an error answer using OANDA's `{errorCode?, errorMessage}` body.
    pub(super) fn error_from(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        text: &str,
    ) -> BrokerError {
        let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
        let code = body.code().unwrap_or_default();
        let message = body
            .message()
            .unwrap_or_else(|| http::fallback_message(status, text));
        self.scrub(http::classify(status, headers, code, message))
    }

    /// Removes the token from an error, should a server or a proxy ever echo it back.
    pub(super) fn scrub(&self, e: BrokerError) -> BrokerError {
        e.scrubbed(&[self.token.expose()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_v3_prefixed() {
        let base = http::base_url("http://127.0.0.1:9/oanda", "REST").expect("valid");
        assert_eq!(
            v3_url(&base, &["accounts", "a/b"]).as_str(),
            "http://127.0.0.1:9/oanda/v3/accounts/a%2Fb"
        );
    }
}
