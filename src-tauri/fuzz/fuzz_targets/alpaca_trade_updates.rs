//! Alpaca's trade-updates frames (JSON, from a text or a binary frame: authorization,
//! listening, order events with the REST order inside) through `parse_trade_message`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::alpaca_trade_updates`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::alpaca_trade_updates(data));
