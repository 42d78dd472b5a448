//! `PATCH /v2/orders/{id}` in the book: the replacement gets a new id (`replaces` = the old
//! one), the old order becomes `replaced`, a final order is refused with Alpaca's 422, and a
//! replacement the quote reaches fills at once.

use serde_json::json;

use super::book::Book;
use super::market::Market;
use super::orders::{NewOrder, Replacement};

fn limit(coid: &str, qty: &str, price: &str) -> NewOrder {
    let body = json!({"symbol":"AAPL","qty":qty,"side":"buy","type":"limit",
        "time_in_force":"day","limit_price":price,"client_order_id":coid});
    NewOrder::parse(&body).unwrap_or_else(|r| panic!("{}", r.body))
}

fn change(body: serde_json::Value) -> Replacement {
    Replacement::parse(&body).unwrap_or_else(|r| panic!("{}", r.body))
}

#[test]
fn a_replacement_takes_the_new_terms_under_a_new_id() {
    let mut market = Market::demo();
    market.set_price("AAPL", 200.0);
    let mut book = Book::new("PA3TEST", 100_000.0);
    let old = book.place(limit("a1", "2", "150"), &market).unwrap();
    let old_id = old["id"].as_str().unwrap().to_string();

    let new = book
        .replace(
            &old_id,
            change(json!({"qty":"4","limit_price":"140.5","client_order_id":"a2"})),
            &market,
        )
        .unwrap();
    assert_ne!(new["id"], old["id"]);
    assert_eq!(
        (&new["qty"], &new["limit_price"], &new["status"]),
        (&json!("4"), &json!("140.5"), &json!("new"))
    );
    assert_eq!(
        (&new["client_order_id"], &new["replaces"]),
        (&json!("a2"), &json!(old_id))
    );
    let replaced = book.find(&old_id).unwrap().to_json();
    assert_eq!(replaced["status"], "replaced");
    assert_eq!(replaced["replaced_by"], new["id"]);
    assert!(replaced["replaced_at"].is_string());
    assert_eq!(book.list("open", 50, false), vec![new.clone()]);

    // The old order is final now: Alpaca's 422.
    let refused = book
        .replace(&old_id, change(json!({"limit_price":"130"})), &market)
        .unwrap_err();
    assert_eq!(refused.status, 422);
    assert_eq!(refused.body["code"], 42210000);
    // A client id in use is refused, and the order keeps working.
    let new_id = new["id"].as_str().unwrap().to_string();
    let dup = book
        .replace(&new_id, change(json!({"client_order_id":"a1"})), &market)
        .unwrap_err();
    assert_eq!(dup.status, 422);
    assert_eq!(book.find(&new_id).unwrap().status, "new");
    assert_eq!(
        book.replace(
            "00000000-0000-4000-8000-000000000000",
            change(json!({})),
            &market
        )
        .unwrap_err()
        .status,
        404
    );

    // Marketable: filled at the ask, at once.
    let ask = market.quote("AAPL").unwrap().ask;
    let filled = book
        .replace(
            &new_id,
            change(json!({"limit_price":"250","client_order_id":"a3"})),
            &market,
        )
        .unwrap();
    assert_eq!(filled["status"], "filled");
    assert_eq!(filled["filled_avg_price"], json!(super::book::num(ask)));
}

#[test]
fn a_replacement_fills_later_at_its_new_limit() {
    let mut market = Market::demo();
    market.set_price("AAPL", 200.0);
    let mut book = Book::new("PA3TEST", 100_000.0);
    let old = book.place(limit("b1", "1", "150"), &market).unwrap();
    let old_id = old["id"].as_str().unwrap();
    book.replace(
        old_id,
        change(json!({"limit_price":"160","client_order_id":"b2"})),
        &market,
    )
    .unwrap();
    assert!(!book.fill_open("b1"));
    assert!(book.fill_open("b2"));
    let filled = book.find_by_client("b2").unwrap().to_json();
    assert_eq!(
        (&filled["status"], &filled["filled_avg_price"]),
        (&json!("filled"), &json!("160"))
    );
}
