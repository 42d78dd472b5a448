//! The Client Portal WebSocket's server frames, parsed without I/O: [`parse_frame`] turns one
//! frame into [`StreamEvent`]s and says what it means for the session ([`Control`]).
//!
//! Every server message is one JSON object (sent as a text frame, or as a binary frame
//! holding the same UTF-8 JSON). What is read (`brokers/ibkr/PROTOCOL.md`):
//!
//! | frame | events | control |
//! |---|---|---|
//! | `{"topic":"smd+CONID","conid":…,"_updated":ms,"31":"190.01","84":…}` | one [`Tick`] per symbol mapped to CONID (none for a conid no longer subscribed; a [`StreamEvent::Heartbeat`] when no price field is present) | — |
//! | `{"topic":"system","hb":ms}` | Heartbeat | — |
//! | `{"topic":"system","success":"user",…}` | Heartbeat | — (the gateway drops commands until `sts`) |
//! | `{"topic":"sts","args":{"authenticated":true,…}}` | Heartbeat | [`Control::Authenticated`] |
//! | `{"topic":"sts","args":{"authenticated":false,…}}` | — | [`Control::NotAuthenticated`] |
//! | `{"message":"waiting for session"}` | — | [`Control::WaitingForSession`] |
//! | `{"topic":"smd+CONID","error":…}`, `{"error":…}`, `{"topic":"error",…}` | a [`StreamEvent::Notice`] for the symbols of the conid named (topic or `conid`), else one without instrument | — |
//! | `{"topic":"ntf","args":…}`, `{"topic":"blt",…}` | a Notice without instrument | — |
//! | `act`, `tic`, other topics, other `message`s | Heartbeat | — |
//!
//! Market data comes as partial updates: only the fields that changed are sent, so a
//! [`Tick`] carries `None` for the others (the latest-quote book merges them). Values are
//! strings, sometimes prefixed (`C190.00` = the prior close, `H190.00` = halted), with
//! thousands separators (`1,200`) or suffixes (`1.2K`); numbers are accepted too. A value
//! that is not a number is absent. A frame that is not such JSON is logged (`warn`, without
//! its content) and yields nothing.
//!
//! The hot path (a market-data frame) deserialises into a borrowed struct: no allocation
//! besides each tick's instrument name. Fuzzing: [`parse_frame`] is pure and total; any
//! bytes must return without panicking.
use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::messages::Frame;
pub use super::messages::{parse_value, FIELDS};
use crate::stream::{time_from_millis, NoticeCode, StreamEvent, Tick};

/// Longest broker text kept in a notice.
const MAX_NOTICE: usize = 300;

/// Which of the user's symbols each conid stands for (usually one; a user may subscribe the
/// same contract under its symbol and its conid).
#[derive(Debug, Default, Clone)]
pub struct ConidMap {
    by_conid: HashMap<u64, Vec<String>>,
    by_symbol: HashMap<String, u64>,
}

impl ConidMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `symbol` (exactly as the user wrote it) to `conid`. Returns true when the conid
    /// was not mapped before (it needs an `smd`).
    pub fn insert(&mut self, conid: u64, symbol: &str) -> bool {
        if self.by_symbol.contains_key(symbol) {
            return false;
        }
        self.by_symbol.insert(symbol.to_string(), conid);
        let list = self.by_conid.entry(conid).or_default();
        list.push(symbol.to_string());
        list.len() == 1
    }

    /// Unmaps `symbol`. Returns its conid and whether no symbol is left on it (it needs a
    /// `umd`).
    pub fn remove(&mut self, symbol: &str) -> Option<(u64, bool)> {
        let conid = self.by_symbol.remove(symbol)?;
        let last = match self.by_conid.get_mut(&conid) {
            Some(list) => {
                list.retain(|s| s != symbol);
                list.is_empty()
            }
            None => true,
        };
        if last {
            self.by_conid.remove(&conid);
        }
        Some((conid, last))
    }

    /// The symbols subscribed under `conid` (empty when none).
    pub fn symbols(&self, conid: u64) -> &[String] {
        self.by_conid.get(&conid).map_or(&[], Vec::as_slice)
    }

    /// The conid `symbol` was mapped to.
    pub fn conid(&self, symbol: &str) -> Option<u64> {
        self.by_symbol.get(symbol).copied()
    }

    /// Every conid mapped, each once.
    pub fn conids(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_conid.keys().copied()
    }

    /// Number of symbols mapped.
    pub fn len(&self) -> usize {
        self.by_symbol.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }
}

/// What a frame says about the WebSocket's session, beyond its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Nothing.
    None,
    /// The gateway accepted the session (`sts` authenticated): commands are heard from now
    /// on (the gateway drops what comes before).
    Authenticated,
    /// The gateway waits for the session (`{"message":"waiting for session"}`): send
    /// `{"session":"…"}`.
    WaitingForSession,
    /// `sts` says the session is not authenticated (logged out, expired, taken over by a
    /// competing session).
    NotAuthenticated,
}

/// Parses one server frame (the text of a text frame, or the bytes of a binary one) and
/// appends its events to `out`; `conids` maps the conids in market-data topics back to the
/// user's symbols and `received_at` stamps the ticks. Returns what the frame says about
/// the session. Never panics and never fails: a malformed frame is logged and yields no
/// events.
pub fn parse_frame(
    frame: &[u8],
    conids: &ConidMap,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Control {
    // One UTF-8 check for the whole frame, then the `str` reader, which need not check the
    // borrowed text of every value again (the byte-slice reader would).
    let Ok(text) = std::str::from_utf8(frame) else {
        tracing::warn!(
            len = frame.len(),
            "skipping an IBKR stream frame that is not UTF-8"
        );
        return Control::None;
    };
    let f: Frame<'_> = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            // The category and position only: a frame can hold account data.
            tracing::warn!(
                len = frame.len(),
                line = e.line(),
                column = e.column(),
                kind = ?e.classify(),
                "skipping a malformed IBKR stream frame"
            );
            return Control::None;
        }
    };
    let topic = f.topic.as_deref().unwrap_or("");
    let topic_conid = topic
        .strip_prefix("smd+")
        .and_then(|c| c.split(['+', '@']).next())
        .and_then(|c| c.parse::<u64>().ok());
    let conid = f.conid.or(topic_conid);

    if let Some(err) = &f.error {
        let code = if topic.starts_with("smd") {
            NoticeCode::SubscriptionRefused
        } else {
            NoticeCode::Broker
        };
        notices(out, conids, conid, code, &err_text(err));
        return Control::None;
    }
    match topic {
        "" => match f.message.as_ref().and_then(Value::as_str) {
            Some(m) if m.trim().eq_ignore_ascii_case("waiting for session") => {
                Control::WaitingForSession
            }
            _ => {
                out.push(StreamEvent::Heartbeat);
                Control::None
            }
        },
        "system" => {
            out.push(StreamEvent::Heartbeat);
            Control::None
        }
        "sts" => match f.args.as_ref().and_then(|a| a.get("authenticated")) {
            Some(Value::Bool(false)) => Control::NotAuthenticated,
            Some(Value::Bool(true)) => {
                out.push(StreamEvent::Heartbeat);
                Control::Authenticated
            }
            _ => {
                out.push(StreamEvent::Heartbeat);
                Control::None
            }
        },
        "error" => {
            let text = f
                .args
                .as_ref()
                .or(f.message.as_ref())
                .map(err_text)
                .unwrap_or_else(|| "IBKR reported an error".into());
            notices(out, conids, conid, NoticeCode::Broker, &text);
            Control::None
        }
        "ntf" | "blt" => {
            let body = f.args.as_ref().or(f.message.as_ref());
            match body.map(err_text).filter(|t| !t.is_empty()) {
                // The topic (`ntf` notification, `blt` bulletin) is IBKR's own code.
                Some(text) => out.push(StreamEvent::Notice {
                    instrument: None,
                    code: NoticeCode::Notification,
                    broker_code: Some(topic.to_string()),
                    message: text,
                }),
                None => out.push(StreamEvent::Heartbeat),
            }
            Control::None
        }
        t if t.starts_with("smd+") => {
            let Some(conid) = conid else {
                tracing::warn!("skipping an IBKR market-data frame without a conid");
                return Control::None;
            };
            market_data(&f, conids.symbols(conid), received_at, out);
            Control::None
        }
        _ => {
            out.push(StreamEvent::Heartbeat);
            Control::None
        }
    }
}

/// Appends the ticks of one market-data frame, one per symbol (none for an unmapped conid:
/// an update in flight after `umd`).
fn market_data(
    f: &Frame<'_>,
    symbols: &[String],
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) {
    if symbols.is_empty() {
        return;
    }
    let any = f.last.is_some()
        || f.bid.is_some()
        || f.ask.is_some()
        || f.bid_size.is_some()
        || f.ask_size.is_some()
        || f.last_size.is_some();
    if !any {
        out.push(StreamEvent::Heartbeat);
        return;
    }
    let exchange_time = f
        .updated
        .filter(|ms| ms.abs() < 1_000_000_000_000_000)
        .and_then(time_from_millis);
    for symbol in symbols {
        out.push(StreamEvent::Tick(Tick {
            instrument: symbol.clone(),
            bid: f.bid,
            ask: f.ask,
            last: f.last,
            bid_size: f.bid_size,
            ask_size: f.ask_size,
            last_size: f.last_size,
            exchange_time,
            received_at,
        }));
    }
}

fn notice(instrument: Option<String>, code: NoticeCode, message: String) -> StreamEvent {
    StreamEvent::notice(instrument, code, message)
}

/// One notice per symbol of `conid`; one naming the conid when none is mapped to it; one
/// without instrument when no conid is named.
fn notices(
    out: &mut Vec<StreamEvent>,
    conids: &ConidMap,
    conid: Option<u64>,
    code: NoticeCode,
    text: &str,
) {
    let Some(conid) = conid else {
        out.push(notice(None, code, text.to_string()));
        return;
    };
    let symbols = conids.symbols(conid);
    if symbols.is_empty() {
        out.push(notice(
            Some(conid.to_string()),
            code,
            format!("contract {conid}: {text}"),
        ));
    }
    for s in symbols {
        out.push(notice(Some(s.clone()), code, text.to_string()));
    }
}

/// The human text of an error / notification body: a string, or the first text field of an
/// object (`error`, `message`, `text`, `msg`, `title`), or of an array's first element;
/// else the compact JSON. Control characters are dropped and the length is bounded.
fn err_text(v: &Value) -> String {
    fn pick(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s),
            Value::Object(o) => ["error", "message", "text", "msg", "title"]
                .iter()
                .find_map(|k| o.get(*k).and_then(pick)),
            Value::Array(a) => a.first().and_then(pick),
            _ => None,
        }
    }
    let raw = match pick(v) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.to_string()),
    };
    raw.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NOTICE)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_counts_symbols_per_conid() {
        let mut m = ConidMap::new();
        assert!(m.insert(265598, "AAPL"));
        assert!(!m.insert(265598, "265598"));
        assert!(!m.insert(265598, "AAPL"));
        assert_eq!(m.symbols(265598), ["AAPL", "265598"]);
        assert_eq!(m.remove("AAPL"), Some((265598, false)));
        assert_eq!(m.remove("265598"), Some((265598, true)));
        assert_eq!(m.remove("AAPL"), None);
        assert!(m.is_empty() && m.symbols(265598).is_empty());
    }
}
