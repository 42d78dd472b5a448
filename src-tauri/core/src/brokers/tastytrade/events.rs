//! Tastytrade's account streamer (`brokers/tastytrade/PROTOCOL.md`) as an
//! [`OrderEventStream`]: the WebSocket at `wss://streamer[.cert].tastyworks.com` that pushes
//! the account's order, balance and position changes.
//!
//! # Handshake ([`AccountStreamer::connect`])
//!
//! `{"action":"connect","value":["<account>"],"auth-token":"Bearer <access>",
//! "request-id":1,"source":"brokerdesk/<version>"}` → `{"status":"ok","action":"connect",
//! "web-socket-session-id":…,"request-id":1}`. Any other status for `connect` (the token or
//! the account refused) is [`BrokerError::Auth`]: the token was refreshed a moment ago, so
//! the refusal is the user's to fix. Notifications that arrive before the answer are kept.
//!
//! # Data
//!
//! `{"type":"Order","data":{…},"timestamp":…}`: `data` is the same kebab-case order as the
//! REST answers, read by the REST parser into a whole [`OrderState`] (an order that parser
//! cannot normalise, a multi-leg one placed elsewhere, still names its id and
//! `external-identifier`, with no state). Every other type (`AccountBalance`,
//! `CurrentPosition`, `OrderChain`, …) yields nothing. A malformed or oversized frame is
//! skipped with a rate-limited warning that shows none of it.
//!
//! # Liveness
//!
//! `{"action":"heartbeat","auth-token":…,"request-id":N}` goes out whenever nothing was sent
//! for [`AccountStreamOptions::heartbeat_every`] (Tastytrade: between 2 s and 1 min; 20 s
//! by default), always signed with the connector's current access token (which the REST
//! client refreshes every 15 minutes). The server acknowledges each one, so a live link
//! answers within [`OrderEventStream::silence_limit`] (two heartbeat intervals). An error
//! status after the handshake (the session dropped, the token lapsed) is
//! [`BrokerError::Network`]: reconnecting authenticates afresh, and a refusal then is `Auth`.
//!
//! No token appears in any error or log line.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::http::TastyHttp;
use super::models::Order;
use crate::accounts::catalog::broker_info;
use crate::accounts::model::BrokerKind;
use crate::brokers::http::USER_AGENT;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::{BrokerError, ConnectorConfig, OrderEventStream, OrderUpdate};
use crate::secret::Secret;

/// The documented range is 2 s – 1 min; this sits well inside it.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(20);

/// The path the account streamer is reached at on an overriding host (see
/// [`account_streamer_url`]).
pub const OVERRIDE_PATH: &str = "/account-streamer";

/// Where the account streamer is: the account's stream URL when it is the catalog's
/// (`wss://streamer[.cert].tastyworks.com`, which *is* the account streamer), else the
/// catalog's for the environment when none is set. An override of the stream URL points
/// DXLink at a simulator or a proxy ([`super::Tastytrade`]); a token must not then go to
/// Tastytrade's real host, and one URL cannot serve two protocols, so the account streamer
/// is taken to be on the same host at [`OVERRIDE_PATH`] (where `brokerdesk-sim` serves it).
pub(super) fn account_streamer_url(cfg: &ConnectorConfig, dxlink_override: Option<&str>) -> String {
    let Some(over) = dxlink_override else {
        let url = cfg.stream_url.trim().trim_end_matches('/');
        if !url.is_empty() {
            return url.to_string();
        }
        return broker_info(BrokerKind::Tastytrade)
            .environments
            .iter()
            .find(|e| e.environment == cfg.environment)
            .and_then(|e| e.stream_url.clone())
            .unwrap_or_default();
    };
    let Ok(mut url) = url::Url::parse(over) else {
        // Refused with a Config error when connecting.
        return over.to_string();
    };
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => other,
    }
    .to_string();
    let _ = url.set_scheme(&scheme);
    url.set_path(OVERRIDE_PATH);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// How an account streamer is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStreamOptions {
    /// A heartbeat goes out after this much silence on our side; the silence limit is twice
    /// this.
    pub heartbeat_every: Duration,
    /// Time allowed for TCP + TLS + upgrade, and again for the `connect` answer.
    pub connect_timeout: Duration,
}

impl Default for AccountStreamOptions {
    fn default() -> Self {
        Self {
            heartbeat_every: HEARTBEAT_EVERY,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// One message of the account streamer: a status (the answer to one of our actions) or a
/// notification.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Message {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

impl Message {
    /// Parses one frame's bytes. Pure, so it can be fuzzed; never panics.
    ///
    /// # Errors
    ///
    /// The JSON error when the bytes are no message.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The update an `Order` notification makes (the error when its data is no order);
    /// `None` for a status or any other notification. Never panics.
    pub fn order_update(self) -> Option<Result<OrderUpdate, serde_json::Error>> {
        if self.status.is_some() || self.kind.as_deref() != Some("Order") {
            return None;
        }
        Some(serde_json::from_value::<Order>(self.data?).map(update))
    }
}

/// An open account streamer of one account. Built by
/// [`Broker::open_order_events`](crate::brokers::Broker::open_order_events).
pub struct AccountStreamer {
    ws: WsConn,
    http: Arc<TastyHttp>,
    opts: AccountStreamOptions,
    last_sent: Instant,
    next_request: u64,
    /// Updates read during the handshake, handed out first.
    pending: Vec<OrderUpdate>,
    /// The token last sent, to scrub from anything the server echoes.
    token: Secret,
    /// Malformed frames so far (warnings are rate-limited).
    malformed: u64,
}

impl std::fmt::Debug for AccountStreamer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountStreamer")
            .field("heartbeat_every", &self.opts.heartbeat_every)
            .finish_non_exhaustive()
    }
}

impl AccountStreamer {
    /// Connects to the account streamer at `url` and subscribes `account`'s notifications
    /// (see the module docs).
    pub(super) async fn connect(
        url: &str,
        http: Arc<TastyHttp>,
        account: &str,
        opts: AccountStreamOptions,
    ) -> Result<Self, BrokerError> {
        let token = http.bearer().await?;
        let ws_opts = WsOptions {
            headers: vec![("User-Agent".to_string(), USER_AGENT.to_string())],
            connect_timeout: opts.connect_timeout,
            ping_every: opts.heartbeat_every.max(Duration::from_millis(10)),
            tls: None,
        };
        let ws = WsConn::connect(url, &ws_opts)
            .await
            .map_err(|e| e.scrubbed(&[token.expose()]))?;
        let mut stream = Self {
            ws,
            http,
            opts,
            last_sent: Instant::now(),
            next_request: 1,
            pending: Vec::new(),
            token,
            malformed: 0,
        };
        let limit = stream.opts.connect_timeout;
        match tokio::time::timeout(limit, stream.handshake(account)).await {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(e)) => {
                stream.ws.close().await;
                Err(stream.scrubbed(e))
            }
            Err(_) => {
                stream.ws.close().await;
                Err(BrokerError::Timeout(limit))
            }
        }
    }

    async fn handshake(&mut self, account: &str) -> Result<(), BrokerError> {
        let connect = json!({"action": "connect", "value": [account],
            "auth-token": self.token.expose(), "request-id": self.request_id(),
            "source": USER_AGENT});
        self.send(connect.to_string()).await?;
        loop {
            let Some(frame) = self.ws.next().await? else {
                return Err(BrokerError::Network(
                    "the account streamer closed the connection during the handshake".into(),
                ));
            };
            let Some(msg) = self.message(&frame) else {
                continue;
            };
            if msg.action.as_deref() == Some("connect") {
                return match msg.status.as_deref() {
                    Some("ok") => Ok(()),
                    _ => Err(BrokerError::Auth(format!(
                        "the Tastytrade account streamer refused the connection: {}",
                        self.text(msg.message.as_deref())
                    ))),
                };
            }
            let mut updates = std::mem::take(&mut self.pending);
            self.on_message(msg, &mut updates)?;
            self.pending = updates;
        }
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    async fn send(&mut self, text: String) -> Result<(), BrokerError> {
        self.ws.send_text(text).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// Sends a heartbeat, with the current access token, if nothing went out for a
    /// heartbeat interval.
    async fn heartbeat_if_due(&mut self) -> Result<(), BrokerError> {
        if self.last_sent.elapsed() < self.opts.heartbeat_every {
            return Ok(());
        }
        self.token = self.http.bearer().await?;
        let beat = json!({"action": "heartbeat", "auth-token": self.token.expose(),
            "request-id": self.request_id()});
        self.send(beat.to_string()).await
    }

    /// The frame as a message, or `None` (with a warning) when it is not one.
    fn message(&mut self, frame: &WsFrame) -> Option<Message> {
        let bytes: &[u8] = match frame {
            WsFrame::Text(t) => t.as_bytes(),
            WsFrame::Binary(b) => b,
            WsFrame::Pong => return None,
        };
        match Message::parse(bytes) {
            Ok(m) => Some(m),
            Err(e) => {
                self.malformed += 1;
                // 1st, 2nd, 4th, 8th…: a flood of garbage cannot flood the log. The category
                // and position only: a frame can hold account data.
                if self.malformed.is_power_of_two() {
                    tracing::warn!(count = self.malformed, len = bytes.len(), line = e.line(),
                        column = e.column(), kind = ?e.classify(),
                        "skipping a malformed Tastytrade account-streamer message");
                }
                None
            }
        }
    }

    /// Acts on one message received after (or while waiting for) the `connect` answer.
    fn on_message(&mut self, msg: Message, out: &mut Vec<OrderUpdate>) -> Result<(), BrokerError> {
        if let Some(status) = msg.status.as_deref() {
            if status == "ok" {
                return Ok(());
            }
            return Err(BrokerError::Network(format!(
                "the Tastytrade account streamer answered {} to {}: {}; a reconnect \
                 authenticates again",
                self.text(Some(status)),
                self.text(msg.action.as_deref()),
                self.text(msg.message.as_deref())
            )));
        }
        match msg.order_update() {
            None => {}
            Some(Ok(u)) => out.push(u),
            Some(Err(e)) => {
                self.malformed += 1;
                if self.malformed.is_power_of_two() {
                    tracing::warn!(count = self.malformed, kind = ?e.classify(),
                        "skipping a Tastytrade order notification that is not an order");
                }
            }
        }
        Ok(())
    }

    /// A broker text, bounded and without the token.
    fn text(&self, s: Option<&str>) -> String {
        let s: String = s.unwrap_or("").chars().take(300).collect();
        s.replace(self.token.expose(), "••••")
    }

    fn scrubbed(&self, e: BrokerError) -> BrokerError {
        e.scrubbed(&[self.token.expose()])
    }
}

/// The update an order notification makes.
fn update(order: Order) -> OrderUpdate {
    OrderUpdate {
        broker_order_id: order.id(),
        client_order_id: order.external_identifier.clone().filter(|c| !c.is_empty()),
        state: order
            .into_state()
            .map_err(|e| tracing::debug!(error = %e, "an order notification the desk cannot read"))
            .ok(),
    }
}

#[async_trait]
impl OrderEventStream for AccountStreamer {
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        loop {
            // Checked first too: under a steady flow of notifications the timer never wins.
            self.heartbeat_if_due()
                .await
                .map_err(|e| self.scrubbed(e))?;
            let due = self.last_sent + self.opts.heartbeat_every;
            let frame = tokio::select! {
                biased;
                f = self.ws.next() => f,
                () = tokio::time::sleep_until(due) => continue,
            };
            let Some(frame) = frame.map_err(|e| self.scrubbed(e))? else {
                return Ok(false);
            };
            if let Some(msg) = self.message(&frame) {
                self.on_message(msg, out)?;
            }
            return Ok(true);
        }
    }

    fn silence_limit(&self) -> Duration {
        self.opts.heartbeat_every.max(Duration::from_millis(10)) * 2
    }

    async fn close(&mut self) {
        self.ws.close().await;
    }
}
