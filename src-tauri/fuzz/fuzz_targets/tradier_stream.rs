//! Tradier's market WebSocket frames (one or more JSON messages, line-separated or
//! concatenated) through `parse_frame`. Must never panic, whatever the bytes.
//! The body is `brokerdesk_core::fuzz::tradier_stream`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::tradier_stream(data));
