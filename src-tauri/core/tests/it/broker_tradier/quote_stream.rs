//! The connector's `QuoteStream` against the simulator over real sockets: ticks with bid, ask
//! and time for the instruments as the user spelled them, subscribing and unsubscribing on the
//! open stream, reconnecting after a cut with the same instruments, refused credentials, a
//! half-open link caught by the silence limit, garbage and oversized frames skipped, bad
//! symbols as notices, session expiry, and no token or session id in any error, notice or
//! `Debug` output. `search_instruments` runs for every broker in `conformance/search.rs`.

use rust_decimal_macros::dec;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tradier::{Tradier, TradierStream};
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig};
use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent, Tick, MAX_MESSAGE};
use brokerdesk_core::Secret;
use brokerdesk_sim::tradier::{SessionError, StreamSettings};
use brokerdesk_sim::Fault;

use super::{assert_clean, connector, sim, Sim, TOKEN};
use crate::common::names;
use crate::common::stream::{read_until_event, tick_of};

const FAST: Duration = Duration::from_millis(15);

async fn stream_sim() -> (Sim, Tradier) {
    let sim = sim().await;
    sim.state.set_stream(StreamSettings {
        interval: FAST,
        ..StreamSettings::default()
    });
    let tradier = connector(&sim).with_stream_ping(Duration::from_millis(150));
    (sim, tradier)
}

/// Reads until `pred` holds for an event (3 s at most); returns every event read, that one
/// last.
async fn read_until(
    stream: &mut dyn QuoteStream,
    pred: impl FnMut(&StreamEvent) -> bool,
) -> Vec<StreamEvent> {
    read_until_event(stream, Duration::from_secs(3), |_| {}, pred).await
}

/// Waits for a quote (bid and ask) for `instrument`.
async fn quote(stream: &mut dyn QuoteStream, instrument: &str) -> Tick {
    let events = read_until(stream, |e| {
        tick_of(e, instrument).is_some_and(|t| t.bid.is_some())
    })
    .await;
    events
        .iter()
        .rev()
        .find_map(|e| tick_of(e, instrument).filter(|t| t.bid.is_some()))
        .cloned()
        .unwrap()
}

fn assert_no_secrets(sim: &Sim, text: &str) {
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    for id in sim.state.stream_session_ids() {
        assert!(!text.contains(&id), "session id leaked: {text}");
    }
}

fn check_error(sim: &Sim, e: &BrokerError) {
    assert_clean(e);
    assert_no_secrets(sim, &format!("{e} {e:?}"));
}

#[tokio::test]
async fn ticks_flow_and_the_subscription_changes_on_the_open_stream() {
    let (sim, tradier) = stream_sim().await;
    let mut stream: Box<dyn QuoteStream> =
        tradier.open_quote_stream(&names(&["SPY"])).await.unwrap();
    assert_eq!(stream.silence_limit(), Duration::from_millis(300));

    let t = quote(stream.as_mut(), "SPY").await;
    let (bid, ask) = (t.bid.unwrap(), t.ask.unwrap());
    assert!(bid > dec!(0.0) && ask > bid, "{t:?}");
    assert!(t.bid_size.is_some() && t.ask_size.is_some(), "{t:?}");
    let age = t.received_at - t.exchange_time.expect("an exchange time");
    assert!(age.num_seconds().abs() < 5, "{t:?}");
    // Trades arrive too, with the last price.
    read_until(stream.as_mut(), |e| {
        tick_of(e, "SPY").is_some_and(|t| t.last.is_some())
    })
    .await;

    // More on the open stream, in the user's spelling.
    stream.subscribe(&names(&["aapl"])).await.unwrap();
    let t = quote(stream.as_mut(), "aapl").await;
    assert!(t.ask.unwrap() > dec!(100.0), "{t:?}");

    // Unsubscribing SPY: after what was in flight, only aapl.
    stream.unsubscribe(&names(&["SPY"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    read_until(stream.as_mut(), |e| tick_of(e, "aapl").is_some()).await;
    let later = read_until(stream.as_mut(), |e| tick_of(e, "aapl").is_some()).await;
    let later2 = read_until(stream.as_mut(), |e| tick_of(e, "aapl").is_some()).await;
    for e in later.iter().chain(&later2) {
        assert!(
            tick_of(e, "SPY").is_none(),
            "SPY after unsubscribing: {e:?}"
        );
    }

    // Nothing left: no ticks, no notice about the placeholder, the link stays alive (pongs).
    stream.unsubscribe(&names(&["aapl"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut quiet = Vec::new();
    let until = Instant::now() + Duration::from_millis(400);
    while Instant::now() < until {
        let mut out = Vec::new();
        if let Ok(r) = tokio::time::timeout(stream.silence_limit(), stream.read(&mut out)).await {
            assert!(r.unwrap());
        } else {
            panic!("a live but idle stream must answer within the silence limit");
        }
        quiet.extend(out);
    }
    assert!(
        quiet.iter().all(|e| *e == StreamEvent::Heartbeat),
        "{quiet:?}"
    );
    assert!(!quiet.is_empty(), "pongs are heartbeats");
    stream.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.state.stream_sockets(), 0);
}

#[tokio::test]
async fn a_cut_stream_ends_and_a_new_one_resumes_the_same_instruments() {
    let (sim, tradier) = stream_sim().await;
    let instruments = names(&["SPY", "msft"]);
    let mut stream = tradier.open_stream(&instruments).await.unwrap();
    quote(&mut stream, "msft").await;
    sim.server.faults().cut_streams();
    let ended = loop {
        let mut out = Vec::new();
        match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut out)).await {
            Ok(Ok(true)) => continue,
            Ok(Ok(false)) => break None,
            Ok(Err(e)) => break Some(e),
            Err(_) => panic!("the cut was not noticed"),
        }
    };
    if let Some(e) = ended {
        check_error(&sim, &e);
        assert!(e.retryable(), "{e:?}");
    }
    // The owner reopens with the same instruments: a new session, the same ticks.
    let mut again = tradier.open_stream(&instruments).await.unwrap();
    let syms: Vec<&str> = again
        .subscriptions()
        .symbols()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(syms, ["SPY", "MSFT"]);
    quote(&mut again, "msft").await;
    quote(&mut again, "SPY").await;
    assert!(sim.state.stream_session_ids().len() >= 2);
}

#[tokio::test]
async fn garbage_and_oversized_frames_are_skipped() {
    let (sim, tradier) = stream_sim().await;
    let mut stream = tradier.open_stream(&names(&["SPY"])).await.unwrap();
    quote(&mut stream, "SPY").await;
    sim.server.faults().set(Some(Fault::Garbage));
    sim.state
        .inject_stream_frame("<html>\u{0}\u{1}not json at all");
    sim.state
        .inject_stream_frame(r#"{"type":"quote","symbol":"SPY","bid": not-json"#);
    sim.state.inject_stream_frame("[]");
    let mut huge = String::from(r#"{"type":"quote","symbol":"SPY","bid":1,"pad":""#);
    huge.push_str(&"x".repeat(MAX_MESSAGE));
    huge.push_str("\"}");
    sim.state.inject_stream_frame(huge);
    // Frames keep coming, garbage among them, and quotes still parse.
    let mut empty_frames = 0;
    let mut ticks = 0;
    let start = Instant::now();
    while ticks < 10 {
        let mut out = Vec::new();
        assert!(stream.read(&mut out).await.unwrap());
        if out.is_empty() {
            empty_frames += 1;
        }
        for e in &out {
            if let Some(t) = tick_of(e, "SPY") {
                assert_ne!(t.bid, Some(dec!(1.0)), "the oversized frame was parsed");
                ticks += 1;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(3));
    }
    assert!(
        empty_frames >= 3,
        "garbage frames read as empty: {empty_frames}"
    );
    sim.server.faults().set(None);
}

#[tokio::test]
async fn a_bad_symbol_is_a_notice_and_the_rest_streams() {
    let (sim, tradier) = stream_sim().await;
    let mut stream = tradier
        .open_stream(&names(&["SPY", "nope1"]))
        .await
        .unwrap();
    let events = read_until(&mut stream, |e| matches!(e, StreamEvent::Notice { .. })).await;
    let notice = events
        .iter()
        .find(|e| matches!(e, StreamEvent::Notice { .. }))
        .unwrap();
    assert_eq!(
        notice,
        &StreamEvent::notice(
            Some("nope1".into()),
            NoticeCode::InvalidSymbol,
            "NOPE1 is not a valid symbol".into()
        )
    );
    quote(&mut stream, "SPY").await;
    // Added on the open stream.
    stream.subscribe(&names(&["BAD2"])).await.unwrap();
    read_until(
        &mut stream,
        |e| matches!(e, StreamEvent::Notice { instrument: Some(i), .. } if i == "BAD2"),
    )
    .await;
    quote(&mut stream, "SPY").await;
    // An error text echoing the session id never reaches a notice.
    let id = sim.state.stream_session_ids().pop().unwrap();
    sim.state
        .inject_stream_frame(format!(r#"{{"error":"too many requests for {id}"}}"#));
    // Every event read is checked, the notice last.
    let check = |e: &StreamEvent| assert_no_secrets(&sim, &format!("{e:?}"));
    read_until_event(&mut stream, Duration::from_secs(3), check, |e| {
        matches!(
            e,
            StreamEvent::Notice {
                code: NoticeCode::Broker,
                ..
            }
        )
    })
    .await;
    assert_no_secrets(&sim, &format!("{stream:?} {tradier:?}"));
}

async fn expect_end(sim: &Sim, stream: &mut TradierStream) -> BrokerError {
    let start = Instant::now();
    loop {
        let mut out = Vec::new();
        match stream.read(&mut out).await {
            Ok(true) => assert!(start.elapsed() < Duration::from_secs(3), "still streaming"),
            Ok(false) => panic!("closed without the session error"),
            Err(e) => {
                check_error(sim, &e);
                return e;
            }
        }
    }
}

#[tokio::test]
async fn an_ended_session_ends_the_stream_and_a_new_stream_takes_a_new_one() {
    let (sim, tradier) = stream_sim().await;
    for (text, close) in [
        (SessionError::NotFound, true),
        (SessionError::Invalid, false),
    ] {
        sim.state.set_stream(StreamSettings {
            interval: FAST,
            session_error: text,
            close_on_session_error: close,
            ..StreamSettings::default()
        });
        let mut stream = tradier.open_stream(&names(&["SPY"])).await.unwrap();
        quote(&mut stream, "SPY").await;
        let ids = sim.state.stream_session_ids();
        sim.state.end_stream_sessions();
        let e = expect_end(&sim, &mut stream).await;
        assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
        assert!(e.retryable());
        for id in ids {
            assert!(!format!("{e:?}").contains(&id));
        }
        let mut again = tradier.open_stream(&names(&["SPY"])).await.unwrap();
        quote(&mut again, "SPY").await;
    }
    // The fault switch expires sessions (and the token, renewed here) the same way.
    let mut stream = tradier.open_stream(&names(&["SPY"])).await.unwrap();
    quote(&mut stream, "SPY").await;
    sim.server.faults().expire_sessions();
    sim.state.renew_token();
    let e = expect_end(&sim, &mut stream).await;
    assert!(e.retryable(), "{e:?}");
}

#[tokio::test]
async fn a_session_refused_at_once_is_the_sandbox_without_streaming() {
    let (sim, _) = stream_sim().await;
    // Sessions die before the socket uses them.
    sim.state.set_stream(StreamSettings {
        interval: FAST,
        session_ttl: Duration::ZERO,
        ..StreamSettings::default()
    });
    let sandbox = connector(&sim);
    let mut stream = sandbox.open_stream(&names(&["SPY"])).await.unwrap();
    let e = expect_end(&sim, &mut stream).await;
    assert!(
        matches!(&e, BrokerError::Rejected { code, .. } if code == "stream_unavailable"),
        "{e:?}"
    );
    assert!(!e.retryable());

    // Production: the same refusal is a session to renew.
    let rest = format!("{}/v1", sim.server.url());
    let ws = format!("{}/v1/markets/events", sim.server.ws_url());
    let cfg = ConnectorConfig::new(
        BrokerKind::Tradier,
        Environment::Live,
        Some(super::ACCOUNT.into()),
        Some(&rest),
        Some(&ws),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(TOKEN)), None);
    let live = Tradier::new(cfg).unwrap();
    let mut stream = live.open_stream(&names(&["SPY"])).await.unwrap();
    let e = expect_end(&sim, &mut stream).await;
    assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
}

#[tokio::test]
async fn burst_mode_delivers_batched_frames_fast() {
    let (sim, tradier) = stream_sim().await;
    sim.state.set_stream(StreamSettings {
        batch: 50,
        burst: true,
        ..StreamSettings::default()
    });
    let mut stream = tradier.open_stream(&names(&["SPY", "AAPL"])).await.unwrap();
    let start = Instant::now();
    let (mut ticks, mut frames, mut out) = (0usize, 0usize, Vec::with_capacity(64));
    let mut seen = HashSet::new();
    while ticks < 20_000 {
        out.clear();
        assert!(stream.read(&mut out).await.unwrap());
        frames += 1;
        for e in &out {
            if let StreamEvent::Tick(t) = e {
                seen.insert(t.instrument.clone());
                ticks += 1;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{ticks} ticks in 4 s"
        );
    }
    assert!(
        frames * 10 < ticks,
        "{frames} frames for {ticks} ticks: batched"
    );
    assert_eq!(seen, HashSet::from(["SPY".to_string(), "AAPL".to_string()]));
    stream.close().await;
}
