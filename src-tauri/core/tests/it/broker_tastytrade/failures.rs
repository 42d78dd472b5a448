//! Failure classes and the OAuth life cycle: bad or refused credentials (never retried),
//! access tokens refreshed before expiry and after the broker expires them, the required
//! User-Agent, 429 with its delay, 5xx, garbage, timeouts, and a server that is down or gone.

use std::time::Duration;

use brokerdesk_core::brokers::http::USER_AGENT;
use brokerdesk_core::brokers::tastytrade::Tastytrade;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::Secret;
use brokerdesk_sim::Fault;
use serde_json::{json, Value};

use super::{config, connector, err, sim, CLIENT_SECRET, REFRESH};

#[tokio::test]
async fn wrong_or_refused_credentials_are_auth_errors_never_retried() {
    let (server, state) = sim().await;
    let wrong = Tastytrade::new(config(&server, REFRESH, "not-the-secret")).unwrap();
    let e = err(wrong.verify().await);
    assert!(
        matches!(&e, BrokerError::Auth(m) if m.contains("invalid_grant")),
        "{e:?}"
    );
    assert!(!e.retryable());

    let good = connector(&server);
    good.verify().await.unwrap();
    server.faults().set(Some(Fault::RefuseAuth));
    let before = server.faults().requests();
    let e = err(good.positions().await);
    assert!(matches!(e, BrokerError::Auth(_)) && !e.retryable(), "{e:?}");
    // `unauthorized` is not an expired token: no refresh, no second try.
    assert_eq!(server.faults().requests() - before, 1);
    server.faults().set(None);
    good.verify().await.unwrap();
    assert_eq!(state.tokens_issued(), 1);
}

#[tokio::test]
async fn the_access_token_is_refreshed_before_it_expires() {
    let (server, state) = sim().await;
    // 2 s tokens are used for half their life (60 s early would be never).
    state.set_token_ttl(Duration::from_secs(2));
    let tt = connector(&server);
    tt.verify().await.unwrap();
    tt.positions().await.unwrap();
    assert_eq!(state.tokens_issued(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = server.faults().requests();
    tt.positions().await.unwrap();
    assert_eq!(state.tokens_issued(), 2, "refreshed early");
    // Exactly one token call and one API call: the old token was never refused.
    assert_eq!(server.faults().requests() - before, 2);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    tt.verify().await.unwrap();
    server.faults().expire_sessions();
    let before = server.faults().requests();
    assert!(tt.positions().await.unwrap().is_empty());
    // 401 token_expired, the token call, the retried call.
    assert_eq!(server.faults().requests() - before, 3);
    assert_eq!(state.tokens_issued(), 2);
}

#[tokio::test]
async fn a_missing_user_agent_is_refused_with_401() {
    let (server, _state) = sim().await;
    // reqwest sends no User-Agent unless told to.
    let bare = reqwest::Client::new();
    let body = json!({"grant_type": "refresh_token", "refresh_token": REFRESH,
        "client_secret": CLIENT_SECRET});
    let url = format!("{}/oauth/token", server.url());
    let resp = bare.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("User-Agent"));

    let resp = bare
        .post(&url)
        .header("user-agent", USER_AGENT)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["expires_in"], 900);
    let access = v["access_token"].as_str().unwrap();
    let accounts = format!("{}/customers/me/accounts", server.url());
    let resp = bare
        .get(&accounts)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a valid token without a User-Agent");
    let resp = bare
        .get(&accounts)
        .bearer_auth(access)
        .header("user-agent", USER_AGENT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn rate_limits_server_errors_and_garbage_are_classified() {
    let (server, _state) = sim().await;
    let tt = connector(&server);
    tt.verify().await.unwrap();
    server.faults().set(Some(Fault::RateLimit {
        retry_after_secs: 7,
    }));
    let e = err(tt.open_orders().await);
    assert_eq!(
        e,
        BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(e.retryable());

    server.faults().set(Some(Fault::ServerError(502)));
    let e = err(tt.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 502, .. }) && e.retryable(),
        "{e:?}"
    );

    server.faults().set(Some(Fault::Garbage));
    let e = err(tt.positions().await);
    assert!(
        matches!(e, BrokerError::Protocol(_)) && !e.retryable(),
        "{e:?}"
    );

    // Garbage from the token endpoint quotes nothing of the answer.
    let fresh = connector(&server);
    let e = err(fresh.verify().await);
    assert!(
        matches!(&e, BrokerError::Protocol(m) if !m.contains("html")),
        "{e:?}"
    );
    server.faults().set(None);
    fresh.verify().await.unwrap();
}

#[tokio::test]
async fn a_slow_server_times_out_and_a_down_one_is_unavailable() {
    let (server, _state) = sim().await;
    let mut cfg = config(&server, REFRESH, CLIENT_SECRET);
    cfg.timeout = Duration::from_millis(200);
    let tt = Tastytrade::new(cfg).unwrap();
    server.faults().set_delay(Duration::from_secs(2));
    let e = err(tt.verify().await);
    assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)));
    assert!(e.retryable());
    server.faults().set_delay(Duration::ZERO);

    server.faults().go_down_for(Duration::from_secs(30));
    let e = err(tt.verify().await);
    assert!(
        matches!(e, BrokerError::Unavailable { status: 503, .. }) && e.retryable(),
        "{e:?}"
    );

    server.shutdown().await;
    let e = err(tt.verify().await);
    assert!(
        matches!(e, BrokerError::Network(_)) && e.retryable(),
        "{e:?}"
    );
}

#[tokio::test]
async fn missing_credentials_are_config_errors_and_debug_shows_none() {
    let (server, _state) = sim().await;
    let no_secret =
        config(&server, REFRESH, CLIENT_SECRET).with_credentials(Some(Secret::new(REFRESH)), None);
    assert!(matches!(
        err(Tastytrade::new(no_secret)),
        BrokerError::Config(_)
    ));
    assert!(matches!(
        err(Tastytrade::new(config(&server, "  ", CLIENT_SECRET))),
        BrokerError::Config(_)
    ));

    let tt = connector(&server);
    tt.verify().await.unwrap();
    let text = format!("{tt:?}");
    assert!(
        !text.contains(REFRESH) && !text.contains(CLIENT_SECRET) && !text.contains("tt-access-"),
        "{text}"
    );
    assert!(text.contains("127.0.0.1"));
    let q = tt.quote_token().await.unwrap();
    assert!(!format!("{q:?}").contains(q.token.expose()));
}

#[tokio::test]
async fn a_bare_404_is_a_protocol_error_not_a_missing_order() {
    // With a wrong REST URL every call 404s; reading that as "no such order" would let a
    // caller place the order again. The token call 404s first here.
    let (server, _state) = sim().await;
    let mut cfg = config(&server, REFRESH, CLIENT_SECRET);
    cfg.rest_url = format!("{}/wrong-prefix", server.url());
    let tt = Tastytrade::new(cfg).unwrap();
    let e = err(tt.get_order_by_client_id("coid-1").await);
    assert!(matches!(e, BrokerError::Protocol(_)), "{e:?}");
}
