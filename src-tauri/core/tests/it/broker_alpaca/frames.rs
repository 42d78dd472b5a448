//! The data-stream parser on recorded frames, without sockets: every message type Alpaca
//! (and the simulator) sends, in JSON and msgpack, every error code of Alpaca's table, and
//! malformed input (skipped, never an error that ends the stream, never a panic).

use crate::common::stream::notices;
use crate::common::ticks;
use brokerdesk_core::brokers::alpaca::stream::{parse_frame, Control, Encoding, FrameParser};
use brokerdesk_core::brokers::BrokerError;
use brokerdesk_core::stream::{parse_time, NoticeCode, StreamEvent, Tick};
use brokerdesk_core::Decimal;
use chrono::{DateTime, Utc};
use rmpv::Value as Mp;
use rust_decimal_macros::dec;

fn now() -> DateTime<Utc> {
    parse_time("2026-01-05T15:00:00Z").unwrap()
}

fn json(frame: &str) -> (Result<Control, BrokerError>, Vec<StreamEvent>) {
    let mut out = Vec::new();
    let r = parse_frame(Encoding::Json, frame.as_bytes(), now(), &mut out);
    (r, out)
}

const QUOTE: &str = recorded!("alpaca/stream_quote.json");
const TRADE: &str = recorded!("alpaca/stream_trade.json");

#[test]
fn a_quote_fills_bid_ask_sizes_and_time() {
    let (r, events) = json(QUOTE);
    assert_eq!(r.unwrap(), Control::default());
    let mut want = Tick::new("AMD", now());
    want.bid = Some(dec!(87.66));
    want.ask = Some(dec!(87.67));
    want.bid_size = Some(dec!(1.0));
    want.ask_size = Some(dec!(1.0));
    want.exchange_time = parse_time("2021-02-22T15:51:45.3356677Z");
    assert_eq!(events, vec![StreamEvent::Tick(want)]);
}

#[test]
fn a_trade_fills_last_and_last_size() {
    let (r, events) = json(TRADE);
    r.unwrap();
    let t = ticks(&events);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].instrument.as_str(), t[0].last, t[0].last_size),
        ("AAPL", Some(dec!(126.55)), Some(dec!(1.0)))
    );
    assert_eq!((t[0].bid, t[0].ask), (None, None));
    assert_eq!(t[0].exchange_time, parse_time("2021-02-22T15:51:44.208Z"));
}

#[test]
fn a_batch_yields_every_tick_in_order_and_skips_other_types() {
    let frame = recorded!("alpaca/stream_batch_mixed.json");
    let (r, events) = json(frame);
    r.unwrap();
    let t = ticks(&events);
    assert_eq!(events.len(), 3, "only quotes and trades become events");
    assert_eq!(
        t.iter().map(|t| t.instrument.as_str()).collect::<Vec<_>>(),
        ["AAPL", "MSFT", "AMD"]
    );
    assert_eq!(
        t[0].exchange_time.unwrap().timestamp_subsec_nanos(),
        1,
        "nanoseconds kept"
    );
    assert_eq!((t[2].bid_size, t[2].ask_size), (None, None));
}

#[test]
fn control_messages_are_heartbeats_and_report_the_handshake() {
    let (r, events) = json(r#"[{"T":"success","msg":"connected"}]"#);
    assert_eq!(
        r.unwrap(),
        Control {
            connected: true,
            ..Control::default()
        }
    );
    assert_eq!(events, vec![StreamEvent::Heartbeat]);
    let (r, _) = json(r#"[{"T":"success","msg":"authenticated"}]"#);
    assert!(r.unwrap().authenticated);
    let ack = recorded!("alpaca/stream_subscription_ack.json");
    let (r, events) = json(ack);
    assert!(r.unwrap().subscribed);
    assert_eq!(events, vec![StreamEvent::Heartbeat]);
    // A bare object (not in an array) is understood too.
    let (r, _) = json(r#"{"T":"success","msg":"connected"}"#);
    assert!(r.unwrap().connected);
}

/// Alpaca's error message with this code and text, parsed.
fn error(code: u16, msg: &str) -> (Result<Control, BrokerError>, Vec<StreamEvent>) {
    json(&format!(r#"[{{"T":"error","code":{code},"msg":"{msg}"}}]"#))
}

#[test]
fn auth_errors_end_the_stream_as_auth() {
    for (code, msg) in [
        (401, "not authenticated"),
        (402, "auth failed"),
        (404, "auth timeout"),
    ] {
        let (r, _) = error(code, msg);
        match r {
            Err(BrokerError::Auth(m)) => assert!(m.contains(msg) && m.contains(&code.to_string())),
            other => panic!("{code}: expected Auth, got {other:?}"),
        }
    }
}

#[test]
fn connection_limit_and_insufficient_subscription_are_rejections() {
    for (code, msg) in [
        (406, "connection limit exceeded"),
        (409, "insufficient subscription"),
    ] {
        let (r, _) = error(code, msg);
        match r {
            Err(BrokerError::Rejected {
                status,
                code: c,
                message,
            }) => {
                assert_eq!((status, c.as_str()), (code, code.to_string().as_str()));
                assert!(message.contains(msg));
            }
            other => panic!("{code}: expected Rejected, got {other:?}"),
        }
    }
}

#[test]
fn other_errors_are_notices_and_the_stream_goes_on() {
    for (code, msg) in [
        (400, "invalid syntax"),
        (403, "already authenticated"),
        (405, "symbol limit exceeded"),
        (407, "slow client"),
        (408, "v2 not enabled"),
        (410, "invalid subscribe action for this feed"),
        (500, "internal error"),
    ] {
        let (r, events) = error(code, msg);
        assert_eq!(r.unwrap().error, Some(code));
        let [(None, c, broker_code, message)] = notices(&events)[..] else {
            panic!("{code}: expected one notice, got {events:?}")
        };
        assert_eq!(events.len(), 1, "{code}: {events:?}");
        let want = if code == 405 {
            NoticeCode::SymbolLimit
        } else {
            NoticeCode::Broker
        };
        assert_eq!(c, want);
        assert_eq!(broker_code, Some(code.to_string().as_str()));
        assert!(message.contains(msg), "{message}");
    }
}

#[test]
fn malformed_frames_are_skipped_without_events() {
    for frame in [
        "",
        "not json",
        "[",
        r#"[{"T":"q","S":"AAPL","bp":1.0,"ap":2.0}"#,
        r#"[{"T":"q","S":"AAPL","bp":"cheap"}]"#,
        r#"[{"T":"q","S":12}]"#,
        r#"[{"T":"q","S":"AAPL","bp":1.0}] trailing"#,
        r#"[1, 2, 3]"#,
        r#""just a string""#,
        "\u{0}\u{1}<html>",
    ] {
        let (r, events) = json(frame);
        assert_eq!(r, Ok(Control::default()), "{frame:?}");
        assert!(events.is_empty(), "{frame:?} gave {events:?}");
    }
    // A good message before a bad one in the same frame is not half-delivered.
    let (r, events) =
        json(r#"[{"T":"q","S":"AAPL","bp":1.0,"ap":2.0},{"T":"q","S":"AMD","bp":{}}]"#);
    assert_eq!((r, events.len()), (Ok(Control::default()), 0));
    // Messages without a type or a symbol are ignored, the rest of the frame is kept.
    let (_, events) = json(r#"[{"S":"AAPL"},{"T":"q","bp":1.0},{"T":"t","S":"AAPL","p":1.5}]"#);
    assert_eq!(ticks(&events).len(), 1);
    // Escaped strings and null prices are fine.
    let (_, events) = json(r#"[{"T":"q","S":"BRK\u002eB","bp":null,"ap":2.5,"t":"bad time"}]"#);
    let t = ticks(&events);
    assert_eq!(
        (
            t[0].instrument.as_str(),
            t[0].bid,
            t[0].ask,
            t[0].exchange_time
        ),
        ("BRK.B", None, Some(dec!(2.5)), None)
    );
}

#[test]
fn aliases_map_symbols_back_to_the_users_spelling() {
    let mut parser = FrameParser::new();
    parser.alias("AAPL", "aapl");
    let mut out = Vec::new();
    parser
        .parse(Encoding::Json, TRADE.as_bytes(), now(), &mut out)
        .unwrap();
    parser
        .parse(Encoding::Json, QUOTE.as_bytes(), now(), &mut out)
        .unwrap();
    let names: Vec<_> = ticks(&out).iter().map(|t| t.instrument.clone()).collect();
    assert_eq!(names, ["aapl", "AMD"]);
}

// ---- msgpack ----

fn mp_map(pairs: Vec<(&str, Mp)>) -> Mp {
    Mp::Map(pairs.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

fn encode(v: &Mp) -> Vec<u8> {
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, v).unwrap();
    buf
}

fn msgpack(frame: &[u8]) -> (Result<Control, BrokerError>, Vec<StreamEvent>) {
    let mut out = Vec::new();
    let r = parse_frame(Encoding::Msgpack, frame, now(), &mut out);
    (r, out)
}

/// msgpack Timestamp 64: nanoseconds in the top 30 bits, seconds in the low 34.
fn ts64(secs: u64, nanos: u32) -> Mp {
    Mp::Ext(-1, ((u64::from(nanos) << 34) | secs).to_be_bytes().to_vec())
}

#[test]
fn msgpack_quotes_and_trades_with_timestamps() {
    let quote = mp_map(vec![
        ("T", "q".into()),
        ("S", "AMD".into()),
        ("bx", "U".into()),
        ("bp", Mp::F64(87.66)),
        ("bs", 1.into()),
        ("ax", "X".into()),
        ("ap", Mp::F32(87.5)),
        ("as", 300.into()),
        ("t", ts64(1_614_009_105, 335_667_700)),
        ("c", Mp::Array(vec!["R".into()])),
        ("z", "C".into()),
    ]);
    let trade = mp_map(vec![
        ("T", "t".into()),
        ("S", "AAPL".into()),
        ("i", 96921.into()),
        ("x", "D".into()),
        ("p", Mp::F64(126.55)),
        ("s", 1.into()),
        // Timestamp 32 (whole seconds).
        ("t", Mp::Ext(-1, 1_614_009_104u32.to_be_bytes().to_vec())),
        ("c", Mp::Array(vec!["@".into(), "I".into()])),
        ("z", "C".into()),
    ]);
    // Timestamp 96 (nanoseconds u32, then seconds i64), plus a bin field to skip.
    let mut t96 = 5u32.to_be_bytes().to_vec();
    t96.extend_from_slice(&1_614_009_106i64.to_be_bytes());
    let quote96 = mp_map(vec![
        ("T", "q".into()),
        ("S", "MSFT".into()),
        ("raw", Mp::Binary(vec![1, 2, 3])),
        ("bp", (-3).into()),
        ("ap", Mp::from(u64::MAX)),
        ("t", Mp::Ext(-1, t96)),
    ]);
    let frame = encode(&Mp::Array(vec![quote, trade, quote96]));
    let (r, events) = msgpack(&frame);
    r.unwrap();
    let t = ticks(&events);
    assert_eq!(t.len(), 3);
    assert_eq!(
        (t[0].bid, t[0].ask, t[0].bid_size, t[0].ask_size),
        (
            Some(dec!(87.66)),
            Some(dec!(87.5)),
            Some(dec!(1.0)),
            Some(dec!(300.0))
        )
    );
    assert_eq!(
        t[0].exchange_time,
        parse_time("2021-02-22T15:51:45.3356677Z")
    );
    assert_eq!(
        (t[1].last, t[1].last_size),
        (Some(dec!(126.55)), Some(dec!(1.0)))
    );
    assert_eq!(t[1].exchange_time, parse_time("2021-02-22T15:51:44Z"));
    assert_eq!(t[2].bid, Some(-dec!(3.0)));
    assert_eq!(
        t[2].exchange_time,
        parse_time("2021-02-22T15:51:46.000000005Z")
    );
}

#[test]
fn msgpack_control_and_error_messages() {
    let one = |pairs: Vec<(&str, Mp)>| encode(&Mp::Array(vec![mp_map(pairs)]));
    let (r, events) = msgpack(&one(vec![
        ("T", "success".into()),
        ("msg", "connected".into()),
    ]));
    assert!(r.unwrap().connected);
    assert_eq!(events, vec![StreamEvent::Heartbeat]);
    let (r, _) = msgpack(&one(vec![
        ("T", "subscription".into()),
        ("quotes", Mp::Array(vec!["AAPL".into()])),
    ]));
    assert!(r.unwrap().subscribed);
    let (r, _) = msgpack(&one(vec![
        ("T", "error".into()),
        ("code", 402.into()),
        ("msg", "auth failed".into()),
    ]));
    assert!(matches!(r, Err(BrokerError::Auth(_))), "{r:?}");
    let (r, events) = msgpack(&one(vec![
        ("T", "error".into()),
        ("code", 405.into()),
        ("msg", "symbol limit exceeded".into()),
    ]));
    assert_eq!(r.unwrap().error, Some(405));
    assert!(matches!(
        &events[..],
        [StreamEvent::Notice {
            code: NoticeCode::SymbolLimit,
            ..
        }]
    ));
}

#[test]
fn malformed_msgpack_is_skipped_and_never_panics() {
    let good = encode(&Mp::Array(vec![mp_map(vec![
        ("T", "q".into()),
        ("S", "AAPL".into()),
        ("bp", Mp::F64(1.0)),
        ("t", ts64(1, 2)),
    ])]));
    // Every truncation and every single-byte corruption of a good frame.
    for cut in 0..good.len() {
        let (r, events) = msgpack(&good[..cut]);
        assert_eq!(r, Ok(Control::default()), "cut at {cut}");
        assert!(events.is_empty());
    }
    for i in 0..good.len() {
        for b in [0x00, 0x7f, 0x80, 0x9f, 0xc1, 0xd9, 0xdd, 0xdf, 0xff] {
            let mut bad = good.clone();
            bad[i] = b;
            let mut out = Vec::new();
            let _ = parse_frame(Encoding::Msgpack, &bad, now(), &mut out);
        }
    }
    for frame in [
        &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
        &[0x91, 0xdf, 0xff, 0xff, 0xff, 0xff],
        &[0x91, 0x81, 0xa1, b'x', 0xdd, 0xff, 0xff, 0xff, 0xff],
        b"\x92\x01\x02",
        b"[{\"T\":\"q\"}]",
    ] {
        let (r, events) = msgpack(frame);
        assert_eq!((r, events.len()), (Ok(Control::default()), 0), "{frame:?}");
    }
    // Deep nesting is refused, not a stack overflow.
    let mut deep = vec![0x91, 0x81, 0xa1, b'x'];
    deep.extend(std::iter::repeat_n(0x91, 100_000));
    deep.push(0xc0);
    let (r, events) = msgpack(&deep);
    assert_eq!((r, events.len()), (Ok(Control::default()), 0));
}
#[test]
fn json_prices_arrive_with_their_exact_digits() {
    let (r, events) =
        json(r#"[{"T":"q","S":"EURUSD","bp":1.082351,"ap":1.08240,"bs":100,"as":2.5}]"#);
    r.unwrap();
    let t = ticks(&events);
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    assert_eq!(text(t[0].bid).as_deref(), Some("1.082351"));
    // The scale as sent: a float would have dropped the zero.
    assert_eq!(text(t[0].ask).as_deref(), Some("1.08240"));
    assert_eq!(text(t[0].ask_size).as_deref(), Some("2.5"));
    // Over IPC, the same digits as strings.
    let ipc = serde_json::to_value(t[0]).unwrap();
    assert_eq!(
        (ipc["bid"].as_str(), ipc["ask"].as_str()),
        (Some("1.082351"), Some("1.08240"))
    );
}

#[test]
fn msgpack_floats_become_their_shortest_decimal() {
    let quote = mp_map(vec![
        ("T", "q".into()),
        ("S", "EURUSD".into()),
        ("bp", Mp::F64(1.08235)),
        ("ap", Mp::F32(1.1)),
        ("bs", 7.into()),
    ]);
    let (r, events) = msgpack(&encode(&Mp::Array(vec![quote])));
    r.unwrap();
    let t = ticks(&events);
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    // Not 1.0823499999999999 (the f64's exact value) nor 1.100000023841858 (the f32's).
    assert_eq!(text(t[0].bid).as_deref(), Some("1.08235"));
    assert_eq!(text(t[0].ask).as_deref(), Some("1.1"));
    assert_eq!(text(t[0].bid_size).as_deref(), Some("7"));
}
