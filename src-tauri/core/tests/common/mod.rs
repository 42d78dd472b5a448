//! Helpers shared by the core's test suites.

#![allow(dead_code)] // each test crate uses its own subset

use brokerdesk_core::brokers::{BrokerError, OrderSide};
use brokerdesk_core::stream::{StreamEvent, Tick};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_core::Decimal;

/// Fails if any of `secrets` shows in the error's `Display` or `Debug`.
pub fn assert_no_secret(e: &BrokerError, secrets: &[&str]) {
    for text in [e.to_string(), format!("{e:?}")] {
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!text.contains(s), "credential leaked: {text}");
        }
    }
}

/// The error of `r` (failing if it is `Ok`), after `check` (for leaked secrets) has seen it.
pub fn checked_err<T: std::fmt::Debug>(
    r: Result<T, BrokerError>,
    check: impl FnOnce(&BrokerError),
) -> BrokerError {
    let e = r.expect_err("expected an error");
    check(&e);
    e
}

/// An AAPL order: a market order, or a limit order when `limit` is given.
pub fn stock_order(
    client_id: &str,
    side: OrderSide,
    qty: Decimal,
    limit: Option<Decimal>,
) -> OrderIntent {
    let qty = qty.to_string();
    let draft = match limit {
        Some(p) => OrderDraft::limit("AAPL", side, &qty, &p.to_string()),
        None => OrderDraft::market("AAPL", side, &qty),
    };
    OrderIntent::check(&draft.with_client_id(client_id)).expect("a valid order")
}

/// An order draft's problems, as (field, code) pairs: what `OrderIntent` refuses before any
/// broker is called.
pub fn refused(draft: &OrderDraft) -> Vec<(String, String)> {
    OrderIntent::check(draft)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.code.as_str().to_string()))
        .collect()
}

/// A simulator's price (an `f64` inside the simulator) as the decimal its wire carries: the
/// simulators write the shortest digits that read back as the same float.
pub fn sim_price(x: f64) -> Decimal {
    x.to_string().parse().expect("a finite price")
}

/// Instrument names as the connectors take them.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The ticks among `events`, in order.
pub fn ticks(events: &[StreamEvent]) -> Vec<&Tick> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Tick(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// Reads `stream` past whatever is in flight until it ends (3 s at most, `what` naming
/// the awaited event in the failure): `None` when it closed cleanly, or the error it ended
/// with.
pub async fn read_to_the_end(
    stream: &mut dyn brokerdesk_core::stream::QuoteStream,
    what: &str,
) -> Option<BrokerError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut out = Vec::new();
    loop {
        out.clear();
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut out))
            .await
            .unwrap_or_else(|_| panic!("{what} was not noticed in 3 s"))
        {
            Ok(true) => continue,
            Ok(false) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// The 6-digit RFC 6238 code an authenticator app shows for `secret` at `unix` seconds
/// (HMAC-SHA-1, 30-second steps), computed independently of core.
pub fn phone_code_at(secret: &[u8], unix: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = usize::from(h[19] & 0x0f);
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// [`phone_code_at`] now.
pub fn phone_code(secret: &[u8]) -> String {
    phone_code_at(secret, chrono::Utc::now().timestamp())
}

/// Decodes the base32 secret the setup shows (RFC 4648, no padding needed).
pub fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut out) = (0u64, 0, Vec::new());
    for c in s.trim_end_matches('=').bytes() {
        bits = (bits << 5) | alphabet.iter().position(|a| *a == c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// Runs `sql` on the profile's database in `dir` with the sqlite3 shell, as someone with the
/// profile's files (and no Brokerdesk) could.
pub fn sqlite(dir: &std::path::Path, sql: &str) {
    let out = std::process::Command::new("sqlite3")
        .arg("-cmd")
        .arg(".timeout 5000")
        .arg(dir.join("brokerdesk.db"))
        .arg(sql)
        .output()
        .expect("run sqlite3");
    assert!(
        out.status.success(),
        "sqlite3 {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The details of the audit entries of `event`, newest first.
pub async fn audited(
    bd: &brokerdesk_core::Brokerdesk,
    event: brokerdesk_core::audit::AuditEvent,
) -> Vec<String> {
    bd.audit_list(&brokerdesk_core::audit::AuditFilter {
        events: vec![event],
        ..Default::default()
    })
    .await
    .expect("audit list")
    .into_iter()
    .map(|e| e.detail)
    .collect()
}

pub mod events;
pub mod stream;
pub mod ws;
