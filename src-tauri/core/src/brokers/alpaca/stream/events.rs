//! The trade-updates stream (`brokers/alpaca/PROTOCOL.md`, "Trade updates"): the account's
//! order events over a WebSocket at `{trading host}/stream`, as an [`OrderEventStream`].
//!
//! The handshake is `{"action":"auth","key":…,"secret":…}` →
//! `{"stream":"authorization","data":{"status":"authorized",…}}` (`unauthorized` ends it with
//! [`BrokerError::Auth`]) → `{"action":"listen","data":{"streams":["trade_updates"]}}` →
//! `{"stream":"listening","data":{"streams":["trade_updates"]}}`. Events then arrive as
//! `{"stream":"trade_updates","data":{"event":"fill",…,"order":{…}}}`, the order in the same
//! shape as the REST answer, read by the same parser into the update's state. The paper
//! server sends its frames as binary (JSON text inside), the live one as text: both are read.
//!
//! Alpaca sends no heartbeat: like the data stream, idle links are proven alive by
//! WebSocket pings ([`WsConn`]), whose pongs count as frames. Malformed frames are logged
//! (never their text) and skipped; oversized ones are skipped by [`WsConn`].

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::super::models::Order;
use super::messages::Auth;
use super::AlpacaStreamOptions;
use crate::brokers::ws::{ws_scheme, WsConn, WsFrame, WsOptions};
use crate::brokers::{BrokerError, OrderEventStream, OrderUpdate};
use crate::secret::Secret;

/// The stream this client listens to.
const TRADE_UPDATES: &str = "trade_updates";

/// One message of the trade-updates stream, as far as the connector reads it.
#[derive(Debug)]
pub enum TradeMessage {
    /// The answer to `auth`.
    Authorization { authorized: bool },
    /// The answer to `listen`: the streams now listened to.
    Listening { streams: Vec<String> },
    /// An order event (`new`, `fill`, `partial_fill`, `canceled`, `replaced`, …) with the
    /// order's state.
    Update {
        event: String,
        update: Box<OrderUpdate>,
    },
    /// Anything else (another stream, an event without a readable order).
    Other,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    streams: Option<Vec<String>>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    order: Option<Order>,
}

/// Parses one frame's bytes (JSON, from a text or a binary frame); `None` (with a log) for
/// a malformed one.
pub fn parse_trade_message(bytes: &[u8]) -> Option<TradeMessage> {
    let frame: Frame = match serde_json::from_slice(bytes) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, len = bytes.len(), "skipping a malformed Alpaca trade-updates frame");
            return None;
        }
    };
    let data = frame.data;
    Some(match (frame.stream.as_deref(), data) {
        (Some("authorization"), Some(d)) => TradeMessage::Authorization {
            authorized: d.status.as_deref() == Some("authorized"),
        },
        (Some("listening"), Some(d)) => TradeMessage::Listening {
            streams: d.streams.unwrap_or_default(),
        },
        (
            Some(TRADE_UPDATES),
            Some(Data {
                event,
                order: Some(order),
                ..
            }),
        ) => match order.into_state() {
            Ok(state) => TradeMessage::Update {
                event: event.unwrap_or_default(),
                update: Box::new(OrderUpdate {
                    broker_order_id: state.broker_order_id.clone(),
                    client_order_id: state.client_order_id.clone(),
                    state: Some(state),
                }),
            },
            Err(e) => {
                tracing::warn!(error = %e, "skipping a trade update with an unreadable order");
                TradeMessage::Other
            }
        },
        (Some(TRADE_UPDATES), _) => {
            tracing::warn!("skipping a trade update without an order");
            TradeMessage::Other
        }
        _ => TradeMessage::Other,
    })
}

/// An open trade-updates stream.
pub struct TradeUpdates {
    ws: WsConn,
    ping_every: Duration,
    /// Updates read during the handshake, handed out by the first `read`.
    pending: Vec<OrderUpdate>,
}

impl std::fmt::Debug for TradeUpdates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradeUpdates")
            .field("ping_every", &self.ping_every)
            .finish_non_exhaustive()
    }
}

/// The trade-updates URL of a trading host (`https://paper-api.alpaca.markets` →
/// `wss://paper-api.alpaca.markets/stream`).
pub fn trade_updates_endpoint(trading: &str) -> String {
    format!("{}/stream", ws_scheme(trading.trim().trim_end_matches('/')))
}

impl TradeUpdates {
    /// Connects to `url`, authenticates with the key pair and listens to `trade_updates`;
    /// the whole handshake is bounded by `opts.connect_timeout`, and idle links are pinged
    /// every `opts.ping_every`.
    pub async fn connect(
        url: &str,
        key: &Secret,
        secret: &Secret,
        opts: &AlpacaStreamOptions,
    ) -> Result<Self, BrokerError> {
        let limit = opts.connect_timeout;
        tokio::time::timeout(limit, Self::handshake(url, key, secret, opts))
            .await
            .map_err(|_| BrokerError::Timeout(limit))?
    }

    async fn handshake(
        url: &str,
        key: &Secret,
        secret: &Secret,
        opts: &AlpacaStreamOptions,
    ) -> Result<Self, BrokerError> {
        let ws_opts = WsOptions {
            headers: Vec::new(),
            connect_timeout: opts.connect_timeout,
            ping_every: opts.ping_every,
            tls: None,
        };
        let mut stream = Self {
            ws: WsConn::connect(url, &ws_opts).await?,
            ping_every: opts.ping_every,
            pending: Vec::new(),
        };
        let auth = Auth {
            action: "auth",
            key: key.expose(),
            secret: secret.expose(),
        };
        let auth = serde_json::to_string(&auth)
            .map_err(|e| BrokerError::Protocol(format!("cannot encode a request: {e}")))?;
        stream.ws.send_text(auth).await?;
        match stream.await_answer().await? {
            TradeMessage::Authorization { authorized: true } => {}
            _ => {
                return Err(BrokerError::Auth(
                    "Alpaca refused the API key on the trade-updates stream".into(),
                ))
            }
        }
        let listen = json!({"action": "listen", "data": {"streams": [TRADE_UPDATES]}});
        stream.ws.send_text(listen.to_string()).await?;
        match stream.await_answer().await? {
            TradeMessage::Listening { streams } if streams.iter().any(|s| s == TRADE_UPDATES) => {
                Ok(stream)
            }
            _ => Err(BrokerError::Rejected {
                status: 0,
                code: TRADE_UPDATES.into(),
                message: "Alpaca did not open the trade_updates stream".into(),
            }),
        }
    }

    /// Reads frames until an answer to a request (authorization or listening) arrives,
    /// keeping the updates read meanwhile.
    async fn await_answer(&mut self) -> Result<TradeMessage, BrokerError> {
        loop {
            let Some(frame) = self.ws.next().await? else {
                return Err(BrokerError::Network(
                    "the Alpaca trade-updates stream closed during the handshake".into(),
                ));
            };
            match parse_frame(&frame) {
                Some(TradeMessage::Update { update, .. }) => self.pending.push(*update),
                Some(m @ (TradeMessage::Authorization { .. } | TradeMessage::Listening { .. })) => {
                    return Ok(m)
                }
                Some(TradeMessage::Other) | None => {}
            }
        }
    }
}

/// The message of one frame (`None` for a pong or a malformed frame).
fn parse_frame(frame: &WsFrame) -> Option<TradeMessage> {
    match frame {
        WsFrame::Text(t) => parse_trade_message(t.as_bytes()),
        WsFrame::Binary(b) => parse_trade_message(b),
        WsFrame::Pong => None,
    }
}

#[async_trait]
impl OrderEventStream for TradeUpdates {
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        let Some(frame) = self.ws.next().await? else {
            return Ok(false);
        };
        if let Some(TradeMessage::Update { update, .. }) = parse_frame(&frame) {
            out.push(*update);
        }
        Ok(true)
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
    use crate::brokers::OrderStatus;

    #[test]
    fn the_handshake_answers_and_an_event_are_read() {
        let ok =
            br#"{"stream":"authorization","data":{"status":"authorized","action":"authenticate"}}"#;
        assert!(matches!(
            parse_trade_message(ok),
            Some(TradeMessage::Authorization { authorized: true })
        ));
        let no = br#"{"stream":"authorization","data":{"status":"unauthorized","action":"authenticate"}}"#;
        assert!(matches!(
            parse_trade_message(no),
            Some(TradeMessage::Authorization { authorized: false })
        ));
        let fill = br#"{"stream":"trade_updates","data":{"event":"fill","price":"179.08","qty":"1","order":{"id":"61e69015-8549-4bfd-b9c3-01e75843f47d","client_order_id":"c-1","symbol":"AAPL","qty":"1","filled_qty":"1","filled_avg_price":"179.08","side":"buy","type":"limit","limit_price":"180","status":"filled"}}}"#;
        let Some(TradeMessage::Update { event, update }) = parse_trade_message(fill) else {
            panic!("an update")
        };
        assert_eq!(event, "fill");
        assert_eq!(
            update.broker_order_id,
            "61e69015-8549-4bfd-b9c3-01e75843f47d"
        );
        assert_eq!(update.client_order_id.as_deref(), Some("c-1"));
        let state = update.state.expect("the order's state");
        assert_eq!(state.status, OrderStatus::Filled);
        assert_eq!(
            state.avg_fill_price.map(|p| p.to_string()).as_deref(),
            Some("179.08")
        );
    }

    #[test]
    fn malformed_frames_are_skipped() {
        assert!(parse_trade_message(b"<html>\x00not json").is_none());
        let no_order = br#"{"stream":"trade_updates","data":{"event":"fill"}}"#;
        assert!(matches!(
            parse_trade_message(no_order),
            Some(TradeMessage::Other)
        ));
        let bad_side = br#"{"stream":"trade_updates","data":{"event":"new","order":{"id":"x","symbol":"AAPL","side":"sideways","status":"new"}}}"#;
        assert!(matches!(
            parse_trade_message(bad_side),
            Some(TradeMessage::Other)
        ));
    }

    #[test]
    fn the_endpoint_is_the_trading_host_over_websocket() {
        assert_eq!(
            trade_updates_endpoint("https://paper-api.alpaca.markets/"),
            "wss://paper-api.alpaca.markets/stream"
        );
        assert_eq!(
            trade_updates_endpoint("http://127.0.0.1:9"),
            "ws://127.0.0.1:9/stream"
        );
    }
}
