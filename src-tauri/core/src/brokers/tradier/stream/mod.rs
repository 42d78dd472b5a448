//! Tradier's market WebSocket (`wss://ws.tradier.com/v1/markets/events`,
//! `brokers/tradier/PROTOCOL.md`) as a [`QuoteStream`].
//!
//! Opening takes a streaming session (`POST /v1/markets/events/session`, bearer auth; see
//! [`super::Tradier::stream_session`]), connects the WebSocket (no headers: the session id
//! carries the auth) and sends the payload `{"symbols":[…],"sessionid":…,"filter":["trade",
//! "quote"],"linebreak":true,…}`. Changing the subscription resends the payload with the full
//! symbol list; Tradier wants at least one symbol, so an empty list travels as the
//! placeholder [`EMPTY_PLACEHOLDER`] (QuantConnect's trick), whose "not a valid symbol" answer
//! is swallowed.
//!
//! Frames carry one or several JSON messages, separated by line breaks (`linebreak: true`) or
//! simply concatenated; [`parse_frame`] reads them all:
//! - `quote` → a [`Tick`] with bid/ask, their sizes and the later of `biddate`/`askdate`;
//! - `trade`, `tradex` → a tick with the last price and size;
//! - `timesale` → bid, ask and last (last left out for a cancel or a correction);
//! - `summary` (open/high/low/prevClose) and unknown types → [`StreamEvent::Heartbeat`];
//! - `{"error":"X is not a valid symbol"}` → a [`StreamEvent::Notice`] (`invalid_symbol`) naming
//!   the instrument as the user spelled it; any other error that is not about the session →
//!   a notice (`broker_error`);
//! - an error about the session (`session not found`, `invalid session`, expired): the
//!   session is gone and the stream ends with a retryable [`BrokerError::Network`], so the
//!   owner opens a new stream (and with it a new session). A brand-new sandbox session refused
//!   before anything else arrived is Tradier's sandbox having no market streaming: that is
//!   [`BrokerError::Rejected`] (`stream_unavailable`), not worth retrying.
//!
//! Malformed messages are logged (`warn`) and skipped; messages for symbols no longer
//! subscribed (in flight during a resubscription) are dropped. Tradier documents no heartbeat,
//! so [`WsConn`] pings after `ping_every` of silence and the pong is a heartbeat:
//! [`QuoteStream::silence_limit`] is two ping intervals.
//!
//! The session id never appears in an error, a log line, a notice or `Debug` output.

pub mod events;
mod messages;
pub mod parse;

pub use self::messages::{tradier_symbol, EMPTY_PLACEHOLDER};
pub use self::parse::{parse_frame, session_ended, FrameSummary, Subscriptions};

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::StreamSession;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;
use crate::stream::{QuoteStream, StreamEvent};

/// An open Tradier market stream. Built by [`super::Tradier::open_stream`].
pub struct TradierStream {
    conn: WsConn,
    session: StreamSession,
    subs: Subscriptions,
    silence: Duration,
    /// A sandbox account (whose sessions the market WebSocket refuses).
    sandbox: bool,
    /// Whether Tradier has sent anything on this session yet.
    heard: bool,
}

impl fmt::Debug for TradierStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradierStream")
            .field("symbols", &self.subs.symbols())
            .field("silence", &self.silence)
            .finish_non_exhaustive()
    }
}

impl TradierStream {
    /// Connects the market WebSocket at `url` with a fresh `session` and subscribes to
    /// `instruments` (the placeholder when there are none, so the session is put to use).
    /// `opts.ping_every` sets the silence limit (two pings). `sandbox` marks a sandbox
    /// account, for the mapping of an immediately refused session.
    pub async fn connect(
        url: &str,
        session: StreamSession,
        instruments: &[String],
        opts: &WsOptions,
        sandbox: bool,
    ) -> Result<Self, BrokerError> {
        let conn = WsConn::connect(url, opts).await?;
        let mut stream = Self {
            conn,
            session,
            subs: Subscriptions::new(instruments),
            silence: opts
                .ping_every
                .max(Duration::from_millis(10))
                .saturating_mul(2),
            sandbox,
            heard: false,
        };
        stream.send_payload().await?;
        Ok(stream)
    }

    /// The current subscriptions.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subs
    }

    async fn send_payload(&mut self) -> Result<(), BrokerError> {
        let payload = self.session.payload(&self.subs.payload_symbols());
        self.conn.send_text(payload).await
    }

    fn parse(&mut self, text: &str, out: &mut Vec<StreamEvent>) -> Result<(), BrokerError> {
        let start = out.len();
        let parsed = parse_frame(text, &self.subs, Utc::now(), out);
        let summary = match parsed {
            Ok(s) => s,
            Err(e) => {
                self.scrub(&mut out[start..]);
                if !self.heard && self.sandbox {
                    return Err(BrokerError::Rejected {
                        status: 0,
                        code: "stream_unavailable".into(),
                        message: "Tradier's market WebSocket refused the new streaming session; \
                                  the sandbox has no market streaming (use a production token)"
                            .into(),
                    });
                }
                return Err(e);
            }
        };
        if summary.messages > 0 {
            self.heard = true;
        }
        if summary.notices > 0 {
            self.scrub(&mut out[start..]);
        }
        Ok(())
    }

    /// Removes the session id from notices, should Tradier ever echo it.
    fn scrub(&self, events: &mut [StreamEvent]) {
        let secret = self.session.session_id.expose();
        if secret.is_empty() {
            return;
        }
        for e in events {
            if let StreamEvent::Notice {
                instrument,
                message,
                ..
            } = e
            {
                if message.contains(secret) {
                    *message = message.replace(secret, "[redacted]");
                }
                if let Some(i) = instrument.as_mut().filter(|i| i.contains(secret)) {
                    *i = i.replace(secret, "[redacted]");
                }
            }
        }
    }
}

#[async_trait]
impl QuoteStream for TradierStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        match self.conn.next().await? {
            None => Ok(false),
            Some(WsFrame::Pong) => {
                out.push(StreamEvent::Heartbeat);
                Ok(true)
            }
            Some(WsFrame::Text(text)) => {
                self.parse(text.as_str(), out)?;
                Ok(true)
            }
            Some(WsFrame::Binary(bytes)) => {
                match std::str::from_utf8(&bytes) {
                    Ok(text) => self.parse(text, out)?,
                    Err(_) => tracing::warn!(
                        len = bytes.len(),
                        "skipping a binary Tradier stream frame that is not text"
                    ),
                }
                Ok(true)
            }
        }
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut changed = false;
        for i in instruments {
            changed |= self.subs.add(i);
        }
        if changed {
            self.send_payload().await?;
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut changed = false;
        for i in instruments {
            changed |= self.subs.remove(i);
        }
        if changed {
            self.send_payload().await?;
        }
        Ok(())
    }

    fn silence_limit(&self) -> Duration {
        self.silence
    }

    async fn close(&mut self) {
        self.conn.close().await;
    }
}
