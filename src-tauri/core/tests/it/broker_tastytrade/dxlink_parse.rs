//! The DXLink parser ([`parse_frame`]) on recorded frames: every message type the server
//! (and the simulator) sends, every ERROR type, the three data layouts (COMPACT, the legacy
//! COMPACT header, FULL), `NaN` and string values, field orders changed by `FEED_CONFIG`,
//! symbols mapped back to the instrument as subscribed, and malformed input that must be
//! refused without appending anything or panicking.

use brokerdesk_core::Decimal;
use rust_decimal_macros::dec;
use std::time::Duration;

use brokerdesk_core::brokers::tastytrade::stream::{
    parse_frame, DxMessage, FeedState, QUOTE_FIELDS, TRADE_FIELDS,
};
use brokerdesk_core::stream::{StreamEvent, Tick};
use chrono::{DateTime, Utc};

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn state(symbols: &[&str]) -> FeedState {
    let mut st = FeedState::new();
    for s in symbols {
        assert!(st.add_symbol(s, s));
    }
    st
}

/// Parses `frame`; returns the message and the events it appended.
fn parse(st: &mut FeedState, frame: &str) -> (DxMessage, Vec<StreamEvent>) {
    let mut out = Vec::new();
    let msg = parse_frame(frame, st, at(), &mut out).unwrap_or_else(|e| panic!("{e}: {frame}"));
    (msg, out)
}

fn ticks(events: Vec<StreamEvent>) -> Vec<Tick> {
    events
        .into_iter()
        .map(|e| match e {
            StreamEvent::Tick(t) => t,
            other => panic!("expected a tick, got {other:?}"),
        })
        .collect()
}

fn millis(t: &Tick) -> Option<i64> {
    t.exchange_time.map(|t| t.timestamp_millis())
}

#[test]
fn control_messages_of_the_handshake() {
    let mut st = FeedState::new();
    let cases: [(&str, DxMessage); 8] = [
        (
            recorded!("tastytrade/dxlink_setup.json"),
            DxMessage::Setup {
                keepalive_timeout: Some(Duration::from_secs(60)),
            },
        ),
        (
            r#"{"type":"SETUP","channel":0,"version":"1.0.2-brokerdesk-sim","keepaliveTimeout":0.4,"acceptKeepaliveTimeout":0.4}"#,
            DxMessage::Setup {
                keepalive_timeout: Some(Duration::from_millis(400)),
            },
        ),
        (
            r#"{"type":"AUTH_STATE","channel":0,"state":"UNAUTHORIZED"}"#,
            DxMessage::AuthState { authorized: false },
        ),
        (
            r#"{"type":"AUTH_STATE","channel":0,"state":"AUTHORIZED","userId":"u-123"}"#,
            DxMessage::AuthState { authorized: true },
        ),
        (
            recorded!("tastytrade/dxlink_channel_opened.json"),
            DxMessage::ChannelOpened { channel: 1 },
        ),
        (
            r#"{"type":"CHANNEL_CLOSED","channel":3}"#,
            DxMessage::ChannelClosed { channel: 3 },
        ),
        (
            r#"{"type":"FEED_CONFIG","channel":1,"aggregationPeriod":0.1,"dataFormat":"COMPACT"}"#,
            DxMessage::FeedConfig { channel: 1 },
        ),
        (
            r#"{"type":"SOMETHING_NEW","channel":0,"x":[1,{"y":2}]}"#,
            DxMessage::Other,
        ),
    ];
    for (frame, want) in cases {
        let (msg, events) = parse(&mut st, frame);
        assert_eq!(msg, want, "{frame}");
        assert!(events.is_empty(), "{frame}");
    }
    // A keepalive is a heartbeat.
    let (msg, events) = parse(&mut st, r#"{"type":"KEEPALIVE","channel":0}"#);
    assert_eq!(
        (msg, events),
        (DxMessage::Keepalive, vec![StreamEvent::Heartbeat])
    );
}

#[test]
fn every_error_type_is_read_with_its_channel_and_message() {
    let mut st = FeedState::new();
    for kind in [
        "UNAUTHORIZED",
        "TIMEOUT",
        "INVALID_MESSAGE",
        "BAD_ACTION",
        "UNSUPPORTED_PROTOCOL",
        "UNKNOWN",
    ] {
        let frame = format!(
            r#"{{"type":"ERROR","channel":0,"error":"{kind}","message":"details of {kind}"}}"#
        );
        let (msg, events) = parse(&mut st, &frame);
        assert_eq!(
            msg,
            DxMessage::Error {
                channel: 0,
                error: kind.into(),
                message: format!("details of {kind}"),
            }
        );
        assert!(events.is_empty());
    }
    // A channel error, and one without a type.
    let (msg, _) = parse(
        &mut st,
        r#"{"type":"ERROR","channel":1,"error":"BAD_ACTION","message":"unknown event type"}"#,
    );
    assert!(matches!(msg, DxMessage::Error { channel: 1, .. }));
    let (msg, _) = parse(&mut st, r#"{"type":"ERROR","channel":0}"#);
    assert_eq!(
        msg,
        DxMessage::Error {
            channel: 0,
            error: "UNKNOWN".into(),
            message: String::new()
        }
    );
}

#[test]
fn compact_quotes_and_trades_with_the_requested_fields() {
    // The exact field lists Brokerdesk asks for.
    assert_eq!(
        QUOTE_FIELDS.join(","),
        "eventType,eventSymbol,bidPrice,askPrice,bidSize,askSize,bidTime,askTime"
    );
    assert_eq!(
        TRADE_FIELDS,
        ["eventType", "eventSymbol", "price", "size", "time"]
    );
    let mut st = state(&["AAPL", "SPY"]);
    let (msg, events) = parse(
        &mut st,
        recorded!("tastytrade/dxlink_feed_data_quotes.json"),
    );
    assert_eq!(msg, DxMessage::FeedData { channel: 1 });
    let t = ticks(events);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].instrument, "AAPL");
    assert_eq!(
        (t[0].bid, t[0].ask, t[0].bid_size, t[0].ask_size, t[0].last),
        (
            Some(dec!(189.5)),
            Some(dec!(189.52)),
            Some(dec!(300.0)),
            None,
            None
        )
    );
    assert_eq!(
        millis(&t[0]),
        Some(1_750_000_000_456),
        "the later side's time"
    );
    assert_eq!(t[0].received_at, at());
    assert_eq!(
        (
            t[1].instrument.as_str(),
            t[1].bid,
            t[1].ask,
            t[1].bid_size,
            t[1].ask_size
        ),
        (
            "SPY",
            Some(dec!(450.01)),
            Some(dec!(450.03)),
            Some(dec!(150.0)),
            Some(dec!(200.0))
        )
    );
    assert_eq!(millis(&t[1]), None, "0 and NaN are no time");

    let (_, events) = parse(
        &mut st,
        recorded!("tastytrade/dxlink_feed_data_trades.json"),
    );
    let t = ticks(events);
    assert_eq!(
        (
            t[0].instrument.as_str(),
            t[0].last,
            t[0].last_size,
            t[0].bid,
            millis(&t[0])
        ),
        (
            "SPY",
            Some(dec!(450.02)),
            None,
            None,
            Some(1_750_000_000_999)
        )
    );
    assert_eq!(
        (t[1].last, t[1].last_size),
        (Some(dec!(189.51)), Some(dec!(25.0)))
    );
}

#[test]
fn the_field_order_follows_feed_config_and_unknown_fields_are_skipped() {
    let mut st = state(&["AAPL"]);
    // The simulator's full Quote list (exchange codes and sequence are not read).
    let (msg, _) = parse(&mut st, recorded!("tastytrade/dxlink_feed_config_sim.json"));
    assert_eq!(msg, DxMessage::FeedConfig { channel: 1 });
    let (_, events) = parse(
        &mut st,
        recorded!("tastytrade/dxlink_feed_data_sim_quote.json"),
    );
    let t = ticks(events);
    assert_eq!(
        (
            t[0].bid,
            t[0].ask,
            t[0].bid_size,
            t[0].ask_size,
            millis(&t[0])
        ),
        (
            Some(dec!(189.99)),
            Some(dec!(190.01)),
            Some(dec!(100.0)),
            Some(dec!(200.0)),
            Some(1_750_000_000_003)
        )
    );
    // A Trade layout of two fields, no time.
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Trade",["AAPL",190.0,"AAPL",190.5]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        t.iter().map(|t| t.last).collect::<Vec<_>>(),
        [Some(dec!(190.0)), Some(dec!(190.5))]
    );
    assert_eq!(t[0].exchange_time, None);
    // `time` wins over the sides' times, `eventTime` is the last resort.
    st.set_fields(
        "Quote",
        &["eventSymbol", "bidPrice", "eventTime", "time", "bidTime"],
    );
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["AAPL",1,5,7,6,"AAPL",1,5,0,6,"AAPL",1,5,0,0]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        t.iter().map(millis).collect::<Vec<_>>(),
        [Some(7), Some(6), Some(5)]
    );
}

#[test]
fn legacy_headers_full_events_and_several_types_in_one_frame() {
    let mut st = state(&["AAPL", "MSFT"]);
    // The old COMPACT header carries the fields with the first data of a type.
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":[["Quote",["eventSymbol","askPrice","bidPrice"]],["AAPL",2.0,1.0,"MSFT",4.0,3.0]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        t.iter()
            .map(|t| (t.instrument.as_str(), t.bid, t.ask))
            .collect::<Vec<_>>(),
        [
            ("AAPL", Some(dec!(1.0)), Some(dec!(2.0))),
            ("MSFT", Some(dec!(3.0)), Some(dec!(4.0)))
        ]
    );
    // …and holds for the next frames.
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["AAPL",6.0,5.0]]}"#,
    );
    assert_eq!(ticks(events)[0].bid, Some(dec!(5.0)));
    // Two types in one frame; an unknown type is skipped whole.
    st.set_fields("Quote", &QUOTE_FIELDS);
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Summary",["Summary","AAPL",1,2,3],"Trade",["Trade","MSFT",410.5,3,0],"Quote",["Quote","AAPL",1,2,3,4,0,0]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        t.iter()
            .map(|t| (t.instrument.as_str(), t.last, t.bid))
            .collect::<Vec<_>>(),
        [
            ("MSFT", Some(dec!(410.5)), None),
            ("AAPL", None, Some(dec!(1.0)))
        ]
    );
    // FULL: one object per event, any key order.
    let (_, events) = parse(&mut st, recorded!("tastytrade/dxlink_feed_data_full.json"));
    let t = ticks(events);
    assert_eq!(
        (
            t[0].instrument.as_str(),
            t[0].bid,
            t[0].ask,
            t[0].bid_size,
            millis(&t[0])
        ),
        (
            "MSFT",
            Some(dec!(409.9)),
            Some(dec!(410.1)),
            None,
            Some(1_750_000_000_000)
        )
    );
    assert_eq!(
        (
            t[1].instrument.as_str(),
            t[1].last,
            t[1].last_size,
            millis(&t[1])
        ),
        (
            "AAPL",
            Some(dec!(190.0)),
            Some(dec!(7.0)),
            Some(1_750_000_000_500)
        )
    );
    // `data` before `type` is still read.
    let (msg, events) = parse(
        &mut st,
        r#"{"channel":1,"data":["Trade",["Trade","AAPL",191,1,0]],"type":"FEED_DATA"}"#,
    );
    assert_eq!(
        (msg, ticks(events)[0].last),
        (DxMessage::FeedData { channel: 1 }, Some(dec!(191.0)))
    );
}

#[test]
fn ticks_carry_the_instrument_as_subscribed_and_others_are_dropped() {
    let mut st = FeedState::new();
    // The user typed " brk/b " padded; DXLink knows it as "BRK/B" and sends it escaped.
    assert!(st.add_symbol("BRK/B", " BRK/B "));
    assert!(st.add_symbol("/ESZ25:XCME", "/ESZ25"));
    assert!(!st.add_symbol("BRK/B", "BRK/B"), "routed once");
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","BRK\/B",1,2,3,4,0,0,"Quote","TSLA",1,2,3,4,0,0,"Quote","\/ESZ25:XCME",5,6,7,8,0,0,"Quote",null,1,2,3,4,0,0,"Quote",42,1,2,3,4,0,0]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        t.iter().map(|t| t.instrument.as_str()).collect::<Vec<_>>(),
        [" BRK/B ", "/ESZ25"],
        "unsubscribed, null and numeric symbols are dropped"
    );
    assert_eq!(st.remove_instrument(" BRK/B ").as_deref(), Some("BRK/B"));
    assert_eq!(st.remove_instrument(" BRK/B "), None);
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","BRK/B",1,2,3,4,0,0]]}"#,
    );
    assert!(
        events.is_empty(),
        "in-flight events of a removed symbol are dropped"
    );
}

#[test]
fn events_without_any_price_are_not_ticks() {
    let mut st = state(&["AAPL"]);
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL","NaN","NaN",0,0,0,0,"Quote","AAPL","Infinity","-Infinity",1,1,0,0,"Quote","AAPL",null,"",1,1,0,0]]}"#,
    );
    assert!(events.is_empty(), "{events:?}");
    // A zero price is a price (options do trade at a zero bid).
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",0,0.05,0,10,0,0]]}"#,
    );
    assert_eq!(ticks(events)[0].bid, Some(dec!(0.0)));
}

#[test]
fn malformed_frames_are_refused_without_appending_anything() {
    let mut st = state(&["AAPL"]);
    let bad = [
        "",
        "not json",
        "<html>\u{0}\u{1}not json at all",
        "[1,2,3]",
        "\"FEED_DATA\"",
        "{\"type\":\"FEED_DATA\"",
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2,3,4,0,0,"Quote","AAPL",1]]}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote"]}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":"Quote"}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",{"a":1}]}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",[1],2,3,4,0,0]]}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2,3,4,0,0]]} trailing"#,
        r#"{"type":7}"#,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1e400,2,3,4,0,0]]}"#,
    ];
    for frame in bad {
        let mut out = vec![StreamEvent::Heartbeat];
        let r = parse_frame(frame, &mut st, at(), &mut out);
        assert!(r.is_err(), "accepted {frame:?}: {r:?}");
        assert_eq!(
            out,
            vec![StreamEvent::Heartbeat],
            "{frame:?} appended something"
        );
    }
    // Deep nesting and huge or odd numbers neither panic nor tick.
    let deep = format!(
        r#"{{"type":"FEED_DATA","channel":1,"data":["Quote",{}]}}"#,
        "[".repeat(5000)
    );
    assert!(parse_frame(&deep, &mut st, at(), &mut Vec::new()).is_err());
    // Numbers no decimal can hold (±1e308) are malformed, like 1e400 above: refused whole.
    let mut out = Vec::new();
    let absurd = r#"{"type":"FEED_DATA","channel":1e300,"data":["Quote",["Quote","AAPL",1e308,-1e308,"1e400",-0.0,1e300,-5]]}"#;
    assert!(parse_frame(absurd, &mut st, at(), &mut out).is_err());
    assert!(out.is_empty());
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1e300,"data":["Quote",["Quote","AAPL",1e27,-1e27,"1e400",-0.0,1e27,-5]]}"#,
    );
    let t = ticks(events);
    assert_eq!(
        (t[0].bid, t[0].bid_size),
        (Decimal::from_scientific("1e27").ok(), None)
    );
    assert_eq!(t[0].exchange_time, None, "an absurd time is no time");
    // The state is intact afterwards.
    let (_, events) = parse(
        &mut st,
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2,3,4,0,0]]}"#,
    );
    assert_eq!(ticks(events).len(), 1);
}
