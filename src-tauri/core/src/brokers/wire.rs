//! Wire helpers shared by the connectors: brokers send money as JSON strings (sometimes as
//! numbers, sometimes empty), and an error must never carry a credential back out.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::BrokerError;

/// Formats a decimal plainly, shortest round-trip form (`1`, `150.25`): `Display` for f64
/// never uses exponent notation.
pub fn decimal_string(x: f64) -> String {
    format!("{x}")
}

/// Reads a number sent as a string, a number, an empty string or null.
pub fn to_f64(v: Value) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("not a number: {s:?}")),
        Value::Number(n) => Ok(n.as_f64()),
        other => Err(format!("not a number: {other}")),
    }
}

/// `deserialize_with` for an optional decimal.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    to_f64(Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for a required decimal.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    opt_decimal(d)?.ok_or_else(|| serde::de::Error::custom("a required number is null"))
}

impl BrokerError {
    /// Returns the error with every occurrence of the given secrets replaced by `••••`,
    /// should a server or a proxy ever echo one back.
    pub fn scrubbed(self, secrets: &[&str]) -> Self {
        let clean = |mut s: String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if s.contains(secret) {
                    s = s.replace(secret, "••••");
                }
            }
            s
        };
        match self {
            BrokerError::Auth(m) => BrokerError::Auth(clean(m)),
            BrokerError::Unavailable { status, message } => BrokerError::Unavailable {
                status,
                message: clean(message),
            },
            BrokerError::Network(m) => BrokerError::Network(clean(m)),
            BrokerError::Protocol(m) => BrokerError::Protocol(clean(m)),
            BrokerError::Rejected {
                status,
                code,
                message,
            } => BrokerError::Rejected {
                status,
                code: clean(code),
                message: clean(message),
            },
            BrokerError::NotFound(m) => BrokerError::NotFound(clean(m)),
            BrokerError::Config(m) => BrokerError::Config(clean(m)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_removes_every_secret_everywhere() {
        let e = BrokerError::Rejected {
            status: 400,
            code: "tok-A".into(),
            message: "bad tok-A and sec-B".into(),
        };
        let s = e.scrubbed(&["tok-A", "sec-B", ""]);
        assert_eq!(
            s.to_string(),
            "the broker rejected the request (••••): bad •••• and ••••"
        );
    }

    #[test]
    fn decimals_accept_strings_numbers_and_blanks() {
        assert_eq!(to_f64(Value::String(" 1.5 ".into())), Ok(Some(1.5)));
        assert_eq!(to_f64(serde_json::json!(2)), Ok(Some(2.0)));
        assert_eq!(to_f64(Value::String(String::new())), Ok(None));
        assert!(to_f64(Value::Bool(true)).is_err());
        assert_eq!(decimal_string(150.25), "150.25");
        assert_eq!(decimal_string(1.0), "1");
    }
}
