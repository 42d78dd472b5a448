//! The pricing stream's parser: bytes into lines ([`LineSplitter`]), lines into
//! [`StreamLine`]s and events. Pure and synchronous, so it can be fuzzed directly.

use chrono::Utc;

use super::messages::{Line, Price, StreamLine};
use crate::stream::{parse_time, StreamEvent, Tick};

/// The longest line accepted; a price line is a few hundred bytes.
pub const MAX_LINE: usize = 64 * 1024;
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
                        "skipping a stream line longer than the limit"
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
        let price = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/test_data/oanda/stream_price_eur_jpy.json"
        ));
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
