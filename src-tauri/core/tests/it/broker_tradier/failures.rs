//! Failure classes the connection manager relies on: bad, refused or expired tokens (never
//! retried), Tradier's transient "Datastore Error", configuration errors, 429 with its
//! delay, 5xx, garbage, timeouts, and a server that is down or gone.

use std::time::Duration;

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_sim::Fault;

use super::{config, connector, err, sim, ACCOUNT, TOKEN};

#[tokio::test]
async fn bad_refused_or_expired_tokens_are_auth_errors_never_retried() {
    let sim = sim().await;
    let wrong = Tradier::new(config(&sim, Some(ACCOUNT), "not-the-token")).unwrap();
    let e = err(wrong.verify().await);
    assert_eq!(e, BrokerError::Auth("Invalid Access Token".into()));
    assert!(!e.retryable());
    assert!(matches!(err(wrong.positions().await), BrokerError::Auth(_)));

    let good = connector(&sim);
    sim.server.faults().set(Some(Fault::RefuseAuth));
    let e = err(good.open_orders().await);
    assert_eq!(e, BrokerError::Auth("Invalid Access Token".into()));
    sim.server.faults().set(None);
    good.verify().await.unwrap();

    // Tokens last a day: an expired one says so, and is not retried either.
    sim.server.faults().expire_sessions();
    let e = err(good.verify().await);
    assert_eq!(e, BrokerError::Auth("Access Token expired".into()));
    assert!(!e.retryable());
    sim.state.renew_token();
    good.verify().await.unwrap();
}

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
async fn rate_limits_server_errors_and_garbage_are_classified() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 7,
    }));
    let e = err(tradier.open_orders().await);
    assert_eq!(
        e,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(e.retryable());

    sim.server.faults().set(Some(Fault::ServerError(502)));
    let e = err(tradier.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 502, .. }),
        "{e:?}"
    );
    assert!(e.retryable());

    sim.server.faults().set(Some(Fault::Garbage));
    let e = err(tradier.positions().await);
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
    assert!(!e.retryable());
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
async fn a_slow_server_times_out_and_a_down_one_is_unavailable() {
    let sim = sim().await;
    let mut cfg = config(&sim, Some(ACCOUNT), TOKEN);
    cfg.timeout = Duration::from_millis(200);
    let tradier = Tradier::new(cfg).unwrap();
    sim.server.faults().set_delay(Duration::from_secs(2));
    let e = err(tradier.verify().await);
    assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)));
    assert!(e.retryable());
    sim.server.faults().set_delay(Duration::ZERO);

    sim.server.faults().go_down_for(Duration::from_secs(30));
    let e = err(tradier.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 503, .. }) && e.retryable(),
        "{e:?}"
    );

    // Gone altogether: the connection is refused.
    sim.server.shutdown().await;
    let e = err(tradier.verify().await);
    assert!(
        matches!(e, BrokerError::Network(_)) && e.retryable(),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_bare_404_is_a_protocol_error_not_a_missing_order() {
    // With a REST URL missing `/v1` every call 404s. Reading that as "no such order" would
    // let a caller place the order again.
    let sim = sim().await;
    let mut cfg = config(&sim, Some(ACCOUNT), TOKEN);
    cfg.rest_url = sim.server.url();
    let tradier = Tradier::new(cfg).unwrap();
    assert!(matches!(
        err(tradier.get_order("1").await),
        BrokerError::Protocol(_)
    ));
    assert!(matches!(
        err(tradier.verify().await),
        BrokerError::Protocol(_)
    ));
}

#[tokio::test]
async fn debug_output_shows_no_token_or_session_id() {
    let sim = sim().await;
    let tradier = connector(&sim);
    let text = format!("{tradier:?}");
    assert!(
        !text.contains(TOKEN) && text.contains("127.0.0.1"),
        "{text}"
    );
    let session = tradier.stream_session().await.unwrap();
    let text = format!("{session:?}");
    assert!(!text.contains(session.session_id.expose()), "{text}");
}
