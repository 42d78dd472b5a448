//! Tastytrade's account-streamer messages (statuses, `Order` notifications, other
//! notifications) through `Message::parse` and `order_update`.
//! Must never panic.
//! The body is `brokerdesk_core::fuzz::tastytrade_account`, shared with the test suite's seed replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| brokerdesk_core::fuzz::tastytrade_account(data));
