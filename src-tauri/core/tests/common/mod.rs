//! Helpers shared by the broker connector test suites.

#![allow(dead_code)] // each test crate uses its own subset

use brokerdesk_core::brokers::{BrokerError, OrderRequest, OrderSide, OrderType};

/// Fails if any of `secrets` shows in the error's `Display` or `Debug`.
pub fn assert_no_secret(e: &BrokerError, secrets: &[&str]) {
    for text in [e.to_string(), format!("{e:?}")] {
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!text.contains(s), "credential leaked: {text}");
        }
    }
}

/// An AAPL order: a market order, or a limit order when `limit` is given.
pub fn stock_order(client_id: &str, side: OrderSide, qty: f64, limit: Option<f64>) -> OrderRequest {
    OrderRequest {
        client_order_id: client_id.to_string(),
        symbol: "AAPL".to_string(),
        side,
        quantity: qty,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        limit_price: limit,
    }
}
