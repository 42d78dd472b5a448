//! OANDA's pricing stream: arbitrary bytes, split at an arbitrary point into two chunks,
//! through the line splitter and the line parser. Must never panic.
#![no_main]

use brokerdesk_core::brokers::oanda::stream::{parse_chunk, LineSplitter, MAX_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (a, b) = data.split_at(cut);
    let mut splitter = LineSplitter::new(MAX_LINE);
    let mut out = Vec::new();
    parse_chunk(&mut splitter, a, &mut out);
    parse_chunk(&mut splitter, b, &mut out);
    let _ = splitter.finish();
});
