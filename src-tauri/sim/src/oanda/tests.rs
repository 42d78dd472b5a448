//! The simulator's bytes on the wire, read with a raw HTTP/1.1 client: headers, error
//! bodies, decimals as strings, the order life cycle and the chunked pricing stream.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{router, SimState, DEMO_ACCOUNTS, DEMO_TOKEN};
use crate::{raw_json_request, Fault, Faults, SimServer};

const ACCT: &str = DEMO_ACCOUNTS[0];

async fn start() -> SimServer {
    let faults = Faults::new();
    let state = SimState::demo(faults.clone())
        .with_intervals(Duration::from_millis(20), Duration::from_millis(50));
    SimServer::start(router(Arc::new(state)), faults, 0)
        .await
        .unwrap()
}

/// Sends one request and returns (head, body), head lower-cased.
async fn call(
    s: &SimServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (String, String) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let (head, body) = raw_json_request(s.addr(), method, path, &auth, body).await;
    (head.to_ascii_lowercase(), body)
}

fn order(coid: &str, kind: &str, units: &str, price: Option<&str>) -> String {
    let price = price
        .map(|p| format!(r#","price":"{p}""#))
        .unwrap_or_default();
    format!(
        r#"{{"order":{{"type":"{kind}","instrument":"EUR_USD","units":"{units}"{price},"timeInForce":"{}","positionFill":"DEFAULT","clientExtensions":{{"id":"{coid}"}}}}}}"#,
        if kind == "MARKET" { "FOK" } else { "GTC" }
    )
}

#[tokio::test]
async fn auth_failures_get_oandas_401_and_every_answer_a_request_id() {
    let s = start().await;
    let expected = r#"{"errorMessage":"Insufficient authorization to perform request."}"#;
    for token in [None, Some("wrong")] {
        let (head, body) = call(&s, "GET", "/v3/accounts", token, "").await;
        assert!(head.starts_with("http/1.1 401"), "{head}");
        assert!(head.contains("\r\nrequestid: "), "{head}");
        assert_eq!(body, expected);
    }
    s.faults().set(Some(Fault::RefuseAuth));
    let (head, body) = call(&s, "GET", "/v3/accounts", Some(DEMO_TOKEN), "").await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert_eq!(body, expected);
    s.faults().set(None);
    let (head, body) = call(&s, "GET", "/v3/accounts", Some(DEMO_TOKEN), "").await;
    assert!(
        head.starts_with("http/1.1 200") && head.contains("\r\nrequestid: "),
        "{head}"
    );
    assert_eq!(
        body,
        r#"{"accounts":[{"id":"101-004-1234567-001","tags":[]},{"id":"101-004-1234567-002","tags":[]}]}"#
    );
    let (head, body) = call(
        &s,
        "GET",
        "/v3/accounts/101-004-1234567-999/summary",
        Some(DEMO_TOKEN),
        "",
    )
    .await;
    assert!(
        head.starts_with("http/1.1 404") && body.contains("errorMessage"),
        "{head}{body}"
    );
}

#[tokio::test]
async fn orders_speak_oandas_format() {
    let s = start().await;
    let path = format!("/v3/accounts/{ACCT}/orders");
    let (head, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("c1", "MARKET", "100", None),
    )
    .await;
    assert!(
        head.starts_with("http/1.1 201") && head.contains(&format!("\r\nlocation: {path}/4")),
        "{head}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["orderCreateTransaction"]["type"], "MARKET_ORDER");
    assert_eq!(v["orderCreateTransaction"]["units"], "100");
    let fill = &v["orderFillTransaction"];
    assert_eq!(
        (fill["type"].as_str(), fill["orderID"].as_str()),
        (Some("ORDER_FILL"), Some("4"))
    );
    assert!(fill["price"].as_str().unwrap().starts_with("1.0"), "{fill}");
    let request_id = head
        .split("\r\nrequestid: ")
        .nth(1)
        .and_then(|h| h.lines().next())
        .unwrap();
    assert_eq!(
        fill["requestID"], request_id,
        "transactions carry the request's RequestID"
    );
    assert_eq!(fill["batchID"], "4");
    assert_eq!(v["relatedTransactionIDs"], serde_json::json!(["4", "5"]));
    assert_eq!(v["lastTransactionID"], "5");

    let (head, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("c1", "MARKET", "5", None),
    )
    .await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["orderRejectTransaction"]["rejectReason"],
        "CLIENT_ORDER_ID_ALREADY_EXISTS"
    );
    assert_eq!(v["errorCode"], "CLIENT_ORDER_ID_ALREADY_EXISTS");

    let (_, body) = call(&s, "GET", &format!("{path}/@c1"), Some(DEMO_TOKEN), "").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["order"]["id"].as_str(), v["order"]["state"].as_str()),
        (Some("4"), Some("FILLED"))
    );

    let (_, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("c2", "LIMIT", "-10", Some("9.5")),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v.get("orderFillTransaction").is_none(),
        "a sell limit far above rests: {v}"
    );
    let (_, body) = call(
        &s,
        "GET",
        &format!("/v3/accounts/{ACCT}/pendingOrders"),
        Some(DEMO_TOKEN),
        "",
    )
    .await;
    assert!(
        body.contains(r#""price":"9.50000""#) && body.contains(r#""state":"PENDING""#),
        "{body}"
    );

    let (head, body) = call(
        &s,
        "PUT",
        &format!("{path}/@c2/cancel"),
        Some(DEMO_TOKEN),
        "",
    )
    .await;
    assert!(
        head.starts_with("http/1.1 200") && body.contains(r#""reason":"CLIENT_REQUEST""#),
        "{body}"
    );
    let (head, body) = call(&s, "PUT", &format!("{path}/4/cancel"), Some(DEMO_TOKEN), "").await;
    assert!(
        head.starts_with("http/1.1 404") && body.contains("orderCancelRejectTransaction"),
        "{body}"
    );

    let (_, body) = call(
        &s,
        "GET",
        &format!("/v3/accounts/{ACCT}/openPositions"),
        Some(DEMO_TOKEN),
        "",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let p = &v["positions"][0];
    assert_eq!(
        (
            p["instrument"].as_str(),
            p["long"]["units"].as_str(),
            p["short"]["units"].as_str()
        ),
        (Some("EUR_USD"), Some("100"), Some("0"))
    );
}

#[tokio::test]
async fn the_pricing_stream_is_chunked_json_lines() {
    let s = start().await;
    let path =
        format!("/v3/accounts/{ACCT}/pricing/stream?instruments=EUR_USD%2CUSD_JPY&snapshot=true");
    let mut sock = TcpStream::connect(s.addr()).await.unwrap();
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_TOKEN}\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(r#"{"type":"HEARTBEAT","time":""#) {
        let n = tokio::time::timeout(Duration::from_secs(2), sock.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the stream ended");
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(
        text.starts_with("http/1.1 200") && text.contains("transfer-encoding: chunked"),
        "{text}"
    );
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.contains(r#"{"type":"PRICE","instrument":"EUR_USD","time":""#),
        "{text}"
    );
    assert!(
        text.contains(r#"{"type":"PRICE","instrument":"USD_JPY","time":""#),
        "{text}"
    );
    assert!(
        text.contains("Z\",\"status\":\"tradeable\",\"tradeable\":true,\"bids\":[{\"price\":\""),
        "{text}"
    );

    let bad = format!("/v3/accounts/{ACCT}/pricing/stream?instruments=EUR_XYZ");
    let (head, body) = call(&s, "GET", &bad, Some(DEMO_TOKEN), "").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert_eq!(
        body,
        r#"{"errorMessage":"Invalid value specified for 'instruments'"}"#
    );
}

#[tokio::test]
async fn a_replace_cancels_the_order_and_creates_its_replacement() {
    let s = start().await;
    let path = format!("/v3/accounts/{ACCT}/orders");
    let put = |spec: String, body: String| {
        let s = &s;
        let path = format!("{path}/{spec}");
        async move { call(s, "PUT", &path, Some(DEMO_TOKEN), &body).await }
    };
    let (_, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("r1", "LIMIT", "100", Some("0.5")),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let old = v["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (head, body) = put(old.clone(), order("r2", "LIMIT", "200", Some("0.6"))).await;
    assert!(head.starts_with("http/1.1 201"), "{head}{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cancel = &v["orderCancelTransaction"];
    assert_eq!(
        (cancel["type"].as_str(), cancel["orderID"].as_str()),
        (Some("ORDER_CANCEL"), Some(old.as_str()))
    );
    assert_eq!(cancel["reason"], "CLIENT_REQUEST_REPLACED");
    let create = &v["orderCreateTransaction"];
    assert_eq!(cancel["replacedByOrderID"], create["id"]);
    assert_eq!(
        (create["type"].as_str(), create["reason"].as_str()),
        (Some("LIMIT_ORDER"), Some("REPLACEMENT"))
    );
    assert_eq!(create["replacesOrderID"].as_str(), Some(old.as_str()));
    assert_eq!(create["clientExtensions"]["id"], "r2");
    assert_eq!(create["batchID"], cancel["id"], "one batch");
    assert!(v.get("orderFillTransaction").is_none(), "{v}");
    let new = create["id"].as_str().unwrap().to_string();
    assert_eq!(
        v["relatedTransactionIDs"],
        serde_json::json!([cancel["id"], create["id"]])
    );

    let (_, body) = call(&s, "GET", &format!("{path}/{old}"), Some(DEMO_TOKEN), "").await;
    let o: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(o["order"]["state"], "CANCELLED");
    assert_eq!(o["order"]["replacedByOrderID"].as_str(), Some(new.as_str()));
    let (_, body) = call(&s, "GET", &format!("{path}/@r2"), Some(DEMO_TOKEN), "").await;
    let o: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            o["order"]["state"].as_str(),
            o["order"]["price"].as_str(),
            o["order"]["units"].as_str()
        ),
        (Some("PENDING"), Some("0.60000"), Some("200"))
    );
    assert_eq!(o["order"]["replacesOrderID"].as_str(), Some(old.as_str()));

    // A replacement the market reaches fills at once, like a new order.
    let (head, body) = put(new.clone(), order("r3", "LIMIT", "200", Some("5.0"))).await;
    assert!(head.starts_with("http/1.1 201"), "{head}{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fill = &v["orderFillTransaction"];
    assert_eq!(fill["type"], "ORDER_FILL");
    let price: f64 = fill["price"].as_str().unwrap().parse().unwrap();
    assert!(
        price < 5.0,
        "filled at the ask, below the new limit: {price}"
    );

    // A cancelled or filled order, or none: OANDA's 404 with a cancel reject.
    for spec in [old, "@r3".to_string(), "999999".to_string()] {
        let (head, body) = put(spec.clone(), order("r4", "LIMIT", "1", Some("0.5"))).await;
        assert!(head.starts_with("http/1.1 404"), "{spec}: {head}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["orderCancelRejectTransaction"]["rejectReason"],
            "ORDER_DOESNT_EXIST"
        );
        assert_eq!(v["errorCode"], "ORDER_DOESNT_EXIST");
    }
    // A refused replacement (a client id in use) leaves the order working.
    let (_, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("r5", "LIMIT", "100", Some("0.5")),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = v["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (head, body) = put(id.clone(), order("r1", "LIMIT", "100", Some("0.4"))).await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(body.contains("CLIENT_ORDER_ID_ALREADY_EXISTS"), "{body}");
    let (_, body) = call(&s, "GET", &format!("{path}/{id}"), Some(DEMO_TOKEN), "").await;
    assert!(body.contains(r#""state":"PENDING""#), "{body}");
}

#[tokio::test]
async fn a_replace_is_faulted_like_a_placement() {
    let s = start().await;
    let path = format!("/v3/accounts/{ACCT}/orders");
    let (_, body) = call(
        &s,
        "POST",
        &path,
        Some(DEMO_TOKEN),
        &order("f1", "LIMIT", "100", Some("0.5")),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = v["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.faults()
        .set_order_fault(Some(crate::OrderFault::RefuseWith500));
    let (head, _) = call(
        &s,
        "PUT",
        &format!("{path}/{id}"),
        Some(DEMO_TOKEN),
        &order("f2", "LIMIT", "100", Some("0.6")),
    )
    .await;
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert_eq!(s.faults().order_requests(), 2);
    s.faults()
        .set_order_fault(Some(crate::OrderFault::AcceptThen500));
    let (head, _) = call(
        &s,
        "PUT",
        &format!("{path}/{id}"),
        Some(DEMO_TOKEN),
        &order("f3", "LIMIT", "100", Some("0.6")),
    )
    .await;
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert_eq!(s.faults().booked_client_ids(), ["f1", "f3"]);
}
