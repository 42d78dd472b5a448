//! RFC 6238 TOTP as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30-second steps,
//! a 160-bit secret. Codes are compared in constant time, over the whole ±1-step window
//! (no early exit), and the caller rejects a step already used (replay).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
pub const SECRET_BYTES: usize = 20;
pub const ISSUER: &str = "Brokerdesk";

/// Builds the TOTP for a secret and profile name.
pub fn totp(secret: &[u8], profile: &str) -> Result<Totp, String> {
    build(secret, profile, DIGITS)
}

fn build(secret: &[u8], profile: &str, digits: u8) -> Result<Totp, String> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(profile.replace(':', "-"))
        .build()
        .map_err(|e| e.to_string())
}

/// Returns the time step a `code` matches at unix time `now`, checking steps now−1, now
/// and now+1 in constant time. Formatting is forgiving (spaces and dashes are ignored).
pub fn matching_step(t: &Totp, code: &str, now: u64) -> Option<u64> {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if cleaned.len() != usize::from(t.digits()) || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let origin = now / STEP_SECONDS;
    let mut found: Option<u64> = None;
    for step in origin.saturating_sub(1)..=origin + 1 {
        let expected = t.generate(step * STEP_SECONDS).to_string();
        let eq: bool = expected.as_bytes().ct_eq(cleaned.as_bytes()).into();
        // Keep the latest matching step without branching out of the loop early.
        if eq {
            found = Some(step);
        }
    }
    found
}

/// Returns the current step at unix time `now`.
pub fn step_at(now: u64) -> u64 {
    now / STEP_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits, secret "12345678901234567890").
    #[test]
    fn rfc6238_test_vectors() {
        let t = build(b"12345678901234567890", "rfc", 8).expect("totp");
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(t.generate(time).to_string(), code, "t = {time}");
            assert_eq!(matching_step(&t, code, time), Some(time / 30));
        }
    }

    #[test]
    fn skew_of_one_step_either_way_and_no_more() {
        let t = totp(&[7u8; 20], "me").expect("totp");
        let now = 1_700_000_000u64;
        let prev = t.generate(now - 30).to_string();
        let next = t.generate(now + 30).to_string();
        let far = t.generate(now - 90).to_string();
        assert_eq!(matching_step(&t, &prev, now), Some(step_at(now) - 1));
        assert_eq!(matching_step(&t, &next, now), Some(step_at(now) + 1));
        assert_eq!(matching_step(&t, &far, now), None);
        assert_eq!(matching_step(&t, "12a456", now), None);
        assert_eq!(matching_step(&t, "1234567", now), None);
        let spaced = format!("{} {}", &prev[..3], &prev[3..]);
        assert_eq!(matching_step(&t, &spaced, now), Some(step_at(now) - 1));
    }

    #[test]
    fn otpauth_uri_has_the_expected_shape() {
        let t = totp(&[1u8; 20], "main").expect("totp");
        let uri = t.to_url().expect("url");
        assert!(uri.starts_with("otpauth://totp/Brokerdesk:main?"), "{uri}");
        assert!(uri.contains("issuer=Brokerdesk"), "{uri}");
        assert!(uri.contains("secret="), "{uri}");
    }
}
