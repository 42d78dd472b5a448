//! Failure classes the connection manager relies on: a refused login (never retried), 429
//! with its delay, 5xx, garbage, timeouts, a gateway that is down or gone, a wrong URL.
//! Every error is checked for the session cookie.

use std::time::Duration;

use brokerdesk_core::brokers::ibkr::Ibkr;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_sim::Fault;

use super::{config, connector, err, sim, ACCOUNT};

#[tokio::test]
async fn a_refused_login_is_an_auth_error_never_retried() {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    ibkr.verify().await.unwrap();
    server.faults().set(Some(Fault::RefuseAuth));
    for e in [
        err(ibkr.verify().await, &state),
        err(ibkr.tickle().await, &state),
        err(ibkr.positions().await, &state),
    ] {
        assert!(
            matches!(&e, BrokerError::Auth(m) if m.contains("Client Portal gateway")),
            "{e:?}"
        );
        assert!(!e.retryable());
    }
    server.faults().set(None);
    ibkr.verify().await.unwrap();

    state.logout();
    assert!(matches!(
        err(ibkr.verify().await, &state),
        BrokerError::Auth(_)
    ));
}

#[tokio::test]
async fn rate_limits_server_errors_and_garbage_are_classified() {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    ibkr.verify().await.unwrap();
    server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 7,
    }));
    let e = err(ibkr.open_orders().await, &state);
    assert_eq!(
        e,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(e.retryable());
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::RateLimited { .. }
    ));

    server.faults().set(Some(Fault::ServerError(502)));
    let e = err(ibkr.verify().await, &state);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 502, .. }),
        "{e:?}"
    );
    assert!(e.retryable());

    server.faults().set(Some(Fault::Garbage));
    let e = err(ibkr.positions().await, &state);
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
    assert!(!e.retryable());
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::Protocol(_)
    ));
}

#[tokio::test]
async fn a_slow_gateway_times_out_and_a_down_one_is_unavailable() {
    let (server, state) = sim().await;
    let mut cfg = config(&server, Some(ACCOUNT));
    cfg.timeout = Duration::from_millis(200);
    let ibkr = Ibkr::new(cfg).unwrap();
    ibkr.verify().await.unwrap();
    server.faults().set_delay(Duration::from_secs(2));
    let e = err(ibkr.verify().await, &state);
    assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)));
    assert!(e.retryable());
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::Timeout(_)
    ));
    server.faults().set_delay(Duration::ZERO);

    server.faults().go_down_for(Duration::from_secs(30));
    let e = err(ibkr.verify().await, &state);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 503, .. }) && e.retryable(),
        "{e:?}"
    );

    // Gone altogether (the gateway is not running): the connection is refused.
    server.shutdown().await;
    let e = err(ibkr.verify().await, &state);
    assert!(
        matches!(e, BrokerError::Network(_)) && e.retryable(),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_bare_404_is_a_protocol_error_not_a_missing_order() {
    // With a REST URL missing `/v1/api` every call 404s without an IBKR body. Reading that
    // as "no such order" could let a caller place an order again.
    let (server, state) = sim().await;
    let mut cfg = config(&server, Some(ACCOUNT));
    cfg.rest_url = server.url();
    let ibkr = Ibkr::new(cfg).unwrap();
    assert!(matches!(
        err(ibkr.get_order("123").await, &state),
        BrokerError::Protocol(_)
    ));
    assert!(matches!(
        err(ibkr.verify().await, &state),
        BrokerError::Protocol(_)
    ));
}

#[tokio::test]
async fn config_errors_and_the_connector_debug() {
    let (server, state) = sim().await;
    let mut bad = config(&server, Some(ACCOUNT));
    bad.rest_url = "not a url".into();
    assert!(matches!(
        err(Ibkr::new(bad), &state),
        BrokerError::Config(_)
    ));
    let mut other = config(&server, Some(ACCOUNT));
    other.broker = brokerdesk_core::accounts::model::BrokerKind::Alpaca;
    assert!(matches!(
        err(Ibkr::new(other), &state),
        BrokerError::Config(_)
    ));

    let ibkr = connector(&server);
    ibkr.verify().await.unwrap();
    let text = format!("{ibkr:?}");
    let session = state.session().unwrap();
    assert!(!text.contains(&session), "{text}");
    assert!(
        text.contains("127.0.0.1") && text.contains(ACCOUNT),
        "{text}"
    );
    let cookie = ibkr.ws_cookie().unwrap();
    assert!(!format!("{cookie:?}").contains(&session));
}
