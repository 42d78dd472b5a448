//! `parse_frame` on recorded frames: every message the gateway (and the simulator) sends on
//! the WebSocket — market data (full, partial, prefixed, numeric, binary), `system`
//! greetings and heartbeats, `act`, `sts` both ways, "waiting for session", `tic`, errors
//! of every shape, `ntf` / `blt` — and malformed input, which must yield nothing and never
//! panic.

use brokerdesk_core::brokers::ibkr::{parse_frame, ConidMap, Control};
use brokerdesk_core::stream::{NoticeCode, StreamEvent, Tick};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal_macros::dec;

use crate::common::stream::notice_of;

const AAPL: u64 = 265598;
const MSFT: u64 = 272093;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1, 14, 30, 0).unwrap()
}

fn map() -> ConidMap {
    let mut m = ConidMap::new();
    m.insert(AAPL, "AAPL");
    m.insert(MSFT, "msft");
    m
}

fn parse(frame: &str) -> (Vec<StreamEvent>, Control) {
    let mut out = Vec::new();
    let c = parse_frame(frame.as_bytes(), &map(), now(), &mut out);
    (out, c)
}

fn tick(frame: &str) -> Tick {
    match parse(frame) {
        (events, Control::None) if events.len() == 1 => match &events[0] {
            StreamEvent::Tick(t) => t.clone(),
            other => panic!("not a tick: {other:?}"),
        },
        other => panic!("expected one tick: {other:?}"),
    }
}

/// The frame's one notice as (instrument, code, IBKR's own code, message).
fn notice(frame: &str) -> (Option<String>, NoticeCode, Option<String>, String) {
    match parse(frame) {
        (events, Control::None) if events.len() == 1 => {
            let Some((instrument, code, broker_code, message)) = notice_of(&events[0]) else {
                panic!("not a notice: {:?}", events[0])
            };
            (
                instrument.map(String::from),
                code,
                broker_code.map(String::from),
                message.to_string(),
            )
        }
        other => panic!("expected one notice: {other:?}"),
    }
}

// Recorded from the simulator (the gateway's layout: server_id, conidEx, conid, _updated,
// 6119, the fields, topic).
const FULL: &str = recorded!("ibkr/ws_smd_full.json");
const PARTIAL: &str = recorded!("ibkr/ws_smd_partial.json");

#[test]
fn a_full_market_data_frame_is_one_tick_with_every_field() {
    let t = tick(FULL);
    assert_eq!(t.instrument, "AAPL");
    assert_eq!(
        (t.last, t.bid, t.ask),
        (Some(dec!(190.0)), Some(dec!(189.99)), Some(dec!(190.01)))
    );
    assert_eq!(
        (t.bid_size, t.ask_size, t.last_size),
        (Some(dec!(200.0)), Some(dec!(300.0)), Some(dec!(100.0)))
    );
    assert_eq!(t.exchange_time.unwrap().timestamp_millis(), 1782916200123);
    assert_eq!(t.received_at, now());
}

#[test]
fn a_partial_update_carries_only_the_fields_sent() {
    let t = tick(PARTIAL);
    assert_eq!((t.bid, t.ask), (Some(dec!(190.0)), Some(dec!(190.02))));
    assert_eq!(
        (t.last, t.bid_size, t.ask_size, t.last_size),
        (None, None, None, None)
    );
    // A trade only.
    let t = tick(
        r#"{"topic":"smd+265598","conid":265598,"_updated":1782916200500,"31":"190.01","7059":"1,200"}"#,
    );
    assert_eq!(
        (t.last, t.last_size, t.bid),
        (Some(dec!(190.01)), Some(dec!(1200.0)), None)
    );
}

#[test]
fn prefixed_numeric_and_odd_values_are_read_tolerantly() {
    // C = prior close, H = halted; numbers instead of strings; a conid as a string; sizes
    // with suffixes; values that are no number are absent.
    let t = tick(
        r#"{"topic":"smd+265598","conid":"265598","31":"C189.50","84":"H189.40","86":189.6,"88":"1.2K","85":"N/A","7059":"","_updated":"1782916200000"}"#,
    );
    assert_eq!(
        (t.last, t.bid, t.ask, t.bid_size, t.ask_size, t.last_size),
        (
            Some(dec!(189.5)),
            Some(dec!(189.4)),
            Some(dec!(189.6)),
            Some(dec!(1200.0)),
            None,
            None
        )
    );
    assert_eq!(t.exchange_time.unwrap().timestamp_millis(), 1782916200000);
    // No `conid` field: the topic names it (with an exchange suffix too); no `_updated`.
    let t = tick(r#"{"topic":"smd+272093@SMART","84":"420.10","86":null}"#);
    assert_eq!(t.instrument, "msft", "the symbol exactly as subscribed");
    assert_eq!(
        (t.bid, t.ask, t.exchange_time),
        (Some(dec!(420.1)), None, None)
    );
    // Escaped strings are still read.
    let t = tick(r#"{"topic":"smd+265598","84":"\u0031\u0039\u0030.5"}"#);
    assert_eq!(t.bid, Some(dec!(190.5)));
}

#[test]
fn one_tick_per_symbol_of_the_conid_and_none_for_an_unsubscribed_one() {
    let mut m = map();
    m.insert(AAPL, "265598");
    let mut out = Vec::new();
    parse_frame(FULL.as_bytes(), &m, now(), &mut out);
    let names: Vec<_> = out
        .iter()
        .map(|e| match e {
            StreamEvent::Tick(t) => t.instrument.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(names, ["AAPL", "265598"]);

    // An update in flight after `umd`.
    let (events, c) = parse(&FULL.replace("265598", "4391"));
    assert!(events.is_empty() && c == Control::None, "{events:?}");
    // A market-data frame without any price field is proof of life only.
    let (events, _) =
        parse(r#"{"topic":"smd+265598","conid":265598,"55":"AAPL","6509":"RpB","_updated":1}"#);
    assert_eq!(events, [StreamEvent::Heartbeat]);
}

#[test]
fn binary_frames_hold_the_same_json() {
    let mut out = Vec::new();
    let c = parse_frame(FULL.as_bytes().to_vec().as_slice(), &map(), now(), &mut out);
    assert_eq!(c, Control::None);
    assert!(matches!(&out[..], [StreamEvent::Tick(t)] if t.bid == Some(dec!(189.99))));
}

#[test]
fn the_greeting_heartbeats_and_session_messages() {
    let cases: &[(&str, &[StreamEvent], Control)] = &[
        (
            r#"{"topic":"system","success":"simuser1","isFT":false,"isPaper":true}"#,
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
        (
            r#"{"topic":"system","hb":1782916200000}"#,
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
        (
            recorded!("ibkr/ws_act.json"),
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
        (
            recorded!("ibkr/ws_sts_authenticated.json"),
            &[StreamEvent::Heartbeat],
            Control::Authenticated,
        ),
        (
            r#"{"topic":"sts","args":{"authenticated":false,"competing":false,"message":""}}"#,
            &[],
            Control::NotAuthenticated,
        ),
        (
            r#"{"message":"waiting for session"}"#,
            &[],
            Control::WaitingForSession,
        ),
        (
            r#"{"topic":"tic","alive":true,"lastAccessed":1782916200000}"#,
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
        (
            r#"{"message":"Unsubscribed 123"}"#,
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
        (
            r#"{"topic":"sor","args":[{"orderId":1}]}"#,
            &[StreamEvent::Heartbeat],
            Control::None,
        ),
    ];
    for (frame, events, control) in cases {
        let (got, c) = parse(frame);
        assert_eq!((got.as_slice(), c), (*events, *control), "{frame}");
    }
}

#[test]
fn errors_of_every_shape_are_notices_on_the_right_instrument() {
    // The simulator's answer to an unknown conid, for a subscribed symbol.
    let (instrument, code, _, message) =
        notice(r#"{"topic":"smd+265598","error":"Invalid conid"}"#);
    assert_eq!(
        (instrument.as_deref(), code, message.as_str()),
        (
            Some("AAPL"),
            NoticeCode::SubscriptionRefused,
            "Invalid conid"
        )
    );
    // An unknown conid subscribed by number: the notice names it.
    let (instrument, _, _, message) = notice(r#"{"topic":"smd+1","error":"Invalid conid"}"#);
    assert_eq!(instrument.as_deref(), Some("1"));
    assert!(message.contains("Invalid conid"), "{message}");
    // An error object with a conid, and a bare error.
    let (instrument, code, _, message) = notice(
        r#"{"error":{"code":354,"message":"Requested market data is not subscribed."},"conid":272093}"#,
    );
    assert_eq!(
        (instrument.as_deref(), code, message.as_str()),
        (
            Some("msft"),
            NoticeCode::Broker,
            "Requested market data is not subscribed."
        )
    );
    let (instrument, code, _, message) = notice(r#"{"error":"Bad Request: no bridge"}"#);
    assert_eq!(
        (instrument, code, message.as_str()),
        (None, NoticeCode::Broker, "Bad Request: no bridge")
    );
    // The `error` topic.
    let (instrument, code, _, message) =
        notice(r#"{"topic":"error","args":{"message":"market data farm is broken"}}"#);
    assert_eq!(
        (instrument, code, message.as_str()),
        (None, NoticeCode::Broker, "market data farm is broken")
    );
    // Notifications and bulletins.
    let (instrument, code, topic, message) = notice(recorded!("ibkr/ws_ntf.json"));
    assert_eq!(
        (instrument, code, topic.as_deref(), message.as_str()),
        (
            None,
            NoticeCode::Notification,
            Some("ntf"),
            "Market data farm connection is OK:usfarm"
        )
    );
    let (_, code, topic, message) =
        notice(r#"{"topic":"blt","args":{"id":"2","message":"Trading halted on XYZ"}}"#);
    assert_eq!(
        (code, topic.as_deref(), message.as_str()),
        (
            NoticeCode::Notification,
            Some("blt"),
            "Trading halted on XYZ"
        )
    );
    // A long error text is bounded and stripped of control characters.
    let long = format!(r#"{{"error":"a\u0000b{}"}}"#, "x".repeat(5000));
    let (_, _, _, message) = notice(&long);
    assert!(message.starts_with("ab") && message.chars().count() <= 300);
}

#[test]
fn malformed_frames_yield_nothing() {
    let bad: &[&[u8]] = &[
        b"",
        b"<html>\0\x01not json at all",
        b"[1,2,3]",
        b"\"smd+265598\"",
        b"null",
        b"{\"topic\":\"smd+265598\",\"84\":\"1",
        b"{\"topic\":12,\"84\":\"1\"}",
        b"{\"topic\":\"smd+265598\",\"84\":\"1\",\"84\":\"2\"}",
        b"{\"topic\":\"smd+abc\",\"84\":\"1\"}",
        b"\xff\xfe{}",
        b"{\"topic\":\"smd+265598\",\"84\":\"\xff\"}",
    ];
    for frame in bad {
        let mut out = Vec::new();
        let c = parse_frame(frame, &map(), now(), &mut out);
        assert!(
            out.is_empty() && c == Control::None,
            "{:?}: {out:?}",
            String::from_utf8_lossy(frame)
        );
    }
}

#[test]
fn random_and_mutated_frames_never_panic() {
    // A deterministic xorshift: arbitrary bytes, and recorded frames with bytes flipped,
    // cut or repeated.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seeds = [
        FULL,
        PARTIAL,
        r#"{"topic":"sts","args":{"authenticated":false}}"#,
        r#"{"topic":"ntf","args":[{"text":"x"}]}"#,
        r#"{"error":{"message":"m"},"conid":272093}"#,
    ];
    let m = map();
    let mut out = Vec::new();
    for i in 0..20_000 {
        let mut frame: Vec<u8> = if i % 4 == 0 {
            (0..next() % 64).map(|_| next() as u8).collect()
        } else {
            seeds[i % seeds.len()].as_bytes().to_vec()
        };
        if !frame.is_empty() {
            for _ in 0..(next() % 4) {
                let at = (next() as usize) % frame.len();
                frame[at] = next() as u8;
            }
            if next() % 3 == 0 {
                frame.truncate((next() as usize) % frame.len());
            }
        }
        out.clear();
        let _ = parse_frame(&frame, &m, now(), &mut out);
    }
}
