//! Black-box tests of risk through the `brokerdesk` binary: pre-trade refusals with their
//! `risk_*` code (exit 3), `risk show`'s budgets on an FTMO account, the status machine by
//! hand (`account status`, reactivation behind a step-up, terminated is final), and the kill
//! switch on the built-in paper broker and on a live account at the OANDA simulator.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use serde_json::Value;

use brokerdesk_sim::oanda;
use common::{Profile, Sim, PW};

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn open_orders(p: &Profile, account: &str) -> Vec<Value> {
    p.ok(&format!("order list {account} --open"))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn an_order_over_max_qty_is_refused_with_its_code_and_exit_3() {
    let p = Profile::new();
    p.init();
    let a = p.ok("account add --name Desk --broker paper --env paper --max-qty 5");
    assert_eq!(a["risk"]["maxQty"].to_string(), "5", "{a}");

    let e = p
        .json("order place Desk --symbol EUR_USD --side buy --qty 10")
        .expect_error(3, "risk_max_qty");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains('5') && m.contains("10"),
        "names the limit and the order: {m}"
    );
    // Human: on stderr, the CLI's `error: ` form with the code at the end.
    let human = p.human("order place Desk --symbol EUR_USD --side buy --qty 10");
    assert_eq!(human.code, 3, "{}", human.stderr);
    assert!(human.stdout.is_empty(), "{}", human.stdout);
    assert!(
        human.stderr.starts_with("error: ") && human.stderr.contains("(risk_max_qty)"),
        "{}",
        human.stderr
    );
    // Nothing was stored; the refusal is audited; an order within the limit goes through.
    assert!(p.ok("order list Desk").as_array().unwrap().is_empty());
    let audit = p.ok("audit list --event risk_refused");
    assert_eq!(audit.as_array().unwrap().len(), 2, "{audit}");
    let ok = p.ok("order place Desk --symbol EUR_USD --side buy --qty 5");
    assert_eq!(ok["status"], "filled", "{ok}");

    // Allowed instruments: set, refused outside, cleared with an empty value.
    p.ok("account edit Desk --allowed-instruments EUR_USD,GBP_USD");
    p.json("order place Desk --symbol USD_JPY --side buy --qty 1")
        .expect_error(3, "risk_instrument_not_allowed");
    let cleared = p.ok_args(&["account", "edit", "Desk", "--allowed-instruments", ""]);
    assert_eq!(cleared["risk"]["allowedInstruments"], serde_json::json!([]));
    p.ok("order place Desk --symbol USD_JPY --side buy --qty 1");
}

#[test]
fn risk_show_prints_the_budgets_of_an_ftmo_account() {
    let p = Profile::new();
    p.init();
    let a = p.ok(
        "account add --name Prop --broker paper --env paper --prop-firm ftmo --initial-balance 100000 --safety-buffer 90 --warn-levels 60,90",
    );
    let pf = &a["propFirm"];
    assert_eq!(pf["preset"], "ftmo", "{a}");
    assert_eq!(num(&pf["initialBalance"]), 100_000.0);
    assert_eq!(pf["resetTimezone"], "Europe/Prague");
    assert_eq!(pf["dailyBreach"], "terminate");
    assert_eq!(pf["warnLevels"], serde_json::json!([60, 90]));
    assert_eq!(num(&pf["safetyBufferPct"]), 90.0);

    let r = p.ok("risk show Prop");
    for key in [
        "accountId",
        "name",
        "status",
        "mode",
        "preset",
        "currency",
        "balance",
        "equity",
        "initialBalance",
        "initialBalanceSource",
        "daily",
        "total",
        "dayStartedAt",
        "nextResetAt",
        "resetTimezone",
        "unmeasured",
        "at",
    ] {
        assert!(r.get(key).is_some(), "{key} missing from {r}");
    }
    assert_eq!(r["status"], "active");
    assert_eq!(r["preset"], "ftmo");
    assert_eq!(r["initialBalanceSource"], "configured");
    assert_eq!(r["resetTimezone"], "Europe/Prague");
    assert!(r["unmeasured"].is_null(), "{r}");
    let (daily, total) = (&r["daily"], &r["total"]);
    for b in [daily, total] {
        for key in [
            "limit",
            "used",
            "remaining",
            "usedPct",
            "reference",
            "floor",
            "trigger",
        ] {
            assert!(b[key].is_number(), "{key} is not a number in {b}");
        }
    }
    // 5% and 10% of 100 000; Brokerdesk acts at 90% of each (the safety buffer).
    assert_eq!(num(&daily["limit"]), 5_000.0);
    assert_eq!(num(&total["limit"]), 10_000.0);
    assert_eq!(num(&total["floor"]), 90_000.0);
    assert_eq!(num(&total["trigger"]), 91_000.0);
    assert_eq!(num(&total["remaining"]), 9_000.0);
    let start = r["dayStartedAt"].as_str().unwrap();
    let next = r["nextResetAt"].as_str().unwrap();
    assert!(start < next, "{start} < {next}");

    let human = p.human("risk show Prop");
    assert_eq!(human.code, 0, "{}", human.stderr);
    for s in [
        "daily",
        "total",
        "5000.00 (5%)",
        "10000.00 (10%)",
        "90000.00",
        "91000.00 (at 90.00% of the limit)",
        "Europe/Prague",
        "next reset",
        "initial balance 100000.00",
    ] {
        assert!(
            human.stdout.contains(s),
            "{s:?} missing from:\n{}",
            human.stdout
        );
    }

    // Changing the firm's clock makes the rules custom; the account's own settings stay.
    let e = p.ok("account edit Prop --reset-time 17:00 --reset-timezone America/New_York --max-loss-mode trailing --daily-breach pause --no-close-on-breach");
    let pf = &e["propFirm"];
    assert_eq!(pf["preset"], "custom", "{e}");
    assert_eq!(num(&pf["maxDailyLossPct"]), 5.0);
    assert_eq!(pf["resetTime"], "17:00");
    assert_eq!(pf["maxLossMode"], "trailing");
    assert_eq!(pf["closeOnBreach"], false);
    assert_eq!(num(&pf["initialBalance"]), 100_000.0);
    assert_eq!(p.ok("risk show Prop")["resetTimezone"], "America/New_York");
    // A preset again brings its clock back and keeps the initial balance; bad values name
    // their flag.
    // (Not a 1-Step preset: the accounts table's CHECK on prop_firm predates them, so the
    // store refuses to save one for now.)
    let back = p.ok("account edit Prop --prop-firm the5ers");
    assert_eq!(back["propFirm"]["preset"], "the5ers", "{back}");
    assert_eq!(back["propFirm"]["resetTimezone"], "America/New_York");
    assert_eq!(back["propFirm"]["resetTime"], "17:00");
    assert_eq!(
        back["propFirm"]["dailyBase"],
        "higher_of_equity_and_balance"
    );
    assert_eq!(num(&back["propFirm"]["initialBalance"]), 100_000.0);
    let bad = p.json("account edit Prop --reset-timezone Mars/Olympus");
    bad.expect_error(3, "validation");
    assert_eq!(bad.field_paths(), ["propFirm.resetTimezone"]);
    let bad = p.human("account edit Prop --warn-levels 50,150");
    assert_ne!(bad.code, 0);

    // An account without loss rules: no budgets, and the text says so.
    p.ok("account add --name Plain --broker paper --env paper");
    let plain = p.ok("risk show Plain");
    assert!(
        plain["daily"].is_null() && plain["total"].is_null(),
        "{plain}"
    );
    assert!(p
        .human("risk show Plain")
        .stdout
        .contains("Loss budgets: none"));
    p.json("risk show Nope").expect_error(4, "not_found");
}

#[test]
fn status_by_hand_follows_the_machine_and_reactivation_needs_a_step_up() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Desk --broker paper --env paper");
    p.ok("order place Desk --symbol EUR_USD --side buy --qty 3");
    let (mut phone, _, _) = crate::phone::enable_2fa(&p, PW);

    // Suspending needs no code; new positions are refused, reducing one is allowed.
    let s = p.ok_args(&[
        "account",
        "status",
        "Desk",
        "suspended",
        "--reason",
        "taking a break",
    ]);
    assert_eq!(s["status"], "suspended", "{s}");
    let last = s["statusHistory"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["reason"], "taking a break", "{s}");
    p.json("order place Desk --symbol EUR_USD --side buy --qty 1")
        .expect_error(3, "risk_account_suspended");
    let human = p.human("order place Desk --symbol GBP_USD --side buy --qty 1");
    assert_eq!(human.code, 3);
    assert!(
        human.stderr.contains("(risk_account_suspended)"),
        "{}",
        human.stderr
    );
    let reduce = p.ok("order place Desk --symbol EUR_USD --side sell --qty 1");
    assert_eq!(reduce["status"], "filled", "{reduce}");

    // Back to active: a fresh code is needed (this process has verified none).
    p.json("account status Desk active")
        .expect_error(5, "step_up_required");
    assert_eq!(p.ok("account show Desk")["status"], "suspended");
    let a = p.ok(&format!(
        "account status Desk active --totp {}",
        phone.fresh()
    ));
    assert_eq!(a["status"], "active");
    p.ok("order place Desk --symbol EUR_USD --side buy --qty 1");

    // Terminating is final: a script must say --yes; then nothing brings it back.
    p.json("account status Desk terminated")
        .expect_error(2, "usage");
    assert_eq!(p.ok("account show Desk")["status"], "active");
    let t = p.ok("account status Desk terminated --yes --reason breach");
    assert_eq!(t["status"], "terminated");
    p.json(&format!(
        "account status Desk active --totp {}",
        phone.fresh()
    ))
    .expect_error(3, "illegal_status_transition");
    let human = p.human("account status Desk suspended");
    assert_eq!(human.code, 3);
    assert!(
        human.stderr.starts_with("error: ") && human.stderr.contains("(illegal_status_transition)"),
        "{}",
        human.stderr
    );
    p.json("order place Desk --symbol EUR_USD --side sell --qty 1")
        .expect_error(3, "risk_account_terminated");
    // A terminated account's credentials can be purged; an active one's cannot this way.
    p.json("account status Desk suspended --purge-credentials --yes")
        .expect_error(2, "usage");
    let purged = p.ok("account status Desk terminated --purge-credentials --yes");
    assert_eq!(purged["status"], "terminated");
    assert_eq!(purged["credentials"], serde_json::json!([]));
    p.json("account status Desk sideways")
        .expect_error(2, "usage");
    let shown = p.human("account show Desk");
    assert!(
        shown.stdout.contains("terminated (breach, since"),
        "{}",
        shown.stdout
    );
    let audit = p.ok("audit list --event status_changed");
    assert!(audit.as_array().unwrap().len() >= 3, "{audit}");
}

#[test]
fn the_kill_switch_cancels_resting_orders_and_suspends_every_account() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Desk --broker paper --env paper");
    p.ok("account add --name Other --broker paper --env paper");
    let rest = p.ok(
        "order place Desk --symbol EUR_USD --side buy --qty 1000 --type limit --price 0.5 --tif gtc",
    );
    assert_eq!(rest["status"], "open", "{rest}");
    let rest_id = rest["id"].as_str().unwrap().to_string();

    // A script must say --yes: nothing happens without it.
    p.json("kill-switch").expect_error(2, "usage");
    assert_eq!(p.human("kill-switch").code, 2);
    assert_eq!(open_orders(&p, "Desk").len(), 1);
    assert_eq!(p.ok("account show Desk")["status"], "active");

    let r = p.ok("kill-switch --yes");
    assert_eq!(r["flatten"], false);
    assert_eq!(r["failures"], 0, "{r}");
    assert!(
        r["elapsedMs"].is_number() && r["startedAt"].is_string(),
        "{r}"
    );
    let accounts = r["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{r}");
    let desk = accounts.iter().find(|a| a["name"] == "Desk").unwrap();
    assert_eq!(desk["status"], "suspended");
    assert_eq!(desk["wasLive"], false);
    assert!(desk["error"].is_null(), "{desk}");
    let orders = desk["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{desk}");
    assert_eq!(orders[0]["orderId"], rest_id.as_str());
    assert_eq!(orders[0]["outcome"], "cancelled");
    assert_eq!(orders[0]["symbol"], "EUR_USD");
    assert_eq!(desk["positions"], serde_json::json!([]));

    assert!(open_orders(&p, "Desk").is_empty());
    for name in ["Desk", "Other"] {
        let a = p.ok(&format!("account show {name}"));
        assert_eq!(a["status"], "suspended", "{a}");
        assert_eq!(a["mode"], "paper", "{a}");
    }
    p.json("order place Desk --symbol EUR_USD --side buy --qty 1")
        .expect_error(3, "risk_account_suspended");
    let audit = p.ok("audit list --event kill_switch");
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");

    // Human: the report, per account and order; run again, nothing is left to cancel.
    let human = p.human("kill-switch --yes");
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.starts_with("Kill switch: 2 accounts"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("Desk ("), "{}", human.stdout);
    assert!(human.stdout.contains("no open orders"), "{}", human.stdout);
    assert!(human.stdout.contains("0 failures"), "{}", human.stdout);
}

#[test]
fn the_kill_switch_with_flatten_closes_live_positions_at_the_broker() {
    let sim = Sim::start();
    let url = sim.url();
    let acct = oanda::DEMO_ACCOUNTS[0];
    let p = Profile::new();
    p.init();
    p.ok(&format!(
        "account add --name Fx --broker oanda --env practice --api-key {} --account-id {acct} --rest-url {url} --stream-url {url}",
        oanda::DEMO_TOKEN
    ));
    let (_, _, codes) = crate::phone::enable_2fa(&p, PW);
    assert_eq!(
        p.ok(&format!("mode Fx live --totp {}", codes[0]))["mode"],
        "live"
    );
    let buy = p.ok("order place Fx --symbol EUR_USD --side buy --qty 1000");
    assert_eq!(buy["mode"], "live", "{buy}");
    assert_eq!(buy["status"], "filled", "{buy}");
    let rest = p.ok(
        "order place Fx --symbol EUR_USD --side buy --qty 1000 --type limit --price 0.5 --tif gtc",
    );
    assert_eq!(rest["status"], "open", "{rest}");

    let r = p.ok("kill-switch --yes --flatten");
    assert_eq!(r["flatten"], true);
    assert_eq!(r["failures"], 0, "{r}");
    let fx = &r["accounts"][0];
    assert_eq!(fx["wasLive"], true, "{r}");
    assert_eq!(fx["status"], "suspended");
    assert_eq!(fx["orders"][0]["outcome"], "cancelled", "{r}");
    let positions = fx["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{r}");
    assert_eq!(positions[0]["symbol"], "EUR_USD");
    assert_eq!(positions[0]["outcome"], "closed", "{r}");
    assert_eq!(positions[0]["quantity"].to_string(), "1000");

    let a = p.ok("account show Fx");
    assert_eq!(a["mode"], "paper");
    assert_eq!(a["status"], "suspended");
    // The broker holds nothing any more.
    let get = |path: &str| {
        sim.rt.block_on(async {
            reqwest::Client::new()
                .get(format!("{url}/v3/accounts/{acct}/{path}"))
                .bearer_auth(oanda::DEMO_TOKEN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let (pending, open) = (get("pendingOrders"), get("openPositions"));
    assert_eq!(
        pending["orders"].as_array().map(Vec::len),
        Some(0),
        "{pending}"
    );
    assert_eq!(
        open["positions"].as_array().map(Vec::len),
        Some(0),
        "{open}"
    );
}
