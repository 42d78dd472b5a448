//! The pricing stream: an HTTP/1.1 chunked body carrying one JSON object per line, PRICE
//! or HEARTBEAT (every 5 s). Chunk boundaries fall anywhere, so bytes go through a
//! [`LineSplitter`] that reassembles lines, bounds their length and drops over-long ones;
//! malformed lines are skipped with a warning rather than ending the stream.
//!
//! [`PriceStream::next`] never times out by itself: a half-open link sends nothing and
//! never closes, so the owner wraps each call in its heartbeat watchdog
//! (`connection::within`, two heartbeat intervals).

use std::collections::VecDeque;

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::{Deserialize, Deserializer};

use super::Oanda;
use crate::brokers::{wire, BrokerError};
use crate::money::Decimal;
use crate::stream::{parse_time, NoticeCode, QuoteStream, StreamEvent, Tick};

/// OANDA's pricing-stream heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// The longest line accepted; a price line is a few hundred bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// A decimal of a stream line (OANDA sends strings, `"1.08235"`; a number is accepted too),
/// read from the line's text: exactly as sent, never through `f64`.
fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    wire::strict_decimal(d)?.ok_or_else(|| serde::de::Error::custom("a price is null"))
}

/// One price level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PriceBucket {
    #[serde(deserialize_with = "exact")]
    pub price: Decimal,
    #[serde(deserialize_with = "exact")]
    pub liquidity: Decimal,
}

/// A PRICE line.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub instrument: String,
    /// RFC 3339 with nanoseconds, as sent.
    pub time: String,
    pub status: Option<String>,
    pub tradeable: bool,
    pub bids: Vec<PriceBucket>,
    pub asks: Vec<PriceBucket>,
}

impl Price {
    /// The best bid.
    pub fn bid(&self) -> Option<Decimal> {
        self.bids.first().map(|b| b.price)
    }

    /// The best ask.
    pub fn ask(&self) -> Option<Decimal> {
        self.asks.first().map(|b| b.price)
    }
}

/// A line as read in one pass straight from its text (the decimals borrow it): the fields
/// of PRICE and HEARTBEAT lines; every other field is skipped unparsed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    instrument: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    tradeable: bool,
    #[serde(default)]
    bids: Vec<PriceBucket>,
    #[serde(default)]
    asks: Vec<PriceBucket>,
}

/// One useful line of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine {
    Price(Price),
    Heartbeat { time: String },
}

/// Parses one line; `None` (with a log) for anything that is not a PRICE or HEARTBEAT.
pub fn parse_line(line: &str) -> Option<StreamLine> {
    let l: Line = match serde_json::from_str(line) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, len = line.len(), "skipping a malformed pricing-stream line");
            return None;
        }
    };
    match l.kind.as_deref() {
        Some("HEARTBEAT") => Some(StreamLine::Heartbeat {
            time: l.time.unwrap_or_default(),
        }),
        Some("PRICE") => match (l.instrument, l.time) {
            (Some(instrument), Some(time)) => Some(StreamLine::Price(Price {
                instrument,
                time,
                status: l.status,
                tradeable: l.tradeable,
                bids: l.bids,
                asks: l.asks,
            })),
            _ => {
                tracing::warn!("skipping a PRICE line without instrument or time");
                None
            }
        },
        other => {
            tracing::debug!(kind = ?other, "skipping a pricing-stream line of another type");
            None
        }
    }
}

/// Reassembles newline-delimited lines from arbitrary chunks.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    /// Inside an over-long line: drop bytes until its end.
    skipping: bool,
}

impl LineSplitter {
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
            skipping: false,
        }
    }

    /// Feeds a chunk; returns the lines it completes (trimmed, empty ones left out).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for part in chunk.split_inclusive(|&b| b == b'\n') {
            let (body, complete) = match part.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (part, false),
            };
            if !self.skipping {
                if self.buf.len() + body.len() > self.max {
                    tracing::warn!(
                        max = self.max,
                        "skipping a pricing-stream line longer than the limit"
                    );
                    self.buf = Vec::new();
                    self.skipping = true;
                } else {
                    self.buf.extend_from_slice(body);
                }
            }
            if complete {
                if !self.skipping {
                    let line = String::from_utf8_lossy(&self.buf).trim().to_string();
                    if !line.is_empty() {
                        lines.push(line);
                    }
                }
                self.buf.clear();
                self.skipping = false;
            }
        }
        lines
    }

    /// Returns what is left after the last newline (a final line sent without one).
    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buf))
            .trim()
            .to_string();
        let skipped = std::mem::replace(&mut self.skipping, false);
        (!rest.is_empty() && !skipped).then_some(rest)
    }
}

/// An open pricing stream.
#[derive(Debug)]
pub struct PriceStream {
    resp: reqwest::Response,
    lines: LineSplitter,
    ready: VecDeque<StreamLine>,
    ended: bool,
}

impl PriceStream {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            resp,
            lines: LineSplitter::new(MAX_LINE),
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// Returns a line already read off the socket, without waiting.
    pub fn ready(&mut self) -> Option<StreamLine> {
        self.ready.pop_front()
    }

    /// Returns the next PRICE or HEARTBEAT line, `Ok(None)` once the server has ended the
    /// stream, or `Network` when the connection drops mid-stream. Both ends mean the
    /// stream must be reopened: OANDA never ends one on purpose.
    pub async fn next(&mut self) -> Result<Option<StreamLine>, BrokerError> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                return Ok(Some(line));
            }
            if self.ended {
                return Ok(None);
            }
            match self.resp.chunk().await {
                Ok(Some(chunk)) => {
                    let lines = self.lines.push(&chunk);
                    self.ready
                        .extend(lines.iter().filter_map(|l| parse_line(l)));
                }
                Ok(None) => {
                    self.ended = true;
                    self.ready
                        .extend(self.lines.finish().and_then(|l| parse_line(&l)));
                }
                Err(e) => {
                    self.ended = true;
                    // Not `http::transport`: a body error here is a dropped link (retry),
                    // not a malformed answer.
                    let reason = if e.is_timeout() {
                        "timed out"
                    } else {
                        "dropped"
                    };
                    return Err(BrokerError::Network(format!("the price stream {reason}")));
                }
            }
        }
    }
}

impl StreamLine {
    /// The normalized event of this line, stamped `received_at`.
    pub fn into_event(self, received_at: chrono::DateTime<Utc>) -> StreamEvent {
        match self {
            StreamLine::Heartbeat { .. } => StreamEvent::Heartbeat,
            StreamLine::Price(p) => {
                let mut tick = Tick::new(p.instrument, received_at);
                tick.bid = p.bids.first().map(|b| b.price);
                tick.ask = p.asks.first().map(|b| b.price);
                tick.bid_size = p.bids.first().map(|b| b.liquidity);
                tick.ask_size = p.asks.first().map(|b| b.liquidity);
                tick.exchange_time = parse_time(&p.time);
                StreamEvent::Tick(tick)
            }
        }
    }
}

/// Parses a chunk of the pricing stream's bytes into events, for fuzzing and tests: lines
/// are reassembled by `splitter` across calls, malformed ones skipped.
pub fn parse_chunk(splitter: &mut LineSplitter, chunk: &[u8], out: &mut Vec<StreamEvent>) {
    let now = Utc::now();
    for line in splitter.push(chunk) {
        if let Some(l) = parse_line(&line) {
            out.push(l.into_event(now));
        }
    }
}

/// OANDA's pricing stream as a [`QuoteStream`]. The protocol fixes the instruments when
/// the stream opens, so subscribing re-opens it with the new list. Instruments the account
/// does not offer (OANDA answers 400 for the whole request) are reported one by one as
/// notices and left out, so one typo does not stop the others.
pub struct OandaQuoteStream {
    oanda: Oanda,
    instruments: Vec<String>,
    stream: Option<PriceStream>,
    pending: Vec<StreamEvent>,
}

impl std::fmt::Debug for OandaQuoteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OandaQuoteStream")
            .field("instruments", &self.instruments)
            .finish_non_exhaustive()
    }
}

impl OandaQuoteStream {
    /// Opens the stream for `instruments` (none: it idles until some are subscribed).
    pub async fn open(oanda: Oanda, instruments: &[String]) -> Result<Self, BrokerError> {
        let mut s = Self {
            oanda,
            instruments: Vec::new(),
            stream: None,
            pending: Vec::new(),
        };
        for i in instruments {
            if !s.instruments.contains(i) {
                s.instruments.push(i.clone());
            }
        }
        s.reopen().await?;
        Ok(s)
    }

    /// The instruments currently streamed.
    pub fn instruments(&self) -> &[String] {
        &self.instruments
    }

    async fn reopen(&mut self) -> Result<(), BrokerError> {
        self.stream = None;
        if self.instruments.is_empty() {
            return Ok(());
        }
        match self.oanda.pricing_stream(&self.instruments).await {
            Ok(s) => {
                self.stream = Some(s);
                Ok(())
            }
            Err(e @ BrokerError::Rejected { status: 400, .. }) => {
                let known: Vec<String> = match self.oanda.instruments().await {
                    Ok(list) => list.into_iter().map(|i| i.symbol).collect(),
                    Err(_) => return Err(e),
                };
                let (good, bad): (Vec<String>, Vec<String>) = std::mem::take(&mut self.instruments)
                    .into_iter()
                    .partition(|i| known.contains(i));
                if bad.is_empty() {
                    self.instruments = good;
                    return Err(e);
                }
                for b in bad {
                    let message = format!("OANDA does not offer {b} on this account");
                    self.pending.push(StreamEvent::notice(
                        Some(b),
                        NoticeCode::UnknownInstrument,
                        message,
                    ));
                }
                self.instruments = good;
                if !self.instruments.is_empty() {
                    self.stream = Some(self.oanda.pricing_stream(&self.instruments).await?);
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl QuoteStream for OandaQuoteStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        let Some(stream) = self.stream.as_mut() else {
            // Nothing subscribed: nothing can arrive, and nothing can die.
            tokio::time::sleep(self.oanda.heartbeat).await;
            out.push(StreamEvent::Heartbeat);
            return Ok(true);
        };
        let Some(first) = stream.next().await? else {
            return Ok(false);
        };
        let now = Utc::now();
        out.push(first.into_event(now));
        while let Some(line) = stream.ready() {
            out.push(line.into_event(now));
        }
        Ok(true)
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let before = self.instruments.len();
        for i in instruments {
            if !self.instruments.contains(i) {
                self.instruments.push(i.clone());
            }
        }
        if self.instruments.len() == before && self.stream.is_some() {
            return Ok(());
        }
        self.reopen().await
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let before = self.instruments.len();
        self.instruments.retain(|i| !instruments.contains(i));
        if self.instruments.len() == before {
            return Ok(());
        }
        self.reopen().await
    }

    fn silence_limit(&self) -> Duration {
        self.oanda.heartbeat.saturating_mul(2)
    }

    async fn close(&mut self) {
        self.stream = None;
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn lines_survive_any_chunking() {
        let text = b"{\"type\":\"HEARTBEAT\",\"time\":\"t1\"}\r\n\n{\"type\":\"HEARTBEAT\",\"time\":\"t2\"}\n";
        for size in 1..text.len() {
            let mut s = LineSplitter::new(MAX_LINE);
            let lines: Vec<String> = text.chunks(size).flat_map(|c| s.push(c)).collect();
            assert_eq!(lines.len(), 2, "chunk size {size}");
            assert!(s.finish().is_none());
        }
    }

    #[test]
    fn over_long_lines_are_dropped_whole() {
        let mut s = LineSplitter::new(8);
        assert!(s.push(b"0123456").is_empty());
        assert!(s.push(b"789abc").is_empty());
        assert_eq!(s.push(b"def\nok\n"), vec!["ok".to_string()]);
    }

    #[test]
    fn parses_price_and_heartbeat_and_skips_the_rest() {
        let price = r#"{"type":"PRICE","instrument":"EUR_JPY","time":"2016-10-27T08:38:43.094548890Z","status":"tradeable","tradeable":true,"bids":[{"price":"114.295","liquidity":1000000}],"asks":[{"price":"114.316","liquidity":1000000}],"closeoutBid":"114.291","closeoutAsk":"114.316"}"#;
        let Some(StreamLine::Price(p)) = parse_line(price) else {
            panic!("a price")
        };
        assert_eq!(
            (p.bid(), p.ask()),
            (Some(dec!(114.295)), Some(dec!(114.316)))
        );
        assert!(p.tradeable);
        assert!(matches!(
            parse_line(r#"{"type":"HEARTBEAT","time":"t"}"#),
            Some(StreamLine::Heartbeat { .. })
        ));
        assert!(parse_line("{not json").is_none());
        assert!(parse_line(r#"{"type":"PRICE","instrument":1}"#).is_none());
        assert!(parse_line(r#"{"type":"SOMETHING_ELSE"}"#).is_none());
    }

    #[test]
    fn prices_arrive_exact_as_strings_or_numbers() {
        let line = r#"{"type":"PRICE","instrument":"EUR_USD","time":"2016-10-27T08:38:43.094548890Z","bids":[{"price":"1.082351","liquidity":10000000}],"asks":[{"price":1.08237,"liquidity":"250000.5"}]}"#;
        let Some(l) = parse_line(line) else {
            panic!("a price")
        };
        let StreamEvent::Tick(t) = l.into_event(Utc::now()) else {
            panic!("a tick")
        };
        assert_eq!(t.bid.map(|d| d.to_string()).as_deref(), Some("1.082351"));
        assert_eq!(t.ask.map(|d| d.to_string()).as_deref(), Some("1.08237"));
        assert_eq!(t.bid_size, Some(dec!(10000000)));
        assert_eq!(t.ask_size, Some(dec!(250000.5)));
        let ipc = serde_json::to_value(&t).unwrap_or_default();
        assert_eq!(ipc["bid"], "1.082351");
        assert_eq!(ipc["ask"], "1.08237");
    }
}
