//! OANDA's pricing stream: arbitrary bytes, split at an arbitrary point into two chunks,
//! through the line splitter and the line parser. Must never panic.
//! The body is `brokerdesk_core::fuzz::oanda_stream`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::oanda_stream(data));
