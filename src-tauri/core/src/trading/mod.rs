//! Trading: what a trader asks for ([`OrderDraft`], text as typed) becomes an
//! [`OrderIntent`] only through one validating constructor, so an order is checked once, the
//! same way for every broker, and a connector's `place_order` never sees a quantity of zero,
//! a limit order without a price or a stop-loss on the wrong side of the entry. Orders then
//! move through one state machine ([`model`]), are stored with compare-and-set ([`store`]),
//! sent live so that none is sent twice or lost ([`oms`]), or filled by the durable paper
//! broker ([`paper_desk`]).

pub mod cancels;
pub mod intent;
pub mod model;
pub mod modify;
pub mod oms;
pub mod paper_desk;
pub mod reconcile;
pub mod store;

pub use intent::{InstrumentRules, OrderContext, OrderDraft, OrderIntent, TimeInForce};

use crate::error::{Code, ErrorCode, FieldError};

/// A trading failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradingError {
    /// The order draft has problems; each names its field (`quantity`, `price`, `stopLoss`…).
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
}

fn summary(fields: &[FieldError]) -> String {
    match fields {
        [one] => format!("invalid {}: {}", one.field, one.message),
        many => format!(
            "{} order fields are invalid: {}",
            many.len(),
            many.iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

impl From<Vec<FieldError>> for TradingError {
    fn from(fields: Vec<FieldError>) -> Self {
        TradingError::Invalid(fields)
    }
}

impl ErrorCode for TradingError {
    fn code(&self) -> Code {
        match self {
            TradingError::Invalid(_) => Code::Validation,
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            TradingError::Invalid(f) => f.clone(),
        }
    }
}
