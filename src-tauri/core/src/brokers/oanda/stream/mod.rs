//! The pricing stream: an HTTP/1.1 chunked body carrying one JSON object per line, PRICE
//! or HEARTBEAT (every 5 s). Chunk boundaries fall anywhere, so bytes go through a
//! [`LineSplitter`] that reassembles lines, bounds their length and drops over-long ones;
//! malformed lines are skipped with a warning rather than ending the stream.
//!
//! [`PriceStream::next`] never times out by itself: a half-open link sends nothing and
//! never closes, so the owner wraps each call in its heartbeat watchdog
//! (`connection::within`, two heartbeat intervals).

pub mod events;
mod messages;
pub mod parse;

pub use self::messages::{Price, PriceBucket, StreamLine};
pub use self::parse::{parse_chunk, parse_line, LineSplitter, MAX_LINE};

use std::collections::VecDeque;

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::Oanda;
use crate::brokers::BrokerError;
use crate::stream::{NoticeCode, QuoteStream, StreamEvent};

/// OANDA's pricing-stream heartbeat interval.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// The lines of a chunked body (the pricing and the transaction streams): chunks in,
/// complete lines out, over-long ones dropped by the [`LineSplitter`].
#[derive(Debug)]
pub(super) struct LineReader {
    resp: reqwest::Response,
    lines: LineSplitter,
    /// What the stream is, for the error of a dropped link (`"price stream"`).
    what: &'static str,
    ended: bool,
}

impl LineReader {
    pub(super) fn new(resp: reqwest::Response, what: &'static str) -> Self {
        Self {
            resp,
            lines: LineSplitter::new(MAX_LINE),
            what,
            ended: false,
        }
    }

    /// Waits for the next chunk and returns the lines it completes (none for a chunk
    /// inside a line; at the end of the body, what followed the last newline); `None` once
    /// the server has ended the body, `Network` when the connection drops mid-stream.
    pub(super) async fn next(&mut self) -> Result<Option<Vec<String>>, BrokerError> {
        if self.ended {
            return Ok(None);
        }
        match self.resp.chunk().await {
            Ok(Some(chunk)) => Ok(Some(self.lines.push(&chunk))),
            Ok(None) => {
                self.ended = true;
                Ok(self.lines.finish().map(|last| vec![last]))
            }
            Err(e) => {
                self.ended = true;
                // Not `http::transport`: a body error here is a dropped link (retry), not a
                // malformed answer.
                let reason = if e.is_timeout() {
                    "timed out"
                } else {
                    "dropped"
                };
                Err(BrokerError::Network(format!("the {} {reason}", self.what)))
            }
        }
    }
}

/// An open pricing stream.
#[derive(Debug)]
pub struct PriceStream {
    reader: LineReader,
    ready: VecDeque<StreamLine>,
}

impl PriceStream {
    pub(super) fn new(resp: reqwest::Response) -> Self {
        Self {
            reader: LineReader::new(resp, "price stream"),
            ready: VecDeque::new(),
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
            match self.reader.next().await? {
                Some(lines) => self
                    .ready
                    .extend(lines.iter().filter_map(|l| parse_line(l))),
                None => return Ok(None),
            }
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
