//! The Client Portal's market-data WebSocket (`/v1/api/ws`, `brokers/ibkr/PROTOCOL.md`) as a
//! [`QuoteStream`].
//!
//! **Opening.** `POST /tickle` learns the session (and says whether the brokerage session
//! is open; if not, `ssodh/init` opens it, else `/iserver/accounts` is queried, as IBKR
//! wants before market data). The socket is opened with the cookie
//! `api={"session":"…"}`. If the gateway still answers `{"message":"waiting for session"}`
//! (or an `sts` not authenticated), the session is sent once as `{"session":"…"}`, the
//! other way IBKR documents. The stream is returned once the gateway says `sts`
//! authenticated (it drops commands sent before), within
//! [`StreamOptions::handshake_timeout`].
//!
//! **TLS.** A `wss://` URL at the gateway's host and port is verified against the gateway's
//! pinned certificate, the same [`crate::brokers::pin::TlsPin`] as the REST client's (a
//! refused certificate is [`BrokerError::CertificateChanged`], and the upgrade with its cookie
//! is never sent); any other `wss://` host by the platform's trust store.
//!
//! **Subscribing.** Each symbol is resolved to a conid (`/iserver/secdef/search`, cached by
//! the connector), then `smd+CONID+{"fields":["31","84","85","86","88","7059"]}` is sent;
//! `umd+CONID+{}` unsubscribes. A [`ConidMap`] maps conids back to the symbols exactly as
//! the user wrote them. A symbol IBKR does not know becomes a
//! [`StreamEvent::Notice`] (code `unknown_instrument`), delivered by the next
//! [`QuoteStream::read`], and the others stream on.
//!
//! **Keeping it alive.** `tic` is sent every [`StreamOptions::tic_every`] (IBKR: at least
//! once a minute) whatever the traffic; [`WsConn`] pings after
//! [`StreamOptions::ping_every`] of silence, so a live link always yields a heartbeat
//! (IBKR's `system` `hb`, or a pong) within [`QuoteStream::silence_limit`].
//!
//! **Losing the session.** An `sts` not authenticated after the handshake is checked
//! against `/tickle`: a 401 (logged out, expired) is [`BrokerError::Auth`]; a closed
//! brokerage session is [`BrokerError::Unavailable`] (retryable: reopening the stream
//! reopens it); a session `/tickle` still calls good is presented again once.
//!
//! Nothing here logs or returns the session: notices are scrubbed of it, and `Debug` shows
//! none.

mod messages;
pub mod parse;
pub(in crate::brokers::ibkr) mod socket;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use self::parse::{parse_frame, ConidMap, Control, FIELDS};
use self::socket::GatewaySocket;
use super::contracts::Contracts;
use super::http::IbkrHttp;
use crate::brokers::ws::WsFrame;
use crate::brokers::BrokerError;
use crate::stream::{NoticeCode, QuoteStream, StreamEvent};

/// The stream's timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// A WebSocket ping is sent after this much silence (IBKR's own heartbeat comes every
    /// ~10 s); the silence limit is twice this.
    pub ping_every: Duration,
    /// Time between `tic` keepalives (IBKR: at least once a minute).
    pub tic_every: Duration,
    /// Time allowed, after the socket opened, for the gateway to accept the session.
    pub handshake_timeout: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(10),
            tic_every: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// An open IBKR market-data stream. Built by [`super::Ibkr::open_stream`].
pub struct IbkrQuoteStream {
    socket: GatewaySocket,
    contracts: Arc<Contracts>,
    conids: ConidMap,
    /// Notices produced outside `read` (unknown symbols), delivered by the next `read`.
    pending: Vec<StreamEvent>,
}

impl std::fmt::Debug for IbkrQuoteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written: the connection and the HTTP client hold the session.
        f.debug_struct("IbkrQuoteStream")
            .field("instruments", &self.conids.len())
            .field("authenticated", &self.socket.authenticated())
            .finish_non_exhaustive()
    }
}

impl IbkrQuoteStream {
    /// Opens the stream at `url` and subscribes `instruments` (see the module docs).
    pub(super) async fn open(
        http: Arc<IbkrHttp>,
        contracts: Arc<Contracts>,
        url: &str,
        options: StreamOptions,
        instruments: &[String],
    ) -> Result<Self, BrokerError> {
        let socket = GatewaySocket::open(http, url, options).await?;
        let mut stream = Self {
            socket,
            contracts,
            conids: ConidMap::new(),
            pending: Vec::new(),
        };
        stream.subscribe(instruments).await?;
        Ok(stream)
    }

    /// Number of symbols subscribed.
    pub fn instrument_count(&self) -> usize {
        self.conids.len()
    }

    /// Removes the session from broker texts (a gateway error could echo it).
    fn scrub(&self, events: &mut [StreamEvent]) {
        let has_notice = events
            .iter()
            .any(|e| matches!(e, StreamEvent::Notice { .. }));
        if !has_notice {
            return;
        }
        let Some(session) = self.socket.http().session().filter(|s| !s.is_empty()) else {
            return;
        };
        for e in events {
            if let StreamEvent::Notice { message, .. } = e {
                if message.contains(session.expose()) {
                    *message = message.replace(session.expose(), "••••");
                }
            }
        }
    }
}

/// `smd+CONID+{"fields":[…]}`.
fn smd(conid: u64) -> String {
    let fields = FIELDS.map(|f| format!("\"{f}\"")).join(",");
    format!("smd+{conid}+{{\"fields\":[{fields}]}}")
}

/// Whether a resolution error concerns the symbol alone (the stream goes on).
fn per_instrument(e: &BrokerError) -> Option<String> {
    match e {
        BrokerError::Rejected { message, .. } | BrokerError::NotFound(message) => {
            Some(message.clone())
        }
        _ => None,
    }
}

#[async_trait]
impl QuoteStream for IbkrQuoteStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        self.socket.settle().await?;
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        let Some(frame) = self.socket.next_frame().await? else {
            return Ok(false);
        };
        let start = out.len();
        let control = match &frame {
            WsFrame::Pong => {
                out.push(StreamEvent::Heartbeat);
                Control::None
            }
            WsFrame::Text(t) => parse_frame(t.as_bytes(), &self.conids, Utc::now(), out),
            WsFrame::Binary(b) => parse_frame(b, &self.conids, Utc::now(), out),
        };
        self.scrub(&mut out[start..]);
        self.socket.on_control(control).await?;
        Ok(true)
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        for symbol in instruments {
            if self.conids.conid(symbol).is_some() {
                continue;
            }
            match self.contracts.conid(symbol).await {
                Ok(conid) => {
                    if self.conids.insert(conid, symbol) {
                        self.socket.send_text(smd(conid)).await?;
                    }
                }
                Err(e) => match per_instrument(&e) {
                    Some(message) => self.pending.push(StreamEvent::notice(
                        Some(symbol.clone()),
                        NoticeCode::UnknownInstrument,
                        message,
                    )),
                    None => return Err(e),
                },
            }
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        for symbol in instruments {
            if let Some((conid, true)) = self.conids.remove(symbol) {
                self.socket.send_text(format!("umd+{conid}+{{}}")).await?;
            }
        }
        Ok(())
    }

    fn silence_limit(&self) -> Duration {
        self.socket.silence_limit()
    }

    async fn close(&mut self) {
        self.socket.close().await;
    }
}
