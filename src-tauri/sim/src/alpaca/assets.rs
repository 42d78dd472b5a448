//! `GET /v2/assets` and `GET /v2/assets/{symbol}`: a small asset list in Alpaca's format,
//! including every symbol the data stream quotes (with the same asset ids the orders use),
//! a few more US equities, one inactive (delisted) equity and one crypto pair.
//!
//! Filters as Alpaca's: `status` (`active` | `inactive`, default all), `asset_class`
//! (`us_equity` | `us_option` | `crypto`, default `us_equity`), `exchange`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{json_response, lock, SimState};

/// (symbol, name, exchange, class, status).
const ASSETS: [(&str, &str, &str, &str, &str); 22] = [
    (
        "AAPL",
        "Apple Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "AAL",
        "American Airlines Group Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "AAP",
        "Advance Auto Parts Inc. Common Stock",
        "NYSE",
        "us_equity",
        "active",
    ),
    (
        "ABNB",
        "Airbnb, Inc. Class A Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "AMD",
        "Advanced Micro Devices, Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "AMZN",
        "Amazon.com, Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "BRK.B",
        "Berkshire Hathaway Inc. Class B",
        "NYSE",
        "us_equity",
        "active",
    ),
    (
        "GOOG",
        "Alphabet Inc. Class C Capital Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "GOOGL",
        "Alphabet Inc. Class A Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "IBM",
        "International Business Machines Corporation Common Stock",
        "NYSE",
        "us_equity",
        "active",
    ),
    (
        "JPM",
        "JP Morgan Chase & Co. Common Stock",
        "NYSE",
        "us_equity",
        "active",
    ),
    (
        "META",
        "Meta Platforms, Inc. Class A Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "MSFT",
        "Microsoft Corporation Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "NFLX",
        "Netflix, Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "NVDA",
        "NVIDIA Corporation Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "QQQ",
        "Invesco QQQ Trust, Series 1",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    (
        "SPY",
        "SPDR S&P 500 ETF Trust",
        "ARCA",
        "us_equity",
        "active",
    ),
    (
        "TSLA",
        "Tesla, Inc. Common Stock",
        "NASDAQ",
        "us_equity",
        "active",
    ),
    ("VOO", "Vanguard S&P 500 ETF", "ARCA", "us_equity", "active"),
    (
        "FAKEPACA",
        "Alpaca test feed symbol",
        "OTC",
        "us_equity",
        "active",
    ),
    (
        "TWTR",
        "Twitter, Inc. Common Stock",
        "NYSE",
        "us_equity",
        "inactive",
    ),
    (
        "BTC/USD",
        "Bitcoin / US Dollar",
        "CRYPTO",
        "crypto",
        "active",
    ),
];

/// A stable UUID for a symbol the market does not quote (FNV-1a of the symbol).
fn stable_id(symbol: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in symbol.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    uuid::Uuid::from_u128(h).to_string()
}

fn asset_json(s: &SimState, a: &(&str, &str, &str, &str, &str)) -> Value {
    let (symbol, name, exchange, class, status) = *a;
    let id = lock(&s.inner.market)
        .asset_id(symbol)
        .unwrap_or_else(|| stable_id(symbol));
    let equity = class == "us_equity";
    let active = status == "active";
    json!({
        "id": id,
        "class": class,
        "exchange": exchange,
        "symbol": symbol,
        "name": name,
        "status": status,
        "tradable": active,
        "marginable": equity && active,
        "maintenance_margin_requirement": if equity { 30 } else { 100 },
        "margin_requirement_long": if equity { "30" } else { "100" },
        "margin_requirement_short": if equity { "30" } else { "100" },
        "shortable": equity && active,
        "easy_to_borrow": equity && active,
        "fractionable": active,
        "attributes": if equity && active { json!(["fractional_eh_enabled", "has_options"]) } else { json!([]) },
    })
}

fn bad(message: &str) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"code": 42210000, "message": message}),
    )
}

pub(crate) async fn list(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q
        .get("status")
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    if status.is_some_and(|v| !matches!(v, "active" | "inactive")) {
        return bad("invalid status");
    }
    let class = q
        .get("asset_class")
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or("us_equity");
    if !matches!(class, "us_equity" | "us_option" | "crypto") {
        return bad("invalid asset_class");
    }
    let exchange = q
        .get("exchange")
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    let list: Vec<Value> = ASSETS
        .iter()
        .filter(|a| a.3 == class)
        .filter(|a| status.is_none_or(|st| a.4 == st))
        .filter(|a| exchange.is_none_or(|ex| a.2 == ex))
        .map(|a| asset_json(&s, a))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

pub(crate) async fn one(State(s): State<SimState>, Path(symbol): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.0.eq_ignore_ascii_case(&symbol)) {
        Some(a) => json_response(StatusCode::OK, &asset_json(&s, a)),
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({"code": 40410000, "message": "asset not found"}),
        ),
    }
}
