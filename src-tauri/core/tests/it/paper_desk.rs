//! The paper desk on a real profile: fills are durable (order, fill, position and cash in
//! one transaction), a restart resumes open orders and brackets where they were, and two
//! desks on one profile (the app and the CLI) never both fill the same order.

use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment, TradingMode};
use brokerdesk_core::paper::{FeedStatus, Quote};
use brokerdesk_core::trading::model::{
    new_client_order_id, Order, OrderKind, OrderStatus, Origin, Side, TimeInForce,
};
use brokerdesk_core::trading::paper_desk::PaperDesk;
use brokerdesk_core::trading::store;
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

async fn profile() -> (tempfile::TempDir, Brokerdesk, String) {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new("correct horse battery staple")))
        .await
        .unwrap();
    let a = bd
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    (dir, bd, a.id)
}

fn order(
    account: &str,
    side: Side,
    qty: Decimal,
    kind: OrderKind,
    price: Option<Decimal>,
) -> Order {
    let now = Utc::now();
    Order {
        id: uuid_like(),
        account_id: account.to_string(),
        client_order_id: new_client_order_id(),
        broker_order_id: None,
        mode: TradingMode::Paper,
        origin: Origin::Brokerdesk,
        symbol: "EUR_USD".into(),
        side,
        order_type: kind,
        quantity: qty,
        limit_price: if kind == OrderKind::Limit {
            price
        } else {
            None
        },
        stop_price: if kind == OrderKind::Stop { price } else { None },
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
        parent_id: None,
        replaces: None,
        status: OrderStatus::Pending,
        filled_qty: Decimal::ZERO,
        avg_fill_price: None,
        reason: None,
        broker_status: None,
        sent_at: None,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

fn uuid_like() -> String {
    new_client_order_id().trim_start_matches("bd-").to_string()
}

async fn stored(bd: &Brokerdesk, o: &Order) -> Order {
    let mut conn = bd.store().pool().acquire().await.unwrap();
    store::insert(&mut conn, o, "intent stored").await.unwrap();
    store::get(&mut conn, &o.id).await.unwrap().unwrap()
}

async fn get(bd: &Brokerdesk, id: &str) -> Order {
    let mut conn = bd.store().pool().acquire().await.unwrap();
    store::get(&mut conn, id).await.unwrap().unwrap()
}

fn quote(bid: Decimal, ask: Decimal, secs: i64) -> Quote {
    Quote::new("EUR_USD", bid, ask, Utc::now() + Duration::seconds(secs))
}

#[tokio::test]
async fn a_market_order_fills_durably_and_survives_a_restart() {
    let (_dir, bd, account) = profile().await;
    let store = bd.store();
    let mut desk = PaperDesk::load(&store, &account).await.unwrap();
    let buy = stored(
        &bd,
        &order(&account, Side::Buy, dec!(10000), OrderKind::Market, None),
    )
    .await;
    desk.place(&store, &buy).await.unwrap();
    assert_eq!(get(&bd, &buy.id).await.status, OrderStatus::Open);
    // A quote older than the order does not fill it.
    let changed = desk
        .on_quote(
            &store,
            quote(dec!(1.08000), dec!(1.08010), -5),
            Utc::now(),
            FeedStatus::Fresh,
        )
        .await
        .unwrap();
    assert!(changed.is_empty());
    let q = quote(dec!(1.08100), dec!(1.08110), 1);
    let changed = desk
        .on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    let filled = get(&bd, &buy.id).await;
    assert_eq!(filled.status, OrderStatus::Filled, "{changed:?}");
    assert_eq!(filled.avg_fill_price, Some(dec!(1.0811)));
    assert_eq!(filled.filled_qty, dec!(10000));

    // A fresh desk (a restart) sees the position and the cash.
    let again = PaperDesk::load(&store, &account).await.unwrap();
    let s = again.summary(q.time);
    assert_eq!(s.positions.len(), 1);
    assert_eq!(s.positions[0].quantity, dec!(10000));
    assert_eq!(s.balance, dec!(100000));
    bd.close().await;
}

#[tokio::test]
async fn a_resting_bracket_resumes_after_a_restart() {
    let (_dir, bd, account) = profile().await;
    let store = bd.store();
    let mut desk = PaperDesk::load(&store, &account).await.unwrap();
    let mut buy = order(
        &account,
        Side::Buy,
        dec!(10000),
        OrderKind::Limit,
        Some(dec!(1.08000)),
    );
    buy.stop_loss = Some(dec!(1.07500));
    buy.take_profit = Some(dec!(1.08500));
    let buy = stored(&bd, &buy).await;
    desk.place(&store, &buy).await.unwrap();
    // The limit fills; its children go live.
    let q = quote(dec!(1.07990), dec!(1.08000), 1);
    desk.on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    assert_eq!(get(&bd, &buy.id).await.status, OrderStatus::Filled);
    let tp = get(&bd, &format!("{}:tp", buy.id)).await;
    assert_eq!(tp.parent_id.as_deref(), Some(buy.id.as_str()));
    assert_eq!(tp.quantity, dec!(10000));
    drop(desk);

    // Restart: the take-profit still works and closes the position.
    let mut desk = PaperDesk::load(&store, &account).await.unwrap();
    assert!(desk.holds(&tp.id));
    let q = quote(dec!(1.08510), dec!(1.08520), 2);
    desk.on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    assert_eq!(get(&bd, &tp.id).await.status, OrderStatus::Filled);
    assert_eq!(
        get(&bd, &format!("{}:sl", buy.id)).await.status,
        OrderStatus::Cancelled
    );
    let s = desk.summary(q.time);
    assert_eq!(s.realized_pnl, dec!(51.00)); // (1.08510 - 1.08000) × 10,000
    assert_eq!(s.balance, dec!(100051.00));
    let fresh = PaperDesk::load(&store, &account).await.unwrap();
    assert_eq!(fresh.summary(q.time).balance, dec!(100051.00));
    bd.close().await;
}

#[tokio::test]
async fn two_desks_never_fill_one_order_twice() {
    let (_dir, bd, account) = profile().await;
    let store = bd.store();
    let mut app = PaperDesk::load(&store, &account).await.unwrap();
    let buy = stored(
        &bd,
        &order(
            &account,
            Side::Buy,
            dec!(1000),
            OrderKind::Limit,
            Some(dec!(1.1)),
        ),
    )
    .await;
    app.place(&store, &buy).await.unwrap();
    let mut cli = PaperDesk::load(&store, &account).await.unwrap();
    assert!(cli.holds(&buy.id));
    let q = quote(dec!(1.09), dec!(1.0901), 1);
    app.on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    cli.on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    let fills: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fills WHERE order_id = ?")
        .bind(&buy.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fills, 1);
    let fresh = PaperDesk::load(&store, &account).await.unwrap();
    assert_eq!(fresh.summary(q.time).positions[0].quantity, dec!(1000));
    bd.close().await;
}

#[tokio::test]
async fn a_reset_starts_over() {
    let (_dir, bd, account) = profile().await;
    let store = bd.store();
    let mut desk = PaperDesk::load(&store, &account).await.unwrap();
    let buy = stored(
        &bd,
        &order(&account, Side::Buy, dec!(1000), OrderKind::Market, None),
    )
    .await;
    desk.place(&store, &buy).await.unwrap();
    let q = quote(dec!(1.09), dec!(1.0901), 1);
    desk.on_quote(&store, q.clone(), q.time, FeedStatus::Fresh)
        .await
        .unwrap();
    let rest = stored(
        &bd,
        &order(
            &account,
            Side::Buy,
            dec!(1000),
            OrderKind::Limit,
            Some(dec!(1.0)),
        ),
    )
    .await;
    desk.place(&store, &rest).await.unwrap();
    PaperDesk::reset(&store, &account, Some(dec!(25000)))
        .await
        .unwrap();
    let fresh = PaperDesk::load(&store, &account).await.unwrap();
    let s = fresh.summary(q.time);
    assert!(s.positions.is_empty());
    assert_eq!(s.balance, dec!(25000));
    assert_eq!(get(&bd, &rest.id).await.status, OrderStatus::Cancelled);
    assert!(!fresh.holds(&rest.id));
    bd.close().await;
}
