//! Alpaca's Market Data v2 stream (`brokers/alpaca/PROTOCOL.md`, "Market data stream"): quotes and
//! trades for US stocks over a WebSocket at `{stream_url}/v2/{iex|sip|test}`.
//!
//! The handshake is `[{"T":"success","msg":"connected"}]` → `{"action":"auth",…}` →
//! `[{"T":"success","msg":"authenticated"}]` → `{"action":"subscribe","quotes":[…],"trades":[…]}`
//! → `[{"T":"subscription",…}]`. Data then arrives in arrays of up to hundreds of messages:
//! a quote (`"T":"q"`: `bp`/`ap`/`bs`/`as`/`t`) becomes a [`Tick`] with bid/ask and sizes,
//! a trade (`"T":"t"`: `p`/`s`/`t`) a [`Tick`] with `last`/`last_size`. Subscription acks and
//! `success` messages are [`StreamEvent::Heartbeat`]s; Alpaca has no application heartbeat,
//! so idle links are proven alive by WebSocket pings (see [`WsConn`]).
//!
//! Two encodings, chosen with [`AlpacaStreamOptions::encoding`]: JSON text frames (the
//! default) or msgpack binary frames (`Content-Type: application/msgpack` on the upgrade, as
//! Alpaca's official SDKs ask; `t` is then a msgpack Timestamp, ext type −1). Whatever was
//! asked, a text frame is parsed as JSON and a binary one as msgpack.
//!
//! Errors (`{"T":"error","code":N,"msg":…}`): 401 not authenticated, 402 auth failed and
//! 404 auth timeout end the stream with [`BrokerError::Auth`]; 406 connection limit and 409
//! insufficient subscription with [`BrokerError::Rejected`] (code `"406"` / `"409"`); every
//! other code (400 invalid syntax, 403, 405 symbol limit, 407 slow client, 500…) is a
//! [`StreamEvent::Notice`] without instrument and the stream goes on. Alpaca accepts unknown
//! symbols silently (they just never tick), so there is no per-instrument error.
//!
//! Parsing is pure and synchronous ([`parse_frame`], [`FrameParser`]) so it can be fuzzed
//! and benchmarked alone. The JSON path deserializes each message straight into a flat
//! struct of borrowed fields (no `serde_json::Value`, no intermediate `Vec`); prices and sizes
//! are parsed from their JSON text, exactly as sent (see [`crate::brokers::wire`]). The
//! msgpack path is a hand-written zero-copy reader; msgpack carries prices as IEEE floats,
//! which become the shortest decimal that reads back as the same float (`1.08235`), the

pub mod events;
mod messages;
pub mod parse;

pub use self::parse::{parse_frame, Control, FrameParser};

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;

use self::messages::{mp_array_len, mp_str, Auth, Subscription};
use crate::brokers::ws::{ws_scheme, WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;
use crate::secret::Secret;
use crate::stream::{QuoteStream, StreamEvent};

/// The feed used when the configured stream URL names none.
pub const DEFAULT_FEED: &str = "iex";

/// How stream frames are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// JSON text frames (Alpaca's default).
    #[default]
    Json,
    /// msgpack binary frames, asked for with `Content-Type: application/msgpack`.
    Msgpack,
}

/// How to open an Alpaca data stream.
#[derive(Debug, Clone)]
pub struct AlpacaStreamOptions {
    /// The encoding asked for on the upgrade (default JSON).
    pub encoding: Encoding,
    /// Time allowed for connecting plus the whole connect/auth/subscribe handshake.
    pub connect_timeout: Duration,
    /// A WebSocket ping is sent after this much silence; the silence limit is twice this.
    pub ping_every: Duration,
    /// Subscribe to trades as well as quotes (default true; false for quotes only).
    pub trades: bool,
}

impl Default for AlpacaStreamOptions {
    fn default() -> Self {
        Self {
            encoding: Encoding::Json,
            connect_timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(10),
            trades: true,
        }
    }
}

/// The full stream URL for a configured base: kept as is when its path already ends with
/// `/v2/{feed}` (`…/v2/iex`, `…/v2/sip`, `…/v2/test`, `…/v2/delayed_sip`), else
/// `{base}/v2/iex`. `http(s)://` is turned into `ws(s)://`.
pub fn stream_endpoint(base: &str) -> String {
    let base = ws_scheme(base.trim().trim_end_matches('/'));
    let mut segments = base.rsplit('/');
    let feed = segments.next().unwrap_or("");
    let version = segments.next().unwrap_or("");
    let is_feed = !feed.is_empty()
        && feed
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    // `scheme://host/v2/feed` has at least four slashes; `wss://host/v2` names no feed.
    let slashes = base.matches('/').count();
    if version == "v2" && is_feed && slashes >= 4 {
        base
    } else if feed == "v2" && slashes >= 3 {
        format!("{base}/{DEFAULT_FEED}")
    } else {
        format!("{base}/v2/{DEFAULT_FEED}")
    }
}

// ---- the stream -------------------------------------------------------------------------

/// An open Alpaca data stream: quotes and trades of the subscribed symbols.
pub struct AlpacaStream {
    ws: WsConn,
    parser: FrameParser,
    encoding: Encoding,
    ping_every: Duration,
    trades: bool,
    /// Wire symbols subscribed, in subscription order.
    subscribed: Vec<String>,
    /// Requests not answered yet, oldest first: the symbols a subscribe added, or `None` for
    /// an unsubscribe. A refusal (400, 405) answers the oldest and rolls its symbols back.
    outstanding: VecDeque<Option<Vec<String>>>,
    /// Events read during the handshake, handed out by the first `read`.
    pending: Vec<StreamEvent>,
}

impl fmt::Debug for AlpacaStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlpacaStream")
            .field("encoding", &self.encoding)
            .field("subscribed", &self.subscribed)
            .finish_non_exhaustive()
    }
}

/// The symbol as Alpaca spells it: trimmed, upper case.
fn wire_symbol(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

impl AlpacaStream {
    /// Connects to `url` (the full stream URL, e.g. `wss://stream.data.alpaca.markets/v2/iex`;
    /// see [`stream_endpoint`]), authenticates with the key pair, and subscribes to quotes and
    /// trades of `instruments` (may be empty). The whole handshake is bounded by
    /// `opts.connect_timeout`.
    pub async fn connect(
        url: &str,
        key: &Secret,
        secret: &Secret,
        instruments: &[String],
        opts: &AlpacaStreamOptions,
    ) -> Result<Self, BrokerError> {
        let limit = opts.connect_timeout;
        tokio::time::timeout(limit, Self::handshake(url, key, secret, instruments, opts))
            .await
            .map_err(|_| BrokerError::Timeout(limit))?
    }

    async fn handshake(
        url: &str,
        key: &Secret,
        secret: &Secret,
        instruments: &[String],
        opts: &AlpacaStreamOptions,
    ) -> Result<Self, BrokerError> {
        let mut headers = Vec::new();
        if opts.encoding == Encoding::Msgpack {
            headers.push((
                "Content-Type".to_string(),
                "application/msgpack".to_string(),
            ));
        }
        let ws_opts = WsOptions {
            headers,
            connect_timeout: opts.connect_timeout,
            ping_every: opts.ping_every,
            tls: None,
        };
        let ws = WsConn::connect(url, &ws_opts).await?;
        let mut stream = Self {
            ws,
            parser: FrameParser::new(),
            encoding: opts.encoding,
            ping_every: opts.ping_every,
            trades: opts.trades,
            subscribed: Vec::new(),
            outstanding: VecDeque::new(),
            pending: Vec::new(),
        };
        stream.await_control(|c| c.connected).await?;
        let auth = Auth {
            action: "auth",
            key: key.expose(),
            secret: secret.expose(),
        };
        stream
            .send(&auth, |out| {
                out.push(0x83);
                for (k, v) in [
                    ("action", "auth"),
                    ("key", auth.key),
                    ("secret", auth.secret),
                ] {
                    mp_str(out, k);
                    mp_str(out, v);
                }
            })
            .await?;
        stream.await_control(|c| c.authenticated).await?;
        if stream.add(instruments).await? {
            stream
                .await_control(|c| c.subscribed || c.error.is_some())
                .await?;
        }
        Ok(stream)
    }

    /// Reads frames (keeping their events for later) until one satisfies `done`.
    async fn await_control(&mut self, done: impl Fn(&Control) -> bool) -> Result<(), BrokerError> {
        let mut events = std::mem::take(&mut self.pending);
        let result = loop {
            match self.read_frame(&mut events).await {
                Ok(Some(c)) if done(&c) => break Ok(()),
                Ok(Some(_)) => {}
                Ok(None) => {
                    break Err(BrokerError::Network(
                        "the Alpaca stream closed during the handshake".into(),
                    ))
                }
                Err(e) => break Err(e),
            }
        };
        // Proof-of-life events of the handshake itself are not worth handing out.
        events.retain(|e| !matches!(e, StreamEvent::Heartbeat));
        self.pending = events;
        result
    }

    /// Reads one frame into `out`; `None` once the server closed.
    async fn read_frame(
        &mut self,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Option<Control>, BrokerError> {
        let Some(frame) = self.ws.next().await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let start = out.len();
        let control = match &frame {
            WsFrame::Text(t) => self.parser.parse(Encoding::Json, t.as_bytes(), now, out)?,
            WsFrame::Binary(b) => self.parser.parse(Encoding::Msgpack, b, now, out)?,
            WsFrame::Pong => {
                out.push(StreamEvent::Heartbeat);
                Control::default()
            }
        };
        if control.subscribed {
            self.outstanding.pop_front();
        }
        if let Some(code @ (400 | 405)) = control.error {
            if let Some(Some(refused)) = self.outstanding.pop_front() {
                self.roll_back(&refused, code, &mut out[start..]);
            }
        }
        Ok(Some(control))
    }

    /// Forgets symbols whose subscribe was refused (Alpaca leaves the subscription
    /// unchanged) and names them in the refusal's notice.
    fn roll_back(&mut self, refused: &[String], code: u16, events: &mut [StreamEvent]) {
        self.subscribed.retain(|s| !refused.contains(s));
        for wire in refused {
            self.parser.unalias(wire);
        }
        // The refusal's notice carries Alpaca's code: compared as the number it is.
        let notice = events.iter_mut().rev().find_map(|e| match e {
            StreamEvent::Notice {
                broker_code,
                message,
                ..
            } if broker_code.as_deref().and_then(|c| c.parse::<u16>().ok()) == Some(code) => {
                Some(message)
            }
            _ => None,
        });
        if let Some(message) = notice {
            message.push_str("; not subscribed: ");
            message.push_str(&refused.join(", "));
        }
    }

    /// Remembers a request awaiting its answer.
    fn expect_answer(&mut self, added: Option<Vec<String>>) {
        // Alpaca answers every request; the bound only guards against one that does not.
        if self.outstanding.len() >= 64 {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back(added);
    }

    /// Sends a client message in the stream's encoding (`mp` writes its msgpack form).
    async fn send<T: Serialize>(
        &mut self,
        msg: &T,
        mp: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), BrokerError> {
        match self.encoding {
            Encoding::Json => {
                let text = serde_json::to_string(msg)
                    .map_err(|e| BrokerError::Protocol(format!("cannot encode a request: {e}")))?;
                self.ws.send_text(text).await
            }
            Encoding::Msgpack => {
                let mut buf = Vec::with_capacity(64);
                mp(&mut buf);
                self.ws.send_binary(buf).await
            }
        }
    }

    /// Sends a (un)subscribe for quotes and trades of `symbols`.
    async fn send_subscription(
        &mut self,
        action: &'static str,
        symbols: &[String],
    ) -> Result<(), BrokerError> {
        let trades: &[String] = if self.trades { symbols } else { &[] };
        let msg = Subscription {
            action,
            quotes: symbols,
            trades,
        };
        self.send(&msg, |out| {
            out.push(0x83);
            mp_str(out, "action");
            mp_str(out, action);
            for (channel, list) in [("quotes", symbols), ("trades", trades)] {
                mp_str(out, channel);
                mp_array_len(out, list.len());
                for s in list {
                    mp_str(out, s);
                }
            }
        })
        .await
    }

    /// Subscribes to the symbols not yet subscribed; false when there were none.
    async fn add(&mut self, instruments: &[String]) -> Result<bool, BrokerError> {
        let mut new = Vec::new();
        for user in instruments {
            let wire = wire_symbol(user);
            if wire.is_empty() || self.subscribed.contains(&wire) || new.contains(&wire) {
                continue;
            }
            self.parser.alias(&wire, user.trim());
            new.push(wire);
        }
        if new.is_empty() {
            return Ok(false);
        }
        self.send_subscription("subscribe", &new).await?;
        self.subscribed.extend(new.iter().cloned());
        self.expect_answer(Some(new));
        Ok(true)
    }

    /// The symbols subscribed on the wire.
    pub fn subscribed(&self) -> &[String] {
        &self.subscribed
    }
}

#[async_trait]
impl QuoteStream for AlpacaStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        Ok(self.read_frame(out).await?.is_some())
    }

    /// Sends the subscription; the ack arrives through `read` as a heartbeat, a refusal
    /// (405 symbol limit) as a notice naming the symbols left out (they may be subscribed
    /// again later).
    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        self.add(instruments).await.map(|_| ())
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut gone = Vec::new();
        for user in instruments {
            let wire = wire_symbol(user);
            if self.subscribed.contains(&wire) && !gone.contains(&wire) {
                gone.push(wire);
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        self.send_subscription("unsubscribe", &gone).await?;
        self.expect_answer(None);
        self.subscribed.retain(|s| !gone.contains(s));
        for wire in &gone {
            self.parser.unalias(wire);
        }
        Ok(())
    }

    fn silence_limit(&self) -> Duration {
        self.ping_every * 2
    }

    async fn close(&mut self) {
        self.ws.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_a_feed_unless_they_have_one() {
        let cases = [
            (
                "wss://stream.data.alpaca.markets/v2/iex",
                "wss://stream.data.alpaca.markets/v2/iex",
            ),
            (
                "wss://stream.data.alpaca.markets/v2/sip/",
                "wss://stream.data.alpaca.markets/v2/sip",
            ),
            (
                "wss://stream.data.alpaca.markets",
                "wss://stream.data.alpaca.markets/v2/iex",
            ),
            (
                "wss://stream.data.alpaca.markets/v2",
                "wss://stream.data.alpaca.markets/v2/iex",
            ),
            ("http://127.0.0.1:9/v2/test", "ws://127.0.0.1:9/v2/test"),
            ("ws://127.0.0.1:9", "ws://127.0.0.1:9/v2/iex"),
            ("ws://127.0.0.1:9/proxy", "ws://127.0.0.1:9/proxy/v2/iex"),
            ("wss://h/v2/delayed_sip", "wss://h/v2/delayed_sip"),
        ];
        for (given, want) in cases {
            assert_eq!(stream_endpoint(given), want, "{given}");
        }
    }
}
