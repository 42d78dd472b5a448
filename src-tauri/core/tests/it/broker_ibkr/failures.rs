//! IBKR's own failure cases: `/tickle` (the session keepalive, which the connection
//! manager calls instead of `verify`) is classified like every call, a gateway logout is an
//! auth error, configuration errors. Every error is checked for the session cookie. The
//! failure classes every broker shares (401, 429, 5xx, garbage, timeouts, down, bare 404)
//! are in `conformance/`.

use std::time::Duration;

use brokerdesk_core::brokers::ibkr::Ibkr;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_sim::Fault;

use super::{config, connector, err, sim, verified, ACCOUNT};

#[tokio::test]
async fn tickle_is_classified_like_every_call() {
    let (server, state) = sim().await;
    let mut cfg = config(&server, Some(ACCOUNT));
    cfg.timeout = Duration::from_millis(200);
    let ibkr = Ibkr::new(cfg).unwrap();
    ibkr.verify().await.unwrap();
    server.faults().set(Some(Fault::RefuseAuth));
    let e = err(ibkr.tickle().await, &state);
    assert!(
        matches!(&e, BrokerError::Auth(m) if m.contains("Client Portal gateway")),
        "{e:?}"
    );
    assert!(!e.retryable());
    server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 7,
    }));
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::RateLimited { .. }
    ));
    server.faults().set(Some(Fault::Garbage));
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::Protocol(_)
    ));
    server.faults().set(None);
    server.faults().set_delay(Duration::from_secs(2));
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::Timeout(_)
    ));
}

#[tokio::test]
async fn a_logout_at_the_gateway_is_an_auth_error() {
    let (_server, state, ibkr) = verified().await;
    state.logout();
    assert!(matches!(
        err(ibkr.verify().await, &state),
        BrokerError::Auth(_)
    ));
}

#[tokio::test]
async fn config_errors_and_the_cookie_debug() {
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
    assert!(text.contains(ACCOUNT), "{text}");
    let session = state.session().unwrap();
    let cookie = ibkr.ws_cookie().unwrap();
    assert!(!format!("{cookie:?}").contains(&session));
}
