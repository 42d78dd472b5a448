//! The connector's price stream (`IbkrQuoteStream`) against the gateway simulator over real
//! sockets: subscribing (symbols resolved to conids and back), partial updates, adding and
//! removing instruments on the open stream, `tic`, both authentication paths (cookie and
//! `{"session":…}`), reconnecting with the same subscriptions after a cut, the session
//! ending (→ Auth) or the bridge closing (→ retryable), a half-open link caught by the
//! silence limit, garbage / oversized / error frames, unknown symbols as notices, a burst,
//! and never the session in an error, a notice or `Debug`. The instrument search runs for
//! every broker in `conformance/search.rs`.

use rust_decimal_macros::dec;
use std::collections::HashSet;
use std::time::Duration;

use brokerdesk_core::brokers::ibkr::{Ibkr, IbkrQuoteStream, StreamOptions};
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent, Tick, MAX_MESSAGE};
use brokerdesk_sim::ibkr::{Settings, SimState};
use brokerdesk_sim::{Fault, SimServer};

use super::{common, config, sim_with, ACCOUNT};
use crate::common::names;
use crate::common::stream::{notices, tail, ticks_for as ticks};

fn fast() -> Settings {
    Settings {
        heartbeat: Duration::from_millis(50),
        data_interval: Duration::from_millis(20),
        ..Settings::default()
    }
}

fn options() -> StreamOptions {
    StreamOptions {
        ping_every: Duration::from_millis(150),
        tic_every: Duration::from_millis(100),
        handshake_timeout: Duration::from_secs(2),
    }
}

/// A connector whose stream URL is derived from the REST URL (no stream override).
fn ibkr(server: &SimServer) -> Ibkr {
    let rest = format!("{}/v1/api", server.url());
    let cfg = brokerdesk_core::brokers::ConnectorConfig::new(
        brokerdesk_core::accounts::model::BrokerKind::Ibkr,
        brokerdesk_core::accounts::model::Environment::Practice,
        Some(ACCOUNT.to_string()),
        Some(&rest),
        None,
    )
    .unwrap();
    Ibkr::new(cfg).unwrap().with_stream_options(options())
}

/// Fails if the session shows in the event.
fn assert_clean_event(e: &StreamEvent, state: &SimState) {
    let text = format!("{e:?}");
    if let Some(s) = state.session() {
        assert!(!text.contains(&s), "session leaked: {text}");
    }
}

fn assert_clean(e: &BrokerError, state: &SimState) {
    if let Some(s) = state.session() {
        common::assert_no_secret(e, &[&s]);
    }
}

/// Reads events until `done` says so (given everything read so far), failing after
/// `limit`; every event is checked for the session.
async fn read_until(
    stream: &mut dyn QuoteStream,
    state: &SimState,
    limit: Duration,
    done: impl FnMut(&[StreamEvent]) -> bool,
) -> Vec<StreamEvent> {
    let check = |e: &StreamEvent| assert_clean_event(e, state);
    common::stream::read_until(stream, limit, check, done).await
}

/// Reads until the stream ends with an error or a close; returns it (`None` for a close).
async fn read_to_end(
    stream: &mut dyn QuoteStream,
    state: &SimState,
    limit: Duration,
) -> Option<BrokerError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut batch = Vec::new();
        let r = tokio::time::timeout_at(deadline, stream.read(&mut batch))
            .await
            .expect("the stream did not end");
        for e in &batch {
            assert_clean_event(e, state);
        }
        match r {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                assert_clean(&e, state);
                return Some(e);
            }
        }
    }
}

fn count(events: &[StreamEvent], instrument: &str) -> usize {
    ticks(events, instrument).count()
}

#[tokio::test]
async fn the_stream_url_is_derived_from_the_rest_url_unless_overridden() {
    let (server, _state) = sim_with(fast()).await;
    assert_eq!(
        ibkr(&server).stream_url(),
        format!("{}/v1/api/ws", server.ws_url())
    );
    let mut cfg = config(&server, Some(ACCOUNT));
    cfg.stream_url = "wss://gateway.example:5000/v1/api/ws".into();
    assert_eq!(
        Ibkr::new(cfg).unwrap().stream_url(),
        "wss://gateway.example:5000/v1/api/ws"
    );
    // The catalog's default stream URL counts as "not overridden".
    let cfg = brokerdesk_core::brokers::ConnectorConfig::new(
        brokerdesk_core::accounts::model::BrokerKind::Ibkr,
        brokerdesk_core::accounts::model::Environment::Live,
        None,
        Some("https://127.0.0.1:5001/v1/api/"),
        None,
    )
    .unwrap();
    assert_eq!(
        Ibkr::new(cfg).unwrap().stream_url(),
        "wss://127.0.0.1:5001/v1/api/ws"
    );
}

#[tokio::test]
async fn ticks_flow_for_subscribed_symbols_and_follow_subscribe_and_unsubscribe() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr.open_quote_stream(&names(&["AAPL"])).await.unwrap();
    assert_eq!(stream.silence_limit(), Duration::from_millis(300));

    // The first tick carries every field; later ones only what changed.
    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 6
    })
    .await;
    let all: Vec<&Tick> = ticks(&events, "AAPL").collect();
    let first = all[0];
    assert_eq!(
        (first.last, first.bid, first.ask),
        (Some(dec!(190.0)), Some(dec!(189.99)), Some(dec!(190.01)))
    );
    assert!(first.bid_size.is_some() && first.ask_size.is_some() && first.last_size.is_some());
    for t in &all {
        let age = t.received_at - t.exchange_time.unwrap();
        assert!(age.num_seconds().abs() < 5, "{t:?}");
        assert!(
            t.bid.is_some() && t.ask.is_some(),
            "bid/ask change every update: {t:?}"
        );
    }
    assert!(
        all[1..].iter().any(|t| t.last.is_none()),
        "no partial update"
    );
    assert_eq!(count(&events, "MSFT"), 0);

    // More on the open stream, one of them under its conid (AMD).
    stream.subscribe(&names(&["MSFT", "4391"])).await.unwrap();
    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "MSFT") >= 2 && count(e, "4391") >= 2
    })
    .await;
    assert!(ticks(&events, "MSFT").any(|t| t.bid.is_some_and(|b| b > dec!(400.0))));

    // Unsubscribed: after what was in flight (a few rounds), no more AAPL; the others go
    // on.
    stream
        .unsubscribe(&names(&["AAPL", "NEVER"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "MSFT") >= 15
    })
    .await;
    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "MSFT") >= 5
    })
    .await;
    assert_eq!(count(&events, "AAPL"), 0, "{:?}", tail(&events));
    assert!(count(&events, "4391") >= 3);
    stream.close().await;
}

#[tokio::test]
async fn tic_keeps_the_gateway_session_alive_and_binary_frames_are_read() {
    let (server, state) = sim_with(Settings {
        idle_timeout: Duration::from_millis(400),
        binary_frames: true,
        tic_reply: true,
        ..fast()
    })
    .await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr.open_stream(&names(&["SPY"])).await.unwrap();
    // Nobody calls /tickle for twice the idle timeout: only the stream's `tic`.
    let events = read_until(&mut stream, &state, Duration::from_secs(3), |e| {
        count(e, "SPY") >= 40
    })
    .await;
    assert!(state.logged_in(), "tic did not keep the session alive");
    assert!(ticks(&events, "SPY").all(|t| t.bid.is_some()));
    assert_eq!(stream.instrument_count(), 1);
}

#[tokio::test]
async fn without_the_cookie_the_session_is_sent_as_a_message() {
    let (server, state) = sim_with(Settings {
        cookie_auth: false,
        ..fast()
    })
    .await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr.open_stream(&names(&["AAPL"])).await.unwrap();
    read_until(&mut stream, &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 2
    })
    .await;
    let debug = format!("{stream:?} {ibkr:?}");
    assert!(!debug.contains(&state.session().unwrap()), "{debug}");
}

#[tokio::test]
async fn a_new_stream_after_a_cut_resumes_the_same_subscriptions() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let wanted = names(&["AAPL", "MSFT"]);
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1 && count(e, "MSFT") >= 1
    })
    .await;

    server.faults().cut_streams();
    let end = read_to_end(stream.as_mut(), &state, Duration::from_secs(3)).await;
    if let Some(e) = &end {
        assert!(e.retryable(), "a cut must be retryable: {e:?}");
    }

    // The owner reconnects with the same instruments (conids cached: no search needed).
    let before = server.faults().requests();
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    assert_eq!(
        server.faults().requests() - before,
        3,
        "tickle, /iserver/accounts and the upgrade only"
    );
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 2 && count(e, "MSFT") >= 2
    })
    .await;

    // A gateway that is down for a moment: the stream ends, reopening fails retryably,
    // then works again.
    server.faults().go_down_for(Duration::from_millis(300));
    let end = read_to_end(stream.as_mut(), &state, Duration::from_secs(3)).await;
    assert!(end.as_ref().is_none_or(BrokerError::retryable), "{end:?}");
    match ibkr.open_quote_stream(&wanted).await {
        Err(e) => assert!(e.retryable(), "{e:?}"),
        Ok(_) => panic!("opened while the gateway was down"),
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1 && count(e, "MSFT") >= 1
    })
    .await;
}

#[tokio::test]
async fn a_refused_or_ended_login_is_auth() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let wanted = names(&["AAPL"]);

    server.faults().set(Some(Fault::RefuseAuth));
    let e = ibkr.open_quote_stream(&wanted).await.err().unwrap();
    assert!(matches!(e, BrokerError::Auth(_)) && !e.retryable(), "{e:?}");
    assert_clean(&e, &state);
    server.faults().set(None);

    // The user logs out at the gateway while streaming: `sts` false → Auth.
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1
    })
    .await;
    let session = state.session().unwrap();
    state.logout();
    let e = read_to_end(stream.as_mut(), &state, Duration::from_secs(3))
        .await
        .expect("an error, not a plain close");
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    common::assert_no_secret(&e, &[&session]);
    let e = ibkr.open_quote_stream(&wanted).await.err().unwrap();
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");

    // Sessions expired by the fault switch: the same.
    state.login();
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    server.faults().expire_sessions();
    let e = read_to_end(stream.as_mut(), &state, Duration::from_secs(3))
        .await
        .expect("an error, not a plain close");
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
}

#[tokio::test]
async fn a_closed_brokerage_session_is_retryable_and_reopening_reopens_it() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let wanted = names(&["AAPL"]);
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1
    })
    .await;
    state.close_bridge();
    let e = read_to_end(stream.as_mut(), &state, Duration::from_secs(3))
        .await
        .expect("an error, not a plain close");
    assert!(
        matches!(e, BrokerError::Unavailable { .. }) && e.retryable(),
        "{e:?}"
    );
    let mut stream = ibkr.open_quote_stream(&wanted).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1
    })
    .await;
}

#[tokio::test]
async fn garbage_oversized_and_error_frames_do_not_end_the_stream() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr.open_quote_stream(&names(&["AAPL"])).await.unwrap();
    read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        count(e, "AAPL") >= 1
    })
    .await;
    let session = state.session().unwrap();

    assert_eq!(state.open_streams(), 1);
    state.push_stream_frame("<html>\u{0}not json");
    state.push_stream_frame("[1,2,3]");
    state.push_stream_frame(format!(
        r#"{{"topic":"smd+265598","84":"1234.5","55":"{}"}}"#,
        "x".repeat(MAX_MESSAGE + 10)
    ));
    state.push_stream_frame(r#"{"topic":"smd+265598","error":"Market data is not available"}"#);
    state.push_stream_frame(format!(
        r#"{{"error":"session {session} is not valid here"}}"#
    ));
    state.push_stream_frame(
        r#"{"topic":"ntf","args":[{"text":"Market data farm connection is OK"}]}"#,
    );
    state.push_stream_frame(r#"{"topic":"blt","args":{"message":"Exchange notice"}}"#);
    state.push_stream_frame(r#"{"topic":"error","args":{"message":"farm broken"}}"#);
    server.faults().set(Some(Fault::Garbage));

    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        notices(e).len() >= 5 && count(e, "AAPL") >= 5
    })
    .await;
    server.faults().set(None);
    let n = notices(&events);
    assert_eq!(
        n,
        [
            (
                Some("AAPL"),
                NoticeCode::SubscriptionRefused,
                None,
                "Market data is not available"
            ),
            (
                None,
                NoticeCode::Broker,
                None,
                "session •••• is not valid here"
            ),
            (
                None,
                NoticeCode::Notification,
                Some("ntf"),
                "Market data farm connection is OK"
            ),
            (
                None,
                NoticeCode::Notification,
                Some("blt"),
                "Exchange notice"
            ),
            (None, NoticeCode::Broker, None, "farm broken"),
        ]
    );
    // The oversized frame (bid 1234.5) was skipped, not read.
    assert!(ticks(&events, "AAPL").all(|t| t.bid.is_none_or(|b| b < dec!(1000.0))));
}

#[tokio::test]
async fn unknown_symbols_are_notices_and_the_others_stream() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr
        .open_quote_stream(&names(&["NOPE", "AAPL", "1"]))
        .await
        .unwrap();
    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        notices(e).len() >= 2 && count(e, "AAPL") >= 3
    })
    .await;
    let n = notices(&events);
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(
        (n[0].0, n[0].1),
        (Some("NOPE"), NoticeCode::UnknownInstrument)
    );
    assert!(n[0].3.contains("NOPE"), "{n:?}");
    // "1" is taken as a conid; the gateway refuses it on the stream.
    assert_eq!(
        (n[1].0, n[1].1),
        (Some("1"), NoticeCode::SubscriptionRefused)
    );

    stream.subscribe(&names(&["ALSO_NOPE"])).await.unwrap();
    let events = read_until(stream.as_mut(), &state, Duration::from_secs(3), |e| {
        !notices(e).is_empty()
    })
    .await;
    assert_eq!(notices(&events)[0].0, Some("ALSO_NOPE"));
}

#[tokio::test]
async fn a_burst_of_pre_encoded_updates_is_read_in_full() {
    let (server, _state) = sim_with(Settings {
        burst: true,
        batch: 64,
        ..fast()
    })
    .await;
    let ibkr = ibkr(&server);
    let mut stream = ibkr
        .open_quote_stream(&names(&["AAPL", "MSFT"]))
        .await
        .unwrap();
    let mut got = 0usize;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(8);
    while got < 20_000 {
        out.clear();
        assert!(
            tokio::time::timeout(Duration::from_secs(2), stream.read(&mut out))
                .await
                .unwrap()
                .unwrap()
        );
        for e in &out {
            if let StreamEvent::Tick(t) = e {
                assert!(t.bid.is_some() && t.ask.is_some() && t.exchange_time.is_some());
                seen.insert(t.instrument.clone());
                got += 1;
            }
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

/// The concrete type is usable without the trait object too.
#[allow(dead_code)]
fn concrete_type_is_a_quote_stream(s: IbkrQuoteStream) -> Box<dyn QuoteStream> {
    Box::new(s)
}
