//! The "phone" of the black-box tests: an RFC 6238 authenticator written from the RFC
//! (HMAC-SHA-1 from the `hmac` and `sha1` crates), fed the secret decoded from the otpauth
//! URI the CLI prints, never anything from core; and turning two-factor on with it.

#![allow(clippy::expect_used, clippy::unwrap_used, dead_code)]

use crate::common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;

use common::Profile;

// ---- the "phone": RFC 6238 TOTP, written from the RFC ----

pub const STEP: u64 = 30;

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// RFC 4226 HOTP (6 digits) of `counter`; TOTP is HOTP of the 30-second time step.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// RFC 4648 base32 (upper case, padding optional).
pub fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut out) = (0u64, 0u32, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("{c:?} is not base32"));
        bits = (bits << 5) | v as u64;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// Returns the `secret=` parameter of an otpauth URI.
pub fn uri_secret(uri: &str) -> String {
    let query = uri.split_once('?').expect("query").1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .expect("secret parameter")
        .to_string()
}

/// An authenticator app holding one secret. It never hands out two codes of the same time
/// step: core rejects a step already used (replay protection).
pub struct Phone {
    secret: Vec<u8>,
    last_step: u64,
}

impl Phone {
    pub fn from_uri(uri: &str) -> Self {
        Phone {
            secret: base32_decode(&uri_secret(uri)),
            last_step: 0,
        }
    }

    /// A code of a step not used yet that core accepts now (the current step, else the next
    /// one, which the ±1-step skew allows); waits for the next step when both were used.
    pub fn fresh(&mut self) -> String {
        loop {
            let now = unix_now();
            let current = now / STEP;
            let step = current.max(self.last_step + 1);
            if step <= current + 1 {
                self.last_step = step;
                return hotp(&self.secret, step);
            }
            std::thread::sleep(Duration::from_secs((current + 1) * STEP - now));
        }
    }

    /// A 6-digit code that matches no step core could accept in the next minute.
    pub fn wrong(&self) -> String {
        let current = unix_now() / STEP;
        let valid: Vec<String> = (current.saturating_sub(1)..=current + 3)
            .map(|s| hotp(&self.secret, s))
            .collect();
        (0u32..)
            .map(|n| format!("{:06}", (n * 7919 + 13) % 1_000_000))
            .find(|c| !valid.contains(c))
            .unwrap()
    }
}

/// Runs `--json` + `args` with the master password `pw` and expects success.
pub fn ok_pw(p: &Profile, pw: &str, args: &[&str]) -> Value {
    let full: Vec<&str> = std::iter::once("--json")
        .chain(args.iter().copied())
        .collect();
    p.run_args(&full, Some(pw), None).ok()
}

/// Sets up and enables 2FA; returns the phone, the setup document and the backup codes.
pub fn enable_2fa(p: &Profile, pw: &str) -> (Phone, Value, Vec<String>) {
    let setup = ok_pw(p, pw, &["twofa", "setup"]);
    let mut phone = Phone::from_uri(setup["otpauthUri"].as_str().unwrap());
    let codes = ok_pw(p, pw, &["twofa", "enable", &phone.fresh()]);
    (phone, setup, strings(&codes["codes"]))
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}
