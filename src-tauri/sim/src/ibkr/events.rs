//! The live-order topic `sor` on the gateway's WebSocket.
//!
//! `sor+{}` (once the socket's session is accepted) subscribes: the server answers with one
//! `{"topic":"sor","args":[…]}` frame listing every order of the day, then sends one such
//! frame per change the book makes to an order (submitted, filled, cancelled), the element
//! in the shape of `GET /iserver/account/orders` (`acct`, `orderId`, `order_ref` = the cOID,
//! `status`, `filledQuantity`, `remainingQuantity`, `totalSize`, `avgPrice`, `ticker`,
//! `side`, …). `uor+{}` unsubscribes. The book calls [`publish`]; each socket owns a
//! [`SorFeed`].

use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::orders::Order;
use super::{lock, SimState};

/// The channel the book publishes order changes on.
pub(crate) fn channel() -> broadcast::Sender<Value> {
    broadcast::channel(1024).0
}

/// Publishes `order` as it is now (no socket listening is fine).
pub(crate) fn publish(tx: &broadcast::Sender<Value>, order: &Order) {
    let _ = tx.send(order.list_json());
}

/// One `sor` frame.
fn frame(args: Vec<Value>) -> String {
    json!({"topic": "sor", "args": args}).to_string()
}

/// One socket's `sor` subscription.
#[derive(Default)]
pub(crate) struct SorFeed {
    rx: Option<broadcast::Receiver<Value>>,
}

impl SorFeed {
    /// Subscribes; returns the first frame (every order of the day).
    pub(crate) fn start(&mut self, state: &SimState) -> String {
        let book = lock(&state.inner.book);
        self.rx = Some(book.events.subscribe());
        frame(book.orders_list())
    }

    pub(crate) fn stop(&mut self) {
        self.rx = None;
    }

    /// The next change as a frame; pending forever while not subscribed.
    pub(crate) async fn next(&mut self) -> String {
        loop {
            let Some(rx) = self.rx.as_mut() else {
                return std::future::pending().await;
            };
            match rx.recv().await {
                Ok(order) => return frame(vec![order]),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => self.rx = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::faults::Faults;
    use crate::ibkr::orders::NewOrder;

    fn new_order(coid: &str, limit: Option<f64>) -> NewOrder {
        let mut o = json!({"conid": 265598, "side": "BUY", "quantity": 2, "tif": "DAY",
            "orderType": "MKT", "cOID": coid});
        if let Some(p) = limit {
            o["orderType"] = json!("LMT");
            o["price"] = json!(p);
        }
        NewOrder::parse(&o).unwrap()
    }

    fn args(frame: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(frame).unwrap();
        assert_eq!(v["topic"], "sor");
        v["args"].as_array().unwrap().clone()
    }

    #[tokio::test]
    async fn every_order_change_reaches_a_subscription() {
        let state = SimState::new(Faults::new(), "DU1");
        lock(&state.inner.book).set_questions(&[]);
        let mut feed = SorFeed::default();
        assert!(args(&feed.start(&state)).is_empty(), "no orders yet");

        lock(&state.inner.book)
            .submit(new_order("m-1", None))
            .unwrap();
        let submitted = args(&feed.next().await);
        assert_eq!(submitted[0]["order_ref"], "m-1");
        assert_eq!(submitted[0]["status"], "Submitted");
        let filled = args(&feed.next().await);
        assert_eq!(filled[0]["status"], "Filled");
        assert_eq!(filled[0]["filledQuantity"], 2.0);

        lock(&state.inner.book)
            .submit(new_order("l-1", Some(1.0)))
            .unwrap();
        let resting = args(&feed.next().await);
        let id = resting[0]["orderId"].as_u64().unwrap();
        // A price move through the limit fills it.
        state.set_price("AAPL", 0.5);
        assert_eq!(args(&feed.next().await)[0]["status"], "Filled");
        assert!(lock(&state.inner.book).cancel(id).is_err());

        lock(&state.inner.book)
            .submit(new_order("l-2", Some(0.1)))
            .unwrap();
        let id = args(&feed.next().await)[0]["orderId"].as_u64().unwrap();
        lock(&state.inner.book).cancel(id).unwrap();
        let cancelled = args(&feed.next().await);
        assert_eq!(
            (cancelled[0]["orderId"].as_u64(), &cancelled[0]["status"]),
            (Some(id), &json!("Cancelled"))
        );

        // A new subscription starts with the day's orders, newest first.
        let mut late = SorFeed::default();
        let day = args(&late.start(&state));
        let refs: Vec<&str> = day.iter().filter_map(|o| o["order_ref"].as_str()).collect();
        assert_eq!(refs, ["l-2", "l-1", "m-1"]);
        late.stop();
        let idle = tokio::time::timeout(std::time::Duration::from_millis(50), late.next()).await;
        assert!(idle.is_err(), "nothing after uor");
    }
}
