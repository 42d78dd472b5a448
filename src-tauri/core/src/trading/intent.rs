//! The validated order: [`OrderIntent::new`] checks an [`OrderDraft`] and reports every
//! problem at once as [`FieldError`]s addressed by the draft's field names (`symbol`,
//! `quantity`, `price`, `stopLoss`, `takeProfit`, `clientOrderId`):
//!
//! - the symbol is not empty and has no whitespace or control characters;
//! - the quantity is a positive decimal of at most 28 digits;
//! - a limit or stop order has a positive price, a market order none;
//! - a stop-loss is below and a take-profit above the entry for a buy (the reverse for a
//!   sell), the entry being the order's own price or, for a market order, the reference
//!   price the caller knows (the latest quote); without either they are still checked
//!   against each other;
//! - prices and the quantity have at most the instrument's decimal places, when known.
//!
//! The fields of an [`OrderIntent`] are private: there is no other way to make one, so every
//! connector can rely on them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::brokers::{OrderSide, OrderType};
use crate::error::{FieldCode, FieldError};
use crate::money::{self, Decimal, MoneyError};

/// The longest symbol accepted (OCC option symbols are 21 characters, futures fewer).
pub const MAX_SYMBOL_CHARS: usize = 64;

/// The longest client order id accepted: a bound against absurd input only. Each broker
/// applies its own limit (Alpaca refuses more than 128, Tradier's tag is cut to 255); the
/// generated ones are UUIDs (36).
pub const MAX_CLIENT_ID_CHARS: usize = 512;

crate::accounts::model::string_enum!(
    /// How long an order works: until the end of the trading day (`day`, the default), or
    /// until filled or cancelled (`gtc`).
    TimeInForce { Day => "day", Gtc => "gtc" }
);

#[allow(clippy::derivable_impls)] // the enum is declared by string_enum!, which cannot mark a variant
impl Default for TimeInForce {
    fn default() -> Self {
        TimeInForce::Day
    }
}

/// An order as the trader typed it: numbers are text, so that anything typed reaches
/// validation and comes back as a message under its field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderDraft {
    pub symbol: String,
    pub side: OrderSide,
    /// Units, shares or contracts, e.g. `"100"` or `"0.5"`.
    pub quantity: String,
    pub order_type: OrderType,
    /// The limit price (limit orders) or trigger price (stop orders); none for market orders.
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub time_in_force: TimeInForce,
    #[serde(default)]
    pub stop_loss: Option<String>,
    #[serde(default)]
    pub take_profit: Option<String>,
    /// The id the broker keeps with the order, so a retry never places it twice; generated
    /// (a UUID) when absent.
    #[serde(default)]
    pub client_order_id: Option<String>,
}

impl OrderDraft {
    /// A market order draft.
    pub fn market(symbol: &str, side: OrderSide, quantity: &str) -> Self {
        Self {
            symbol: symbol.to_string(),
            side,
            quantity: quantity.to_string(),
            order_type: OrderType::Market,
            price: None,
            time_in_force: TimeInForce::Day,
            stop_loss: None,
            take_profit: None,
            client_order_id: None,
        }
    }

    /// A limit order draft.
    pub fn limit(symbol: &str, side: OrderSide, quantity: &str, price: &str) -> Self {
        Self {
            order_type: OrderType::Limit,
            price: Some(price.to_string()),
            ..Self::market(symbol, side, quantity)
        }
    }

    /// A stop order draft.
    pub fn stop(symbol: &str, side: OrderSide, quantity: &str, price: &str) -> Self {
        Self {
            order_type: OrderType::Stop,
            price: Some(price.to_string()),
            ..Self::market(symbol, side, quantity)
        }
    }

    /// Returns the draft with a client order id.
    pub fn with_client_id(mut self, id: &str) -> Self {
        self.client_order_id = Some(id.to_string());
        self
    }
}

/// What an instrument allows, when the broker says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstrumentRules {
    /// Decimal places of a price (5 for EUR_USD, 3 for USD_JPY, 2 for US stocks).
    pub price_decimals: Option<u32>,
    /// Decimal places of a quantity (0 for OANDA units and whole shares).
    pub quantity_decimals: Option<u32>,
}

/// What the caller knows besides the draft; everything is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderContext {
    pub instrument: InstrumentRules,
    /// The price a market order would fill near (the ask for a buy, the bid for a sell),
    /// against which its stop-loss and take-profit are checked.
    pub reference_price: Option<Decimal>,
}

/// A validated order, ready for any broker's `place_order`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderIntent {
    client_order_id: String,
    symbol: String,
    side: OrderSide,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    quantity: Decimal,
    order_type: OrderType,
    /// Set for limit orders only.
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    limit_price: Option<Decimal>,
    /// Set for stop orders only.
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    stop_price: Option<Decimal>,
    time_in_force: TimeInForce,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    stop_loss: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    take_profit: Option<Decimal>,
}

impl OrderIntent {
    /// Checks `draft` and returns the intent, or every problem found.
    pub fn new(draft: &OrderDraft, ctx: &OrderContext) -> Result<Self, Vec<FieldError>> {
        let mut errs = Vec::new();
        let rules = ctx.instrument;

        let symbol = draft.symbol.trim().to_string();
        if symbol.is_empty() {
            errs.push(FieldError::new(
                "symbol",
                FieldCode::Required,
                "Choose an instrument.",
            ));
        } else if symbol.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errs.push(FieldError::new(
                "symbol",
                FieldCode::Invalid,
                "A symbol has no spaces or control characters.",
            ));
        } else if symbol.chars().count() > MAX_SYMBOL_CHARS {
            errs.push(FieldError::new(
                "symbol",
                FieldCode::TooLong,
                format!("Use at most {MAX_SYMBOL_CHARS} characters."),
            ));
        }

        let quantity = match amount(
            &mut errs,
            "quantity",
            Some(&draft.quantity),
            "The quantity",
            rules.quantity_decimals,
        ) {
            Ok(Some(q)) => Some(q),
            Ok(None) => {
                errs.push(FieldError::new(
                    "quantity",
                    FieldCode::Required,
                    "Enter a quantity.",
                ));
                None
            }
            Err(()) => None,
        };

        let price = amount(
            &mut errs,
            "price",
            draft.price.as_ref(),
            "The price",
            rules.price_decimals,
        );
        let entry = match (draft.order_type, price) {
            (OrderType::Market, Ok(Some(_))) => {
                errs.push(FieldError::new(
                    "price",
                    FieldCode::NotAllowed,
                    "A market order takes no price: choose a limit or stop order to set one.",
                ));
                None
            }
            (OrderType::Market, _) => ctx.reference_price,
            (OrderType::Limit | OrderType::Stop, Ok(None)) => {
                let what = if draft.order_type == OrderType::Limit {
                    "A limit order needs its limit price."
                } else {
                    "A stop order needs its trigger price."
                };
                errs.push(FieldError::new("price", FieldCode::Required, what));
                None
            }
            (_, Ok(p)) => p,
            (_, Err(())) => None,
        };

        let stop_loss = amount(
            &mut errs,
            "stopLoss",
            draft.stop_loss.as_ref(),
            "The stop-loss",
            rules.price_decimals,
        )
        .unwrap_or(None);
        let take_profit = amount(
            &mut errs,
            "takeProfit",
            draft.take_profit.as_ref(),
            "The take-profit",
            rules.price_decimals,
        )
        .unwrap_or(None);
        check_exits(&mut errs, draft.side, entry, stop_loss, take_profit);

        let client_order_id = match draft.client_order_id.as_deref().map(str::trim) {
            None | Some("") => uuid::Uuid::new_v4().to_string(),
            Some(id) => {
                if id.chars().count() > MAX_CLIENT_ID_CHARS {
                    errs.push(FieldError::new(
                        "clientOrderId",
                        FieldCode::TooLong,
                        format!("Use at most {MAX_CLIENT_ID_CHARS} characters."),
                    ));
                } else if !id.chars().all(|c| c.is_ascii_graphic()) {
                    errs.push(FieldError::new(
                        "clientOrderId",
                        FieldCode::Invalid,
                        "Use printable ASCII characters without spaces.",
                    ));
                }
                id.to_string()
            }
        };

        match quantity {
            Some(quantity) if errs.is_empty() => Ok(Self {
                client_order_id,
                symbol,
                side: draft.side,
                quantity,
                order_type: draft.order_type,
                limit_price: entry.filter(|_| draft.order_type == OrderType::Limit),
                stop_price: entry.filter(|_| draft.order_type == OrderType::Stop),
                time_in_force: draft.time_in_force,
                stop_loss,
                take_profit,
            }),
            _ => Err(errs),
        }
    }

    /// Checks `draft` knowing nothing about the instrument or the market.
    pub fn check(draft: &OrderDraft) -> Result<Self, Vec<FieldError>> {
        Self::new(draft, &OrderContext::default())
    }

    pub fn client_order_id(&self) -> &str {
        &self.client_order_id
    }

    /// The symbol, trimmed (its case is the broker's business).
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    pub fn side(&self) -> OrderSide {
        self.side
    }

    /// Always positive.
    pub fn quantity(&self) -> Decimal {
        self.quantity
    }

    /// The quantity signed by side: negative for a sell (OANDA's units).
    pub fn signed_quantity(&self) -> Decimal {
        match self.side {
            OrderSide::Buy => self.quantity,
            OrderSide::Sell => -self.quantity,
        }
    }

    pub fn order_type(&self) -> OrderType {
        self.order_type
    }

    /// The limit price of a limit order (positive); `None` for other types.
    pub fn limit_price(&self) -> Option<Decimal> {
        self.limit_price
    }

    /// The trigger price of a stop order (positive); `None` for other types.
    pub fn stop_price(&self) -> Option<Decimal> {
        self.stop_price
    }

    pub fn time_in_force(&self) -> TimeInForce {
        self.time_in_force
    }

    pub fn stop_loss(&self) -> Option<Decimal> {
        self.stop_loss
    }

    pub fn take_profit(&self) -> Option<Decimal> {
        self.take_profit
    }

    /// Whether a stop-loss or take-profit is attached.
    pub fn has_exits(&self) -> bool {
        self.stop_loss.is_some() || self.take_profit.is_some()
    }
}

/// Reads an optional positive amount. `Ok(None)` when absent or blank, `Err(())` when a
/// problem was recorded.
fn amount(
    errs: &mut Vec<FieldError>,
    field: &str,
    text: Option<&String>,
    label: &str,
    max_places: Option<u32>,
) -> Result<Option<Decimal>, ()> {
    let Some(text) = text.map(|t| t.trim()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let value = match money::parse(text) {
        Ok(v) => v,
        Err(MoneyError::NotANumber(_)) => {
            errs.push(FieldError::new(
                field,
                FieldCode::Invalid,
                format!("{label} must be a number, e.g. 100 or 1.25."),
            ));
            return Err(());
        }
        Err(MoneyError::TooManyDigits(_)) => {
            errs.push(FieldError::new(
                field,
                FieldCode::TooPrecise,
                format!("{label} can have at most {} digits.", money::MAX_DIGITS),
            ));
            return Err(());
        }
    };
    if value <= Decimal::ZERO {
        errs.push(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!("{label} must be more than 0."),
        ));
        return Err(());
    }
    if let Some(places) = max_places {
        if value.normalize().scale() > places {
            let message = match places {
                0 => format!("{label} must be a whole number for this instrument."),
                1 => format!("{label} can have 1 decimal place for this instrument."),
                n => format!("{label} can have at most {n} decimal places for this instrument."),
            };
            errs.push(FieldError::new(field, FieldCode::TooPrecise, message));
            return Err(());
        }
    }
    Ok(Some(value))
}

/// A buy's stop-loss sits below its entry and its take-profit above; a sell's the reverse.
/// Without an entry, the two are checked against each other.
fn check_exits(
    errs: &mut Vec<FieldError>,
    side: OrderSide,
    entry: Option<Decimal>,
    stop_loss: Option<Decimal>,
    take_profit: Option<Decimal>,
) {
    let (below, above) = match side {
        OrderSide::Buy => ("below", "above"),
        OrderSide::Sell => ("above", "below"),
    };
    // `true` when `a` is on the loss side of `b` for this order.
    let lossward = |a: Decimal, b: Decimal| match side {
        OrderSide::Buy => a < b,
        OrderSide::Sell => a > b,
    };
    match entry {
        Some(entry) => {
            if let Some(sl) = stop_loss.filter(|sl| !lossward(*sl, entry)) {
                errs.push(FieldError::new(
                    "stopLoss",
                    FieldCode::WrongSide,
                    format!(
                        "The stop-loss of a {} must be {below} the entry price ({entry}); it is {sl}.",
                        side_name(side)
                    ),
                ));
            }
            if let Some(tp) = take_profit.filter(|tp| !lossward(entry, *tp)) {
                errs.push(FieldError::new(
                    "takeProfit",
                    FieldCode::WrongSide,
                    format!(
                        "The take-profit of a {} must be {above} the entry price ({entry}); it is {tp}.",
                        side_name(side)
                    ),
                ));
            }
        }
        None => {
            if let (Some(sl), Some(tp)) = (stop_loss, take_profit) {
                if !lossward(sl, tp) {
                    errs.push(FieldError::new(
                        "stopLoss",
                        FieldCode::WrongSide,
                        format!(
                            "The stop-loss of a {} must be {below} its take-profit ({tp}).",
                            side_name(side)
                        ),
                    ));
                }
            }
        }
    }
}

fn side_name(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "buy",
        OrderSide::Sell => "sell",
    }
}

#[cfg(test)]
mod tests;
