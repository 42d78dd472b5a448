//! Alpaca market-data frames, JSON text and msgpack binary (the first byte picks which),
//! through `parse_frame`. Must never panic, whatever the bytes.
//! The body is `brokerdesk_core::fuzz::alpaca_stream`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::alpaca_stream(data));
