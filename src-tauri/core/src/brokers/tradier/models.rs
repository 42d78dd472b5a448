//! Tradier's JSON, as much of it as the connector reads, and its mapping to the normalised
//! types.
//!
//! Tradier's JSON is converted from XML, which shows in three ways handled here: a list of
//! one is the element itself ([`OneOrMany`]), an empty list is the string `"null"`
//! ([`null_or`]), and numbers may arrive as strings ([`number`]). Both wrappers visit the
//! value in place (no `serde_json::Value` or untagged buffering in between), so decimals are
//! still read from their JSON text, exactly.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};

use crate::brokers::wire::{id, opt_decimal as number};
use crate::brokers::{OrderSide, OrderState, OrderStatus, OrderTerms, Position};
use crate::money::Decimal;
use crate::stream::InstrumentInfo;

/// Tradier's `tag` limit.
pub const TAG_MAX: usize = 255;

/// Returns the `tag` a client order id travels as: every character other than ASCII
/// letters, digits and `-` becomes `-`, cut to 255 characters. UUIDs pass unchanged; two ids
/// that differ only in replaced characters share a tag, so callers should use UUIDs.
pub fn tradier_tag(client_order_id: &str) -> String {
    client_order_id
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(TAG_MAX)
        .collect()
}

/// One value or several.
#[derive(Debug)]
pub(super) enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> OneOrMany<T> {
    pub(super) fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => vec![t],
        }
    }
}

/// Hands an array to `Vec<T>` and anything else to `T`, without buffering the value.
struct OneOrManyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
    type Value = OneOrMany<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one value or an array of them")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(OneOrMany::One)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OneOrMany::One)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OneOrMany::One)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OneOrMany::One)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(OneOrMany::One)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

/// Reads a field that is `"null"` (or `null`, or `""`) when empty.
fn null_or<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value, or \"null\" when empty")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v == "null" || v.is_empty() {
                return Ok(None);
            }
            T::deserialize(v.into_deserializer()).map(Some)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            T::deserialize(SeqAccessDeserializer::new(seq)).map(Some)
        }
    }
    d.deserialize_any(V(PhantomData))
}

/// `GET /v1/user/profile`.
#[derive(Debug, Deserialize)]
pub(super) struct ProfileResponse {
    pub profile: Profile,
}

#[derive(Debug, Deserialize)]
pub(super) struct Profile {
    #[serde(default, deserialize_with = "null_or")]
    pub account: Option<OneOrMany<ProfileAccount>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ProfileAccount {
    pub account_number: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /v1/accounts/{id}/balances`.
#[derive(Debug, Deserialize)]
pub(super) struct BalancesResponse {
    pub balances: Balances,
}

#[derive(Debug, Deserialize)]
pub(super) struct Balances {
    pub account_number: String,
    #[serde(default)]
    pub account_type: Option<String>,
    #[serde(default, deserialize_with = "number")]
    pub total_equity: Option<Decimal>,
    #[serde(default, deserialize_with = "number")]
    pub total_cash: Option<Decimal>,
    #[serde(default)]
    pub margin: Option<BuyingPower>,
    #[serde(default)]
    pub cash: Option<BuyingPower>,
    #[serde(default)]
    pub pdt: Option<BuyingPower>,
}

/// The buying-power fields of the `margin`, `cash` and `pdt` sub-objects.
#[derive(Debug, Deserialize)]
pub(super) struct BuyingPower {
    #[serde(default, deserialize_with = "number")]
    pub stock_buying_power: Option<Decimal>,
    #[serde(default, deserialize_with = "number")]
    pub cash_available: Option<Decimal>,
}

impl Balances {
    /// Stock buying power for margin/PDT accounts, cash available for cash accounts.
    pub(super) fn buying_power(&self) -> Decimal {
        [&self.margin, &self.pdt, &self.cash]
            .into_iter()
            .flatten()
            .find_map(|b| b.stock_buying_power.or(b.cash_available))
            .unwrap_or(Decimal::ZERO)
    }
}

/// `{"order":{"id":…,"status":"ok"}}`, the answer to placing and cancelling.
#[derive(Debug, Deserialize)]
pub(super) struct OrderAck {
    pub order: Ack,
}

#[derive(Debug, Deserialize)]
pub(super) struct Ack {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrderResponse {
    pub order: Order,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrdersResponse {
    #[serde(default, deserialize_with = "null_or")]
    pub orders: Option<OrderList>,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrderList {
    #[serde(default, deserialize_with = "null_or")]
    pub order: Option<OneOrMany<Order>>,
}

impl OrdersResponse {
    pub(super) fn into_vec(self) -> Vec<Order> {
        self.orders
            .and_then(|l| l.order)
            .map(OneOrMany::into_vec)
            .unwrap_or_default()
    }
}

/// An order as Tradier returns it.
#[derive(Debug, Deserialize)]
pub(super) struct Order {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub symbol: String,
    pub side: String,
    #[serde(default, deserialize_with = "number")]
    pub quantity: Option<Decimal>,
    pub status: String,
    #[serde(default, deserialize_with = "number")]
    pub exec_quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "number")]
    pub avg_fill_price: Option<Decimal>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "number")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "number")]
    pub stop_price: Option<Decimal>,
}

impl Order {
    /// The normalised state; `None` for a side this desk does not trade (options sides).
    pub(super) fn into_state(self) -> Option<OrderState> {
        let side = match self.side.as_str() {
            "buy" | "buy_to_cover" => OrderSide::Buy,
            "sell" | "sell_short" => OrderSide::Sell,
            _ => return None,
        };
        let filled = self.exec_quantity.unwrap_or(Decimal::ZERO);
        Some(OrderState {
            broker_order_id: self.id,
            client_order_id: self.tag.filter(|t| !t.is_empty()),
            symbol: self.symbol,
            side,
            quantity: self.quantity.unwrap_or(filled),
            filled_quantity: filled,
            // Tradier sends 0 before the first fill.
            avg_fill_price: self.avg_fill_price.filter(|_| filled > Decimal::ZERO),
            status: status(&self.status),
            broker_status: self.status,
            terms: self
                .kind
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.price, self.stop_price)),
        })
    }
}

/// Maps Tradier's order statuses; an unknown one is `Pending`, so callers keep polling.
pub(super) fn status(s: &str) -> OrderStatus {
    match s {
        "open" => OrderStatus::Open,
        "partially_filled" => OrderStatus::PartiallyFilled,
        "filled" => OrderStatus::Filled,
        "canceled" | "expired" => OrderStatus::Cancelled,
        "rejected" | "error" => OrderStatus::Rejected,
        _ => OrderStatus::Pending,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PositionsResponse {
    #[serde(default, deserialize_with = "null_or")]
    pub positions: Option<PositionList>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PositionList {
    #[serde(default, deserialize_with = "null_or")]
    pub position: Option<OneOrMany<TradierPosition>>,
}

/// A position: `quantity` is negative for shorts; `cost_basis` is the total cost.
#[derive(Debug, Deserialize)]
pub(super) struct TradierPosition {
    pub symbol: String,
    #[serde(deserialize_with = "number")]
    pub quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "number")]
    pub cost_basis: Option<Decimal>,
}

impl PositionsResponse {
    pub(super) fn into_positions(self) -> Vec<Position> {
        let list = self
            .positions
            .and_then(|l| l.position)
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
        list.into_iter()
            .map(|p| {
                let qty = p.quantity.unwrap_or(Decimal::ZERO);
                Position {
                    avg_price: p.cost_basis.and_then(|c| c.checked_div(qty)),
                    symbol: p.symbol,
                    quantity: qty,
                    unrealized_pl: None,
                }
            })
            .collect()
    }
}

/// `POST /v1/markets/events/session`.
#[derive(Debug, Deserialize)]
pub(super) struct SessionResponse {
    pub stream: SessionBody,
}

#[derive(Debug, Deserialize)]
pub(super) struct SessionBody {
    pub url: String,
    pub sessionid: String,
}

/// `GET /v1/markets/lookup` and `GET /v1/markets/search`: `{"securities":{"security":[…]}}`,
/// the element itself for one result, `null` (or `"null"`) for none.
#[derive(Debug, Deserialize)]
pub(super) struct SecuritiesResponse {
    #[serde(default, deserialize_with = "null_or")]
    pub securities: Option<SecurityList>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SecurityList {
    #[serde(default, deserialize_with = "null_or")]
    pub security: Option<OneOrMany<Security>>,
}

/// One security: `{"symbol":"AAPL","exchange":"Q","type":"stock","description":"Apple Inc"}`.
#[derive(Debug, Deserialize)]
pub(super) struct Security {
    pub symbol: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl SecuritiesResponse {
    pub(super) fn into_vec(self) -> Vec<Security> {
        self.securities
            .and_then(|l| l.security)
            .map(OneOrMany::into_vec)
            .unwrap_or_default()
    }
}

impl Security {
    /// The normalised form; Tradier's `stock` is `equity`, its other types pass unchanged.
    pub(super) fn into_info(self) -> InstrumentInfo {
        InstrumentInfo {
            symbol: self.symbol,
            name: self.description.filter(|d| !d.trim().is_empty()),
            kind: self
                .kind
                .filter(|k| !k.is_empty())
                .map(|k| match k.as_str() {
                    "stock" => "equity".to_string(),
                    _ => k,
                }),
        }
    }
}

/// Validation errors: `{"errors":{"error":["msg",…]}}` or `{"errors":{"error":"msg"}}`.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorsBody {
    pub errors: ErrorList,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorList {
    pub error: OneOrMany<String>,
}

/// Apigee's fault: `{"fault":{"faultstring":…,"detail":{"errorcode":…}}}`.
#[derive(Debug, Deserialize)]
pub(super) struct FaultBody {
    pub fault: Fault,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Fault {
    #[serde(default)]
    pub faultstring: String,
    #[serde(default)]
    pub detail: Option<FaultDetail>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct FaultDetail {
    #[serde(default)]
    pub errorcode: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_keep_letters_digits_and_hyphens() {
        assert_eq!(tradier_tag("coid-1"), "coid-1");
        assert_eq!(tradier_tag(" a_b.c/d é "), "a-b-c-d--");
        assert_eq!(tradier_tag(&"x".repeat(300)).len(), TAG_MAX);
    }

    #[test]
    fn lists_may_be_null_one_or_many() {
        let none: OrdersResponse =
            serde_json::from_str(r#"{"orders":"null"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.into_vec().is_empty());
        let one: OrdersResponse = serde_json::from_str(
            r#"{"orders":{"order":{"id":1,"symbol":"SPY","side":"buy","quantity":"2","status":"open"}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.into_vec().len(), 1);
        let pos: PositionsResponse =
            serde_json::from_str(r#"{"positions":"null"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(pos.into_positions().is_empty());
    }

    #[test]
    fn securities_may_be_null_one_or_many() {
        for none in [r#"{"securities":null}"#, r#"{"securities":"null"}"#, "{}"] {
            let r: SecuritiesResponse =
                serde_json::from_str(none).unwrap_or_else(|e| panic!("{e}"));
            assert!(r.into_vec().is_empty(), "{none}");
        }
        let one: SecuritiesResponse = serde_json::from_str(
            r#"{"securities":{"security":{"symbol":"AAPL","exchange":"Q","type":"stock","description":"Apple Inc"}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let infos: Vec<InstrumentInfo> = one
            .into_vec()
            .into_iter()
            .map(Security::into_info)
            .collect();
        assert_eq!(
            infos,
            [InstrumentInfo {
                symbol: "AAPL".into(),
                name: Some("Apple Inc".into()),
                kind: Some("equity".into())
            }]
        );
        let many: SecuritiesResponse = serde_json::from_str(
            r#"{"securities":{"security":[{"symbol":"SPY","type":"etf","description":"SPDR S&P 500"},{"symbol":"SPX","type":"index"}]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<Option<String>> = many
            .into_vec()
            .into_iter()
            .map(|s| s.into_info().kind)
            .collect();
        assert_eq!(kinds, [Some("etf".to_string()), Some("index".to_string())]);
    }

    #[test]
    fn statuses_map_to_normalised_ones() {
        assert_eq!(status("open"), OrderStatus::Open);
        assert_eq!(status("expired"), OrderStatus::Cancelled);
        assert_eq!(status("error"), OrderStatus::Rejected);
        assert_eq!(status("pending"), OrderStatus::Pending);
        assert_eq!(status("calculated"), OrderStatus::Pending);
    }
}
