//! Tastytrade market data over DXLink (`brokers/tastytrade/PROTOCOL.md`): the WebSocket
//! whose URL and token come from `GET /api-quote-tokens`.
//!
//! # Handshake ([`DxLinkStream::connect`])
//!
//! `SETUP` (version, `keepaliveTimeout`, `acceptKeepaliveTimeout`) and `AUTH {token}` go out
//! back to back, as the official dxLink client does; the server answers with its own
//! `SETUP`, `AUTH_STATE UNAUTHORIZED` (the first auth state only says that a token is
//! needed) and then `AUTH_STATE AUTHORIZED`. A refusal (`ERROR UNAUTHORIZED`, or a second
//! `AUTH_STATE UNAUTHORIZED`) is [`BrokerError::Auth`]: the token was fetched a moment ago,
//! so the account's market-data access itself was refused. Then `CHANNEL_REQUEST` for the
//! `FEED` service (`contract: AUTO`) on channel 1, and after `CHANNEL_OPENED` the
//! `FEED_SETUP` (COMPACT data, the Quote and Trade fields below) and the first
//! `FEED_SUBSCRIPTION`. `FEED_CONFIG` is read along with the data.
//!
//! # Data
//!
//! Each instrument is subscribed as a `Quote` (bid/ask, sizes, `bidTime`/`askTime`) and,
//! unless [`DxLinkOptions::trades`] is off, a `Trade` (last price and size, `time`). A Quote
//! becomes a [`Tick`] with bid/ask, a Trade one with `last`. `FEED_DATA` is parsed in one
//! pass by [`parse_frame`] straight into ticks: COMPACT (`["Quote",[v1,v2,…]]`, events
//! concatenated in the order of the fields the server confirmed in `FEED_CONFIG`), the
//! legacy COMPACT header (`[["Quote",[fields]],[values]]`) and FULL (`[{…},{…}]`) are all
//! read. Values may be numbers, `"NaN"`/`"Infinity"` (→ `None`) or numeric strings; times
//! are epoch milliseconds (0 = none).
//!
//! # Liveness
//!
//! DXLink's heartbeat is `KEEPALIVE` in both directions: one goes out whenever nothing was
//! sent for half the server's `keepaliveTimeout` (from its `SETUP`; ours before that), and
//! each one received is a [`StreamEvent::Heartbeat`], as is a WebSocket pong.
//! [`QuoteStream::silence_limit`] is our `keepaliveTimeout` (two keepalive intervals).
//!
//! # Errors
//!
//! | What arrives                                     | Result                              |
//! |--------------------------------------------------|-------------------------------------|
//! | `ERROR UNAUTHORIZED` / refused `AUTH` (handshake) | `Err(Auth)`                         |
//! | `ERROR UNAUTHORIZED` / `AUTH_STATE UNAUTHORIZED` once streaming | `Err(Network)`: the 24 h token expired; reconnecting fetches a fresh one |
//! | `ERROR TIMEOUT` (our keepalives were missed)      | `Err(Network)`                      |
//! | `ERROR UNSUPPORTED_PROTOCOL`                      | `Err(Protocol)`                     |
//! | `ERROR INVALID_MESSAGE` / `BAD_ACTION` / `UNKNOWN` / other | `Notice` (the stream goes on) |
//! | `CHANNEL_CLOSED` for the feed channel             | `Err(Network)`                      |
//! | close frame 1009 (subscription too large)         | `Err(Rejected)`                     |
//! | any other close                                   | `Ok(false)`                         |
//! | a malformed or oversized frame                    | skipped with a (rate-limited) warning |
//!
//! DXLink says nothing about unknown symbols (it simply sends no data for them), so no
//! Notice can be raised for those; a symbol that cannot be one (empty, control characters,
//! over 128 bytes) gets a Notice without being sent. Leading/trailing spaces are trimmed
//! for DXLink and the tick still carries the symbol exactly as subscribed. No token appears
//! in any error, notice or log line.

mod messages;
pub mod parse;

pub use self::messages::{DxMessage, DXLINK_VERSION, FEED_CHANNEL, QUOTE_FIELDS, TRADE_FIELDS};
pub use self::parse::{parse_frame, FeedState, FrameError};

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::{json, Value};
use tokio::time::Instant;

use self::messages::KEEPALIVE;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;
use crate::secret::Secret;
use crate::stream::{NoticeCode, QuoteStream, StreamEvent};

/// Symbols per `FEED_SUBSCRIPTION` message (a message that is too large closes the socket
/// with 1009).
const SUBSCRIPTION_CHUNK: usize = 250;
/// The longest symbol sent.
const MAX_SYMBOL_LEN: usize = 128;

/// How a DXLink stream is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct DxLinkOptions {
    /// Our keepalive timeout, announced in `SETUP` (also as `acceptKeepaliveTimeout`): the
    /// server sends something at least this often, so it is also the silence limit.
    pub keepalive_timeout: Duration,
    /// Time allowed for TCP + TLS + upgrade, and again for the DXLink handshake.
    pub connect_timeout: Duration,
    /// `acceptAggregationPeriod`, in seconds.
    pub aggregation_period: f64,
    /// Also subscribe `Trade` events (the last price and size).
    pub trades: bool,
}

impl Default for DxLinkOptions {
    fn default() -> Self {
        Self {
            keepalive_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            aggregation_period: 0.1,
            trades: true,
        }
    }
}

// ---- the stream ----------------------------------------------------------------------

/// Why `symbol` cannot be a DXLink symbol, if it cannot.
fn invalid_symbol(symbol: &str) -> Option<&'static str> {
    let s = symbol.trim();
    if s.is_empty() {
        Some("the symbol is empty")
    } else if s.len() > MAX_SYMBOL_LEN {
        Some("the symbol is too long to be a DXLink symbol")
    } else if s.chars().any(char::is_control) {
        Some("the symbol contains control characters")
    } else {
        None
    }
}

/// Seconds as a JSON number: whole ones as integers (`60`), else fractional (`0.5`).
fn secs(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(d.as_secs_f64())
    }
}

/// An open DXLink feed: one WebSocket, one FEED channel with Quote (and Trade)
/// subscriptions. Built by [`DxLinkStream::connect`] (or
/// [`Broker::open_quote_stream`](crate::brokers::Broker::open_quote_stream), which fetches
/// the token first).
pub struct DxLinkStream {
    ws: WsConn,
    feed: FeedState,
    opts: DxLinkOptions,
    /// Send a KEEPALIVE after this much silence on our side.
    keepalive_every: Duration,
    last_sent: Instant,
    /// Events to hand out before reading more (notices about refused symbols).
    pending: Vec<StreamEvent>,
    /// The quote token, to scrub from anything the server echoes.
    token: Secret,
    /// Malformed frames so far (warnings are rate-limited).
    malformed: u64,
}

impl fmt::Debug for DxLinkStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DxLinkStream")
            .field("instruments", &self.feed.symbols.len())
            .field("keepalive_every", &self.keepalive_every)
            .finish_non_exhaustive()
    }
}

impl DxLinkStream {
    /// Connects to the DXLink WebSocket at `url`, authorizes with the quote `token`, opens
    /// the feed channel and subscribes `instruments` (may be empty). Fails with
    /// [`BrokerError::Auth`] when DXLink refuses the token, [`BrokerError::Timeout`] when
    /// the handshake takes longer than [`DxLinkOptions::connect_timeout`].
    pub async fn connect(
        url: &str,
        token: Secret,
        instruments: &[String],
        opts: DxLinkOptions,
    ) -> Result<Self, BrokerError> {
        let secret = [token.expose()];
        let ws_opts = WsOptions {
            headers: Vec::new(),
            connect_timeout: opts.connect_timeout,
            ping_every: (opts.keepalive_timeout / 2).max(Duration::from_millis(10)),
            tls: None,
        };
        let ws = WsConn::connect(url, &ws_opts)
            .await
            .map_err(|e| e.scrubbed(&secret))?;
        let mut stream = Self {
            ws,
            feed: FeedState::new(),
            keepalive_every: (opts.keepalive_timeout / 2).max(Duration::from_millis(10)),
            last_sent: Instant::now(),
            pending: Vec::new(),
            token: token.clone(),
            malformed: 0,
            opts,
        };
        let limit = stream.opts.connect_timeout;
        match tokio::time::timeout(limit, stream.handshake(instruments)).await {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(e)) => {
                stream.ws.close().await;
                Err(e.scrubbed(&[token.expose()]))
            }
            Err(_) => {
                stream.ws.close().await;
                Err(BrokerError::Timeout(limit))
            }
        }
    }

    async fn handshake(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let k = secs(self.opts.keepalive_timeout);
        let setup = json!({"type": "SETUP", "channel": 0, "version": DXLINK_VERSION,
            "keepaliveTimeout": k, "acceptKeepaliveTimeout": k});
        self.send(setup.to_string()).await?;
        let auth = json!({"type": "AUTH", "channel": 0, "token": self.token.expose()});
        self.send(auth.to_string()).await?;
        let mut unauthorized = 0;
        loop {
            match self.handshake_message().await? {
                DxMessage::AuthState { authorized: true } => break,
                // The first says a token is needed (it may come before ours is checked).
                DxMessage::AuthState { authorized: false } => {
                    unauthorized += 1;
                    if unauthorized > 1 {
                        return Err(BrokerError::Auth(
                            "DXLink refused the market-data (quote) token".into(),
                        ));
                    }
                }
                DxMessage::Error { error, message, .. } => {
                    return Err(handshake_error(&error, &message))
                }
                _ => {}
            }
        }
        let request = json!({"type": "CHANNEL_REQUEST", "channel": FEED_CHANNEL,
            "service": "FEED", "parameters": {"contract": "AUTO"}});
        self.send(request.to_string()).await?;
        loop {
            match self.handshake_message().await? {
                DxMessage::ChannelOpened { channel } if channel == FEED_CHANNEL => break,
                DxMessage::ChannelClosed { channel } if channel == FEED_CHANNEL => {
                    return Err(BrokerError::Rejected {
                        status: 0,
                        code: "channel_closed".into(),
                        message: "DXLink refused to open the FEED channel".into(),
                    })
                }
                DxMessage::Error { error, message, .. } => {
                    return Err(handshake_error(&error, &message))
                }
                DxMessage::AuthState { authorized: false } => {
                    return Err(BrokerError::Auth(
                        "DXLink withdrew the market-data authorization".into(),
                    ))
                }
                _ => {}
            }
        }
        let mut fields = serde_json::Map::new();
        fields.insert("Quote".into(), json!(QUOTE_FIELDS));
        if self.opts.trades {
            fields.insert("Trade".into(), json!(TRADE_FIELDS));
        }
        let setup = json!({"type": "FEED_SETUP", "channel": FEED_CHANNEL,
            "acceptAggregationPeriod": self.opts.aggregation_period,
            "acceptDataFormat": "COMPACT", "acceptEventFields": fields});
        self.send(setup.to_string()).await?;
        self.add(instruments).await
    }

    /// The next message during the handshake (data and keepalives are dropped).
    async fn handshake_message(&mut self) -> Result<DxMessage, BrokerError> {
        let mut sink = Vec::new();
        loop {
            let frame = self.ws.next().await?;
            let Some(frame) = frame else {
                return Err(self.closed_error().unwrap_or_else(|| {
                    BrokerError::Network(
                        "the DXLink server closed the connection during the handshake".into(),
                    )
                }));
            };
            let text = match &frame {
                WsFrame::Text(t) => t.as_str(),
                WsFrame::Binary(b) => match std::str::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => continue,
                },
                WsFrame::Pong => continue,
            };
            sink.clear();
            match self.feed.parse(text, Utc::now(), &mut sink) {
                Ok(msg) => {
                    if let DxMessage::Setup {
                        keepalive_timeout: Some(t),
                    } = msg
                    {
                        self.server_timeout(t);
                    }
                    return Ok(msg);
                }
                Err(e) => self.warn_malformed(&e),
            }
        }
    }

    /// The error a server close means, if it means one (1009: the subscription was too
    /// large, which a reconnect with the same symbols would repeat).
    fn closed_error(&self) -> Option<BrokerError> {
        match self.ws.close_code() {
            Some(1009) => Some(BrokerError::Rejected {
                status: 0,
                code: "subscription_too_large".into(),
                message: "DXLink closed the stream because the subscription is too large \
                          (close code 1009); subscribe to fewer symbols"
                    .into(),
            }),
            _ => None,
        }
    }

    async fn send(&mut self, text: String) -> Result<(), BrokerError> {
        self.ws.send_text(text).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// `FEED_SUBSCRIPTION` with `key` (`add`/`remove`) for `symbols`, in chunks.
    async fn send_subscription(
        &mut self,
        key: &str,
        symbols: &[String],
    ) -> Result<(), BrokerError> {
        for chunk in symbols.chunks(SUBSCRIPTION_CHUNK) {
            let mut entries = Vec::with_capacity(chunk.len() * 2);
            for s in chunk {
                entries.push(json!({"type": "Quote", "symbol": s}));
                if self.opts.trades {
                    entries.push(json!({"type": "Trade", "symbol": s}));
                }
            }
            let mut msg = serde_json::Map::new();
            msg.insert("type".into(), json!("FEED_SUBSCRIPTION"));
            msg.insert("channel".into(), json!(FEED_CHANNEL));
            msg.insert(key.into(), Value::Array(entries));
            self.send(Value::Object(msg).to_string()).await?;
        }
        Ok(())
    }

    /// Routes and subscribes the instruments not subscribed yet; impossible symbols get a
    /// Notice instead.
    async fn add(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut fresh = Vec::new();
        for instrument in instruments {
            if let Some(reason) = invalid_symbol(instrument) {
                self.pending.push(StreamEvent::notice(
                    Some(instrument.clone()),
                    NoticeCode::InvalidSymbol,
                    format!("{reason}; it was not subscribed"),
                ));
                continue;
            }
            let dx = instrument.trim();
            if self.feed.add_symbol(dx, instrument) {
                fresh.push(dx.to_string());
            }
        }
        self.send_subscription("add", &fresh).await
    }

    fn warn_malformed(&mut self, e: &FrameError) {
        self.malformed += 1;
        // 1st, 2nd, 4th, 8th…: a flood of garbage cannot flood the log.
        if self.malformed.is_power_of_two() {
            let text = e.to_string().replace(self.token.expose(), "••••");
            tracing::warn!(count = self.malformed, error = %text, "skipping a malformed DXLink message");
        }
    }

    fn scrub(&self, s: &str) -> String {
        let s: String = s.chars().take(300).collect();
        if self.token.is_empty() {
            s
        } else {
            s.replace(self.token.expose(), "••••")
        }
    }

    /// Acts on a control message received while streaming.
    fn on_message(
        &mut self,
        msg: DxMessage,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), BrokerError> {
        match msg {
            DxMessage::Setup {
                keepalive_timeout: Some(t),
            } => {
                self.server_timeout(t);
                Ok(())
            }
            DxMessage::AuthState { authorized: false } => Err(expired("")),
            DxMessage::ChannelClosed { channel } if channel == FEED_CHANNEL => Err(
                BrokerError::Network("the DXLink server closed the feed channel".into()),
            ),
            DxMessage::Error {
                channel,
                error,
                message,
            } => {
                let message = self.scrub(&message);
                match error.as_str() {
                    "UNAUTHORIZED" => Err(expired(&message)),
                    "TIMEOUT" => Err(BrokerError::Network(format!(
                        "the DXLink server timed the connection out: {message}"
                    ))),
                    "UNSUPPORTED_PROTOCOL" => Err(BrokerError::Protocol(format!(
                        "DXLink does not support this protocol version: {message}"
                    ))),
                    _ => {
                        let code = self.scrub(&error);
                        out.push(StreamEvent::Notice {
                            instrument: None,
                            message: format!("DXLink {code} on channel {channel}: {message}"),
                            code: NoticeCode::Broker,
                            broker_code: Some(code),
                        });
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    /// The server waits `t` for our messages: keep alive at half of it (and of ours).
    fn server_timeout(&mut self, t: Duration) {
        self.keepalive_every =
            (t.min(self.opts.keepalive_timeout) / 2).max(Duration::from_millis(10));
    }

    /// Sends a KEEPALIVE if nothing went out for `keepalive_every`.
    async fn keepalive_if_due(&mut self) -> Result<(), BrokerError> {
        if self.last_sent.elapsed() >= self.keepalive_every {
            self.send(KEEPALIVE.to_string()).await?;
        }
        Ok(())
    }
}

/// A handshake `ERROR`.
fn handshake_error(error: &str, message: &str) -> BrokerError {
    let message: String = message.chars().take(300).collect();
    match error {
        "UNAUTHORIZED" => BrokerError::Auth(format!(
            "DXLink refused the market-data (quote) token: {message}"
        )),
        "TIMEOUT" => BrokerError::Network(format!("the DXLink handshake timed out: {message}")),
        other => {
            BrokerError::Protocol(format!("DXLink refused the handshake ({other}): {message}"))
        }
    }
}

/// The authorization lapsed while streaming: the 24-hour token expired or was revoked. A
/// reconnect fetches a fresh token (a refusal then is `Auth`), so this is retryable.
fn expired(message: &str) -> BrokerError {
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    BrokerError::Network(format!(
        "DXLink withdrew the market-data authorization{detail}; the quote token has \
         expired and a reconnect fetches a new one"
    ))
}

#[async_trait]
impl QuoteStream for DxLinkStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        loop {
            // Checked first too: under a steady flow of data the timer below never wins.
            self.keepalive_if_due().await?;
            let due = self.last_sent + self.keepalive_every;
            let frame = tokio::select! {
                biased;
                f = self.ws.next() => f,
                () = tokio::time::sleep_until(due) => continue,
            };
            let frame = frame.map_err(|e| e.scrubbed(&[self.token.expose()]))?;
            let Some(frame) = frame else {
                return match self.closed_error() {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            };
            let text = match &frame {
                WsFrame::Text(t) => t.as_str(),
                WsFrame::Pong => {
                    out.push(StreamEvent::Heartbeat);
                    return Ok(true);
                }
                WsFrame::Binary(b) => match std::str::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => {
                        self.warn_malformed(&FrameError("a binary frame".into()));
                        return Ok(true);
                    }
                },
            };
            match self.feed.parse(text, Utc::now(), out) {
                Ok(msg) => self.on_message(msg, out)?,
                Err(e) => self.warn_malformed(&e),
            }
            return Ok(true);
        }
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        self.add(instruments).await
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let gone: Vec<String> = instruments
            .iter()
            .filter_map(|i| self.feed.remove_instrument(i))
            .collect();
        self.send_subscription("remove", &gone).await
    }

    fn silence_limit(&self) -> Duration {
        self.opts.keepalive_timeout
    }

    async fn close(&mut self) {
        self.ws.close().await;
    }
}
