//! Black-box tests of trading through the `brokerdesk` binary: the built-in paper broker
//! (orders filled by the paper engine on its simulated market), positions, money, a paper
//! reset, validation refusals, and the live switch's refusals against the OANDA simulator.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use serde_json::Value;

use common::{Profile, Sim};

/// The order as printed: every field the contract names is there.
fn assert_order_shape(o: &Value) {
    for key in [
        "id",
        "clientOrderId",
        "brokerOrderId",
        "status",
        "filledQty",
        "avgFillPrice",
        "mode",
    ] {
        assert!(o.get(key).is_some(), "{key} missing from {o}");
    }
}

#[test]
fn paper_orders_fill_on_the_simulated_market_and_move_positions_and_money() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Desk --broker paper --env paper");

    let buy = p.ok("order place Desk --symbol EUR_USD --side buy --qty 10000");
    assert_order_shape(&buy);
    assert_eq!(buy["status"], "filled", "{buy}");
    assert_eq!(buy["mode"], "paper");
    assert_eq!(buy["filledQty"].to_string(), "10000", "an exact number");
    assert!(buy["avgFillPrice"].is_number(), "{buy}");
    assert!(!buy["clientOrderId"].as_str().unwrap().is_empty());

    // A buy limit far below the market rests, with a bracket; it is listed as open.
    let rest = p.ok(
        "order place Desk --symbol EUR_USD --side buy --qty 5000 --type limit --price 0.5 --stop-loss 0.4 --take-profit 2 --tif gtc",
    );
    assert_eq!(rest["status"], "open", "{rest}");
    let open = p.ok("order list Desk --open");
    let ids: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert!(ids.contains(&rest["id"].as_str().unwrap()), "{open}");

    let positions = p.ok("position list Desk");
    let eur = positions["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["symbol"] == "EUR_USD")
        .cloned()
        .unwrap_or_else(|| panic!("no EUR_USD position in {positions}"));
    assert_eq!(eur["quantity"].to_string(), "10000");
    assert_eq!(positions["source"], "paper");

    // Change it: a new quantity and price in place; nothing given, or a market order → refused.
    let rest_id = rest["id"].as_str().unwrap();
    let changed = p.ok(&format!(
        "order modify Desk {rest_id} --qty 6000 --price 0.55"
    ));
    assert_eq!(changed["id"], rest["id"], "{changed}");
    assert_eq!(changed["quantity"].to_string(), "6000", "{changed}");
    assert_eq!(changed["limitPrice"].to_string(), "0.55", "{changed}");
    assert_eq!(changed["status"], "open");
    p.json(&format!("order modify Desk {rest_id}"))
        .expect_error(2, "usage");
    p.json(&format!("order modify Desk {rest_id} --price=-1"))
        .expect_error(3, "validation");
    p.json(&format!(
        "order modify Desk {} --qty 5",
        buy["id"].as_str().unwrap()
    ))
    .expect_error(3, "order_not_open");

    // Cancel the resting order; show the first one with its history and fill.
    let cancelled = p.ok(&format!(
        "order cancel Desk {}",
        rest["id"].as_str().unwrap()
    ));
    assert_eq!(cancelled["status"], "cancelled");
    let shown = p.ok(&format!("order show Desk {}", buy["id"].as_str().unwrap()));
    assert_eq!(shown["fills"].as_array().unwrap().len(), 1, "{shown}");
    assert!(shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["status"] == "filled"));

    // Close the position: flat.
    let close = p.ok("position close Desk EUR_USD");
    assert_eq!(close["status"], "filled");
    assert_eq!(close["side"], "sell");
    let positions = p.ok("position list Desk");
    assert!(
        positions["positions"].as_array().unwrap().is_empty(),
        "{positions}"
    );

    // Refusals: invalid → exit 3 with the field; an instrument the market lacks → no_quote.
    let bad = p.json("order place Desk --symbol EUR_USD --side buy --qty 0");
    bad.expect_error(3, "validation");
    assert_eq!(bad.field_paths(), ["quantity"]);
    p.json("order place Desk --symbol NOPE_NOPE --side buy --qty 1")
        .expect_error(3, "no_quote");
    p.json("order place Desk --symbol EUR_USD --side buy --qty 1 --type limit")
        .expect_error(3, "validation");

    // A reset needs --yes; then the balance starts over.
    let refused = p.json("paper reset Desk");
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    let money = p.ok("paper reset Desk --yes --balance 25000");
    assert_eq!(money["balance"].to_string(), "25000", "{money}");

    // Human output: one line per order, the mode named.
    let human = p.human("order list Desk");
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains("EUR_USD"), "{}", human.stdout);
}

#[test]
fn live_is_refused_without_two_factor_and_paper_mode_sends_the_broker_nothing() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    let url = sim.url();
    p.ok(&format!(
        "account add --name Fx --broker oanda --env practice --api-key sim-oanda-token-0123456789abcdef --account-id 101-004-1234567-001 --rest-url {url} --stream-url {url}"
    ));

    // Two-factor authentication is off: live is refused with its own code, and nothing changes.
    p.json("mode Fx live").expect_error(3, "live_needs_twofa");
    let account = p.ok("account show Fx");
    assert_eq!(account["mode"], "paper");

    // Paper mode: the order is filled by Brokerdesk against the broker's streamed quote and
    // never reaches the broker (the simulator books nothing).
    let o = p.ok("order place Fx --symbol EUR_USD --side buy --qty 1000");
    assert_eq!(o["mode"], "paper");
    assert_eq!(o["status"], "filled", "{o}");
    assert!(o["brokerOrderId"].is_null(), "{o}");
    let booked = sim.rt.block_on(async {
        let c = reqwest::Client::new();
        c.get(format!(
            "{url}/v3/accounts/101-004-1234567-001/orders?state=ALL"
        ))
        .bearer_auth("sim-oanda-token-0123456789abcdef")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
    });
    assert_eq!(
        booked["orders"].as_array().map(Vec::len),
        Some(0),
        "{booked}"
    );

    // Back to paper is always allowed.
    let back = p.ok("mode Fx paper");
    assert_eq!(back["mode"], "paper");
}
