//! Tradier's market WebSocket frames (one or more JSON messages, line-separated or
//! concatenated) through `parse_frame`. Must never panic, whatever the bytes.
#![no_main]

use brokerdesk_core::brokers::tradier::{parse_frame, Subscriptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let subs = Subscriptions::new(&["SPY".to_string(), "aapl".to_string()]);
    let mut out = Vec::new();
    let _ = parse_frame(text, &subs, chrono::Utc::now(), &mut out);
});
