//! Tastytrade's DXLink messages (SETUP, AUTH_STATE, FEED_CONFIG, FEED_DATA in COMPACT and
//! FULL forms, KEEPALIVE, ERROR) through `parse_frame`, two messages in a row so a
//! FEED_CONFIG can change how the next FEED_DATA is read. Must never panic.
#![no_main]

use brokerdesk_core::brokers::tastytrade::stream::{parse_frame, FeedState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut state = FeedState::new();
    state.add_symbol("AAPL", "AAPL");
    state.add_symbol("/ESZ25:XCME", "/ESZ5");
    let mut out = Vec::new();
    let (first, second) = text.split_once('\n').unwrap_or((text, ""));
    let _ = parse_frame(first, &mut state, chrono::Utc::now(), &mut out);
    let _ = parse_frame(second, &mut state, chrono::Utc::now(), &mut out);
});
