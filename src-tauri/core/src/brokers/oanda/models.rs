//! OANDA v20 wire types (only the fields the connector reads; everything else is ignored)
//! and their mapping to the normalized broker types. Decimals arrive as JSON strings; the
//! deserializers also accept numbers so a quirky answer is not a protocol error, and read
//! either from its text, exactly (see [`crate::brokers::wire`]).

use serde::Deserialize;

use crate::brokers::wire::{decimal as dec, opt_decimal as opt_dec};
use crate::brokers::{
    last4, AccountSummary, BrokerAccountRef, OrderSide, OrderState, OrderStatus, OrderTerms,
    Position,
};
use crate::money::Decimal;

/// `GET /v3/accounts/{id}/instruments`.
#[derive(Debug, Deserialize)]
pub struct InstrumentsResponse {
    #[serde(default)]
    pub instruments: Vec<InstrumentWire>,
}

/// One instrument of an account.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentWire {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `GET /v3/accounts`.
#[derive(Debug, Deserialize)]
pub struct AccountsResponse {
    pub accounts: Vec<AccountProperties>,
}

#[derive(Debug, Deserialize)]
pub struct AccountProperties {
    pub id: String,
}

impl AccountProperties {
    pub fn to_ref(&self) -> BrokerAccountRef {
        BrokerAccountRef {
            account_id: self.id.clone(),
            label: None,
        }
    }
}

/// `GET /v3/accounts/{id}/summary`.
#[derive(Debug, Deserialize)]
pub struct SummaryResponse {
    pub account: AccountSummaryWire,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummaryWire {
    pub id: String,
    pub currency: String,
    #[serde(deserialize_with = "dec")]
    pub balance: Decimal,
    #[serde(rename = "NAV", deserialize_with = "dec")]
    pub nav: Decimal,
    #[serde(deserialize_with = "dec")]
    pub margin_available: Decimal,
    #[serde(default, deserialize_with = "opt_dec")]
    pub margin_rate: Option<Decimal>,
}

impl AccountSummaryWire {
    /// Buying power is the notional the free margin supports (`marginAvailable / marginRate`),
    /// comparable with a stock broker's buying power; the free margin itself without a rate.
    /// The quotient is cut to cents (rounded towards zero, never overstating it): a rate like
    /// 0.0333 would otherwise give 28 digits of noise.
    pub fn to_summary(&self) -> AccountSummary {
        let buying_power = match self.margin_rate {
            Some(rate) if rate > Decimal::ZERO => self
                .margin_available
                .checked_div(rate)
                .map(|bp| bp.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero))
                .unwrap_or(self.margin_available),
            _ => self.margin_available,
        };
        AccountSummary {
            account_id: self.id.clone(),
            account_last4: last4(&self.id),
            account_type: "margin".to_string(),
            currency: self.currency.clone(),
            balance: self.balance,
            equity: self.nav,
            buying_power,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClientExtensions {
    pub id: Option<String>,
}

/// An Order object (`MarketOrder`, `LimitOrder`, …).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWire {
    pub id: String,
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    pub state: String,
    pub client_extensions: Option<ClientExtensions>,
    #[serde(rename = "fillingTransactionID")]
    pub filling_transaction_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
}

impl OrderWire {
    /// Returns the normalized order, or `None` for orders on a trade (take profit, stop
    /// loss…), which carry no instrument or units of their own.
    pub fn to_state(&self, fill_price: Option<Decimal>) -> Option<OrderState> {
        let (symbol, units) = (self.instrument.clone()?, self.units?);
        let status = match self.state.as_str() {
            "PENDING" => OrderStatus::Open,
            "FILLED" | "TRIGGERED" => OrderStatus::Filled,
            "CANCELLED" => OrderStatus::Cancelled,
            _ => OrderStatus::Pending,
        };
        Some(OrderState {
            broker_order_id: self.id.clone(),
            client_order_id: self.client_extensions.as_ref().and_then(|c| c.id.clone()),
            symbol,
            side: side(units),
            quantity: units.abs(),
            filled_quantity: if status == OrderStatus::Filled {
                units.abs()
            } else {
                Decimal::ZERO
            },
            avg_fill_price: fill_price,
            status,
            broker_status: self.state.clone(),
            terms: self
                .kind
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.price, None)),
        })
    }
}

fn side(units: Decimal) -> OrderSide {
    if units < Decimal::ZERO {
        OrderSide::Sell
    } else {
        OrderSide::Buy
    }
}

/// `GET …/orders/{specifier}`.
#[derive(Debug, Deserialize)]
pub struct OrderResponse {
    pub order: OrderWire,
}

/// `GET …/pendingOrders`.
#[derive(Debug, Deserialize)]
pub struct OrdersResponse {
    pub orders: Vec<OrderWire>,
}

/// A transaction: the fields of the order create / fill / cancel / reject kinds we read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionWire {
    pub id: String,
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
    #[serde(rename = "fullVWAP", default, deserialize_with = "opt_dec")]
    pub full_vwap: Option<Decimal>,
    pub reason: Option<String>,
    pub reject_reason: Option<String>,
}

impl TransactionWire {
    /// The fill price (`price` is deprecated in favour of `fullVWAP`; accept both).
    pub fn fill_price(&self) -> Option<Decimal> {
        self.full_vwap.or(self.price)
    }
}

/// `GET …/transactions/{id}`.
#[derive(Debug, Deserialize)]
pub struct TransactionResponse {
    pub transaction: TransactionWire,
}

/// The 201 of `POST …/orders`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrderResponse {
    pub order_create_transaction: Option<TransactionWire>,
    pub order_fill_transaction: Option<TransactionWire>,
    pub order_cancel_transaction: Option<TransactionWire>,
}

/// The 201 of `PUT …/orders/{specifier}` (a replacement): the old order's cancel, the
/// replacement's create, its fill when it filled at once, or its own instant cancel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceOrderResponse {
    pub order_cancel_transaction: Option<TransactionWire>,
    pub order_create_transaction: Option<TransactionWire>,
    pub order_fill_transaction: Option<TransactionWire>,
    pub replacing_order_cancel_transaction: Option<TransactionWire>,
}

/// Any error answer: `{errorCode?, errorMessage}`, plus the reject transaction a refused
/// order or cancel carries. `message` is what some proxies and rate limiters send instead.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub message: Option<String>,
    pub order_reject_transaction: Option<TransactionWire>,
    pub order_cancel_reject_transaction: Option<TransactionWire>,
}

impl ErrorBody {
    /// The most specific code: `errorCode`, else the reject reason.
    pub fn code(&self) -> Option<String> {
        let reject = self
            .order_reject_transaction
            .as_ref()
            .or(self.order_cancel_reject_transaction.as_ref());
        self.error_code
            .clone()
            .or_else(|| reject.and_then(|t| t.reject_reason.clone()))
    }

    pub fn message(&self) -> Option<String> {
        self.error_message.clone().or_else(|| self.message.clone())
    }
}

/// `GET …/openPositions`.
#[derive(Debug, Deserialize)]
pub struct PositionsResponse {
    pub positions: Vec<PositionWire>,
}

#[derive(Debug, Deserialize)]
pub struct PositionWire {
    pub instrument: String,
    pub long: PositionSide,
    pub short: PositionSide,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionSide {
    #[serde(deserialize_with = "dec")]
    pub units: Decimal,
    #[serde(default, deserialize_with = "opt_dec")]
    pub average_price: Option<Decimal>,
    #[serde(rename = "unrealizedPL", default, deserialize_with = "opt_dec")]
    pub unrealized_pl: Option<Decimal>,
}

impl PositionWire {
    /// One normalized position per non-empty side (hedging accounts can hold both).
    pub fn to_positions(&self) -> Vec<Position> {
        [&self.long, &self.short]
            .into_iter()
            .filter(|s| !s.units.is_zero())
            .map(|s| Position {
                symbol: self.instrument.clone(),
                quantity: s.units,
                avg_price: s.average_price,
                unrealized_pl: s.unrealized_pl,
            })
            .collect()
    }
}
