//! The parser of Tradier's market stream: one frame (one or several JSON messages) into
//! events, pure and synchronous so it can be fuzzed directly.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::messages::{tradier_symbol, Kind, Message, EMPTY_PLACEHOLDER};
use crate::brokers::BrokerError;
use crate::stream::{NoticeCode, StreamEvent, Tick};

/// The longest broker error text a [`StreamEvent::Notice`] carries.
const MAX_NOTICE: usize = 300;
/// The instruments a stream is subscribed to: each Tradier symbol and the spellings the user
/// subscribed with (usually one), so ticks carry exactly the user's instrument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Tradier symbols in subscription order (the payload's list).
    order: Vec<String>,
    by_symbol: HashMap<String, Vec<String>>,
}

impl Subscriptions {
    pub fn new(instruments: &[String]) -> Self {
        let mut s = Self::default();
        for i in instruments {
            s.add(i);
        }
        s
    }

    /// Adds an instrument; `true` when Tradier's symbol list changed.
    pub fn add(&mut self, instrument: &str) -> bool {
        let symbol = tradier_symbol(instrument);
        if symbol.is_empty() {
            return false;
        }
        match self.by_symbol.get_mut(&symbol) {
            Some(names) => {
                if !names.iter().any(|n| n == instrument) {
                    names.push(instrument.to_string());
                }
                false
            }
            None => {
                self.order.push(symbol.clone());
                self.by_symbol.insert(symbol, vec![instrument.to_string()]);
                true
            }
        }
    }

    /// Removes an instrument; `true` when Tradier's symbol list changed.
    pub fn remove(&mut self, instrument: &str) -> bool {
        let symbol = tradier_symbol(instrument);
        let Some(names) = self.by_symbol.get_mut(&symbol) else {
            return false;
        };
        names.retain(|n| n != instrument);
        if !names.is_empty() {
            return false;
        }
        self.by_symbol.remove(&symbol);
        self.order.retain(|s| *s != symbol);
        true
    }

    /// Tradier's symbols, in subscription order.
    pub fn symbols(&self) -> &[String] {
        &self.order
    }

    /// The user's spellings of a Tradier symbol (empty when not subscribed).
    pub fn instruments(&self, symbol: &str) -> &[String] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The payload's symbol list: the symbols, or the placeholder when there are none.
    pub(super) fn payload_symbols(&self) -> Vec<&str> {
        if self.order.is_empty() {
            vec![EMPTY_PLACEHOLDER]
        } else {
            self.order.iter().map(String::as_str).collect()
        }
    }
}

/// What [`parse_frame`] read from one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameSummary {
    /// Tradier messages understood (ticks, summaries, errors…), skipped ones not counted.
    pub messages: usize,
    /// Of the events appended, how many are notices.
    pub notices: usize,
}

/// The error that ends a stream when Tradier says its session is gone.
pub fn session_ended() -> BrokerError {
    BrokerError::Network(
        "Tradier ended the streaming session (expired or unknown); a new one is needed".into(),
    )
}

/// Parses one WebSocket frame of Tradier's market stream and appends its events to `out`.
///
/// Pure and synchronous (no I/O, no clock: `received_at` stamps the ticks), so it can be
/// fuzzed directly. The frame holds one or several JSON messages separated by line breaks
/// (`\n` or `\r\n`) or concatenated. Ticks are emitted only for symbols in `subs`, once per
/// spelling the user subscribed with. A malformed message is logged and skipped (the rest of
/// its line too); it never ends the stream. Never panics.
///
/// # Errors
///
/// [`session_ended`] when Tradier reports the session expired or unknown; events parsed from
/// the frame before that message stay in `out`.
pub fn parse_frame(
    frame: &str,
    subs: &Subscriptions,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Result<FrameSummary, BrokerError> {
    let mut summary = FrameSummary::default();
    for_each_message(frame, |m: Message<'_>| {
        handle(m, subs, received_at, out, &mut summary)
    })?;
    Ok(summary)
}

/// Calls `each` with every JSON message of a frame of Tradier's streams (market or account
/// events): messages separated by line breaks (`\n` or `\r\n`) or concatenated. A malformed
/// message is logged (never its text) and skipped with the rest of its line; the first
/// error `each` returns ends the frame.
pub(super) fn for_each_message<'a, T: serde::Deserialize<'a>>(
    frame: &'a str,
    mut each: impl FnMut(T) -> Result<(), BrokerError>,
) -> Result<(), BrokerError> {
    for line in frame.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        for message in serde_json::Deserializer::from_str(line).into_iter::<T>() {
            match message {
                Ok(m) => each(m)?,
                Err(e) => {
                    tracing::warn!(error = %e, len = line.len(), "skipping a malformed Tradier stream message");
                    break;
                }
            }
        }
    }
    Ok(())
}

fn handle(
    m: Message<'_>,
    subs: &Subscriptions,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
    summary: &mut FrameSummary,
) -> Result<(), BrokerError> {
    if let Some(error) = m.error {
        return error_message(&error.text(), subs, out, summary);
    }
    let Some(kind) = m.kind else {
        tracing::warn!("skipping a Tradier stream message with neither type nor error");
        return Ok(());
    };
    let base = match kind {
        Kind::Quote => Tick {
            bid: m.bid.0,
            ask: m.ask.0,
            bid_size: m.bidsz.0,
            ask_size: m.asksz.0,
            exchange_time: later(m.biddate.0, m.askdate.0),
            ..empty_tick(received_at)
        },
        Kind::Trade | Kind::Tradex => Tick {
            last: m.price.0.or(m.last.0),
            last_size: m.size.0,
            exchange_time: m.date.0,
            ..empty_tick(received_at)
        },
        Kind::Timesale => {
            let void = m.cancel.0 || m.correction.0;
            Tick {
                bid: m.bid.0,
                ask: m.ask.0,
                last: m.last.0.or(m.price.0).filter(|_| !void),
                last_size: m.size.0.filter(|_| !void),
                exchange_time: m.date.0,
                ..empty_tick(received_at)
            }
        }
        Kind::Summary | Kind::Other => {
            summary.messages += 1;
            out.push(StreamEvent::Heartbeat);
            return Ok(());
        }
    };
    let Some(symbol) = m.symbol else {
        tracing::warn!("skipping a Tradier stream message without a symbol");
        return Ok(());
    };
    summary.messages += 1;
    // In flight during a resubscription, or never asked for: dropped.
    let names = subs.instruments(&symbol);
    if let [rest @ .., last] = names {
        for name in rest {
            out.push(StreamEvent::Tick(Tick {
                instrument: name.clone(),
                ..base.clone()
            }));
        }
        out.push(StreamEvent::Tick(Tick {
            instrument: last.clone(),
            ..base
        }));
    }
    Ok(())
}

fn empty_tick(received_at: DateTime<Utc>) -> Tick {
    Tick::new(String::new(), received_at)
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `{"error":…}`: a refused symbol, a dead session, or something else.
fn error_message(
    text: &str,
    subs: &Subscriptions,
    out: &mut Vec<StreamEvent>,
    summary: &mut FrameSummary,
) -> Result<(), BrokerError> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if lower.contains("session") {
        return Err(session_ended());
    }
    summary.messages += 1;
    let message: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NOTICE)
        .collect();
    if let Some(symbol) = lower
        .strip_suffix(" is not a valid symbol")
        .map(|s| &text[..s.len()])
    {
        let symbol = symbol.trim();
        if symbol == EMPTY_PLACEHOLDER {
            return Ok(());
        }
        let names = subs.instruments(&tradier_symbol(symbol));
        let named: Vec<Option<String>> = if names.is_empty() {
            vec![Some(symbol.chars().take(MAX_NOTICE).collect())]
        } else {
            names.iter().cloned().map(Some).collect()
        };
        for instrument in named {
            summary.notices += 1;
            out.push(StreamEvent::notice(
                instrument,
                NoticeCode::InvalidSymbol,
                message.clone(),
            ));
        }
        return Ok(());
    }
    summary.notices += 1;
    out.push(StreamEvent::Notice {
        instrument: None,
        code: NoticeCode::Broker,
        broker_code: None,
        message: if message.is_empty() {
            "Tradier reported an unspecified stream error".into()
        } else {
            message
        },
    });
    Ok(())
}
