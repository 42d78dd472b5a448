//! Failure classes the connection manager relies on: bad or refused credentials (never
//! retried), configuration errors, 429 with its delay, 5xx, garbage, timeouts, and a server
//! that is down or gone.

use std::time::Duration;

use brokerdesk_core::brokers::alpaca::Alpaca;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::Secret;
use brokerdesk_sim::Fault;

use super::{config, connector, err, sim, KEY, SECRET};

#[tokio::test]
async fn wrong_or_refused_credentials_are_auth_errors_never_retried() {
    let (server, _state) = sim().await;
    let wrong = Alpaca::new(config(&server, KEY, "not-the-secret")).unwrap();
    let e = err(wrong.verify().await);
    assert_eq!(e, BrokerError::Auth("unauthorized.".into()));
    assert!(!e.retryable());
    let e = err(wrong.positions().await);
    assert!(matches!(e, BrokerError::Auth(_)));

    let good = connector(&server);
    server.faults().set(Some(Fault::RefuseAuth));
    let e = err(good.verify().await);
    assert!(matches!(e, BrokerError::Auth(_)) && !e.retryable(), "{e:?}");
    server.faults().set(None);
    good.verify().await.unwrap();
}

#[tokio::test]
async fn missing_credentials_or_another_account_are_config_errors() {
    let (server, _state) = sim().await;
    let no_secret = config(&server, KEY, SECRET).with_credentials(Some(Secret::new(KEY)), None);
    assert!(matches!(
        err(Alpaca::new(no_secret)),
        BrokerError::Config(_)
    ));
    let blank_key = config(&server, "  ", SECRET);
    assert!(matches!(
        err(Alpaca::new(blank_key)),
        BrokerError::Config(_)
    ));
    let newline = config(&server, "PK\nINJECTED", SECRET);
    assert!(matches!(err(Alpaca::new(newline)), BrokerError::Config(_)));

    let mut other = config(&server, KEY, SECRET);
    other.account_id = Some("PA9999999999".into());
    let e = err(Alpaca::new(other).unwrap().verify().await);
    assert!(
        matches!(&e, BrokerError::Config(m) if m.contains("0042") && m.contains("9999")),
        "{e:?}"
    );
}

#[tokio::test]
async fn rate_limits_server_errors_and_garbage_are_classified() {
    let (server, _state) = sim().await;
    let alpaca = connector(&server);
    server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 7,
    }));
    let e = err(alpaca.open_orders().await);
    assert_eq!(
        e,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(e.retryable());

    server.faults().set(Some(Fault::ServerError(500)));
    let e = err(alpaca.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 500, .. }),
        "{e:?}"
    );
    assert!(e.retryable());

    server.faults().set(Some(Fault::Garbage));
    let e = err(alpaca.positions().await);
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
    assert!(!e.retryable());
}

#[tokio::test]
async fn enforced_rate_limit_takes_its_delay_from_the_reset_header() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_rate_limit(2, true);
    alpaca.verify().await.unwrap();
    alpaca.verify().await.unwrap();
    match err(alpaca.verify().await) {
        BrokerError::RateLimited {
            retry_after: Some(d),
        } => assert!((1..=60).contains(&d.as_secs())),
        e => panic!("expected RateLimited with a delay, got {e:?}"),
    }
    assert_eq!(alpaca.rate_limit().map(|r| r.remaining), Some(0));
}

#[tokio::test]
async fn a_slow_server_times_out_and_a_down_one_is_unavailable() {
    let (server, _state) = sim().await;
    let mut cfg = config(&server, KEY, SECRET);
    cfg.timeout = Duration::from_millis(200);
    let alpaca = Alpaca::new(cfg).unwrap();
    server.faults().set_delay(Duration::from_secs(2));
    let e = err(alpaca.verify().await);
    assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)));
    assert!(e.retryable());
    server.faults().set_delay(Duration::ZERO);

    server.faults().go_down_for(Duration::from_secs(30));
    let e = err(alpaca.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 503, .. }) && e.retryable(),
        "{e:?}"
    );

    // Gone altogether: the connection is refused.
    server.shutdown().await;
    let e = err(alpaca.verify().await);
    assert!(
        matches!(e, BrokerError::Network(_)) && e.retryable(),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_connector_debug_shows_no_credentials() {
    let (server, _state) = sim().await;
    let alpaca = connector(&server);
    let text = format!("{alpaca:?}");
    assert!(!text.contains(KEY) && !text.contains(SECRET), "{text}");
    assert!(text.contains("127.0.0.1"));
}

#[tokio::test]
async fn a_bare_404_is_a_protocol_error_not_a_missing_order() {
    // Regression guard: with a wrong REST URL every call 404s. Reading that as "no order
    // with this client id" would let a caller place the order again.
    let (server, _state) = sim().await;
    let mut cfg = config(&server, KEY, SECRET);
    cfg.rest_url = format!("{}/wrong-prefix", server.url());
    let alpaca = Alpaca::new(cfg).unwrap();
    let e = err(alpaca.get_order_by_client_id("coid-1").await);
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
    assert!(matches!(
        err(alpaca.verify().await),
        BrokerError::Protocol(_)
    ));
}

#[tokio::test]
async fn pasted_credentials_with_surrounding_whitespace_work() {
    let (server, _state) = sim().await;
    let cfg = config(&server, &format!(" {KEY}\n"), &format!("{SECRET}\r\n"));
    Alpaca::new(cfg).unwrap().verify().await.unwrap();
}
