//! `PUT …/orders/{id}` in the book: the order keeps its id and tag and takes the new type,
//! duration and price (never a new quantity); a final order answers the "finalized state"
//! text; new terms the quote reaches fill at once.

use super::book::{AccountType, Book, Modify, NewOrder};

const ACCT: &str = "VA0TEST";

fn limit(tag: &str, price: f64) -> NewOrder {
    NewOrder {
        symbol: "AAPL".into(),
        side: "buy".into(),
        qty: 3.0,
        kind: "limit".into(),
        duration: "day".into(),
        price: Some(price),
        stop: None,
        tag: Some(tag.into()),
    }
}

fn order(book: &Book, id: u64) -> serde_json::Value {
    let acct = book.accounts.iter().find(|a| a.number == ACCT).unwrap();
    acct.find(id).unwrap().to_json(true)
}

fn modify(book: &mut Book, id: u64, change: Modify) -> Result<Option<()>, Vec<String>> {
    let acct = book.accounts.iter_mut().find(|a| a.number == ACCT).unwrap();
    acct.modify(&book.market, id, change)
}

fn placed_id(v: &serde_json::Value) -> u64 {
    v["order"]["id"].as_u64().unwrap()
}

#[test]
fn an_order_changes_in_place() {
    let mut book = Book::new(&[(ACCT, AccountType::Margin)]);
    book.market.set_price("AAPL", 200.0);
    let id = placed_id(&book.place(ACCT, limit("t1", 150.0), false).unwrap());
    let change = Modify {
        price: Some(140.0),
        duration: Some("gtc".into()),
        ..Modify::default()
    };
    assert_eq!(modify(&mut book, id, change), Ok(Some(())));
    let o = order(&book, id);
    assert_eq!(
        (
            &o["price"],
            &o["duration"],
            &o["quantity"],
            &o["status"],
            &o["tag"]
        ),
        (
            &serde_json::json!(140.0),
            &serde_json::json!("gtc"),
            &serde_json::json!(3.0),
            &serde_json::json!("open"),
            &serde_json::json!("t1")
        )
    );
    assert_eq!(modify(&mut book, 999, Modify::default()), Ok(None));

    // The quote reaches the new price: filled at once, at the ask.
    let ask = book.market.quote("AAPL").unwrap().ask;
    let change = Modify {
        price: Some(250.0),
        ..Modify::default()
    };
    assert_eq!(modify(&mut book, id, change), Ok(Some(())));
    let o = order(&book, id);
    assert_eq!(
        (&o["status"], &o["avg_fill_price"]),
        (&serde_json::json!("filled"), &serde_json::json!(ask))
    );
    // Final now.
    assert_eq!(
        modify(&mut book, id, Modify::default()),
        Err(vec!["order already in finalized state: filled".to_string()])
    );
}

#[test]
fn a_limit_without_a_price_is_refused() {
    let mut book = Book::new(&[(ACCT, AccountType::Margin)]);
    book.market.set_price("AAPL", 200.0);
    let mut stop = limit("t2", 150.0);
    stop.kind = "stop".into();
    stop.price = None;
    stop.stop = Some(250.0);
    let id = placed_id(&book.place(ACCT, stop, false).unwrap());
    let change = Modify {
        kind: Some("limit".into()),
        ..Modify::default()
    };
    assert!(modify(&mut book, id, change).is_err());
    assert_eq!(order(&book, id)["type"], "stop");
}
