//! The transaction stream (`GET {stream}/v3/accounts/{id}/transactions/stream`): the
//! account's transactions as they happen, one JSON object per line on the same chunked body
//! and [`LineReader`] as the pricing stream, and a `HEARTBEAT` (with `lastTransactionID`)
//! every 5 s.
//!
//! Only transactions about an order become [`OrderUpdate`]s, naming the order and no state
//! (the runtime reads the order): an order created (`LIMIT_ORDER`, `MARKET_ORDER`, …: the
//! transaction's own `id` is the order's, `clientExtensions.id` its client id, and a
//! `replacesOrderID` names the order it replaced), filled or cancelled (`ORDER_FILL`,
//! `ORDER_CANCEL`: `orderID`, `clientOrderID` when it has one). Rejects create no order, and
//! funding, financing or trade transactions are about no order: they yield nothing. Malformed
//! lines are logged (never their text) and skipped.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::super::models::ClientExtensions;
use super::super::{http, Oanda};
use super::LineReader;
use crate::brokers::{BrokerError, OrderEventStream, OrderUpdate};

/// One useful line of the transaction stream.
#[derive(Debug, Clone, PartialEq)]
pub enum TransactionLine {
    Heartbeat {
        last_transaction_id: Option<String>,
    },
    /// A transaction of type `kind`, with the updates of the orders it concerns (none for a
    /// transaction about no order).
    Transaction {
        kind: String,
        updates: Vec<OrderUpdate>,
    },
}

/// The fields of a transaction line that name orders; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "orderID", default)]
    order_id: Option<String>,
    #[serde(rename = "clientOrderID", default)]
    client_order_id: Option<String>,
    #[serde(rename = "clientExtensions", default)]
    client_extensions: Option<ClientExtensions>,
    #[serde(rename = "replacesOrderID", default)]
    replaces_order_id: Option<String>,
    #[serde(rename = "lastTransactionID", default)]
    last_transaction_id: Option<String>,
}

fn update(order: String, client: Option<String>) -> OrderUpdate {
    OrderUpdate {
        broker_order_id: order,
        client_order_id: client.filter(|c| !c.is_empty()),
        state: None,
    }
}

/// Parses one line; `None` (with a log) for a line that is not a transaction or heartbeat.
pub fn parse_transaction(line: &str) -> Option<TransactionLine> {
    let l: Line = match serde_json::from_str(line) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, len = line.len(), "skipping a malformed transaction-stream line");
            return None;
        }
    };
    let Some(kind) = l.kind else {
        tracing::warn!("skipping a transaction-stream line without a type");
        return None;
    };
    let mut updates = Vec::new();
    match kind.as_str() {
        "HEARTBEAT" => {
            return Some(TransactionLine::Heartbeat {
                last_transaction_id: l.last_transaction_id,
            })
        }
        "ORDER_FILL" | "ORDER_CANCEL" | "ORDER_CLIENT_EXTENSIONS_MODIFY" => match l.order_id {
            Some(order) => updates.push(update(order, l.client_order_id)),
            None => tracing::warn!(kind, "skipping an order transaction without an orderID"),
        },
        // An order created: its id is the transaction's.
        k if k.ends_with("_ORDER") => {
            match l.id {
                Some(id) => updates.push(update(id, l.client_extensions.and_then(|c| c.id))),
                None => tracing::warn!(kind = k, "skipping an order creation without an id"),
            }
            if let Some(replaced) = l.replaces_order_id {
                updates.push(update(replaced, None));
            }
        }
        _ => {}
    }
    Some(TransactionLine::Transaction { kind, updates })
}

/// An open transaction stream, as an [`OrderEventStream`].
#[derive(Debug)]
pub struct TransactionStream {
    reader: LineReader,
    heartbeat: Duration,
}

impl Oanda {
    /// Opens the account's transaction stream. Errors (token, account) come back before
    /// any line.
    pub async fn transaction_stream(&self) -> Result<TransactionStream, BrokerError> {
        let account = self.account().await?;
        let url = http::v3_url(
            &self.stream,
            &["accounts", &account, "transactions", "stream"],
        );
        Ok(TransactionStream {
            reader: LineReader::new(self.open_stream(url).await?, "transaction stream"),
            heartbeat: self.heartbeat,
        })
    }
}

#[async_trait]
impl OrderEventStream for TransactionStream {
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError> {
        let Some(lines) = self.reader.next().await? else {
            return Ok(false);
        };
        for line in lines {
            if let Some(TransactionLine::Transaction { updates, .. }) = parse_transaction(&line) {
                out.extend(updates);
            }
        }
        Ok(true)
    }

    fn silence_limit(&self) -> Duration {
        self.heartbeat.saturating_mul(2)
    }

    async fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn updates(line: &str) -> Vec<OrderUpdate> {
        match parse_transaction(line) {
            Some(TransactionLine::Transaction { updates, .. }) => updates,
            other => panic!("expected a transaction, got {other:?}"),
        }
    }

    #[test]
    fn fills_cancels_and_creates_name_their_orders() {
        let fill = r#"{"type":"ORDER_FILL","id":"7","orderID":"6","clientOrderID":"c-1","units":"100","price":"1.08501","accountID":"x"}"#;
        assert_eq!(updates(fill), vec![update("6".into(), Some("c-1".into()))]);
        let cancel = r#"{"type":"ORDER_CANCEL","id":"9","orderID":"8","reason":"CLIENT_REQUEST"}"#;
        assert_eq!(updates(cancel), vec![update("8".into(), None)]);
        let create = r#"{"type":"LIMIT_ORDER","id":"10","instrument":"EUR_USD","units":"-5","price":"1.2","clientExtensions":{"id":"c-2"},"replacesOrderID":"8"}"#;
        assert_eq!(
            updates(create),
            vec![
                update("10".into(), Some("c-2".into())),
                update("8".into(), None)
            ]
        );
    }

    #[test]
    fn other_transactions_and_heartbeats_name_no_order() {
        for line in [
            r#"{"type":"DAILY_FINANCING","id":"11","financing":"-0.1"}"#,
            r#"{"type":"LIMIT_ORDER_REJECT","id":"12","rejectReason":"PRICE_PRECISION_EXCEEDED"}"#,
            r#"{"type":"ORDER_FILL","id":"13"}"#,
        ] {
            assert!(updates(line).is_empty(), "{line}");
        }
        assert_eq!(
            parse_transaction(r#"{"type":"HEARTBEAT","lastTransactionID":"13","time":"t"}"#),
            Some(TransactionLine::Heartbeat {
                last_transaction_id: Some("13".into())
            })
        );
        for junk in [
            "{not json",
            r#"{"id":"1"}"#,
            r#"{"type":"ORDER_FILL","orderID":6}"#,
        ] {
            assert_eq!(parse_transaction(junk), None, "{junk}");
        }
    }
}
