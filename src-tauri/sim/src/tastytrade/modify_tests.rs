//! `PUT …/orders/{id}` in the book: the old order is cancelled and the replacement placed
//! under a new id, checked and filled like a new order; a final order, or a replacement of
//! another symbol, is refused and leaves the order as it was.

use serde_json::json;

use super::book::Book;
use super::orders::NewOrder;

const ACCT: &str = "5WT0TEST";

fn limit(coid: &str, symbol: &str, qty: u32, price: f64) -> NewOrder {
    let body = json!({
        "time-in-force": "Day", "order-type": "Limit", "price": price.to_string(),
        "price-effect": "Debit", "external-identifier": coid,
        "legs": [{"instrument-type": "Equity", "symbol": symbol, "quantity": qty,
            "action": "Buy to Open"}],
    });
    NewOrder::parse(&body).unwrap_or_else(|e| panic!("{:?}", e.body()))
}

fn json_of(book: &Book, id: u64) -> serde_json::Value {
    let acct = &book.accounts[ACCT];
    acct.orders
        .iter()
        .find(|o| o.id == Some(id))
        .unwrap()
        .to_json()
}

#[test]
fn a_replacement_cancels_the_order_and_takes_a_new_id() {
    let mut book = Book::new(&[ACCT], 100_000.0);
    book.set_price("AAPL", 200.0);
    let (old, _) = book
        .place(ACCT, limit("t1", "AAPL", 3, 150.0), false)
        .unwrap();
    let old_id = old.id.unwrap();
    let new = book
        .replace(ACCT, old_id, limit("t2", "AAPL", 5, 140.0))
        .unwrap();
    let new_id = new.id.unwrap();
    assert_ne!(new_id, old_id);
    let v = new.to_json();
    assert_eq!(
        (
            &v["status"],
            &v["price"],
            &v["size"],
            &v["external-identifier"]
        ),
        (&json!("Live"), &json!("140.0"), &json!("5.0"), &json!("t2"))
    );
    assert_eq!(v["replaces-order-id"], json!(old_id.to_string()));
    let o = json_of(&book, old_id);
    assert_eq!(
        (&o["status"], &o["replacing-order-id"]),
        (&json!("Cancelled"), &json!(new_id.to_string()))
    );

    // Final, unknown, another symbol: refused, nothing changes.
    let e = book
        .replace(ACCT, old_id, limit("t3", "AAPL", 5, 130.0))
        .unwrap_err();
    assert_eq!(e.code, "validation_error");
    let e = book
        .replace(ACCT, 999, limit("t3", "AAPL", 5, 130.0))
        .unwrap_err();
    assert_eq!(e.code, "record_not_found");
    let e = book
        .replace(ACCT, new_id, limit("t3", "MSFT", 5, 130.0))
        .unwrap_err();
    assert_eq!(e.code, "validation_error");
    assert_eq!(json_of(&book, new_id)["status"], "Live");

    // Marketable: filled at once, at the ask.
    let (_, ask) = book.quote("AAPL");
    let filled = book
        .replace(ACCT, new_id, limit("t4", "AAPL", 5, 250.0))
        .unwrap();
    let v = filled.to_json();
    assert_eq!(v["status"], "Filled");
    assert_eq!(
        v["legs"][0]["fills"][0]["fill-price"],
        json!(super::wire::dec(ask))
    );
}

#[test]
fn a_replacement_beyond_the_buying_power_leaves_the_order_working() {
    let mut book = Book::new(&[ACCT], 2_000.0);
    book.set_price("AAPL", 200.0);
    let (old, _) = book
        .place(ACCT, limit("u1", "AAPL", 5, 150.0), false)
        .unwrap();
    let old_id = old.id.unwrap();
    let e = book
        .replace(ACCT, old_id, limit("u2", "AAPL", 50, 150.0))
        .unwrap_err();
    assert_eq!(e.code, "preflight_check_failure");
    assert_eq!(json_of(&book, old_id)["status"], "Live");
}
