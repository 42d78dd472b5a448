//! `parse_frame` on recorded frames: every message type Tradier's market stream sends
//! (quote, trade, tradex, timesale, summary, the error payloads), several messages per frame,
//! the user's spelling of instruments, and malformed input skipped without an error.

use crate::common::ticks;
use brokerdesk_core::brokers::tradier::stream::{
    parse_frame, session_ended, tradier_symbol, EMPTY_PLACEHOLDER,
};
use brokerdesk_core::brokers::tradier::{FrameSummary, Subscriptions};
use brokerdesk_core::brokers::BrokerError;
use brokerdesk_core::stream::{time_from_millis, NoticeCode, StreamEvent, Tick};
use chrono::{DateTime, Utc};
use rust_decimal_macros::dec;

// Recorded from Tradier's documentation and public clients
// (`core/src/brokers/tradier/PROTOCOL.md`), kept in `core/test_data/tradier/`.
const QUOTE: &str = recorded!("tradier/stream_quote.json");
const TRADE: &str = recorded!("tradier/stream_trade.json");
const TRADEX: &str = recorded!("tradier/stream_tradex.json");
const SUMMARY: &str = recorded!("tradier/stream_summary.json");
const SUMMARY_CLOSE: &str = recorded!("tradier/stream_summary_close.json");
const TIMESALE: &str = recorded!("tradier/stream_timesale.json");
const TIMESALE_SHORT: &str = recorded!("tradier/stream_timesale_short.json");
const TIMESALE_CANCEL: &str = recorded!("tradier/stream_timesale_cancel.json");
const INVALID_SYMBOL: &str = recorded!("tradier/stream_error_invalid_symbol.json");

fn now() -> DateTime<Utc> {
    time_from_millis(1_700_000_000_000).unwrap()
}

fn subs(instruments: &[&str]) -> Subscriptions {
    let v: Vec<String> = instruments.iter().map(|s| s.to_string()).collect();
    Subscriptions::new(&v)
}

fn parse(frame: &str, subs: &Subscriptions) -> (Vec<StreamEvent>, FrameSummary) {
    let mut out = Vec::new();
    let summary = parse_frame(frame, subs, now(), &mut out).unwrap();
    (out, summary)
}

fn one_tick(frame: &str) -> Tick {
    let (events, _) = parse(frame, &subs(&["SPY"]));
    match events.as_slice() {
        [StreamEvent::Tick(t)] => t.clone(),
        other => panic!("expected one tick, got {other:?}"),
    }
}

#[test]
fn a_quote_is_a_tick_with_bid_ask_sizes_and_the_later_date() {
    let t = one_tick(QUOTE);
    assert_eq!(t.instrument, "SPY");
    assert_eq!((t.bid, t.ask), (Some(dec!(281.84)), Some(dec!(281.85))));
    assert_eq!(
        (t.bid_size, t.ask_size),
        (Some(dec!(60.0)), Some(dec!(6.0)))
    );
    assert_eq!((t.last, t.last_size), (None, None));
    assert_eq!(t.exchange_time, time_from_millis(1_557_757_190_000));
    assert_eq!(t.received_at, now());
}

#[test]
fn trades_and_tradex_carry_the_last_price_and_size() {
    for (frame, price) in [(TRADE, dec!(281.12)), (TRADEX, dec!(281.10))] {
        let t = one_tick(frame);
        assert_eq!(
            (t.last, t.last_size),
            (Some(price), Some(dec!(100.0))),
            "{frame}"
        );
        assert_eq!((t.bid, t.ask), (None, None));
        assert_eq!(t.exchange_time, time_from_millis(1_557_757_204_760));
    }
}

#[test]
fn timesales_carry_bid_ask_and_last_but_a_cancel_no_last() {
    let t = one_tick(TIMESALE);
    assert_eq!(
        (t.bid, t.ask, t.last, t.last_size),
        (
            Some(dec!(282.08)),
            Some(dec!(282.09)),
            Some(dec!(282.09)),
            Some(dec!(100.0))
        )
    );
    assert_eq!(t.exchange_time, time_from_millis(1_557_758_874_355));
    let t = one_tick(TIMESALE_SHORT);
    assert_eq!(
        (t.bid, t.ask, t.last),
        (Some(dec!(407.14)), Some(dec!(407.17)), Some(dec!(407.15)))
    );
    let t = one_tick(TIMESALE_CANCEL);
    assert_eq!(
        (t.bid, t.ask, t.last, t.last_size),
        (Some(dec!(282.08)), Some(dec!(282.09)), None, None)
    );
}

#[test]
fn summaries_and_unknown_types_are_proof_of_life() {
    for frame in [
        SUMMARY,
        SUMMARY_CLOSE,
        r#"{"type":"news","symbol":"SPY","headline":"x"}"#,
    ] {
        let (events, summary) = parse(frame, &subs(&["SPY"]));
        assert_eq!(events, [StreamEvent::Heartbeat], "{frame}");
        assert_eq!(summary.messages, 1);
    }
}

#[test]
fn several_messages_per_frame_line_by_line_or_concatenated() {
    let s = subs(&["SPY"]);
    for frame in [
        format!("{QUOTE}\n{TRADE}\n{TIMESALE}\n"),
        format!("{QUOTE}\r\n{TRADE}\r\n{TIMESALE}\r\n"),
        format!("{QUOTE}{TRADE}{TIMESALE}"),
        format!("\n\n{QUOTE} {TRADE}\n\n{TIMESALE}"),
    ] {
        let (events, summary) = parse(&frame, &s);
        assert_eq!(ticks(&events).len(), 3, "{frame:?}");
        assert_eq!(summary.messages, 3);
    }
}

#[test]
fn ticks_carry_the_users_spelling_of_the_instrument() {
    let s = subs(&["spy", " SPY", "aapl"]);
    assert_eq!(s.symbols(), ["SPY", "AAPL"]);
    let (events, _) = parse(QUOTE, &s);
    let names: Vec<&str> = ticks(&events)
        .iter()
        .map(|t| t.instrument.as_str())
        .collect();
    assert_eq!(names, ["spy", " SPY"]);
    assert_eq!(tradier_symbol(" brk.b "), "BRK.B");
}

#[test]
fn messages_for_symbols_not_subscribed_are_dropped() {
    let (events, summary) = parse(&format!("{QUOTE}\n{TRADE}"), &subs(&["AAPL"]));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(summary.messages, 2);
}

#[test]
fn an_invalid_symbol_is_a_notice_naming_the_instrument() {
    let (events, summary) = parse(INVALID_SYMBOL, &subs(&["SPY", "1234"]));
    assert_eq!(
        events,
        [StreamEvent::notice(
            Some("1234".into()),
            NoticeCode::InvalidSymbol,
            "1234 is not a valid symbol".into(),
        )]
    );
    assert_eq!(summary.notices, 1);
    // The user's spelling, as subscribed.
    let (events, _) = parse(
        r#"{"error":"NOPE is not a valid symbol"}"#,
        &subs(&["nope"]),
    );
    assert!(
        matches!(&events[..], [StreamEvent::Notice { instrument: Some(i), .. }] if i == "nope"),
        "{events:?}"
    );
    // Followed by data in the same frame.
    let (events, _) = parse(
        &format!("{INVALID_SYMBOL}\n{QUOTE}\n"),
        &subs(&["SPY", "1234"]),
    );
    assert!(matches!(events[0], StreamEvent::Notice { .. }));
    assert!(matches!(events[1], StreamEvent::Tick(_)));
}

#[test]
fn the_empty_subscription_placeholder_is_not_reported() {
    let frame = format!(r#"{{"error":"{EMPTY_PLACEHOLDER} is not a valid symbol"}}"#);
    let (events, summary) = parse(&frame, &subs(&[]));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(summary.notices, 0);
}

#[test]
fn other_errors_are_notices_without_an_instrument() {
    for (frame, message) in [
        (r#"{"error":"invalid payload"}"#, "invalid payload"),
        (
            r#"{"error":"too many symbols requested"}"#,
            "too many symbols requested",
        ),
        (
            r#"{"error":{"code":7}}"#,
            "Tradier reported an unspecified stream error",
        ),
    ] {
        let (events, _) = parse(frame, &subs(&["SPY"]));
        assert_eq!(
            events,
            [StreamEvent::notice(
                None,
                NoticeCode::Broker,
                message.into()
            )],
            "{frame}"
        );
    }
}

#[test]
fn a_session_error_ends_the_stream_keeping_what_came_before() {
    for frame in [
        r#"{"error":"session not found"}"#,
        r#"{"error":"invalid session"}"#,
        r#"{"error":"Session expired"}"#,
    ] {
        let mut out = Vec::new();
        let e = parse_frame(
            &format!("{QUOTE}\n{frame}\n{TRADE}"),
            &subs(&["SPY"]),
            now(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(e, session_ended(), "{frame}");
        assert!(e.retryable());
        assert_eq!(ticks(&out).len(), 1, "the quote before the error is kept");
    }
}

#[test]
fn malformed_messages_are_skipped_without_an_error() {
    let s = subs(&["SPY"]);
    for frame in [
        "",
        "\n\n",
        "<html>\u{0}\u{1}not json at all",
        "{",
        r#"{"type":"quote","symbol":"SPY","bid": not-json"#,
        "[1,2,3]",
        "null",
        "42",
        "{}",
        r#"{"type":"quote"}"#,
        r#"{"type":7,"symbol":"SPY"}"#,
        r#"{"type":"quote","symbol":["SPY"]}"#,
        "\u{feff}",
    ] {
        let mut out = Vec::new();
        let summary = parse_frame(frame, &s, now(), &mut out).unwrap();
        assert!(out.is_empty(), "{frame:?} gave {out:?}");
        assert_eq!(summary.messages, 0, "{frame:?}");
    }
    // A bad line does not spoil the good ones around it.
    let (events, _) = parse(&format!("{QUOTE}\n{{garbage\n{TRADE}"), &s);
    assert_eq!(ticks(&events).len(), 2);
}

#[test]
fn odd_values_are_absent_rather_than_errors() {
    let frame = r#"{"type":"quote","symbol":"SPY","bid":null,"bidsz":"","biddate":"0","ask":"NaN","asksz":{"x":1},"askdate":"soon"}"#;
    let t = one_tick(frame);
    assert_eq!(
        (t.bid, t.ask, t.bid_size, t.ask_size, t.exchange_time),
        (None, None, None, None, None)
    );
    let t = one_tick(
        r#"{"type":"trade","symbol":"SPY","price":281.5,"size":0,"date":1557757204760,"cancel":"true"}"#,
    );
    assert_eq!((t.last, t.last_size), (Some(dec!(281.5)), Some(dec!(0.0))));
    assert_eq!(t.exchange_time, time_from_millis(1_557_757_204_760));
    let t = one_tick(r#"{"type":"trade","symbol":"S\u0050Y","price":"1e400","last":"2.5"}"#);
    assert_eq!(
        t.last,
        Some(dec!(2.5)),
        "an overflowing price falls back to last"
    );
}

#[test]
fn subscriptions_track_symbols_and_spellings() {
    let mut s = Subscriptions::default();
    assert!(s.is_empty());
    assert!(s.add("spy"));
    assert!(!s.add("SPY"), "same symbol, another spelling");
    assert!(!s.add("spy"));
    assert!(!s.add("  "));
    assert!(s.add("AAPL"));
    assert_eq!(s.symbols(), ["SPY", "AAPL"]);
    assert_eq!(s.instruments("SPY"), ["spy", "SPY"]);
    assert!(!s.remove("spy"), "SPY is still wanted");
    assert!(s.remove("SPY"));
    assert!(!s.remove("SPY"));
    assert_eq!(s.symbols(), ["AAPL"]);
    assert!(s.instruments("SPY").is_empty());
}

#[test]
fn the_session_error_names_no_session() {
    let e = session_ended();
    assert!(matches!(e, BrokerError::Network(_)));
    assert!(e.to_string().contains("session"));
}
