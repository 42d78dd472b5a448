//! Tradier's own failure cases: the transient "Datastore Error" fault, configuration
//! errors, a rate limit whose delay comes from `X-Ratelimit-Expiry`. The failure classes
//! every broker shares (401, expired tokens, 429, 5xx, garbage, timeouts, down, bare 404) are
//! in `conformance/`.

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError};

use super::{config, connector, err, sim, ACCOUNT, TOKEN};

#[tokio::test]
async fn a_datastore_error_is_transient_although_it_is_a_fault() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.state.fail_with_datastore_error(1);
    let e = err(tradier.positions().await);
    assert!(
        matches!(&e, BrokerError::Unavailable { message, .. } if message == "Datastore Error"),
        "{e:?}"
    );
    assert!(e.retryable());
    tradier.positions().await.unwrap();
}

#[tokio::test]
async fn missing_tokens_and_wrong_brokers_are_config_errors() {
    let sim = sim().await;
    let none = config(&sim, Some(ACCOUNT), TOKEN).with_credentials(None, None);
    assert!(matches!(err(Tradier::new(none)), BrokerError::Config(_)));
    let blank = config(&sim, Some(ACCOUNT), " \n");
    assert!(matches!(err(Tradier::new(blank)), BrokerError::Config(_)));
    let newline = config(&sim, Some(ACCOUNT), "abc\ndef");
    assert!(matches!(err(Tradier::new(newline)), BrokerError::Config(_)));
    let mut other = config(&sim, Some(ACCOUNT), TOKEN);
    other.broker = BrokerKind::Alpaca;
    assert!(matches!(err(Tradier::new(other)), BrokerError::Config(_)));
    // A pasted token with a trailing newline works.
    let pasted = config(&sim, Some(ACCOUNT), &format!(" {TOKEN}\r\n"));
    Tradier::new(pasted).unwrap().verify().await.unwrap();
}

#[tokio::test]
async fn an_enforced_rate_limit_takes_its_delay_from_the_expiry_header() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.state.set_rate_limit(2, true);
    tradier.positions().await.unwrap();
    tradier.positions().await.unwrap();
    match err(tradier.positions().await) {
        BrokerError::RateLimited {
            retry_after: Some(d),
        } => assert!((1..=60).contains(&d.as_secs()), "{d:?}"),
        e => panic!("expected RateLimited with a delay, got {e:?}"),
    }
    assert_eq!(tradier.rate_limit().map(|r| r.remaining), Some(0));
}

#[tokio::test]
async fn the_stream_session_debug_shows_no_session_id() {
    let sim = sim().await;
    let tradier = connector(&sim);
    let session = tradier.stream_session().await.unwrap();
    let text = format!("{session:?}");
    assert!(!text.contains(session.session_id.expose()), "{text}");
}
