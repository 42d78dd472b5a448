//! OANDA's transaction stream, split into two chunks, through the line splitter and
//! `parse_transaction`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::oanda_transactions`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::oanda_transactions(data));
