//! The built-in paper broker: a simulated market ([`market`]), the fill model that works a
//! paper account's orders against quotes ([`engine`]), and the account's positions and money
//! ([`ledger`]).
//!
//! Everything here is pure logic: no database, no async runtime, no network, no clock. The
//! caller feeds quotes, orders and the current time, and persists the events that come back
//! ([`engine::EngineEvent`], [`ledger::FillOutcome`]). Money is [`Decimal`] throughout; the
//! only `f64` is the market's noise, rounded to whole ticks before it becomes a price.
//!
//! The module has its own [`Quote`] rather than the streaming [`crate::stream::Tick`], so
//! that a paper account can be fed from the simulated market or from a live broker's stream
//! by converting at the boundary.

pub mod engine;
pub mod ledger;
pub mod market;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, ErrorCode, FieldCode, FieldError};

pub use engine::{
    CancelReason, EngineConfig, EngineEvent, FeedStatus, Fill, NewOrder, Order, OrderChanges,
    OrderRole, OrderStatus, OrderType, PaperEngine, Side, TimeInForce,
};
pub use ledger::{
    AccountSummary, FillOutcome, Ledger, LedgerConfig, Money, OrderEstimate, PnlStatus, Position,
    PositionView,
};
pub use market::{InstrumentKind, InstrumentSpec, SimMarket, STEP_MS};

/// The largest order quantity accepted: with [`MAX_PRICE`], keeps every product of the
/// engine and the ledger far inside [`Decimal`]'s range (about 7.9 × 10^28).
pub const MAX_QUANTITY: Decimal = rust_decimal_macros::dec!(1_000_000_000_000);

/// The largest price accepted, in orders and in quotes (larger quotes are ignored).
pub const MAX_PRICE: Decimal = rust_decimal_macros::dec!(1_000_000_000);

/// A two-sided price of one instrument at one instant: the paper engine's only input price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperQuote")]
pub struct Quote {
    /// The instrument's symbol (`EUR_USD`, `AAPL`).
    pub instrument: String,
    /// The price a sell fills at.
    #[ts(type = "string")]
    pub bid: Decimal,
    /// The price a buy fills at.
    #[ts(type = "string")]
    pub ask: Decimal,
    /// The quantity available at the bid; `None` when the source does not say (fills whole).
    #[ts(type = "string | null")]
    pub bid_size: Option<Decimal>,
    /// The quantity available at the ask; `None` when the source does not say.
    #[ts(type = "string | null")]
    pub ask_size: Option<Decimal>,
    /// When the price was valid (the source's time stamp, not when it was read).
    #[ts(type = "string")]
    pub time: DateTime<Utc>,
}

impl Quote {
    /// Returns a quote without displayed sizes.
    pub fn new(
        instrument: impl Into<String>,
        bid: Decimal,
        ask: Decimal,
        time: DateTime<Utc>,
    ) -> Self {
        Self {
            instrument: instrument.into(),
            bid,
            ask,
            bid_size: None,
            ask_size: None,
            time,
        }
    }

    /// Returns the quote with displayed sizes.
    pub fn with_sizes(mut self, bid_size: Option<Decimal>, ask_size: Option<Decimal>) -> Self {
        self.bid_size = bid_size;
        self.ask_size = ask_size;
        self
    }

    /// Returns true when both sides are positive, within [`MAX_PRICE`] and not crossed:
    /// anything else is a broken quote that must not price a fill or a position.
    pub fn is_sane(&self) -> bool {
        self.bid > Decimal::ZERO && self.bid <= self.ask && self.ask <= MAX_PRICE
    }

    /// Returns the mid price, `(bid + ask) / 2`.
    pub fn mid(&self) -> Decimal {
        (self.bid + self.ask) / Decimal::TWO
    }
}

/// Everything that can go wrong in the paper broker.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PaperError {
    /// An order or input field is invalid; `field` is its camelCase name.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        code: FieldCode,
        message: String,
    },
    #[error("there is no order {0}")]
    OrderNotFound(String),
    /// The order is filled, cancelled or expired: it can no longer be cancelled or modified.
    #[error("order {id} is already {status}")]
    OrderNotOpen { id: String, status: OrderStatus },
    #[error("the paper broker does not trade {0}")]
    UnknownInstrument(String),
    #[error("there is no quote for {0}")]
    NoQuote(String),
    /// An amount in `from` cannot be expressed in `to`: no rate for the pair was available.
    #[error("no conversion rate from {from} to {to}")]
    NoConversionRate { from: String, to: String },
}

impl PaperError {
    /// Returns an [`PaperError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, code: FieldCode, message: impl Into<String>) -> Self {
        PaperError::Invalid {
            field,
            code,
            message: message.into(),
        }
    }
}

impl ErrorCode for PaperError {
    fn code(&self) -> Code {
        match self {
            PaperError::Invalid { .. } => Code::Validation,
            PaperError::OrderNotFound(_) | PaperError::UnknownInstrument(_) => Code::NotFound,
            PaperError::OrderNotOpen { .. } => Code::OrderNotOpen,
            PaperError::NoQuote(_) => Code::NoQuote,
            PaperError::NoConversionRate { .. } => Code::NoConversionRate,
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            PaperError::Invalid {
                field,
                code,
                message,
            } => vec![FieldError::new(*field, *code, message.clone())],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn errors_map_to_codes_and_fields() {
        let e = PaperError::invalid("quantity", FieldCode::OutOfRange, "must be positive");
        let api = e.to_api_error();
        assert_eq!(api.code, Code::Validation);
        assert_eq!(api.fields[0].field, "quantity");
        assert_eq!(api.fields[0].code, FieldCode::OutOfRange);
        let e = PaperError::OrderNotOpen {
            id: "o1".into(),
            status: OrderStatus::Filled,
        };
        assert_eq!(e.code(), Code::OrderNotOpen);
        assert_eq!(e.to_string(), "order o1 is already filled");
        assert_eq!(PaperError::NoQuote("X".into()).code(), Code::NoQuote);
        assert!(Code::NoQuote.retryable());
        assert_eq!(
            PaperError::OrderNotFound("x".into()).code().exit_class(),
            crate::error::ExitClass::NotFound
        );
    }

    #[test]
    fn a_quote_serialises_decimals_as_strings_in_camel_case() {
        let t = DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let q = Quote::new("EUR_USD", dec!(1.16500), dec!(1.16508), t)
            .with_sizes(Some(dec!(1000000)), None);
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["bid"], "1.16500");
        assert_eq!(json["bidSize"], "1000000");
        assert_eq!(json["askSize"], serde_json::Value::Null);
        assert_eq!(q.mid(), dec!(1.16504));
        let back: Quote = serde_json::from_value(json).unwrap();
        assert_eq!(back, q);
        assert!(q.is_sane());
        let bad = |bid, ask| Quote::new("X", bid, ask, t);
        assert!(!bad(dec!(1.1), dec!(1.0)).is_sane(), "crossed");
        assert!(!bad(dec!(0), dec!(1.0)).is_sane(), "no bid");
        assert!(
            !bad(dec!(1), MAX_PRICE + dec!(1)).is_sane(),
            "beyond the limit"
        );
        assert!(bad(dec!(1), dec!(1)).is_sane(), "a locked quote is a quote");
    }
}
