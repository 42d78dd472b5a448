//! Secret values: zeroized on drop, redacted in `Debug`/`Display`, never serialized.
//!
//! A [`Secret`] can be *deserialized* (it arrives from the UI or the CLI), but there is no
//! `Serialize` impl, so it cannot be sent back out by accident.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// A secret string (API key, token, password). Zeroized when dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a string; the caller's copy should be the only other one and be dropped soon.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// Returns the secret. Keep the borrow short; never log or format it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Number of characters (not bytes) in the secret.
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns the masked form shown in the UI: `••••` plus the last four characters when the
    /// secret is long enough (12+ characters) that the tail reveals little.
    pub fn masked(&self) -> String {
        mask(self.expose())
    }
}

/// Masks a secret for display: `••••1234` for 12+ characters, `••••` otherwise.
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    if n >= 12 {
        let tail: String = value.chars().skip(n - 4).collect();
        format!("••••{tail}")
    } else {
        "••••".to_string()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(Zeroizing::new(value))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(••••)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("••••")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Move the string in (no copy); it is zeroized when the Secret drops.
        Ok(Secret::from(String::deserialize(deserializer)?))
    }
}

/// A secret travels from the UI as a plain string (it is never sent back).
impl ts_rs::TS for Secret {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "string".to_string()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        <Self as ts_rs::TS>::name(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("hunter2-very-secret-token");
        assert_eq!(format!("{s:?}"), "Secret(••••)");
        assert_eq!(format!("{s}"), "••••");
        assert!(!format!("{s:?}{s}").contains("hunter2"));
    }

    #[test]
    fn mask_shows_tail_only_for_long_secrets() {
        assert_eq!(mask("abcdefghijkl1234"), "••••1234");
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("elevenchars"), "••••");
        assert_eq!(mask("ééééééééé1234"), "••••1234");
    }

    #[test]
    fn deserializes_from_json_string() {
        let s: Secret = serde_json::from_str("\"tok-123\"").expect("valid json");
        assert_eq!(s.expose(), "tok-123");
    }
}
