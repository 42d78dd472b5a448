//! Tastytrade's DXLink messages (SETUP, AUTH_STATE, FEED_CONFIG, FEED_DATA in COMPACT and
//! FULL forms, KEEPALIVE, ERROR) through `parse_frame`, two messages in a row so a
//! FEED_CONFIG can change how the next FEED_DATA is read. Must never panic.
//! The body is `brokerdesk_core::fuzz::tastytrade_dxlink`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::tastytrade_dxlink(data));
