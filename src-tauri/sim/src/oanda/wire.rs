//! OANDA's wire formats: decimals as JSON strings, RFC 3339 times with nanoseconds, and the
//! error bodies (`{"errorCode"?, "errorMessage"}`).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The 401 body OANDA sends for a missing or bad token.
pub const UNAUTHORIZED: &str = "Insufficient authorization to perform request.";
/// The 400 message for an instrument OANDA does not know.
pub const BAD_INSTRUMENTS: &str = "Invalid value specified for 'instruments'";
/// The message of a 404 for an order id or client id that matches nothing.
pub const NO_SUCH_ORDER: &str = "The order ID specified does not exist";

/// Returns a JSON answer with the given status.
pub fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Returns OANDA's generic error body.
pub fn error(status: StatusCode, code: Option<&str>, message: &str) -> Response {
    let body = match code {
        Some(code) => json!({ "errorCode": code, "errorMessage": message }),
        None => json!({ "errorMessage": message }),
    };
    reply(status, body)
}

pub fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, None, UNAUTHORIZED)
}

pub fn no_account() -> Response {
    error(
        StatusCode::NOT_FOUND,
        None,
        "The Account specified does not exist",
    )
}

/// Formats a price with the instrument's display precision: `"1.08512"`.
pub fn price(v: f64, precision: usize) -> String {
    format!("{v:.precision$}")
}

/// Formats an account-currency amount: `"100000.0000"`.
pub fn money(v: f64) -> String {
    format!("{v:.4}")
}

/// Formats units: whole numbers without decimals (`"100"`, `"-250"`), else the shortest form.
pub fn units(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Reads a decimal sent either as a JSON string (OANDA's form) or a number.
pub fn decimal(v: &Value) -> Option<f64> {
    let n = match v {
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// Returns now as OANDA writes times: `2016-10-27T08:38:43.094548890Z`.
pub fn now() -> String {
    rfc3339_nanos(SystemTime::now())
}

pub fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Days since 1970-01-01 to a (year, month, day) civil date (H. Hinnant's algorithm); the
/// simulator has no calendar crate and needs nothing else from one.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// The names of an `instruments=A,B` query parameter, blanks dropped.
pub fn instrument_list(param: Option<&str>) -> Vec<&str> {
    param
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_rfc3339_with_nanoseconds() {
        let t = UNIX_EPOCH + Duration::new(1_477_557_523, 94_548_890);
        assert_eq!(rfc3339_nanos(t), "2016-10-27T08:38:43.094548890Z");
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&rfc3339_nanos(leap)[..10], "2000-02-29");
    }

    #[test]
    fn decimals_are_strings() {
        assert_eq!(units(100.0), "100");
        assert_eq!(units(-250.0), "-250");
        assert_eq!(units(0.5), "0.5");
        assert_eq!(price(1.085_123_4, 5), "1.08512");
        assert_eq!(money(12.5), "12.5000");
        assert_eq!(decimal(&json!("-100")), Some(-100.0));
        assert_eq!(decimal(&json!(3)), Some(3.0));
        assert_eq!(decimal(&json!("abc")), None);
        assert_eq!(decimal(&json!("NaN")), None);
    }
}
