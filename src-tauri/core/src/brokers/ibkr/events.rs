//! IBKR's live-order topic (`sor`) on the Client Portal WebSocket
//! (`brokers/ibkr/PROTOCOL.md`) as an [`OrderEventStream`].
//!
//! The socket is opened exactly as the market-data stream's ([`GatewaySocket`]: `/tickle`,
//! the cookie `api={"session":"…"}`, `{"session":"…"}` after "waiting for session", `tic`
//! keepalives, pings while idle, the same session-loss rules), then `sor+{}` subscribes to
//! the account's live orders. The gateway answers with the orders it has, then one frame
//! per change: `{"topic":"sor","args":[{"acct","orderId","order_ref","status",
//! "filledQuantity","remainingQuantity","totalSize","avgPrice","ticker","side",…}]}`, the
//! elements in the shape of `GET /iserver/account/orders`.
//!
//! Each element becomes an [`OrderUpdate`] naming `orderId` and `order_ref` (the `cOID`
//! Brokerdesk sent). It carries the whole [`OrderState`](crate::brokers::OrderState), read
//! by the REST list's parser, only when the element has everything that state needs
//! (status, side, symbol, total and filled quantities): IBKR also sends partial updates with
//! just the fields that changed, and a state filled in with zeros would be wrong, so those
//! have `state: None` and the runtime reads the order. An element without an `orderId` is
//! skipped with a warning; so is a malformed frame (by the shared frame parser, which logs
//! no content). Every other topic (`system` heartbeats, `sts`, `act`, `tic`, notices) yields
//! nothing, besides what it says about the session.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::http::IbkrHttp;
use super::models::LiveOrder;
use super::stream::parse::{parse_frame, ConidMap, Control};
use super::stream::socket::GatewaySocket;
use super::StreamOptions;
use crate::brokers::ws::WsFrame;
use crate::brokers::{BrokerError, OrderEventStream, OrderUpdate};
use crate::stream::StreamEvent;

/// Subscribes to live orders (the braces are IBKR's: no filter).
const SUBSCRIBE: &str = "sor+{}";

/// The part of a frame this stream reads beyond the session.
#[derive(Deserialize)]
struct SorFrame<'a> {
    #[serde(borrow, default)]
    topic: Option<Cow<'a, str>>,
    #[serde(default)]
    args: Option<Value>,
}

/// An open `sor` subscription. Built by [`super::Ibkr::order_events`].
pub struct IbkrOrderEvents {
    socket: GatewaySocket,
    /// What the shared frame parser produces (heartbeats, notices): only its verdict on the
    /// session is used.
    scratch: Vec<StreamEvent>,
    no_conids: ConidMap,
}

impl std::fmt::Debug for IbkrOrderEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written: the connection and the HTTP client hold the session.
        f.debug_struct("IbkrOrderEvents")
            .field("authenticated", &self.socket.authenticated())
            .finish_non_exhaustive()
    }
}

impl IbkrOrderEvents {
    /// Opens the gateway's WebSocket at `url` and subscribes to live orders.
    pub(super) async fn open(
        http: Arc<IbkrHttp>,
        url: &str,
        options: StreamOptions,
    ) -> Result<Self, BrokerError> {
        let mut socket = GatewaySocket::open(http, url, options).await?;
        socket.send_text(SUBSCRIBE.to_string()).await?;
        Ok(Self {
            socket,
            scratch: Vec::new(),
            no_conids: ConidMap::new(),
        })
    }
}

/// Appends the updates of a `sor` frame (nothing for any other frame, or one that is not
/// JSON: the shared parser already logged that).
pub fn sor_updates(frame: &[u8], out: &mut Vec<OrderUpdate>) {
    let Ok(f) = serde_json::from_slice::<SorFrame<'_>>(frame) else {
        return;
    };
    if f.topic.as_deref() != Some("sor") {
        return;
    }
    let elements = match f.args {
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => vec![one],
        _ => return,
    };
    for element in elements {
        let complete = is_complete(&element);
        match serde_json::from_value::<LiveOrder>(element) {
            Ok(order) => out.push(update(order, complete)),
            Err(e) => tracing::warn!(kind = ?e.classify(),
                "skipping an IBKR live-order update without an order id"),
        }
    }
}

/// Whether a `sor` element carries everything a whole order state needs.
fn is_complete(element: &Value) -> bool {
    let text = |k: &str| {
        element
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    let present = |k: &str| element.get(k).is_some_and(|v| !v.is_null());
    text("status")
        && text("side")
        && (text("ticker") || text("description1"))
        && present("totalSize")
        && present("filledQuantity")
}

fn update(order: LiveOrder, complete: bool) -> OrderUpdate {
    OrderUpdate {
        broker_order_id: order.order_id.clone(),
        client_order_id: order.order_ref.clone().filter(|r| !r.is_empty()),
        state: complete.then(|| order.into_state()).and_then(|s| {
            s.map_err(|e| tracing::debug!(error = %e, "an IBKR order update the desk cannot read"))
                .ok()
        }),
    }
}

#[async_trait]
impl OrderEventStream for IbkrOrderEvents {
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError> {
        self.socket.settle().await?;
        let Some(frame) = self.socket.next_frame().await? else {
            return Ok(false);
        };
        let bytes: &[u8] = match &frame {
            WsFrame::Pong => return Ok(true),
            WsFrame::Text(t) => t.as_bytes(),
            WsFrame::Binary(b) => b,
        };
        self.scratch.clear();
        let control = parse_frame(bytes, &self.no_conids, Utc::now(), &mut self.scratch);
        if control == Control::None {
            sor_updates(bytes, out);
        }
        self.socket.on_control(control).await?;
        Ok(true)
    }

    fn silence_limit(&self) -> Duration {
        self.socket.silence_limit()
    }

    async fn close(&mut self) {
        self.socket.close().await;
    }
}
