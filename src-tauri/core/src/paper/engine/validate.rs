//! The rules an order must follow: field checks on submission and on modification, and a
//! bracket's stop-loss and take-profit on the right sides of the entry and of each other.

use rust_decimal::Decimal;

use super::order::{
    NewOrder, Order, OrderChanges, OrderRole, OrderStatus, OrderType, Side, TimeInForce,
};
use crate::error::FieldCode;
use crate::paper::PaperError;

impl NewOrder {
    /// Checks every field; the first problem found is returned.
    pub(super) fn validate(&self, max_qty: Decimal, max_price: Decimal) -> Result<(), PaperError> {
        use FieldCode::*;
        if self.id.trim().is_empty() {
            return Err(PaperError::invalid("id", Required, "the order needs an id"));
        }
        if self.symbol.trim().is_empty() {
            return Err(PaperError::invalid(
                "symbol",
                Required,
                "choose an instrument",
            ));
        }
        check_quantity(self.quantity, max_qty)?;
        let (need_limit, need_stop) = match self.order_type {
            OrderType::Market => (false, false),
            OrderType::Limit => (true, false),
            OrderType::Stop => (false, true),
        };
        for (field, value, needed) in [
            ("limitPrice", self.limit_price, need_limit),
            ("stopPrice", self.stop_price, need_stop),
        ] {
            match (value, needed) {
                (None, true) => {
                    return Err(PaperError::invalid(field, Required, "a price is required"))
                }
                (Some(_), false) => {
                    return Err(PaperError::invalid(
                        field,
                        NotApplicable,
                        "this order type takes no such price",
                    ))
                }
                (Some(p), true) => check_price(field, p, max_price)?,
                (None, false) => {}
            }
        }
        match (self.tif, self.expires_at) {
            (TimeInForce::Day, None) => {
                return Err(PaperError::invalid(
                    "expiresAt",
                    Required,
                    "a day order needs the end of its trading day",
                ))
            }
            (TimeInForce::Day, Some(end)) if end <= self.accepted_at => {
                return Err(PaperError::invalid(
                    "expiresAt",
                    OutOfRange,
                    "the trading day is already over",
                ))
            }
            (TimeInForce::Gtc, Some(_)) => {
                return Err(PaperError::invalid(
                    "expiresAt",
                    NotApplicable,
                    "a good-till-cancelled order does not expire",
                ))
            }
            _ => {}
        }
        if let Some(p) = self.stop_loss {
            check_price("stopLoss", p, max_price)?;
        }
        if let Some(p) = self.take_profit {
            check_price("takeProfit", p, max_price)?;
        }
        let entry = self.limit_price.or(self.stop_price);
        check_bracket(self.side, entry, self.stop_loss, self.take_profit)
    }
}

impl Order {
    /// Returns this order with `changes` applied, checked against its bracket.
    pub(super) fn modified(
        &self,
        changes: &OrderChanges,
        sibling: Option<&Order>,
        children: &[&Order],
        max_qty: Decimal,
        max_price: Decimal,
    ) -> Result<Order, PaperError> {
        use FieldCode::*;
        if changes == &OrderChanges::default() {
            return Err(PaperError::invalid(
                "quantity",
                Required,
                "nothing to change",
            ));
        }
        let mut o = self.clone();
        if let Some(q) = changes.quantity {
            if self.role != OrderRole::Entry {
                return Err(PaperError::invalid(
                    "quantity",
                    NotApplicable,
                    "a stop-loss or take-profit closes what its parent filled",
                ));
            }
            check_quantity(q, max_qty)?;
            if q <= self.filled_quantity {
                return Err(PaperError::invalid(
                    "quantity",
                    OutOfRange,
                    format!("must exceed the {} already filled", self.filled_quantity),
                ));
            }
            o.quantity = q;
        }
        if let Some(p) = changes.limit_price {
            if self.order_type != OrderType::Limit {
                return Err(PaperError::invalid(
                    "limitPrice",
                    NotApplicable,
                    "not a limit order",
                ));
            }
            check_price("limitPrice", p, max_price)?;
            o.limit_price = Some(p);
        }
        if let Some(p) = changes.stop_price {
            if self.order_type != OrderType::Stop {
                return Err(PaperError::invalid(
                    "stopPrice",
                    NotApplicable,
                    "not a stop order",
                ));
            }
            if self.status == OrderStatus::Triggered {
                return Err(PaperError::invalid(
                    "stopPrice",
                    Immutable,
                    "the stop has already triggered",
                ));
            }
            check_price("stopPrice", p, max_price)?;
            o.stop_price = Some(p);
        }
        // The bracket must stay on the right sides of the entry and of each other.
        let price_of = |c: &Order| c.stop_price.or(c.limit_price);
        match o.role {
            OrderRole::Entry => {
                let role_price = |r| {
                    children
                        .iter()
                        .find(|c| c.role == r)
                        .and_then(|c| price_of(c))
                };
                let entry = o.limit_price.or(o.stop_price);
                check_bracket(
                    o.side,
                    entry,
                    role_price(OrderRole::StopLoss),
                    role_price(OrderRole::TakeProfit),
                )?;
            }
            role => {
                let mine = price_of(&o);
                let theirs = sibling.and_then(price_of);
                let (sl, tp) = if role == OrderRole::StopLoss {
                    (mine, theirs)
                } else {
                    (theirs, mine)
                };
                check_bracket(o.side.opposite(), None, sl, tp)?;
            }
        }
        Ok(o)
    }
}

fn check_quantity(q: Decimal, max: Decimal) -> Result<(), PaperError> {
    if q <= Decimal::ZERO || q > max {
        return Err(PaperError::invalid(
            "quantity",
            FieldCode::OutOfRange,
            format!("the quantity must be above 0 and at most {max}"),
        ));
    }
    Ok(())
}

fn check_price(field: &'static str, p: Decimal, max: Decimal) -> Result<(), PaperError> {
    if p <= Decimal::ZERO || p > max {
        return Err(PaperError::invalid(
            field,
            FieldCode::OutOfRange,
            format!("the price must be above 0 and at most {max}"),
        ));
    }
    Ok(())
}

/// Checks that a bracket's stop-loss and take-profit sit on the losing and winning sides of
/// the entry (when its price is known) and of each other.
fn check_bracket(
    side: Side,
    entry: Option<Decimal>,
    sl: Option<Decimal>,
    tp: Option<Decimal>,
) -> Result<(), PaperError> {
    // For a buy, losing is below; for a sell, above.
    let below = |a: Decimal, b: Decimal| match side {
        Side::Buy => a < b,
        Side::Sell => a > b,
    };
    let (word_low, word_high) = match side {
        Side::Buy => ("below", "above"),
        Side::Sell => ("above", "below"),
    };
    if let (Some(sl), Some(tp)) = (sl, tp) {
        if !below(sl, tp) {
            return Err(PaperError::invalid(
                "stopLoss",
                FieldCode::Inconsistent,
                format!("the stop-loss must be {word_low} the take-profit"),
            ));
        }
    }
    if let Some(entry) = entry {
        if let Some(sl) = sl.filter(|sl| !below(*sl, entry)) {
            return Err(PaperError::invalid(
                "stopLoss",
                FieldCode::Inconsistent,
                format!("the stop-loss {sl} must be {word_low} the entry price {entry}"),
            ));
        }
        if let Some(tp) = tp.filter(|tp| !below(entry, *tp)) {
            return Err(PaperError::invalid(
                "takeProfit",
                FieldCode::Inconsistent,
                format!("the take-profit {tp} must be {word_high} the entry price {entry}"),
            ));
        }
    }
    Ok(())
}
