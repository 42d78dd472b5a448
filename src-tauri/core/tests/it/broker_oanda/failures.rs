//! Each failure class the connection manager branches on, produced by the simulator's fault
//! switches: auth (never retried), 429 with its delay, 5xx, garbage, timeouts, a server
//! that is down or gone, and configuration mistakes caught before any call.

use std::time::{Duration, Instant};

use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_sim::oanda::DEMO_TOKEN;
use brokerdesk_sim::Fault;

use super::{assert_clean, config, connector, sim, ACCOUNT, WRONG_TOKEN};

#[tokio::test]
async fn a_wrong_token_is_an_auth_error_never_retried() {
    let sim = sim().await;
    let oanda = Oanda::new(config(&sim, Some(ACCOUNT), WRONG_TOKEN)).unwrap();
    for e in [
        oanda.verify().await.unwrap_err(),
        oanda.list_accounts().await.unwrap_err(),
    ] {
        assert!(
            matches!(&e, BrokerError::Auth(m) if m == "Insufficient authorization to perform request."),
            "{e:?}"
        );
        assert!(!e.retryable());
        assert_clean(&e);
    }
    assert!(
        !format!("{oanda:?}").contains(WRONG_TOKEN),
        "Debug of the connector hides the token"
    );
}

#[tokio::test]
async fn the_refuse_auth_fault_is_an_auth_error() {
    let sim = sim().await;
    let oanda = connector(&sim);
    sim.server.faults().set(Some(Fault::RefuseAuth));
    let e = oanda.positions().await.unwrap_err();
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert_clean(&e);
    sim.server.faults().set(None);
    assert!(
        oanda.positions().await.is_ok(),
        "recovers once the fault clears"
    );
}

#[tokio::test]
async fn a_429_carries_its_retry_after() {
    let sim = sim().await;
    sim.server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 3,
    }));
    let e = connector(&sim).verify().await.unwrap_err();
    assert_eq!(
        e,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        }
    );
    assert!(e.retryable());
}

#[tokio::test]
async fn a_500_is_unavailable_and_retryable() {
    let sim = sim().await;
    sim.server.faults().set(Some(Fault::ServerError(500)));
    let e = connector(&sim).open_orders().await.unwrap_err();
    assert!(
        matches!(e, BrokerError::Unavailable { status: 500, .. }),
        "{e:?}"
    );
    assert!(e.retryable());
    assert_clean(&e);
}

#[tokio::test]
async fn garbage_is_a_protocol_error() {
    let sim = sim().await;
    sim.server.faults().set(Some(Fault::Garbage));
    let e = connector(&sim).verify().await.unwrap_err();
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
    assert!(!e.retryable());
    assert_clean(&e);
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let sim = sim().await;
    let mut cfg = config(&sim, Some(ACCOUNT), DEMO_TOKEN);
    cfg.timeout = Duration::from_millis(200);
    let oanda = Oanda::new(cfg).unwrap();
    sim.server.faults().set_delay(Duration::from_millis(2_000));
    let started = Instant::now();
    let e = oanda.verify().await.unwrap_err();
    assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)));
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "gave up at the timeout"
    );
    assert!(e.retryable());
}

#[tokio::test]
async fn a_server_that_is_down_or_gone_is_retryable() {
    let sim = sim().await;
    let oanda = connector(&sim);
    sim.server.faults().go_down_for(Duration::from_secs(30));
    let down = oanda.verify().await.unwrap_err();
    assert!(
        matches!(down, BrokerError::Unavailable { status: 503, .. }),
        "{down:?}"
    );
    assert!(down.retryable());

    sim.server.shutdown().await;
    let gone = oanda.verify().await.unwrap_err();
    assert!(matches!(gone, BrokerError::Network(_)), "{gone:?}");
    assert!(gone.retryable());
    assert_clean(&gone);
}

#[tokio::test]
async fn an_unknown_account_is_not_found() {
    let sim = sim().await;
    let oanda = Oanda::new(config(&sim, Some("101-004-1234567-999"), DEMO_TOKEN)).unwrap();
    let e = oanda.verify().await.unwrap_err();
    assert!(matches!(e, BrokerError::NotFound(_)), "{e:?}");
}

#[test]
fn configuration_mistakes_fail_before_any_call() {
    let url = "http://127.0.0.1:9";
    let mut cfg = super::config_at(url, Some(ACCOUNT), DEMO_TOKEN);
    cfg.api_key = None;
    assert!(matches!(Oanda::new(cfg), Err(BrokerError::Config(_))));
    let blank = super::config_at(url, Some(ACCOUNT), "   ");
    assert!(matches!(Oanda::new(blank), Err(BrokerError::Config(_))));
    let bad_url = super::config_at("ftp://example.com", Some(ACCOUNT), DEMO_TOKEN);
    assert!(matches!(Oanda::new(bad_url), Err(BrokerError::Config(_))));
    let newline = super::config_at(url, Some(ACCOUNT), "tok\nen-0123456789");
    let e = Oanda::new(newline).unwrap_err();
    assert!(
        matches!(e, BrokerError::Config(_)) && !e.to_string().contains("tok\nen"),
        "{e:?}"
    );
}
