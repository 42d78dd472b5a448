//! OANDA's pricing stream as a `QuoteStream`: normalized ticks, subscriptions changed by
//! re-opening, unknown instruments as notices, the simulator's burst mode. Search runs for
//! every broker in `conformance/search.rs`.

use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::brokers::Broker;
use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent};
use brokerdesk_sim::oanda::{router, SimState, DEMO_ACCOUNTS, DEMO_TOKEN};
use brokerdesk_sim::{Faults, SimServer};

use super::{config_at, connector, sim};
use crate::common::stream::{notices, read_ticks as read_n_ticks};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Reads until `want` ticks arrived (5 s at most); returns every event read.
async fn read_ticks(stream: &mut Box<dyn QuoteStream>, want: usize) -> Vec<StreamEvent> {
    let no_token = |e: &StreamEvent| assert!(!format!("{e:?}").contains(DEMO_TOKEN), "{e:?}");
    read_n_ticks(
        stream.as_mut(),
        Duration::from_secs(5),
        no_token,
        want,
        |_| true,
    )
    .await
}

fn instruments(events: &[StreamEvent]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Tick(t) => Some(t.instrument.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn ticks_are_normalized_and_subscriptions_change_on_the_open_stream() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let mut stream = oanda.open_quote_stream(&s(&["EUR_USD"])).await.unwrap();
    let first = read_ticks(&mut stream, 1).await;
    let StreamEvent::Tick(t) = first
        .iter()
        .find(|e| matches!(e, StreamEvent::Tick(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(t.instrument, "EUR_USD");
    assert!(t.bid.unwrap() < t.ask.unwrap());
    assert!(t.exchange_time.is_some() && t.bid_size.is_some());
    assert_eq!(stream.silence_limit(), Duration::from_secs(10));

    stream.subscribe(&s(&["GBP_USD"])).await.unwrap();
    let more = read_ticks(&mut stream, 2).await;
    assert_eq!(instruments(&more), ["EUR_USD", "GBP_USD"]);
    stream.unsubscribe(&s(&["EUR_USD"])).await.unwrap();
    let only = read_ticks(&mut stream, 2).await;
    assert_eq!(instruments(&only), ["GBP_USD"]);
    stream.close().await;
}

#[tokio::test]
async fn an_unknown_instrument_is_a_notice_and_the_others_stream() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let mut stream = oanda
        .open_quote_stream(&s(&["EUR_USD", "NOT_REAL"]))
        .await
        .unwrap();
    let events = read_ticks(&mut stream, 2).await;
    let (instrument, code, _, message) = notices(&events)[0];
    assert_eq!(instrument, Some("NOT_REAL"));
    assert_eq!(code, NoticeCode::UnknownInstrument);
    assert!(message.contains("NOT_REAL") && !message.contains(DEMO_TOKEN));
    assert_eq!(instruments(&events), ["EUR_USD"]);
    // Only unknown instruments: the stream idles and says why.
    let mut idle = oanda.open_quote_stream(&s(&["NOT_REAL"])).await.unwrap();
    let mut buf = Vec::new();
    assert!(idle.read(&mut buf).await.unwrap());
    assert!(
        matches!(&buf[..], [StreamEvent::Notice { instrument: Some(i), .. }] if i == "NOT_REAL"),
        "{buf:?}"
    );
}

#[tokio::test]
async fn the_simulator_streams_tens_of_thousands_of_prices_a_second_in_burst_mode() {
    let faults = Faults::new();
    let state = Arc::new(SimState::demo(faults.clone()).with_stream_rate(0));
    let server = SimServer::start(router(state), faults, 0).await.unwrap();
    let oanda = brokerdesk_core::brokers::oanda::Oanda::new(config_at(
        &server.url(),
        Some(DEMO_ACCOUNTS[0]),
        DEMO_TOKEN,
    ))
    .unwrap();
    let mut stream = oanda
        .open_quote_stream(&s(&["EUR_USD", "GBP_USD"]))
        .await
        .unwrap();
    let ticks = read_ticks(&mut stream, 20_000).await;
    assert!(ticks.len() >= 20_000);
}
