//! Money helpers of the ledger: conversion to the account currency and rounding.

use rust_decimal::{Decimal, RoundingStrategy};

use super::RateLookup;
use crate::paper::MAX_PRICE;

/// Converts `amount` in `quote` to `account` (see the module docs), or `None` without a rate.
pub fn convert(
    account: &str,
    amount: Decimal,
    quote: &str,
    base: Option<&str>,
    own_price: Decimal,
    rates: &RateLookup,
) -> Option<Decimal> {
    if quote == account {
        return Some(amount);
    }
    // Checked arithmetic: an absurd rate from the caller gives "unconverted", not a panic.
    if base == Some(account) {
        return amount.checked_div(positive(own_price)?);
    }
    if let Some(r) = rates(&format!("{quote}_{account}")).and_then(positive) {
        return amount.checked_mul(r);
    }
    rates(&format!("{account}_{quote}"))
        .and_then(positive)
        .and_then(|r| amount.checked_div(r))
}

/// Returns +1 for a long quantity, −1 for a short one.
pub(super) fn sign_of(quantity: Decimal) -> Decimal {
    if quantity.is_sign_negative() {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    }
}

/// Rounds to the currency's minor unit, half to even (whole units for yen).
pub fn round_money(amount: Decimal, currency: &str) -> Decimal {
    let dp = if currency == "JPY" { 0 } else { 2 };
    amount.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven)
}

/// Returns a usable rate or price: positive and within [`MAX_PRICE`].
fn positive(r: Decimal) -> Option<Decimal> {
    (r > Decimal::ZERO && r <= MAX_PRICE).then_some(r)
}
