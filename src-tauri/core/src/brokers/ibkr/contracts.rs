//! Contracts: a user's symbol resolved to IBKR's contract id (conid), cached for the life of
//! the connector, and the instrument search. Both read `GET /iserver/secdef/search?symbol=…`.
//!
//! Shared (behind an `Arc`) by the connector and its open price streams, so a stream can
//! resolve the symbols added to it and a reconnect re-subscribes without a round trip.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Method;

use super::http::IbkrHttp;
use super::models::SecdefEntry;
use crate::brokers::BrokerError;
use crate::stream::InstrumentInfo;

/// Most search results returned (IBKR answers a few dozen at most).
const MAX_RESULTS: usize = 50;

pub(super) struct Contracts {
    http: Arc<IbkrHttp>,
    /// Upper-cased symbol → conid.
    cache: Mutex<HashMap<String, u64>>,
}

impl Contracts {
    pub(super) fn new(http: Arc<IbkrHttp>) -> Self {
        Self {
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The conid of a symbol: digits are taken as a conid, anything else is searched (the
    /// entry whose symbol is exactly it). An unknown symbol is [`BrokerError::Rejected`]
    /// with code `unknown_symbol`.
    pub(super) async fn conid(&self, symbol: &str) -> Result<u64, BrokerError> {
        let symbol = symbol.trim().to_ascii_uppercase();
        if let Ok(n) = symbol.parse::<u64>() {
            return Ok(n);
        }
        if symbol.is_empty() {
            return Err(unknown(&symbol));
        }
        if let Some(c) = self.cache.lock().ok().and_then(|m| m.get(&symbol).copied()) {
            return Ok(c);
        }
        let found = match self.search_raw(&symbol).await {
            Ok(list) => list
                .iter()
                .filter(|e| e.symbol.as_deref() == Some(symbol.as_str()))
                .find_map(SecdefEntry::conid),
            Err(e) if is_no_match(&e) => None,
            Err(e) => return Err(e),
        };
        let conid = found.ok_or_else(|| unknown(&symbol))?;
        if let Ok(mut m) = self.cache.lock() {
            m.insert(symbol, conid);
        }
        Ok(conid)
    }

    /// Searches by symbol (IBKR matches symbols and, loosely, names); no match is an empty
    /// list, not an error. Results are distinct by symbol, in IBKR's order.
    pub(super) async fn search(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let list = match self.search_raw(query).await {
            Ok(list) => list,
            Err(e) if is_no_match(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out: Vec<InstrumentInfo> = Vec::new();
        for e in list {
            let Some(symbol) = e.symbol.clone().filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            if out.iter().any(|i| i.symbol == symbol) {
                continue;
            }
            if let (Some(c), Ok(mut m)) = (e.conid(), self.cache.lock()) {
                m.entry(symbol.to_ascii_uppercase()).or_insert(c);
            }
            out.push(InstrumentInfo {
                kind: e.kind(),
                name: e.company_name.clone().filter(|n| !n.trim().is_empty()),
                symbol,
            });
            if out.len() == MAX_RESULTS {
                break;
            }
        }
        Ok(out)
    }

    async fn search_raw(&self, symbol: &str) -> Result<Vec<SecdefEntry>, BrokerError> {
        let mut url = self.http.url(&["iserver", "secdef", "search"]);
        url.query_pairs_mut().append_pair("symbol", symbol);
        let v = self.http.call(Method::GET, url, None).await?;
        Ok(SecdefEntry::list(v.value().clone()))
    }
}

/// IBKR's "nothing found" answers: `{"error":"No symbol found"}` (with 200 or 400) or a 404.
fn is_no_match(e: &BrokerError) -> bool {
    match e {
        BrokerError::NotFound(_) => true,
        BrokerError::Rejected { message, code, .. } => {
            let m = message.to_ascii_lowercase();
            code == "ibkr" && (m.contains("no symbol") || m.contains("not found"))
        }
        _ => false,
    }
}

fn unknown(symbol: &str) -> BrokerError {
    BrokerError::Rejected {
        status: 0,
        code: "unknown_symbol".into(),
        message: format!("IBKR lists no contract for {symbol:?}"),
    }
}
