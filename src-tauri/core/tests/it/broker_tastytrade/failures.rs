//! Tastytrade's own failure cases and the OAuth life cycle: access tokens refreshed before
//! expiry and after the broker expires them (exactly one refresh), the required User-Agent,
//! garbage from the token endpoint, configuration errors. The failure classes every broker
//! shares (401, 429, 5xx, garbage, timeouts, down, bare 404) are in `conformance/`.

use std::time::Duration;

use brokerdesk_core::brokers::http::USER_AGENT;
use brokerdesk_core::brokers::tastytrade::Tastytrade;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::Secret;
use brokerdesk_sim::Fault;
use serde_json::{json, Value};

use super::{config, connector, err, sim, CLIENT_SECRET, REFRESH};

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
async fn garbage_from_the_token_endpoint_quotes_nothing_of_the_answer() {
    // The token answer may hold an access token: unlike other garbage, none of it is quoted.
    let (server, _state) = sim().await;
    server.faults().set(Some(Fault::Garbage));
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
async fn missing_credentials_are_config_errors_and_the_quote_token_debug_shows_none() {
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
    let q = tt.quote_token().await.unwrap();
    assert!(!format!("{q:?}").contains(q.token.expose()));
}
