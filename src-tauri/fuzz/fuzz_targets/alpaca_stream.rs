//! Alpaca market-data frames, JSON text and msgpack binary (the first byte picks which),
//! through `parse_frame`. Must never panic, whatever the bytes.
#![no_main]

use brokerdesk_core::brokers::alpaca::stream::{parse_frame, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, frame)) = data.split_first() else {
        return;
    };
    let encoding = if first & 1 == 0 {
        Encoding::Json
    } else {
        Encoding::Msgpack
    };
    let mut out = Vec::new();
    let _ = parse_frame(encoding, frame, chrono::Utc::now(), &mut out);
});
