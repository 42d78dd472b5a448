//! The connector's data stream (`AlpacaStream`) against the simulator over real sockets, in
//! both encodings: ticks with bid/ask/time, subscribing and unsubscribing on the open stream,
//! reconnecting after a cut with the same subscriptions, refused auth, a half-open link
//! caught by the silence limit, garbage and oversized frames skipped, Alpaca's error codes,
//! and no credential in any error or notice. Instrument search runs for every broker in
//! `conformance/search.rs`.

use rust_decimal_macros::dec;
use std::time::{Duration, Instant};

use brokerdesk_core::brokers::alpaca::{Alpaca, AlpacaStreamOptions, Encoding};
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent, Tick, MAX_MESSAGE};
use brokerdesk_sim::alpaca::{StreamInjection, StreamSettings};
use brokerdesk_sim::{Fault, SimServer};

use brokerdesk_core::accounts::model::Environment;

use super::{assert_clean, config, config_at, sim_with, KEY, SECRET};
use crate::common::stream::{notice_of, notices as notices_of, read_ticks, read_until_event};
use crate::common::{names, read_to_the_end};

fn fast() -> StreamSettings {
    StreamSettings {
        batch: 4,
        interval: Duration::from_millis(10),
        ..StreamSettings::default()
    }
}

fn options(encoding: Encoding) -> AlpacaStreamOptions {
    AlpacaStreamOptions {
        encoding,
        connect_timeout: Duration::from_secs(3),
        ping_every: Duration::from_millis(150),
        ..AlpacaStreamOptions::default()
    }
}

fn alpaca(server: &SimServer, encoding: Encoding) -> Alpaca {
    Alpaca::new(config(server, KEY, SECRET))
        .unwrap()
        .with_stream_options(options(encoding))
}

/// Fails unless `e` is a final rejection with this status and Alpaca code, free of secrets.
fn assert_rejected(e: &BrokerError, status: u16, code: &str) {
    assert!(
        matches!(e, BrokerError::Rejected { status: s, code: c, .. } if *s == status && c == code),
        "{e:?}"
    );
    assert!(!e.retryable(), "{e:?}");
    assert_clean(e);
}

/// The error of an AAPL stream that must not open (`why` says why, in the failure).
async fn refused_open(connector: &Alpaca, why: &str) -> BrokerError {
    let opened = connector.open_stream(&names(&["AAPL"])).await;
    opened.map(|_| ()).expect_err(why)
}

/// How long the stream may take to deliver what a test waits for.
const LIMIT: Duration = Duration::from_secs(4);

/// Fails if an event carries a credential.
fn assert_clean_event(e: &StreamEvent) {
    let text = format!("{e:?}");
    assert!(
        !text.contains(KEY) && !text.contains(SECRET),
        "leak: {text}"
    );
}

/// Reads until `n` ticks satisfying `want` arrived (4 s at most), every event free of
/// credentials; returns those ticks and the other events read.
async fn ticks_until(
    stream: &mut dyn QuoteStream,
    n: usize,
    want: impl Fn(&Tick) -> bool,
) -> (Vec<Tick>, Vec<StreamEvent>) {
    let all = read_ticks(stream, LIMIT, assert_clean_event, n, &want).await;
    let (mut ticks, mut others) = (Vec::new(), Vec::new());
    for e in all {
        match e {
            StreamEvent::Tick(t) if want(&t) => ticks.push(t),
            StreamEvent::Tick(_) => {}
            other => others.push(other),
        }
    }
    (ticks, others)
}

/// Reads until `n` notices arrived (4 s at most); returns them.
async fn notices(stream: &mut dyn QuoteStream, n: usize) -> Vec<StreamEvent> {
    let mut seen = 0;
    let all = read_until_event(stream, LIMIT, assert_clean_event, |e| {
        seen += usize::from(notice_of(e).is_some());
        seen >= n
    })
    .await;
    all.into_iter().filter(|e| notice_of(e).is_some()).collect()
}

async fn subscribe_tick_unsubscribe(encoding: Encoding) {
    let (server, _state) = sim_with(fast()).await;
    let connector = alpaca(&server, encoding);
    let mut stream = connector
        .open_quote_stream(&names(&["AAPL"]))
        .await
        .unwrap();
    let (ticks, _) = ticks_until(stream.as_mut(), 6, |_| true).await;
    assert!(ticks.iter().all(|t| t.instrument == "AAPL"));
    let quote = ticks.iter().find(|t| t.bid.is_some()).expect("a quote");
    assert!(quote.ask.unwrap() > quote.bid.unwrap());
    assert!(quote.bid_size.is_some() && quote.exchange_time.is_some());
    let age = quote.received_at - quote.exchange_time.unwrap();
    assert!(age.num_seconds().abs() < 5, "exchange time {age} off");
    let trade = ticks.iter().find(|t| t.last.is_some()).expect("a trade");
    assert!(trade.last_size.unwrap() >= dec!(1.0) && trade.exchange_time.is_some());

    // More on the open stream, in the user's spelling.
    stream.subscribe(&names(&["msft", "AAPL"])).await.unwrap();
    let (ticks, others) = ticks_until(stream.as_mut(), 3, |t| t.instrument == "msft").await;
    assert!(ticks.iter().all(|t| t.bid.is_some() || t.last.is_some()));
    assert!(
        others.contains(&StreamEvent::Heartbeat),
        "the subscription ack"
    );

    stream.unsubscribe(&names(&["AAPL"])).await.unwrap();
    // After the ack, only msft ticks.
    let mut buf = Vec::new();
    loop {
        buf.clear();
        stream.read(&mut buf).await.unwrap();
        if buf.contains(&StreamEvent::Heartbeat) {
            break;
        }
    }
    let (ticks, _) = ticks_until(stream.as_mut(), 12, |_| true).await;
    assert!(
        ticks.iter().all(|t| t.instrument == "msft"),
        "{:?}",
        ticks.iter().map(|t| &t.instrument).collect::<Vec<_>>()
    );
    stream.close().await;
}

#[tokio::test]
async fn stream_json_subscribes_ticks_and_unsubscribes() {
    subscribe_tick_unsubscribe(Encoding::Json).await;
}

#[tokio::test]
async fn stream_msgpack_subscribes_ticks_and_unsubscribes() {
    subscribe_tick_unsubscribe(Encoding::Msgpack).await;
}

#[tokio::test]
async fn stream_reconnects_after_a_cut_with_the_same_subscriptions() {
    let (server, state) = sim_with(fast()).await;
    let connector = alpaca(&server, Encoding::Json);
    let instruments = names(&["AAPL", "amd"]);
    let mut stream = connector.open_quote_stream(&instruments).await.unwrap();
    ticks_until(stream.as_mut(), 4, |_| true).await;
    server.faults().cut_streams();
    if let Some(e) = read_to_the_end(stream.as_mut(), "the cut").await {
        assert!(e.retryable(), "{e:?}");
        assert_clean(&e);
    }
    // The owner opens a new stream with the same instruments.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(state.stream_connections("iex"), 0);
    let mut stream = connector.open_quote_stream(&instruments).await.unwrap();
    let (ticks, _) = ticks_until(stream.as_mut(), 8, |_| true).await;
    for name in ["AAPL", "amd"] {
        assert!(ticks.iter().any(|t| t.instrument == name), "no {name} tick");
    }
}

#[tokio::test]
async fn refused_credentials_are_auth_errors_without_the_secret() {
    let (server, _state) = sim_with(fast()).await;
    for encoding in [Encoding::Json, Encoding::Msgpack] {
        let wrong = Alpaca::new(config(&server, KEY, "not-the-secret"))
            .unwrap()
            .with_stream_options(options(encoding));
        let e = refused_open(&wrong, "wrong secret").await;
        assert!(
            matches!(e, BrokerError::Auth(ref m) if m.contains("402")),
            "{e:?}"
        );
        common_clean(&e, "not-the-secret");
    }
    server.faults().set(Some(Fault::RefuseAuth));
    let e = refused_open(&alpaca(&server, Encoding::Json), "refused").await;
    assert!(matches!(e, BrokerError::Auth(_)) && !e.retryable(), "{e:?}");
    assert_clean(&e);
}

fn common_clean(e: &BrokerError, extra: &str) {
    super::common::assert_no_secret(e, &[KEY, SECRET, extra]);
}

#[tokio::test]
async fn garbage_and_oversized_frames_are_skipped() {
    let (server, state) = sim_with(fast()).await;
    for encoding in [Encoding::Json, Encoding::Msgpack] {
        let connector = alpaca(&server, encoding);
        let mut stream = connector
            .open_quote_stream(&names(&["AAPL"]))
            .await
            .unwrap();
        ticks_until(stream.as_mut(), 1, |_| true).await;
        let oversized = format!("[{}]", " ".repeat(MAX_MESSAGE + 10));
        for junk in [
            StreamInjection::Text("<html>\u{0}not json".into()),
            StreamInjection::Text(r#"[{"T":"q","S":"AAPL","bp":"#.into()),
            StreamInjection::Binary(vec![0xc1, 0xff, 0x00]),
            StreamInjection::Binary(vec![0x91, 0xdf, 0xff, 0xff, 0xff, 0xff]),
            StreamInjection::Text(oversized),
        ] {
            assert_eq!(state.inject(junk), 1);
        }
        // The stream goes on.
        let (ticks, _) = ticks_until(stream.as_mut(), 20, |_| true).await;
        assert!(ticks.iter().all(|t| t.instrument == "AAPL"));
        stream.close().await;
        drop(stream);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn symbol_limit_and_server_errors_are_notices_unknown_symbols_are_quiet() {
    let settings = StreamSettings {
        symbol_limit: 2,
        ..fast()
    };
    let (server, state) = sim_with(settings).await;
    let connector = alpaca(&server, Encoding::Msgpack);
    let mut stream = connector
        .open_quote_stream(&names(&["AAPL", "ZZZZNOTREAL"]))
        .await
        .unwrap();
    ticks_until(stream.as_mut(), 2, |t| t.instrument == "AAPL").await;
    // A third symbol is over the limit: a notice, the subscription unchanged.
    stream.subscribe(&names(&["MSFT"])).await.unwrap();
    let others = notices(stream.as_mut(), 1).await;
    let (instrument, code, broker_code, message) = notice_of(&others[0]).expect("a notice");
    assert_eq!(
        (instrument, code),
        (None, NoticeCode::SymbolLimit),
        "{others:?}"
    );
    assert_eq!(broker_code, Some("405"));
    assert!(message.contains("symbol limit"), "{message}");
    assert!(message.ends_with("not subscribed: MSFT"), "{message}");

    // Errors without a fixed meaning are notices too; the stream continues.
    for code in [500, 407, 400] {
        state.inject(StreamInjection::Error(code));
    }
    let others = notices(stream.as_mut(), 3).await;
    let codes: Vec<_> = notices_of(&others)
        .into_iter()
        .filter_map(|(_, code, broker_code, _)| broker_code.filter(|_| code == NoticeCode::Broker))
        .collect();
    assert_eq!(codes, ["500", "407", "400"]);
    let (ticks, _) = ticks_until(stream.as_mut(), 4, |_| true).await;
    assert!(
        ticks.iter().all(|t| t.instrument == "AAPL"),
        "MSFT was refused"
    );

    // 406 mid-stream ends it as a rejection.
    state.inject(StreamInjection::Error(406));
    let e = read_to_the_end(stream.as_mut(), "the 406")
        .await
        .expect("closed without the error");
    assert_rejected(&e, 406, "406");
}

#[tokio::test]
async fn connection_limit_and_missing_plan_are_rejections() {
    let (server, _state) = sim_with(fast()).await;
    let connector = alpaca(&server, Encoding::Json);
    let _first = connector.open_quote_stream(&[]).await.unwrap();
    let e = refused_open(&connector, "one connection per feed").await;
    assert_rejected(&e, 406, "406");

    // The demo plan has no SIP feed: 409.
    let sip = format!("{}/v2/sip", server.ws_url());
    let mut cfg = config(&server, KEY, SECRET);
    cfg.stream_url = sip;
    let e = refused_open(&Alpaca::new(cfg).unwrap(), "no SIP").await;
    assert_rejected(&e, 409, "409");
}

#[tokio::test]
async fn a_down_server_is_retryable_and_debug_output_shows_no_credentials() {
    let (server, _state) = sim_with(fast()).await;
    let connector = alpaca(&server, Encoding::Json);
    let stream = connector.open_stream(&names(&["AAPL"])).await.unwrap();
    let shown = format!("{stream:?} {connector:?}");
    assert!(!shown.contains(KEY) && !shown.contains(SECRET), "{shown}");
    assert!(shown.contains("AAPL"), "{shown}");
    drop(stream);
    server.faults().go_down_for(Duration::from_millis(300));
    let e = refused_open(&connector, "down").await;
    assert!(e.retryable(), "{e:?}");
    assert_clean(&e);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let mut stream = connector
        .open_quote_stream(&names(&["AAPL"]))
        .await
        .unwrap();
    ticks_until(stream.as_mut(), 1, |_| true).await;
}

#[tokio::test]
async fn the_stream_url_gets_the_default_feed_when_it_names_none() {
    let (server, _state) = sim_with(fast()).await;
    let cfg = config_at(
        Environment::Practice,
        Some(&server.url()),
        Some(&server.ws_url()),
        (KEY, SECRET),
    );
    let connector = Alpaca::new(cfg)
        .unwrap()
        .with_stream_options(options(Encoding::Json));
    assert_eq!(
        connector.stream_url(),
        format!("{}/v2/iex", server.ws_url())
    );
    let mut stream = connector
        .open_quote_stream(&names(&["TSLA"]))
        .await
        .unwrap();
    ticks_until(stream.as_mut(), 1, |t| t.instrument == "TSLA").await;
    // The catalog's default already names the feed.
    let default = config_at(Environment::Live, None, None, (KEY, SECRET));
    assert_eq!(
        Alpaca::new(default).unwrap().stream_url(),
        "wss://stream.data.alpaca.markets/v2/iex"
    );
}

#[tokio::test]
async fn burst_and_paced_sims_send_pre_encoded_batches() {
    for encoding in [Encoding::Json, Encoding::Msgpack] {
        let (server, _state) = sim_with(StreamSettings::burst(100)).await;
        let mut stream = alpaca(&server, encoding)
            .open_quote_stream(&names(&["AAPL", "NVDA"]))
            .await
            .unwrap();
        let mut buf = Vec::new();
        let mut full = 0;
        while full < 5 {
            buf.clear();
            assert!(stream.read(&mut buf).await.unwrap());
            let ticks: Vec<_> = buf
                .iter()
                .filter_map(|e| match e {
                    StreamEvent::Tick(t) => Some(t),
                    _ => None,
                })
                .collect();
            if ticks.len() == 100 {
                full += 1;
                assert!(ticks.iter().all(|t| t.exchange_time.is_some()
                    && (t.bid.is_some() || t.last.is_some())
                    && ["AAPL", "NVDA"].contains(&t.instrument.as_str())));
            }
        }
        stream.close().await;
    }

    // Paced: 2000 messages/s in frames of 10.
    let (server, _state) = sim_with(StreamSettings::paced(2000, 10)).await;
    let connector = alpaca(&server, Encoding::Json);
    let mut stream = connector
        .open_quote_stream(&names(&["AAPL"]))
        .await
        .unwrap();
    ticks_until(stream.as_mut(), 10, |_| true).await;
    let started = Instant::now();
    let (mut n, mut buf) = (0, Vec::new());
    while started.elapsed() < Duration::from_secs(1) {
        buf.clear();
        let left = Duration::from_secs(1).saturating_sub(started.elapsed());
        if let Ok(r) = tokio::time::timeout(left, stream.read(&mut buf)).await {
            assert!(r.unwrap());
            n += buf
                .iter()
                .filter(|e| matches!(e, StreamEvent::Tick(_)))
                .count();
        }
    }
    assert!((1400..=2600).contains(&n), "{n} messages in a second");
}
