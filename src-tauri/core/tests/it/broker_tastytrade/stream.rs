//! The DXLink quote stream against the simulator over real sockets: ticks with bid/ask/time
//! and trades, subscribing and unsubscribing on the open stream, keepalives both ways, a
//! reconnect after a cut with the same instruments, refused and expiring quote tokens, a
//! half-open link going silent past the silence limit, garbage and oversized frames
//! skipped, every DXLink ERROR type, impossible symbols, the 1009 close, the burst and
//! paced rates. No token or credential in any error or notice. Instrument search runs for
//! every broker in `conformance/search.rs`.

use rust_decimal_macros::dec;
use std::collections::HashSet;
use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tastytrade::{DxLinkOptions, DxLinkStream, Tastytrade};
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig};
use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent};
use brokerdesk_core::Secret;
use brokerdesk_sim::tastytrade::{DxLinkSettings, SimState};
use brokerdesk_sim::{Fault, SimServer};
use tokio::time::{timeout, Instant};

use super::{assert_clean, config, sim, CLIENT_SECRET, REFRESH};
use crate::common::read_to_the_end;
use crate::common::stream::{read_until_event, tick_of};

/// The simulator's quote tokens start so.
const QUOTE_TOKEN_PREFIX: &str = "dxlink-";

fn syms(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A simulator with fast data (20 ms) and keepalives (100 ms, 2 s timeout).
async fn fast_sim() -> (SimServer, SimState) {
    let (server, state) = sim().await;
    state.set_dxlink(fast_settings());
    (server, state)
}

fn fast_settings() -> DxLinkSettings {
    DxLinkSettings {
        interval: Duration::from_millis(20),
        keepalive_timeout: Duration::from_secs(2),
        keepalive_interval: Duration::from_millis(100),
        ..DxLinkSettings::default()
    }
}

/// Stream options with a short keepalive timeout (= silence limit).
fn opts(keepalive: Duration) -> DxLinkOptions {
    DxLinkOptions {
        keepalive_timeout: keepalive,
        connect_timeout: Duration::from_secs(3),
        ..DxLinkOptions::default()
    }
}

fn connector(server: &SimServer) -> Tastytrade {
    super::connector(server).with_stream_options(opts(Duration::from_secs(2)))
}

async fn open(server: &SimServer, instruments: &[&str]) -> Box<dyn QuoteStream> {
    connector(server)
        .open_quote_stream(&syms(instruments))
        .await
        .unwrap()
}

/// Fails if a credential, an access token or a quote token shows in `text`.
fn assert_text_clean(text: &str) {
    for s in [REFRESH, CLIENT_SECRET, "tt-access-", QUOTE_TOKEN_PREFIX] {
        assert!(!text.contains(s), "secret leaked: {text}");
    }
}

fn assert_stream_error_clean(e: &BrokerError) {
    assert_clean(e);
    assert_text_clean(&format!("{e} {e:?}"));
}

/// Reads events until `done` holds for one (3 s at most); returns every event read, that
/// one last. No notice may show a secret.
async fn read_until(
    s: &mut dyn QuoteStream,
    done: impl FnMut(&StreamEvent) -> bool,
) -> Vec<StreamEvent> {
    let check = |e: &StreamEvent| {
        if let StreamEvent::Notice { message, .. } = e {
            assert_text_clean(message);
        }
    };
    read_until_event(s, Duration::from_secs(3), check, done).await
}

/// Reads until the stream fails; returns the error, checked for secrets.
async fn read_until_error(s: &mut dyn QuoteStream) -> BrokerError {
    let e = read_to_the_end(s, "an error")
        .await
        .expect("the stream closed without an error");
    assert_stream_error_clean(&e);
    e
}

/// What an error must be.
type Check = fn(&BrokerError) -> bool;

/// The error of an open that must fail.
fn open_err(r: Result<Box<dyn QuoteStream>, BrokerError>) -> BrokerError {
    match r {
        Ok(_) => panic!("the stream opened"),
        Err(e) => e,
    }
}

fn is_quote(e: &StreamEvent, instrument: &str) -> bool {
    tick_of(e, instrument).is_some_and(|t| t.bid.is_some())
}

#[tokio::test]
async fn quotes_and_trades_flow_and_subscriptions_change_on_the_open_stream() {
    let (server, state) = fast_sim().await;
    state.set_price("AAPL", 190.0);
    state.set_price("SPY", 450.0);
    let mut s = open(&server, &["AAPL", "SPY"]).await;
    assert_eq!(s.silence_limit(), Duration::from_secs(2));

    let mut seen = HashSet::new();
    let events = read_until(s.as_mut(), |e| {
        if let StreamEvent::Tick(t) = e {
            seen.insert((t.instrument.clone(), t.bid.is_some(), t.last.is_some()));
        }
        seen.len() == 4
    })
    .await;
    let (bid, ask) = state.quote("AAPL");
    let (bid, ask) = (super::common::sim_price(bid), super::common::sim_price(ask));
    let quote = events
        .iter()
        .find_map(|e| tick_of(e, "AAPL").filter(|t| t.bid.is_some()))
        .unwrap();
    assert_eq!((quote.bid, quote.ask), (Some(bid), Some(ask)));
    assert!(quote.bid_size.unwrap() > dec!(0.0) && quote.ask_size.unwrap() > dec!(0.0));
    let age = quote.received_at - quote.exchange_time.unwrap();
    assert!(
        age.num_seconds().abs() < 5,
        "the exchange time is now-ish: {age}"
    );
    let trade = events
        .iter()
        .find_map(|e| tick_of(e, "SPY").filter(|t| t.last.is_some()))
        .unwrap();
    assert_eq!(trade.last, Some(dec!(450.0)));
    assert!(trade.last_size.unwrap() > dec!(0.0) && trade.bid.is_none());
    assert!(trade.exchange_time.is_some());

    // Unsubscribe SPY: after what was in flight, only AAPL ticks.
    s.unsubscribe(&syms(&["SPY"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
    let later = read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
    let later2 = read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
    assert!(
        later
            .iter()
            .chain(&later2)
            .all(|e| tick_of(e, "SPY").is_none()),
        "SPY after unsubscribing: {later:?}"
    );

    // Subscribe more on the open stream, one with stray spaces: the tick keeps them.
    s.subscribe(&syms(&["MSFT ", "AAPL"])).await.unwrap();
    read_until(s.as_mut(), |e| is_quote(e, "MSFT ")).await;
    s.close().await;
}

#[tokio::test]
async fn keepalives_arrive_as_heartbeats_and_ours_keep_the_server_from_timing_out() {
    let (server, state) = sim().await;
    // The server gives up after 300 ms of client silence and keeps alive every 100 ms.
    state.set_dxlink(DxLinkSettings {
        keepalive_timeout: Duration::from_millis(300),
        keepalive_interval: Duration::from_millis(100),
        ..fast_settings()
    });
    let tt = super::connector(&server).with_stream_options(opts(Duration::from_millis(400)));
    // No instruments: only keepalives flow.
    let mut s = tt.open_quote_stream(&[]).await.unwrap();
    assert_eq!(s.silence_limit(), Duration::from_millis(400));
    let started = Instant::now();
    let mut heartbeats = 0;
    let mut buf = Vec::new();
    while started.elapsed() < Duration::from_millis(1200) {
        buf.clear();
        let open = timeout(s.silence_limit(), s.read(&mut buf))
            .await
            .expect("something within the silence limit")
            .unwrap();
        assert!(
            open,
            "the server closed the stream (our keepalives missed?)"
        );
        for e in &buf {
            match e {
                StreamEvent::Heartbeat => heartbeats += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(heartbeats >= 5, "{heartbeats} heartbeats in 1.2 s");
}

#[tokio::test]
async fn the_quote_tokens_url_is_used_unless_the_account_overrides_it() {
    let (server, state) = fast_sim().await;
    state.set_price("AAPL", 190.0);
    // No override: the catalog default (the account streamer) is not a DXLink URL, so
    // the `dxlink-url` of the quote token (`…/dxlink`) is used.
    let cfg = ConnectorConfig::new(
        BrokerKind::Tastytrade,
        Environment::Practice,
        None,
        Some(&server.url()),
        None,
    )
    .unwrap()
    .with_credentials(Some(Secret::new(REFRESH)), Some(Secret::new(CLIENT_SECRET)));
    assert_eq!(cfg.stream_url, "wss://streamer.cert.tastyworks.com");
    let tt = Tastytrade::new(cfg).unwrap();
    let mut s = tt.open_quote_stream(&syms(&["AAPL"])).await.unwrap();
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;

    // An override elsewhere wins (nothing listens there: the connection fails).
    let mut cfg = config(&server, REFRESH, CLIENT_SECRET);
    cfg.stream_url = "ws://127.0.0.1:9/dxlink".into();
    let e = open_err(
        Tastytrade::new(cfg)
            .unwrap()
            .open_quote_stream(&syms(&["AAPL"]))
            .await,
    );
    assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
    assert_stream_error_clean(&e);
}

#[tokio::test]
async fn a_cut_stream_ends_and_a_new_one_resumes_the_same_instruments() {
    let (server, state) = fast_sim().await;
    let instruments = ["AAPL", "SPY"];
    let tt = connector(&server);
    let mut s = tt.open_quote_stream(&syms(&instruments)).await.unwrap();
    read_until(s.as_mut(), |e| is_quote(e, "SPY")).await;

    server.faults().cut_streams();
    // The cut shows as a close or a network error, never as Auth.
    if let Some(e) = read_to_the_end(s.as_mut(), "the cut").await {
        assert!(e.retryable(), "{e:?}");
        assert_stream_error_clean(&e);
    }

    // What the owner does: open again with the same instruments (a fresh quote token).
    let mut again = tt.open_quote_stream(&syms(&instruments)).await.unwrap();
    let mut both = HashSet::new();
    read_until(again.as_mut(), |e| {
        if let StreamEvent::Tick(t) = e {
            both.insert(t.instrument.clone());
        }
        both.len() == 2
    })
    .await;
    assert_eq!(
        state.tokens_issued(),
        1,
        "one access token served both opens"
    );
}

#[tokio::test]
async fn refused_quote_tokens_are_auth_errors() {
    let (server, state) = fast_sim().await;
    // DXLink refuses while REST still hands out tokens.
    state.set_dxlink(DxLinkSettings {
        refuse_auth: true,
        ..fast_settings()
    });
    let e = open_err(connector(&server).open_quote_stream(&syms(&["AAPL"])).await);
    assert!(
        matches!(&e, BrokerError::Auth(m) if m.contains("quote")),
        "{e:?}"
    );
    assert!(!e.retryable());
    assert_stream_error_clean(&e);

    // A token DXLink never issued, straight to the socket.
    state.set_dxlink(fast_settings());
    let bogus = "dxlink-not-a-real-token-0123456789";
    let e = DxLinkStream::connect(
        &format!("{}/dxlink", server.ws_url()),
        Secret::new(bogus),
        &syms(&["AAPL"]),
        opts(Duration::from_secs(2)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(bogus));

    // The refuse-auth fault stops it already at the REST token call.
    server.faults().set(Some(Fault::RefuseAuth));
    let e = open_err(connector(&server).open_quote_stream(&syms(&["AAPL"])).await);
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert_stream_error_clean(&e);
}

#[tokio::test]
async fn a_quote_token_expiring_mid_stream_ends_it_for_a_reconnect_with_a_fresh_one() {
    let (server, state) = fast_sim().await;
    let tt = connector(&server);
    let mut s = tt.open_quote_stream(&syms(&["AAPL"])).await.unwrap();
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;

    state.expire_quote_tokens();
    let e = read_until_error(s.as_mut()).await;
    assert!(
        matches!(&e, BrokerError::Network(m) if m.contains("expired")) && e.retryable(),
        "{e:?}"
    );
    // The reconnect gets a new token and streams again.
    let mut again = tt.open_quote_stream(&syms(&["AAPL"])).await.unwrap();
    read_until(again.as_mut(), |e| is_quote(e, "AAPL")).await;

    // The same through the token's own lifetime.
    state.set_quote_token_ttl(Duration::from_millis(400));
    let mut short = tt.open_quote_stream(&syms(&["AAPL"])).await.unwrap();
    read_until(short.as_mut(), |e| is_quote(e, "AAPL")).await;
    let e = read_until_error(short.as_mut()).await;
    assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
}

#[tokio::test]
async fn garbage_and_oversized_frames_are_skipped_and_the_stream_goes_on() {
    let (server, state) = fast_sim().await;
    let mut s = open(&server, &["AAPL"]).await;
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;

    let oversized = format!(
        r#"{{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",{}1]]}}"#,
        "1,".repeat(1024 * 1024)
    );
    for raw in [
        "<html>\u{0}\u{1}not json at all".to_string(),
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2"#.to_string(),
        r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1]]}"#.to_string(),
        "[]".to_string(),
        oversized,
    ] {
        assert_eq!(state.inject_dxlink(raw), 1);
    }
    // The garbage fault while streaming: a junk frame before every data round.
    server.faults().set(Some(Fault::Garbage));
    let mut quotes = 0;
    read_until(s.as_mut(), |e| {
        quotes += usize::from(is_quote(e, "AAPL"));
        quotes == 5
    })
    .await;
    server.faults().set(None);
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
}

#[tokio::test]
async fn dxlink_errors_become_notices_or_end_the_stream_as_they_should() {
    let (server, state) = fast_sim().await;
    let mut s = open(&server, &["AAPL"]).await;
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;

    // Reports about our messages: notices, and the stream goes on.
    for kind in ["INVALID_MESSAGE", "BAD_ACTION", "UNKNOWN", "SOMETHING_NEW"] {
        state.inject_dxlink(format!(
            r#"{{"type":"ERROR","channel":0,"error":"{kind}","message":"about {kind}"}}"#
        ));
        let events = read_until(s.as_mut(), |e| matches!(e, StreamEvent::Notice { .. })).await;
        match events.last() {
            Some(StreamEvent::Notice {
                instrument: None,
                code: NoticeCode::Broker,
                broker_code,
                message,
            }) => {
                assert_eq!(broker_code.as_deref(), Some(kind));
                assert!(message.contains(&format!("about {kind}")), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;

    // Fatal ones end the stream with the right class.
    let cases: [(&str, Check); 5] = [
        (
            r#"{"type":"ERROR","channel":0,"error":"TIMEOUT","message":"no keepalive"}"#,
            |e| matches!(e, BrokerError::Network(m) if m.contains("timed")),
        ),
        (
            r#"{"type":"ERROR","channel":0,"error":"UNSUPPORTED_PROTOCOL","message":"v9"}"#,
            |e| matches!(e, BrokerError::Protocol(_)),
        ),
        (
            r#"{"type":"ERROR","channel":0,"error":"UNAUTHORIZED","message":"token expired"}"#,
            |e| matches!(e, BrokerError::Network(m) if m.contains("expired")) && e.retryable(),
        ),
        (
            r#"{"type":"AUTH_STATE","channel":0,"state":"UNAUTHORIZED"}"#,
            |e| e.retryable(),
        ),
        (
            r#"{"type":"CHANNEL_CLOSED","channel":1}"#,
            |e| matches!(e, BrokerError::Network(m) if m.contains("channel")),
        ),
    ];
    for (raw, expected) in cases {
        let mut s = open(&server, &["AAPL"]).await;
        read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
        state.inject_dxlink(raw);
        let e = read_until_error(s.as_mut()).await;
        assert!(expected(&e), "{raw} gave {e:?}");
    }
}

#[tokio::test]
async fn impossible_symbols_get_notices_and_unknown_ones_just_stay_quiet() {
    let (server, state) = fast_sim().await;
    state.set_dxlink(DxLinkSettings {
        unknown_symbols: vec!["NOSUCH".into()],
        ..fast_settings()
    });
    let long = "X".repeat(200);
    let mut s = open(
        &server,
        &["AAPL", "", "BAD\u{1}SYM", long.as_str(), "NOSUCH"],
    )
    .await;
    let mut notices = Vec::new();
    let events = read_until(s.as_mut(), |e| {
        if let StreamEvent::Notice {
            instrument, code, ..
        } = e
        {
            notices.push((instrument.clone(), *code));
        }
        is_quote(e, "AAPL")
    })
    .await;
    assert_eq!(
        notices,
        [
            (Some(String::new()), NoticeCode::InvalidSymbol),
            (Some("BAD\u{1}SYM".to_string()), NoticeCode::InvalidSymbol),
            (Some(long.clone()), NoticeCode::InvalidSymbol),
        ]
    );
    // More on the open stream: the notice comes with the next read.
    s.subscribe(&syms(&["   "])).await.unwrap();
    let events2 = read_until(s.as_mut(), |e| matches!(e, StreamEvent::Notice { .. })).await;
    assert!(matches!(
        events2.last(),
        Some(StreamEvent::Notice { instrument: Some(i), .. }) if i == "   "
    ));
    // DXLink sends nothing for a symbol it does not know (no error either).
    let more = read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
    assert!(events
        .iter()
        .chain(&more)
        .all(|e| tick_of(e, "NOSUCH").is_none()));
}

#[tokio::test]
async fn a_subscription_too_large_is_rejected_not_retried() {
    let (server, state) = fast_sim().await;
    // Quote + Trade per symbol: two symbols are four subscriptions.
    state.set_dxlink(DxLinkSettings {
        max_symbols: 3,
        ..fast_settings()
    });
    let mut s = open(&server, &["AAPL"]).await;
    read_until(s.as_mut(), |e| is_quote(e, "AAPL")).await;
    s.subscribe(&syms(&["SPY"])).await.unwrap();
    let e = read_until_error(s.as_mut()).await;
    assert!(
        matches!(&e, BrokerError::Rejected { code, .. } if code == "subscription_too_large"),
        "{e:?}"
    );
    assert!(!e.retryable());
}

#[tokio::test]
async fn burst_and_paced_rates_deliver_as_configured() {
    let (server, state) = sim().await;
    // Burst: pre-encoded frames of 100 events back to back; the server times out a client
    // that stops keeping alive after 300 ms, so ours must keep alive under a full stream.
    state.set_dxlink(DxLinkSettings {
        burst: true,
        batch: 100,
        keepalive_timeout: Duration::from_millis(300),
        keepalive_interval: Duration::from_millis(100),
        ..DxLinkSettings::default()
    });
    let tt = super::connector(&server).with_stream_options(opts(Duration::from_millis(400)));
    let mut s = tt
        .open_quote_stream(&syms(&["AAPL", "SPY", "MSFT"]))
        .await
        .unwrap();
    let started = Instant::now();
    let (mut ticks, mut buf) = (0usize, Vec::new());
    while started.elapsed() < Duration::from_millis(1000) {
        buf.clear();
        assert!(s.read(&mut buf).await.unwrap(), "closed under burst");
        ticks += buf
            .iter()
            .filter(|e| matches!(e, StreamEvent::Tick(_)))
            .count();
    }
    assert!(ticks > 20_000, "only {ticks} ticks in a second of burst");
    s.close().await;

    // Paced: 2,000 events/s in frames of 10.
    state.set_dxlink(DxLinkSettings {
        rate: Some(2000),
        batch: 10,
        ..fast_settings()
    });
    let mut s = tt.open_quote_stream(&syms(&["AAPL"])).await.unwrap();
    let started = Instant::now();
    let mut ticks = 0usize;
    while started.elapsed() < Duration::from_millis(600) {
        buf.clear();
        assert!(s.read(&mut buf).await.unwrap());
        ticks += buf
            .iter()
            .filter(|e| matches!(e, StreamEvent::Tick(_)))
            .count();
    }
    let secs = started.elapsed().as_secs_f64();
    assert!(
        ticks >= 300 && (ticks as f64) <= 2000.0 * secs * 1.5 + 100.0,
        "{ticks} ticks in {secs:.2} s at 2,000/s"
    );
}
