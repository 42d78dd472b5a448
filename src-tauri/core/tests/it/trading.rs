//! Trading through the runtime: the built-in paper broker on its simulated market (market,
//! limit, bracket, close, reset), paper mode on a broker account that sends the broker
//! nothing, and live orders against the OANDA simulator (filled; a 500 → unknown → looked up
//! → Needs review, never resent; a slow answer → unknown → found by its client order id).

use std::sync::Arc;
use std::time::Duration;

use crate::common::{base32_decode, phone_code};
use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment, TradingMode};
use brokerdesk_core::brokers::OrderSide;
use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::trading::model::OrderStatus;
use brokerdesk_core::trading::OrderDraft;
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Code, Secret};
use brokerdesk_sim::{oanda, Fault, Faults, SimServer};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const PASSWORD: &str = "correct horse battery staple";

async fn runtime() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let rt = start(dir.path(), true).await;
    (dir, rt)
}

/// Opens the profile in `dir` (creating its vault when `new`, else unlocking it) and starts
/// a runtime on it: no auto-lock, no risk watcher.
async fn start(dir: &std::path::Path, new: bool) -> Arc<Runtime> {
    start_with(dir, new, RuntimeOptions::default()).await
}

/// [`start`] with `options` (auto-lock and the risk watcher still off).
async fn start_with(dir: &std::path::Path, new: bool, options: RuntimeOptions) -> Arc<Runtime> {
    let bd = Arc::new(Brokerdesk::open(dir, Arc::new(NoKeychain)).await.unwrap());
    if new {
        bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    } else {
        bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    }
    Runtime::start(
        bd,
        RuntimeOptions {
            auto_lock: false,
            risk_watch: false,
            ..options
        },
    )
    .await
}

/// Adds an OANDA account on `sim` to `rt` and makes it live; returns its id.
async fn live_oanda(rt: &Runtime, sim: &SimServer) -> String {
    let acct = rt
        .core()
        .account_add(oanda_account(&sim.url()))
        .await
        .unwrap();
    go_live(rt, &acct.id).await;
    acct.id
}

/// Sends `body` to the OANDA simulator `sim` as the broker's website would (not through
/// Brokerdesk): `method` on `path` below the demo account, answered JSON.
async fn at_broker(
    sim: &SimServer,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let url = format!(
        "{}/v3/accounts/{}{path}",
        sim.url(),
        oanda::DEMO_ACCOUNTS[0]
    );
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(oanda::DEMO_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

async fn sim() -> SimServer {
    let faults = Faults::new();
    SimServer::start(
        oanda::router(oanda::SimState::demo(faults.clone())),
        faults,
        0,
    )
    .await
    .unwrap()
}

fn oanda_account(url: &str) -> AccountInput {
    let mut a = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(oanda::DEMO_TOKEN));
    a.broker_account_id = Some(oanda::DEMO_ACCOUNTS[0].into());
    a.rest_url = Some(url.to_string());
    a.stream_url = Some(url.to_string());
    a.instruments = vec!["EUR_USD".into()];
    a
}

/// Makes the account live the way a trader must: 2FA on (enabling it opens the step-up
/// window), then the switch, which checks the credentials with the broker itself.
pub(crate) async fn go_live(rt: &Runtime, id: &str) {
    // Refused without 2FA, whatever else is in order.
    let e = rt
        .core()
        .account_set_mode(id, TradingMode::Live)
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::LiveNeedsTwofa);
    let setup = rt.core().twofa_setup().await.unwrap();
    let secret = base32_decode(&setup.secret);
    rt.core().twofa_enable(&phone_code(&secret)).await.unwrap();
    let a = rt
        .core()
        .account_set_mode(id, TradingMode::Live)
        .await
        .unwrap();
    assert_eq!(a.mode, TradingMode::Live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_paper_broker_trades_its_simulated_market() {
    let (_dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    assert!(
        acct.instruments.contains(&"EUR_USD".to_string()),
        "a default watchlist"
    );

    let buy = rt
        .order_place(
            &acct.id,
            OrderDraft::market("EUR_USD", OrderSide::Buy, "10000"),
        )
        .await
        .unwrap();
    assert_eq!(buy.status, OrderStatus::Filled, "{buy:?}");
    assert_eq!(buy.filled_qty, dec!(10000));
    assert!(buy.avg_fill_price.is_some());

    // A limit far below the market rests; a bracket rides on it.
    let mut rest = OrderDraft::limit("AAPL", OrderSide::Buy, "5", "1.00");
    rest.stop_loss = Some("0.50".into());
    rest.take_profit = Some("2.00".into());
    let rest = rt.order_place(&acct.id, rest).await.unwrap();
    assert_eq!(rest.status, OrderStatus::Open);
    let open = rt.orders_list(&acct.id, true).await.unwrap();
    assert!(open.iter().any(|o| o.id == rest.id));

    let money = rt.account_money(&acct.id).await.unwrap();
    assert_eq!(money.source, "paper");
    let p = money
        .positions
        .iter()
        .find(|p| p.symbol == "EUR_USD")
        .unwrap();
    assert_eq!(p.quantity, dec!(10000));
    // Marked to the streamed quote, with an unrealised P&L and a complete picture.
    assert!(p.mark_price.is_some(), "{money:?}");
    assert!(p.unrealized_pnl.is_some(), "{money:?}");
    assert!(money.complete, "{money:?}");
    assert_ne!(money.margin_used, Some(Decimal::ZERO), "{money:?}");
    // Still marked after the change watcher reloaded the desk from the store (the order
    // changed the database's order counter).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let money = rt.account_money(&acct.id).await.unwrap();
    let p = money
        .positions
        .iter()
        .find(|p| p.symbol == "EUR_USD")
        .unwrap();
    assert!(p.mark_price.is_some(), "after a reload: {money:?}");
    assert!(money.complete, "after a reload: {money:?}");

    // Close the position; cancel the resting order (its bracket goes with it).
    let close = rt.position_close(&acct.id, "EUR_USD").await.unwrap();
    assert_eq!(close.status, OrderStatus::Filled);
    assert_eq!(close.side, OrderSide::Sell);
    let cancelled = rt.order_cancel(&acct.id, &rest.id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let detail = rt.order_show(&acct.id, &buy.id).await.unwrap();
    assert_eq!(detail.fills.len(), 1);
    assert!(detail
        .events
        .iter()
        .any(|e| e.status == OrderStatus::Filled));

    // A symbol the market does not have: no_quote, and the order is not left working.
    let e = rt
        .order_place(&acct.id, OrderDraft::market("NOPE", OrderSide::Buy, "1"))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::NoQuote);
    assert!(rt.orders_list(&acct.id, true).await.unwrap().is_empty());

    // Invalid drafts are refused before anything is stored.
    let e = rt
        .order_place(&acct.id, OrderDraft::market("EUR_USD", OrderSide::Buy, "0"))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::Validation);
    assert_eq!(e.fields[0].field, "quantity");

    let money = rt.paper_reset(&acct.id, Some(dec!(50000))).await.unwrap();
    assert_eq!(money.balance, Some(dec!(50000)));
    assert!(money.positions.is_empty());
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_mode_on_a_broker_account_sends_the_broker_no_order() {
    let sim = sim().await;
    let (_dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(oanda_account(&sim.url()))
        .await
        .unwrap();
    assert_eq!(acct.mode, TradingMode::Paper);
    let before = sim.faults().requests();
    let buy = rt
        .order_place(
            &acct.id,
            OrderDraft::market("EUR_USD", OrderSide::Buy, "1000"),
        )
        .await
        .unwrap();
    assert_eq!(buy.status, OrderStatus::Filled, "{buy:?}");
    assert_eq!(buy.mode, TradingMode::Paper);
    assert!(buy.broker_order_id.is_none());
    assert_eq!(
        sim_units(&sim).await,
        0,
        "the simulator received an order in paper mode"
    );
    assert_eq!(
        sim.faults().order_requests(),
        0,
        "an order request reached the simulator in paper mode"
    );
    assert!(sim.faults().requests() >= before, "it streamed prices");
    rt.shutdown().await;
}

/// Waits (up to `secs`) until an order reaches `status`; returns it then.
async fn until_status(
    rt: &Runtime,
    account: &str,
    order: &str,
    status: OrderStatus,
    secs: u64,
) -> brokerdesk_core::trading::model::Order {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let o = rt.order_show(account, order).await.unwrap().order;
        if o.status == status {
            return o;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {:?}, waiting for {status:?}",
            o.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (20 s at most) until the account's open orders include the broker's order
/// `broker_id` (recorded by reconciliation); returns it.
async fn until_reconciled(
    rt: &Runtime,
    account: &str,
    broker_id: &str,
) -> brokerdesk_core::trading::model::Order {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = rt.orders_list(account, true).await.unwrap();
        if let Some(o) = list
            .iter()
            .find(|o| o.broker_order_id.as_deref() == Some(broker_id))
        {
            return o.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reconciled: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The demo account's net EUR_USD units at the OANDA simulator: what reached the broker
/// (every order here is a market buy, filled at once).
async fn sim_units(sim: &SimServer) -> i64 {
    let v = at_broker(sim, reqwest::Method::GET, "/openPositions", None).await;
    v["positions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["instrument"] == "EUR_USD")
        .map(|p| {
            p["long"]["units"]
                .as_str()
                .unwrap_or("0")
                .parse::<i64>()
                .unwrap_or(0)
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_orders_reach_the_broker_once_and_unknown_ones_are_looked_up() {
    let sim = sim().await;
    let (_dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(oanda_account(&sim.url()))
        .await
        .unwrap();
    go_live(&rt, &acct.id).await;

    let buy = rt
        .order_place(
            &acct.id,
            OrderDraft::market("EUR_USD", OrderSide::Buy, "1000"),
        )
        .await
        .unwrap();
    assert_eq!(buy.mode, TradingMode::Live);
    assert!(buy.broker_order_id.is_some(), "{buy:?}");
    assert!(
        matches!(buy.status, OrderStatus::Filled | OrderStatus::Open),
        "{buy:?}"
    );
    // Its fill is recorded from the broker's cumulative fill, once.
    let filled = until_status(&rt, &acct.id, &buy.id, OrderStatus::Filled, 10).await;
    let fills = rt.order_show(&acct.id, &buy.id).await.unwrap().fills;
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!(fills[0].quantity, dec!(1000));
    assert_eq!(Some(fills[0].price), filled.avg_fill_price);

    // A 500 from the broker: unknown, looked up by its client order id, never resent; the
    // broker never had it, so it ends in Needs review.
    sim.faults().set(Some(Fault::ServerError(500)));
    let lost = rt
        .order_place(
            &acct.id,
            OrderDraft::market("EUR_USD", OrderSide::Buy, "2000"),
        )
        .await
        .unwrap();
    assert_eq!(lost.status, OrderStatus::Unknown, "{lost:?}");
    sim.faults().set(None);
    let o = until_status(&rt, &acct.id, &lost.id, OrderStatus::NeedsReview, 40).await;
    assert!(
        o.reason.as_deref().unwrap_or("").contains("lookups"),
        "{o:?}"
    );
    let review = rt.review_list().await.unwrap();
    assert!(review.iter().any(|o| o.id == lost.id));
    assert_eq!(
        sim_units(&sim).await,
        1000,
        "only the first order reached the broker, once"
    );

    // The trader says it was not placed: cancelled here, nothing sent.
    let resolved = rt.review_resolve(&lost.id, None).await.unwrap();
    assert_eq!(resolved.status, OrderStatus::Cancelled);
    assert_eq!(sim_units(&sim).await, 1000);

    // A resting limit, then cancelled at the broker behind Brokerdesk's back: the worker reads
    // working orders back every second, so the change shows without anyone asking.
    let resting = rt
        .order_place(
            &acct.id,
            OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "0.5"),
        )
        .await
        .unwrap();
    assert_eq!(resting.status, OrderStatus::Open, "{resting:?}");
    let broker_id = resting.broker_order_id.clone().unwrap();
    at_broker(
        &sim,
        reqwest::Method::PUT,
        &format!("/orders/{broker_id}/cancel"),
        None,
    )
    .await;
    until_status(&rt, &acct.id, &resting.id, OrderStatus::Cancelled, 5).await;
    rt.shutdown().await;
}

/// A cancel the broker does not answer (a 500) is queued, not lost: the order worker sends it
/// again with backoff, also after a restart, until the broker confirms; one that is never
/// answered ends in Needs review with what to do. Nothing else is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_the_broker_does_not_answer_is_retried_until_confirmed_even_after_a_restart() {
    let sim = sim().await;
    let (dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(oanda_account(&sim.url()))
        .await
        .unwrap();
    go_live(&rt, &acct.id).await;
    let limit = || OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "0.5");
    let never = rt.order_place(&acct.id, limit()).await.unwrap();
    let later = rt.order_place(&acct.id, limit()).await.unwrap();
    assert_eq!(later.status, OrderStatus::Open, "{later:?}");

    sim.faults().set(Some(Fault::ServerError(500)));
    for o in [&never, &later] {
        let e = rt.order_cancel(&acct.id, &o.id).await.unwrap_err();
        assert_eq!(e.code, Code::CancelPending, "{e:?}");
        assert!(e.message.contains("retrying"), "{e:?}");
    }
    // Asked again while queued: still pending, queued once.
    let again = rt.order_cancel(&acct.id, &later.id).await.unwrap_err();
    assert_eq!(again.code, Code::CancelPending);
    let detail = rt.order_show(&acct.id, &later.id).await.unwrap();
    let queued_notes = detail
        .events
        .iter()
        .filter(|e| e.detail.contains("cancel requested"))
        .count();
    assert_eq!(queued_notes, 1, "{:?}", detail.events);

    // One cancel has had all its tries but the last (aged by hand): the broker still answers
    // 500, so it goes to Needs review with what to do.
    crate::common::sqlite(
        dir.path(),
        &format!(
            "UPDATE cancel_queue SET attempts = 7, next_at = '2000-01-01T00:00:00Z' WHERE order_id = '{}'",
            never.id
        ),
    );
    let reviewed = until_status(&rt, &acct.id, &never.id, OrderStatus::NeedsReview, 10).await;
    let reason = reviewed.reason.unwrap_or_default();
    assert!(reason.contains("sent 8 times"), "{reason}");
    assert!(
        reason.contains(never.broker_order_id.as_deref().unwrap()),
        "{reason}"
    );

    // Brokerdesk stops with the other cancel queued; the broker recovers; at the next start
    // the queue is still there and the worker finishes it.
    rt.shutdown().await;
    rt.core().close().await;
    drop(rt);
    sim.faults().set(None);
    let rt = start(dir.path(), false).await;
    let done = until_status(&rt, &acct.id, &later.id, OrderStatus::Cancelled, 15).await;
    let detail = rt.order_show(&acct.id, &done.id).await.unwrap();
    assert!(
        detail
            .events
            .iter()
            .any(|e| e.detail.starts_with("cancel confirmed by the broker")),
        "{:?}",
        detail.events
    );
    rt.shutdown().await;
}

/// An order placed at the broker outside Brokerdesk (here: straight at the OANDA simulator)
/// appears on the live account as an `external` order with the broker's type and price, is
/// followed like any working order (a cancel made at the broker shows), and Brokerdesk's own
/// orders are never recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_placed_outside_brokerdesk_appear_as_external_and_are_followed() {
    use brokerdesk_core::trading::model::{OrderKind, Origin};
    let sim = sim().await;
    let (_dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(oanda_account(&sim.url()))
        .await
        .unwrap();
    go_live(&rt, &acct.id).await;
    let ours = rt
        .order_place(
            &acct.id,
            OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "0.5"),
        )
        .await
        .unwrap();
    let placed = at_broker(&sim, reqwest::Method::POST, "/orders", Some(serde_json::json!({"order": {"type": "LIMIT", "instrument": "EUR_USD",
            "units": "-2500", "price": "9.50000", "timeInForce": "GTC", "positionFill": "DEFAULT"}}))).await;
    let broker_id = placed["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let external = until_reconciled(&rt, &acct.id, &broker_id).await;
    assert_eq!(external.origin, Origin::External);
    assert_eq!(external.mode, TradingMode::Live);
    assert_eq!(external.status, OrderStatus::Open);
    assert_eq!(external.order_type, OrderKind::Limit);
    assert_eq!(external.side, OrderSide::Sell);
    assert_eq!(external.quantity, dec!(2500));
    assert_eq!(external.limit_price, Some(dec!(9.5)));
    // Ours is not recorded a second time, and stays Brokerdesk's.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let all = rt.orders_list(&acct.id, false).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all
        .iter()
        .any(|o| o.id == ours.id && o.origin == Origin::Brokerdesk));

    // Cancelled at the broker: followed like any working order.
    at_broker(
        &sim,
        reqwest::Method::PUT,
        &format!("/orders/{broker_id}/cancel"),
        None,
    )
    .await;
    until_status(&rt, &acct.id, &external.id, OrderStatus::Cancelled, 5).await;
    rt.shutdown().await;
}

/// Changing a resting paper order: its quantity and price change in the paper engine, the
/// history says what changed, a change to an order that is not open or to nothing is
/// refused, and a limit moved through the market fills at its new price or better.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resting_paper_order_can_be_changed_and_then_fills_at_its_new_price() {
    use brokerdesk_core::trading::modify::OrderModify;
    let (_dir, rt) = runtime().await;
    let acct = rt
        .core()
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    let rest = rt
        .order_place(
            &acct.id,
            OrderDraft::limit("AAPL", OrderSide::Buy, "5", "1.00"),
        )
        .await
        .unwrap();
    assert_eq!(rest.status, OrderStatus::Open);

    let changed = rt
        .order_modify(
            &acct.id,
            &rest.id,
            OrderModify {
                quantity: Some("7".into()),
                price: Some("1.50".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.id, rest.id, "a paper order changes in place");
    assert_eq!(changed.status, OrderStatus::Open);
    assert_eq!(changed.quantity, dec!(7));
    assert_eq!(changed.limit_price, Some(dec!(1.5)));
    let detail = rt.order_show(&acct.id, &rest.id).await.unwrap();
    assert!(
        detail
            .events
            .iter()
            .any(|e| e.detail.contains("quantity 5 → 7") && e.detail.contains("limit 1 → 1.5")),
        "{:?}",
        detail.events
    );

    // Nothing to change, a bad price, a market order: refused, nothing changed.
    let e = rt
        .order_modify(&acct.id, &rest.id, OrderModify::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::Validation, "{e:?}");
    let e = rt
        .order_modify(
            &acct.id,
            &rest.id,
            OrderModify {
                quantity: None,
                price: Some("-3".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::Validation, "{e:?}");
    let filled = rt
        .order_place(&acct.id, OrderDraft::market("AAPL", OrderSide::Buy, "1"))
        .await
        .unwrap();
    let e = rt
        .order_modify(
            &acct.id,
            &filled.id,
            OrderModify {
                quantity: Some("2".into()),
                price: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::OrderNotOpen, "{e:?}");
    let still = rt.order_show(&acct.id, &rest.id).await.unwrap().order;
    assert_eq!(
        (still.quantity, still.limit_price),
        (dec!(7), Some(dec!(1.5)))
    );

    // Moved through the market, it fills at the new limit or better.
    let ask = filled.avg_fill_price.unwrap();
    let through = (ask * dec!(2)).round_dp(2);
    rt.order_modify(
        &acct.id,
        &rest.id,
        OrderModify {
            quantity: None,
            price: Some(through.to_string()),
        },
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let done = loop {
        let o = rt.order_show(&acct.id, &rest.id).await.unwrap().order;
        if o.status == OrderStatus::Filled || std::time::Instant::now() > deadline {
            break o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done.status, OrderStatus::Filled, "{done:?}");
    assert_eq!(done.filled_qty, dec!(7));
    assert!(done.avg_fill_price.unwrap() <= through, "{done:?}");
    // Filled: no more changes.
    let e = rt
        .order_modify(
            &acct.id,
            &rest.id,
            OrderModify {
                quantity: Some("9".into()),
                price: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::OrderNotOpen);
}

/// When a live account's order session comes back after a drop, its orders are reconciled at
/// once: an order placed at the broker while Brokerdesk could not reach it (here through a
/// second door onto the same simulated broker, "the broker's website") appears, and its
/// history says it was found when the account reconnected — not by the periodic look, which
/// skips accounts that are not connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnected_account_is_reconciled_at_once() {
    use brokerdesk_core::connection::manager::{Channel, ManagerOptions};
    use brokerdesk_core::connection::{Backoff, ConnState};
    use brokerdesk_core::trading::model::Origin;
    let door = Faults::new();
    let state = Arc::new(oanda::SimState::demo(Faults::new()));
    let sim = SimServer::start(oanda::router(state.clone()), door.clone(), 0)
        .await
        .unwrap();
    let website = SimServer::start(oanda::router(state), Faults::new(), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        manager: ManagerOptions {
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_millis(300),
            },
            keepalive: Duration::from_millis(200),
            ..ManagerOptions::default()
        },
        ..RuntimeOptions::default()
    };
    let rt = start_with(dir.path(), true, options).await;
    let id = live_oanda(&rt, &sim).await;
    let order_state = || rt.manager().state(&id, Channel::Order);
    let wait = |what: &'static str, want: bool| {
        let order_state = &order_state;
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while (order_state() == Some(ConnState::Connected)) != want {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{what}: {:?}",
                    order_state()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait("connected at first", true).await;
    // The order worker looks at the connected accounts every second: let it see this one.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // The broker goes out of reach; meanwhile an order is placed at its website.
    door.go_down_for(Duration::from_secs(3));
    wait("down", false).await;
    let placed = at_broker(
        &website,
        reqwest::Method::POST,
        "/orders",
        Some(
            serde_json::json!({"order": {"type": "LIMIT", "instrument": "EUR_USD",
            "units": "700", "price": "0.60000", "timeInForce": "GTC", "positionFill": "DEFAULT"}}),
        ),
    )
    .await;
    let broker_id = placed["orderCreateTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Not found while the account is away.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if order_state() != Some(ConnState::Connected) {
        let list = rt.orders_list(&id, false).await.unwrap();
        assert!(list.is_empty(), "{list:?}");
    }

    wait("back", true).await;
    let found = until_reconciled(&rt, &id, &broker_id).await;
    assert_eq!(found.origin, Origin::External);
    let detail = rt.order_show(&id, &found.id).await.unwrap();
    assert!(
        detail.events[0]
            .detail
            .contains("found at the broker when the account reconnected"),
        "{:?}",
        detail.events
    );
    rt.shutdown().await;
}

/// A live account's order-event stream (OANDA's transaction stream) brings a cancel made at
/// the broker to the order at once, ahead of the read-back (which slows to every
/// 5 s while the stream is open); the order's history says where it came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_event_stream_brings_a_change_at_the_broker_within_a_second() {
    let sim = sim().await;
    let (_dir, rt) = runtime().await;
    let id = live_oanda(&rt, &sim).await;
    // The worker looks at the connected accounts every second, then opens the stream.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let rest = rt
        .order_place(
            &id,
            OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "0.5"),
        )
        .await
        .unwrap();
    assert_eq!(rest.status, OrderStatus::Open, "{rest:?}");
    let broker_id = rest.broker_order_id.clone().unwrap();
    at_broker(
        &sim,
        reqwest::Method::PUT,
        &format!("/orders/{broker_id}/cancel"),
        None,
    )
    .await;
    // Within a second here; the margin is for a busy test machine, and the history below
    // proves it was the stream, not the 5 s read-back.
    let o = until_status(&rt, &id, &rest.id, OrderStatus::Cancelled, 3).await;
    let detail = rt.order_show(&id, &o.id).await.unwrap();
    assert!(
        detail
            .events
            .iter()
            .any(|e| e.status == OrderStatus::Cancelled
                && e.detail.contains("reported by the broker's event stream")),
        "{:?}",
        detail.events
    );
    rt.shutdown().await;
}

/// Changing a live order at OANDA, which replaces orders: the replacement is a new order
/// (new ids, `replaces` naming the original) and the original is marked replaced; a change
/// answered with a 500 after the broker made it leaves the replacement `unknown` until it is
/// found by its client order id — and the broker never holds two of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_order_changed_at_a_replacing_broker_is_replaced_never_doubled() {
    use brokerdesk_core::trading::modify::OrderModify;
    use brokerdesk_sim::OrderFault;
    let sim = sim().await;
    let (_dir, rt) = runtime().await;
    let id = live_oanda(&rt, &sim).await;
    let pending_at_broker = || async {
        let v = at_broker(&sim, reqwest::Method::GET, "/pendingOrders", None).await;
        v["orders"].as_array().cloned().unwrap_or_default()
    };
    let rest = rt
        .order_place(
            &id,
            OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "0.5"),
        )
        .await
        .unwrap();
    assert_eq!(rest.status, OrderStatus::Open, "{rest:?}");

    let change = |qty: Option<&str>, price: &str| OrderModify {
        quantity: qty.map(str::to_string),
        price: Some(price.to_string()),
    };
    let r1 = rt
        .order_modify(&id, &rest.id, change(Some("1500"), "0.55"))
        .await
        .unwrap();
    assert_ne!(r1.id, rest.id, "a replacement");
    assert_eq!(r1.replaces.as_deref(), Some(rest.id.as_str()));
    assert_ne!(r1.client_order_id, rest.client_order_id);
    assert_ne!(r1.broker_order_id, rest.broker_order_id);
    assert_eq!(r1.status, OrderStatus::Open, "{r1:?}");
    assert_eq!(
        (r1.quantity, r1.limit_price),
        (dec!(1500), Some(dec!(0.55)))
    );
    let original = rt.order_show(&id, &rest.id).await.unwrap().order;
    assert_eq!(original.status, OrderStatus::Cancelled);
    assert!(
        original
            .reason
            .as_deref()
            .unwrap_or("")
            .contains(&format!("replaced by order {}", r1.id)),
        "{original:?}"
    );
    let at_broker = pending_at_broker().await;
    assert_eq!(at_broker.len(), 1, "{at_broker:?}");
    assert_eq!(at_broker[0]["units"], "1500");

    // The broker makes the change, then answers 500: the replacement is unknown, then found.
    sim.faults()
        .set_order_fault(Some(OrderFault::AcceptThen500));
    let r2 = rt
        .order_modify(&id, &r1.id, change(None, "0.56"))
        .await
        .unwrap();
    sim.faults().set_order_fault(None);
    assert_eq!(r2.status, OrderStatus::Unknown, "{r2:?}");
    assert_eq!(r2.replaces.as_deref(), Some(r1.id.as_str()));
    let r2 = until_status(&rt, &id, &r2.id, OrderStatus::Open, 20).await;
    assert_eq!(r2.limit_price, Some(dec!(0.56)));
    until_status(&rt, &id, &r1.id, OrderStatus::Cancelled, 10).await;
    let at_broker = pending_at_broker().await;
    assert_eq!(at_broker.len(), 1, "never two: {at_broker:?}");
    assert_eq!(at_broker[0]["price"], "0.56000");

    // A final order, or a market one, cannot be changed.
    let e = rt
        .order_modify(&id, &rest.id, change(None, "0.6"))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::OrderNotOpen, "{e:?}");
    rt.shutdown().await;
}
