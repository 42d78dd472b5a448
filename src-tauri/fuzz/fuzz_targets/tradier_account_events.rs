//! Tradier's account WebSocket frames (order events, heartbeats, errors) through
//! `parse_account_frame`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::tradier_account_events`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::tradier_account_events(data));
