//! IBKR's live-order topic (`sor` frames: whole and partial order elements, an object or a
//! list, and every other topic) through `sor_updates`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::ibkr_sor`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::ibkr_sor(data));
