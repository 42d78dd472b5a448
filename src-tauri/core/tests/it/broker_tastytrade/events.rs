//! The account streamer (`open_order_events`) against the simulator over real sockets:
//! order updates naming the order (id and `external-identifier`) with its whole state, for a
//! market order that fills and a limit order that rests and is cancelled; heartbeats signed
//! with the current access token keeping a quiet stream alive while a half-open one goes
//! silent past the silence limit; refused tokens as `Auth`; garbage skipped; where
//! the account streamer is looked for. No token or credential in any error.
//! (A cut is in `conformance/events.rs`.)

use rust_decimal_macros::dec;
use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tastytrade::{AccountStreamOptions, Tastytrade};
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderEventStream, OrderSide};
use brokerdesk_sim::{Fault, SimServer};

use super::{err, order, sim};
use crate::common::events::{fill_and_cancel, quiet_then_silent, update_where};

/// Heartbeats every 100 ms: the silence limit is 200 ms.
const BEAT: Duration = Duration::from_millis(100);
/// How soon an update must arrive.
const PROMPT: Duration = Duration::from_secs(1);

fn connector(server: &SimServer) -> Tastytrade {
    super::connector(server).with_account_stream_options(AccountStreamOptions {
        heartbeat_every: BEAT,
        connect_timeout: Duration::from_secs(3),
    })
}

async fn open(tt: &Tastytrade) -> Box<dyn OrderEventStream> {
    tt.open_order_events()
        .await
        .expect("the account streamer opens")
}

#[tokio::test]
async fn fills_and_cancels_arrive_promptly_with_the_whole_order() {
    let (server, state) = sim().await;
    state.set_price("AAPL", 200.0);
    let tt = connector(&server);
    let mut events = open(&tt).await;
    assert_eq!(events.silence_limit(), BEAT * 2);

    fill_and_cancel(&tt, &mut *events, "tt-ev", PROMPT).await;
    events.close().await;
}

#[tokio::test]
async fn a_refused_token_is_an_auth_error() {
    let (server, _state) = sim().await;
    let tt = connector(&server);
    // The connector holds an access token the streamer no longer takes.
    tt.verify().await.unwrap();
    server.faults().expire_sessions();
    let e = err(tt.account_streamer().await);
    assert!(
        matches!(&e, BrokerError::Auth(m) if m.contains("refused")),
        "{e:?}"
    );
    assert!(!e.retryable());

    // Refused at the upgrade's request (the REST token is cached and still good).
    let tt = connector(&server);
    tt.verify().await.unwrap();
    server.faults().set(Some(Fault::RefuseAuth));
    let e = err(tt.account_streamer().await);
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    server.faults().set(None);
    open(&tt).await.close().await;
}

#[tokio::test]
async fn a_quiet_stream_lives_on_heartbeats_with_fresh_tokens_and_a_silent_one_is_seen() {
    let (server, state) = sim().await;
    // Every access token lasts a second (and is refreshed at each use, being within the
    // refresh margin): heartbeats must carry the current one or the streamer refuses them.
    state.set_token_ttl(Duration::from_secs(1));
    let tt = connector(&server);
    let mut events = open(&tt).await;
    let before = state.tokens_issued();
    // 1.6 s of heartbeat acks, then half-open: nothing arrives, and the owner's watchdog
    // sees it.
    let reads = quiet_then_silent(&mut *events, server.faults(), 8).await;
    assert!(reads >= 10, "{reads} heartbeat acks");
    assert!(
        state.tokens_issued() > before,
        "heartbeats used fresh tokens"
    );
}

#[tokio::test]
async fn garbage_and_other_notifications_are_skipped() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    let mut events = open(&tt).await;
    assert_eq!(state.inject_account_stream("<html>\u{0}not json"), 1);
    state.inject_account_stream(
        r#"{"type":"AccountBalance","data":{"account-number":"5WT00042","cash-balance":"1.0"},"timestamp":1}"#,
    );
    state.inject_account_stream(r#"{"type":"Order","data":{"no-id":true},"timestamp":1}"#);
    tt.place_order(&order("tt-ev-g", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    let u = update_where(&mut *events, PROMPT, "the order past the garbage", |u| {
        u.client_order_id.as_deref() == Some("tt-ev-g")
    })
    .await;
    assert!(u.state.is_some());
}

#[test]
fn the_account_streamer_is_the_catalog_host_or_a_path_on_the_override() {
    let cfg = |stream: Option<&str>| {
        let cfg = ConnectorConfig::new(
            BrokerKind::Tastytrade,
            Environment::Practice,
            None,
            None,
            stream,
        )
        .unwrap()
        .with_credentials(
            Some(brokerdesk_core::Secret::new("r")),
            Some(brokerdesk_core::Secret::new("s")),
        );
        Tastytrade::new(cfg).unwrap()
    };
    assert_eq!(
        cfg(None).account_streamer_url(),
        "wss://streamer.cert.tastyworks.com"
    );
    assert_eq!(
        cfg(Some("ws://127.0.0.1:4000")).account_streamer_url(),
        "ws://127.0.0.1:4000/account-streamer"
    );
    assert_eq!(
        cfg(Some("wss://proxy.example/dxlink")).account_streamer_url(),
        "wss://proxy.example/account-streamer"
    );
}
