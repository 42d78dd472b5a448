//! The bodies of the cargo-fuzz targets (`src-tauri/fuzz/fuzz_targets/`), one function per
//! target, each feeding arbitrary bytes to a stream parser the way the target always did.
//! They live here, not in the fuzz crate, so that the test suite replays every seed and
//! corpus file through exactly the entry points the fuzzer calls (`tests/it/fuzz_seeds.rs`),
//! and so that a change to a parser's signature breaks the ordinary build, not only the
//! separately built fuzz crate. None may panic, whatever the bytes.

use crate::brokers::alpaca::parse_trade_message;
use crate::brokers::alpaca::stream::{parse_frame as alpaca_parse, Encoding};
use crate::brokers::ibkr::events::sor_updates;
use crate::brokers::ibkr::{parse_frame as ibkr_parse, ConidMap};
use crate::brokers::oanda::parse_transaction;
use crate::brokers::oanda::stream::{parse_chunk, LineSplitter, MAX_LINE};
use crate::brokers::tastytrade::events::Message as AccountMessage;
use crate::brokers::tastytrade::stream::{parse_frame as dxlink_parse, FeedState};
use crate::brokers::tradier::{parse_account_frame, parse_frame as tradier_parse, Subscriptions};

/// A cargo-fuzz target: its name and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target: the quote streams' parsers, then the order-event streams'.
pub const TARGETS: [Target; 10] = [
    ("alpaca_stream", alpaca_stream),
    ("ibkr_ws", ibkr_ws),
    ("oanda_stream", oanda_stream),
    ("tastytrade_dxlink", tastytrade_dxlink),
    ("tradier_stream", tradier_stream),
    ("alpaca_trade_updates", alpaca_trade_updates),
    ("ibkr_sor", ibkr_sor),
    ("oanda_transactions", oanda_transactions),
    ("tastytrade_account", tastytrade_account),
    ("tradier_account_events", tradier_account_events),
];

/// Alpaca market-data frames, JSON text and msgpack binary (the first byte picks which),
/// through `parse_frame`.
pub fn alpaca_stream(data: &[u8]) {
    let Some((first, frame)) = data.split_first() else {
        return;
    };
    let encoding = if first & 1 == 0 {
        Encoding::Json
    } else {
        Encoding::Msgpack
    };
    let mut out = Vec::new();
    let _ = alpaca_parse(encoding, frame, chrono::Utc::now(), &mut out);
}

/// IBKR Client Portal WebSocket frames (text or binary: smd updates with partial and
/// prefixed prices, system/sts/tic/act/ntf/blt messages, errors) through `parse_frame`.
pub fn ibkr_ws(data: &[u8]) {
    let mut conids = ConidMap::new();
    conids.insert(265598, "AAPL");
    conids.insert(8314, "IBM");
    let mut out = Vec::new();
    let _ = ibkr_parse(data, &conids, chrono::Utc::now(), &mut out);
}

/// OANDA's pricing stream: the bytes, split at an arbitrary point (the first byte's value)
/// into two chunks, through the line splitter and the line parser.
pub fn oanda_stream(data: &[u8]) {
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (a, b) = data.split_at(cut);
    let mut splitter = LineSplitter::new(MAX_LINE);
    let mut out = Vec::new();
    parse_chunk(&mut splitter, a, &mut out);
    parse_chunk(&mut splitter, b, &mut out);
    let _ = splitter.finish();
}

/// Tastytrade's DXLink messages (SETUP, AUTH_STATE, FEED_CONFIG, FEED_DATA in COMPACT and
/// FULL forms, KEEPALIVE, ERROR) through `parse_frame`, two messages in a row (split at the
/// first line break) so a FEED_CONFIG can change how the next FEED_DATA is read.
pub fn tastytrade_dxlink(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut state = FeedState::new();
    state.add_symbol("AAPL", "AAPL");
    state.add_symbol("/ESZ25:XCME", "/ESZ5");
    let mut out = Vec::new();
    let (first, second) = text.split_once('\n').unwrap_or((text, ""));
    let _ = dxlink_parse(first, &mut state, chrono::Utc::now(), &mut out);
    let _ = dxlink_parse(second, &mut state, chrono::Utc::now(), &mut out);
}

/// Tradier's market WebSocket frames (one or more JSON messages, line-separated or
/// concatenated) through `parse_frame`.
pub fn tradier_stream(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let subs = Subscriptions::new(&["SPY".to_string(), "aapl".to_string()]);
    let mut out = Vec::new();
    let _ = tradier_parse(text, &subs, chrono::Utc::now(), &mut out);
}

/// Alpaca's trade-updates frames (JSON, from a text or a binary frame: authorization,
/// listening, order events with the REST order inside) through `parse_trade_message`.
pub fn alpaca_trade_updates(data: &[u8]) {
    let _ = parse_trade_message(data);
}

/// IBKR's live-order topic (`sor` frames: whole and partial order elements, an object or a
/// list, and every other topic) through `sor_updates`.
pub fn ibkr_sor(data: &[u8]) {
    let mut out = Vec::new();
    sor_updates(data, &mut out);
}

/// OANDA's transaction stream: the bytes, split at an arbitrary point (the first byte's
/// value) into two chunks, through the line splitter, each line through
/// `parse_transaction`.
pub fn oanda_transactions(data: &[u8]) {
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (a, b) = data.split_at(cut);
    let mut splitter = LineSplitter::new(MAX_LINE);
    let mut lines = splitter.push(a);
    lines.extend(splitter.push(b));
    lines.extend(splitter.finish());
    for line in &lines {
        let _ = parse_transaction(line);
    }
}

/// Tastytrade's account-streamer messages (statuses, `Order` notifications with the REST
/// order inside, other notifications) through `Message::parse` and `order_update`.
pub fn tastytrade_account(data: &[u8]) {
    if let Ok(message) = AccountMessage::parse(data) {
        let _ = message.order_update();
    }
}

/// Tradier's account WebSocket frames (order events, heartbeats, errors; one or more JSON
/// messages, line-separated or concatenated) through `parse_account_frame`, for one of the
/// token's accounts.
pub fn tradier_account_events(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut out = Vec::new();
    let _ = parse_account_frame(text, "VA11112222", &mut out);
}
