//! The simulator's bytes on the wire, read with a raw HTTP/1.1 client: the User-Agent rule,
//! the token endpoint's refusals, the envelope and kebab-case keys.

use super::{router, SimState, DEMO_ACCOUNT, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN};
use crate::{raw_json_request, Faults, SimServer};

async fn start() -> SimServer {
    let faults = Faults::new();
    SimServer::start(router(SimState::demo(faults.clone())), faults, 0)
        .await
        .unwrap()
}

/// Sends one request with the given extra header lines; returns (status line, body).
async fn call(
    s: &SimServer,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (String, String) {
    let (head, body) = raw_json_request(s.addr(), method, path, headers, body).await;
    (head.lines().next().unwrap_or_default().to_string(), body)
}

fn token_body() -> String {
    serde_json::json!({
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_secret": DEMO_CLIENT_SECRET,
    })
    .to_string()
}

#[tokio::test]
async fn the_user_agent_is_required_everywhere_but_dxlink() {
    let s = start().await;
    let (status, body) = call(&s, "POST", "/oauth/token", "", &token_body()).await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    let (status, _) = call(
        &s,
        "POST",
        "/oauth/token",
        "User-Agent: curl\r\n",
        &token_body(),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized", "no /version");

    let ua = "User-Agent: test/1.0\r\n";
    let (status, body) = call(&s, "POST", "/oauth/token", ua, &token_body()).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["expires_in"], 900);
    let access = v["access_token"].as_str().unwrap();

    let auth = format!("{ua}Authorization: Bearer {access}\r\n");
    let (status, body) = call(&s, "GET", "/customers/me/accounts", &auth, "").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["context"], "/customers/me/accounts");
    assert_eq!(
        v["data"]["items"][0]["account"]["account-number"],
        DEMO_ACCOUNT
    );
    let auth_no_ua = format!("Authorization: Bearer {access}\r\n");
    let (status, _) = call(&s, "GET", "/customers/me/accounts", &auth_no_ua, "").await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_bearer_header_and_bad_grants() {
    let s = start().await;
    let h = "User-Agent: test/1.0\r\nAuthorization: Bearer stale\r\n";
    let (status, body) = call(&s, "POST", "/oauth/token", h, &token_body()).await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("invalid_request"), "{body}");
    let bad = token_body().replace(DEMO_CLIENT_SECRET, "nope");
    let (status, body) = call(&s, "POST", "/oauth/token", "User-Agent: t/1\r\n", &bad).await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    assert_eq!(
        body,
        r#"{"error_code":"invalid_grant","error_description":"Invalid JWT"}"#
    );
}
