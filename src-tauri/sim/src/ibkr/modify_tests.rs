//! `POST …/order/{orderId}` in the book: the change is asked the same questions as a new
//! order, then the order keeps its id and cOID and takes the new terms; it fills when the
//! price reaches its new limit; a final or unknown order is refused with IBKR's text.

use serde_json::{json, Value};

use super::book::Book;
use super::orders::NewOrder;

fn order(coid: Option<&str>, qty: f64, limit: f64) -> NewOrder {
    let mut body = json!({"conid": 265598, "orderType": "LMT", "price": limit, "side": "BUY",
        "quantity": qty, "tif": "DAY"});
    if let Some(c) = coid {
        body["cOID"] = json!(c);
    }
    NewOrder::parse(&body).unwrap()
}

/// Answers every question on `answer` with yes; returns the final answer.
fn confirm(book: &mut Book, mut answer: Value) -> Value {
    while let Some(id) = answer[0]["id"].as_str().map(str::to_string) {
        answer = book.reply(&id, true).unwrap().unwrap();
    }
    answer
}

fn id_of(answer: &Value) -> u64 {
    answer[0]["order_id"].as_str().unwrap().parse().unwrap()
}

#[test]
fn a_changed_order_keeps_its_id_and_fills_at_its_new_limit() {
    let mut book = Book::new("DU0TEST", 100_000.0);
    book.set_price("AAPL", 200.0);
    let placed = book.submit(order(Some("i1"), 3.0, 150.0)).unwrap();
    let id = id_of(&confirm(&mut book, placed));

    let asked = book.modify(id, order(None, 5.0, 180.0)).unwrap();
    assert!(
        asked[0]["id"].is_string(),
        "the default question first: {asked}"
    );
    let done = confirm(&mut book, asked);
    assert_eq!(id_of(&done), id);
    assert_eq!(done[0]["order_status"], "Submitted");
    let o = book.order(id).unwrap().status_json();
    assert_eq!(
        (&o["total_size"], &o["limit_price"], &o["order_status"]),
        (&json!("5.0"), &json!("180.00"), &json!("Submitted"))
    );
    assert_eq!(book.order(id).unwrap().new.coid, "i1", "the cOID stays");

    book.set_price("AAPL", 185.0);
    assert_eq!(book.order(id).unwrap().status, "Submitted");
    book.set_price("AAPL", 179.0);
    let o = book.order(id).unwrap().status_json();
    assert_eq!(
        (&o["order_status"], &o["average_price"]),
        (&json!("Filled"), &json!("179.00"))
    );

    let refused = book.modify(id, order(None, 5.0, 170.0)).unwrap_err();
    assert_eq!(
        refused,
        (
            false,
            format!("OrderID {id} cannot be modified: it is Filled")
        )
    );
    let missing = book.modify(42, order(None, 5.0, 170.0)).unwrap_err();
    assert_eq!(missing, (true, "OrderID 42 doesn't exist".to_string()));
}

#[test]
fn a_marketable_change_fills_at_once() {
    let mut book = Book::new("DU0TEST", 100_000.0);
    book.set_questions(&[]);
    book.set_price("AAPL", 200.0);
    let id = id_of(&book.submit(order(Some("i2"), 1.0, 150.0)).unwrap());
    let done = book.modify(id, order(None, 1.0, 210.0)).unwrap();
    assert_eq!(done[0]["order_status"], "Filled");
}
