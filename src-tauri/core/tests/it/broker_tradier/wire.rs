//! The simulator's wire, seen by a plain HTTP client: XML unless `Accept: application/json`
//! (the trap), faults and validation errors in both forms, form-only POST bodies, `preview`,
//! the `"null"` and one-or-many lists, and the rate-limit headers.

use brokerdesk_core::brokers::Broker;
use brokerdesk_core::brokers::OrderSide;
use reqwest::header::{HeaderName, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::{connector, order, sim, Sim, ACCOUNT, TOKEN};

fn url(sim: &Sim, path: &str) -> String {
    format!("{}/v1/{path}", sim.server.url())
}

/// A GET of `path` with these headers only.
async fn get(sim: &Sim, path: &str, headers: &[(HeaderName, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url(sim, path));
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    req.send().await.unwrap()
}

async fn get_json(sim: &Sim, path: &str) -> Value {
    let bearer = format!("Bearer {TOKEN}");
    let headers = [
        (AUTHORIZATION, bearer.as_str()),
        (ACCEPT, "application/json"),
    ];
    let resp = get(sim, path, &headers).await;
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

async fn post_form(sim: &Sim, form: &str, accept_json: bool) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(url(sim, &format!("accounts/{ACCOUNT}/orders")))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form.to_string());
    if accept_json {
        req = req.header(ACCEPT, "application/json");
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn without_the_json_accept_header_the_answer_is_xml() {
    let sim = sim().await;
    let bearer = format!("Bearer {TOKEN}");
    let resp = get(&sim, "user/profile", &[(AUTHORIZATION, &bearer)]).await;
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/xml"), "{ct}");
    let body = resp.text().await.unwrap();
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><profile><account>"),
        "{body}"
    );
    assert!(
        body.contains(&format!("<account_number>{ACCOUNT}</account_number>")),
        "{body}"
    );
    assert!(
        body.contains("<type>margin</type>") && body.ends_with("</profile>"),
        "{body}"
    );
    // The same call asking for JSON.
    let v = get_json(&sim, "user/profile").await;
    assert_eq!(v["profile"]["account"]["account_number"], ACCOUNT);
}

#[tokio::test]
async fn faults_and_validation_errors_come_as_xml_too() {
    let sim = sim().await;
    let resp = get(&sim, "user/profile", &[(AUTHORIZATION, "Bearer wrong")]).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.text().await.unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><fault><detail><errorcode>\
         keymanagement.service.invalid_access_token</errorcode></detail>\
         <faultstring>Invalid Access Token</faultstring></fault>"
    );
    let resp = get(&sim, "user/profile", &[(ACCEPT, "application/json")]).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"fault": {"faultstring": "Invalid Access Token",
            "detail": {"errorcode": "keymanagement.service.invalid_access_token"}}})
    );

    let (status, body) = post_form(&sim, "class=equity&symbol=AAPL", false).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<errors><error>Missing Parameter: side</error><error>"),
        "{body}"
    );
    let (status, body) = post_form(&sim, "class=equity&symbol=AAPL", true).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["errors"]["error"].as_array().unwrap().len() >= 3, "{v}");
}

#[tokio::test]
async fn post_bodies_must_be_forms_and_tags_are_checked() {
    let sim = sim().await;
    let resp = reqwest::Client::new()
        .post(url(&sim, &format!("accounts/{ACCOUNT}/orders")))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(ACCEPT, "application/json")
        .json(
            &json!({"class": "equity", "symbol": "AAPL", "side": "buy", "quantity": "1",
            "type": "market", "duration": "day"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .starts_with("{\"errors\":{\"error\":["));

    let base = "class=equity&symbol=AAPL&side=buy&quantity=1&type=market&duration=day";
    let (status, body) = post_form(&sim, &format!("{base}&tag=has_underscore"), true).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("tag"), "{body}");
    let (status, body) = post_form(&sim, &format!("{base}&tag={}", "a".repeat(256)), true).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_form(&sim, &format!("{base}&tag=ok-Tag-1"), true).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["order"]["status"], "ok");
    assert!(
        v["order"]["id"].is_u64() && v["order"]["partner_id"].is_string(),
        "{v}"
    );
}

#[tokio::test]
async fn preview_prices_an_order_without_placing_it() {
    let sim = sim().await;
    let form = "class=equity&symbol=SPY&side=buy&quantity=2&type=limit&price=500&duration=gtc&preview=true";
    let (status, body) = post_form(&sim, form, true).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            &v["order"]["status"],
            &v["order"]["result"],
            &v["order"]["cost"]
        ),
        (&json!("ok"), &json!(true), &json!(1000.0))
    );
    assert!(v["order"].get("id").is_none());
    let orders = get_json(&sim, &format!("accounts/{ACCOUNT}/orders")).await;
    assert_eq!(orders, json!({"orders": "null"}));
}

#[tokio::test]
async fn lists_are_null_one_object_or_an_array() {
    let sim = sim().await;
    let positions = format!("accounts/{ACCOUNT}/positions");
    let orders = format!("accounts/{ACCOUNT}/orders");
    assert_eq!(
        get_json(&sim, &positions).await,
        json!({"positions": "null"})
    );
    assert_eq!(get_json(&sim, &orders).await, json!({"orders": "null"}));
    let tradier = connector(&sim);
    tradier
        .place_order(&order("one", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    let one = get_json(&sim, &orders).await;
    assert!(one["orders"]["order"].is_object(), "{one}");
    assert!(
        one["orders"]["order"].get("tag").is_none(),
        "tags only with includeTags=true"
    );
    let tagged = get_json(&sim, &format!("{orders}?includeTags=true")).await;
    assert_eq!(tagged["orders"]["order"]["tag"], "one");
    assert!(get_json(&sim, &positions).await["positions"]["position"].is_object());
    tradier
        .place_order(&order("two", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    let two = get_json(&sim, &orders).await;
    assert_eq!(
        two["orders"]["order"].as_array().map(Vec::len),
        Some(2),
        "{two}"
    );

    let balances = get_json(&sim, &format!("accounts/{ACCOUNT}/balances")).await;
    let b = &balances["balances"];
    assert_eq!(
        (&b["account_number"], &b["account_type"]),
        (&json!(ACCOUNT), &json!("margin"))
    );
    assert!(
        b["margin"]["stock_buying_power"].is_f64() && b["total_equity"].is_f64(),
        "{b}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_rate_limit_headers() {
    let sim = sim().await;
    let bearer = format!("Bearer {TOKEN}");
    let balances = format!("accounts/{ACCOUNT}/balances");
    let resp = get(&sim, &balances, &[(AUTHORIZATION, &bearer)]).await;
    let h = resp.headers();
    for name in ["allowed", "used", "available", "expiry"] {
        let v = h
            .get(format!("x-ratelimit-{name}"))
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            v.as_deref().is_some_and(|v| v.parse::<u64>().is_ok()),
            "{name}: {v:?}"
        );
    }
    assert_eq!(h["x-ratelimit-allowed"], "120");
    assert_eq!(h["x-ratelimit-used"], "1");
    // Order placement spends the trading budget (60 a minute).
    let resp = reqwest::Client::new()
        .post(url(&sim, &format!("accounts/{ACCOUNT}/orders")))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("class=equity")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-ratelimit-allowed"], "60");
    assert_eq!(resp.headers()["x-ratelimit-used"], "1");
}
