//! IBKR Client Portal WebSocket frames (text or binary: smd updates with partial and
//! prefixed prices, system/sts/tic/act/ntf/blt messages, errors) through `parse_frame`.
//! Must never panic.
#![no_main]

use brokerdesk_core::brokers::ibkr::{parse_frame, ConidMap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut conids = ConidMap::new();
    conids.insert(265598, "AAPL");
    conids.insert(8314, "IBM");
    let mut out = Vec::new();
    let _ = parse_frame(data, &conids, chrono::Utc::now(), &mut out);
});
