//! Tastytrade's wire formats: the `{"data":…,"context":…}` envelope (lists in `data.items`),
//! kebab-case keys, decimals as strings (`"100000.0"`), and the error envelope
//! `{"error":{"code","message","errors":[{"code","message"}]}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Returns a JSON answer with the given status.
pub(crate) fn reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `200 {"data": data, "context": context}`.
pub(crate) fn data(context: &str, data: Value) -> Response {
    reply(StatusCode::OK, &json!({ "data": data, "context": context }))
}

/// `200 {"data": {"items": items}, "context": context}`.
pub(crate) fn items(context: &str, items: Vec<Value>) -> Response {
    data(context, json!({ "items": items }))
}

/// A refusal: the status and the error envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The inner `errors[]`: (code, message).
    pub errors: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// 401 for a missing, unknown or refused token.
    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
    }

    /// 401 for an access token past its 15 minutes (or expired by the fault switch). The
    /// real code is UNCONFIRMED; the connector also accepts `token_invalid`/`invalid_token`.
    pub(crate) fn token_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "This access token has expired",
        )
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "record_not_found",
            format!("{what} not found"),
        )
    }

    /// 422 `validation_error` with one inner error.
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "Request validation failed",
        );
        e.errors.push((code, message.into()));
        e
    }

    /// 422 `preflight_check_failure` with its inner errors.
    pub(crate) fn preflight(errors: Vec<(&'static str, String)>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "preflight_check_failure",
            message: "One or more preflight checks failed".into(),
            errors,
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.errors.is_empty() {
            error["errors"] = self
                .errors
                .iter()
                .map(|(code, message)| json!({ "code": code, "message": message }))
                .collect();
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        reply(self.status, &self.body())
    }
}

/// Formats a decimal as Tastytrade does: a string with at least one decimal (`"100000.0"`).
pub(crate) fn dec(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') || !x.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// Rounds to cents (money in the simulator's answers).
pub(crate) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_always_carry_a_point() {
        assert_eq!(dec(100_000.0), "100000.0");
        assert_eq!(dec(189.12), "189.12");
        assert_eq!(dec(-3.0), "-3.0");
    }

    #[test]
    fn error_envelope_lists_inner_errors_only_when_present() {
        let e = ApiError::unauthorized().body();
        assert_eq!(
            e,
            json!({"error": {"code": "unauthorized", "message": "Unauthorized"}})
        );
        let p = ApiError::preflight(vec![("margin_check_failed", "x".into())]).body();
        assert_eq!(p["error"]["errors"][0]["code"], "margin_check_failed");
    }
}
