//! IBKR Client Portal WebSocket frames (text or binary: smd updates with partial and
//! prefixed prices, system/sts/tic/act/ntf/blt messages, errors) through `parse_frame`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::ibkr_ws`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::ibkr_ws(data));
