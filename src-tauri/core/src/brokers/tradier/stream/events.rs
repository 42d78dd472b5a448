//! Tradier's account WebSocket (`wss://ws.tradier.com/v1/accounts/events`,
//! `brokers/tradier/PROTOCOL.md`, "Account events") as an [`OrderEventStream`].
//!
//! Opening takes an account-events session (`POST /v1/accounts/events/session`, bearer
//! auth), connects the WebSocket its answer names (`wss://…`; a sandbox token gets
//! `sandbox-ws.tradier.com`), or, when the answer names no WebSocket, the configured market
//! stream's host at `/v1/accounts/events`, and sends `{"events":["order"],"sessionid":…,
//! "excludeAccounts":[]}`.
//!
//! Order events are flat JSON, `{"id":…,"event":"order","status":"filled","account":…,
//! "tag"?,…}`; each one for the connector's own account becomes an [`OrderUpdate`] naming
//! the order (its `tag`, the sanitised client order id, as the client id) without a state:
//! the runtime reads the order. Events of the token's other accounts are dropped.
//! `{"event":"heartbeat","status":"active",…}` arrives every minute; the link is also pinged
//! while idle, so [`OrderEventStream::silence_limit`] is two ping intervals. Frames may hold
//! several messages (line breaks or concatenated); malformed ones are logged and skipped. An
//! error about the session ends the stream with a retryable error ([`session_ended`]).
//!
//! The session id never appears in an error, a log line or `Debug` output.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::super::{StreamSession, Tradier};
use super::messages::ErrorText;
use super::parse::{for_each_message, session_ended};
use crate::brokers::ws::{WsConn, WsFrame};
use crate::brokers::{BrokerError, OrderEventStream, OrderUpdate};

/// An order id: a number (as Tradier sends it) or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(t) => t.trim().to_string(),
        }
    }
}

/// The fields of an account-stream message the connector reads.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<Id>,
    #[serde(borrow, default)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tag: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error: Option<ErrorText<'a>>,
}

/// Parses one frame of the account stream and appends the updates of `account`'s orders
/// to `out`. Pure and synchronous, so it can be fuzzed directly; never panics.
///
/// # Errors
///
/// [`session_ended`] when Tradier reports the session expired or unknown; updates parsed
/// before that message stay in `out`.
pub fn parse_account_frame(
    frame: &str,
    account: &str,
    out: &mut Vec<OrderUpdate>,
) -> Result<(), BrokerError> {
    for_each_message(frame, |m: Message<'_>| {
        if let Some(error) = m.error {
            if error.text().to_ascii_lowercase().contains("session") {
                return Err(session_ended());
            }
            tracing::warn!(
                len = error.text().len(),
                "Tradier's account stream reported an error"
            );
            return Ok(());
        }
        match m.event.as_deref() {
            Some("order") => {}
            Some(_) => return Ok(()),
            None => {
                tracing::warn!("skipping a Tradier account message without an event");
                return Ok(());
            }
        }
        let Some(id) = m.id.map(Id::into_string).filter(|i| !i.is_empty()) else {
            tracing::warn!("skipping a Tradier order event without an id");
            return Ok(());
        };
        let ours = m
            .account
            .as_deref()
            .is_some_and(|a| a.trim().eq_ignore_ascii_case(account));
        if !ours {
            // Another account of the token (or none named): not this connector's order.
            return Ok(());
        }
        out.push(OrderUpdate {
            broker_order_id: id,
            client_order_id: m
                .tag
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            state: None,
        });
        Ok(())
    })
}

/// The account WebSocket's URL: the one the session names when it is a WebSocket URL, else
/// the market stream's with `/accounts/events` for `/markets/events`.
fn events_url(session: &StreamSession, market_stream: &str) -> String {
    let named = session.url.trim();
    if named.starts_with("wss://") || named.starts_with("ws://") {
        return named.to_string();
    }
    let base = market_stream.trim().trim_end_matches('/');
    let base = base.strip_suffix("/markets/events").unwrap_or(base);
    format!("{base}/accounts/events")
}

/// An open account-events stream. Built by [`Tradier::open_account_events`].
pub struct AccountEvents {
    conn: WsConn,
    account: String,
    silence: Duration,
}

impl std::fmt::Debug for AccountEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountEvents")
            .field("silence", &self.silence)
            .finish_non_exhaustive()
    }
}

impl Tradier {
    /// Opens the account-events stream of the connector's account: a new session, then the
    /// WebSocket it names, subscribed to order events.
    pub async fn open_account_events(&self) -> Result<AccountEvents, BrokerError> {
        let account = self.account().await?.to_string();
        let session = self.session("accounts").await?;
        let opts = self.ws_options();
        let mut conn = WsConn::connect(&events_url(&session, &self.stream_url), &opts).await?;
        let payload = json!({
            "events": ["order"],
            "sessionid": session.session_id.expose(),
            "excludeAccounts": [],
        });
        conn.send_text(payload.to_string()).await?;
        Ok(AccountEvents {
            conn,
            account,
            silence: opts
                .ping_every
                .max(Duration::from_millis(10))
                .saturating_mul(2),
        })
    }
}

#[async_trait]
impl OrderEventStream for AccountEvents {
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError> {
        match self.conn.next().await? {
            None => Ok(false),
            Some(WsFrame::Pong) => Ok(true),
            Some(WsFrame::Text(text)) => {
                parse_account_frame(text.as_str(), &self.account, out)?;
                Ok(true)
            }
            Some(WsFrame::Binary(bytes)) => {
                match std::str::from_utf8(&bytes) {
                    Ok(text) => parse_account_frame(text, &self.account, out)?,
                    Err(_) => tracing::warn!(
                        len = bytes.len(),
                        "skipping a binary Tradier account frame that is not text"
                    ),
                }
                Ok(true)
            }
        }
    }

    fn silence_limit(&self) -> Duration {
        self.silence
    }

    async fn close(&mut self) {
        self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn parse(frame: &str) -> Vec<OrderUpdate> {
        let mut out = Vec::new();
        parse_account_frame(frame, "VA00000042", &mut out).expect("no session error");
        out
    }

    #[test]
    fn order_events_of_the_account_name_their_orders() {
        let filled = r#"{"id":1107075,"event":"order","status":"filled","type":"limit","price":10.0,"stop_price":0.0,"avg_fill_price":10.0,"exec_quantity":2.0,"last_fill_quantity":2.0,"remaining_quantity":0.0,"transaction_date":"2025-12-09T12:05:35.277Z","create_date":"2025-12-09T12:05:35.277Z","account":"VA00000042","tag":"c-1"}"#;
        let other = r#"{"id":"7","event":"order","status":"open","account":"VA00000099"}"#;
        let beat = r#"{"event":"heartbeat","status":"active","timestamp":"2025-12-10T18:02:51.028929606Z"}"#;
        let got = parse(&format!("{filled}\n{other}{beat}\r\n"));
        assert_eq!(
            got,
            vec![OrderUpdate {
                broker_order_id: "1107075".into(),
                client_order_id: Some("c-1".into()),
                state: None
            }]
        );
        assert!(parse(beat).is_empty());
    }

    #[test]
    fn garbage_is_skipped_and_a_lost_session_ends_the_stream() {
        let good = r#"{"id":5,"event":"order","status":"canceled","account":"va00000042"}"#;
        assert_eq!(parse(&format!("<html>\u{0}\n{{\"id\":\n{good}")).len(), 1);
        assert!(parse(r#"{"error":"too many requests"}"#).is_empty());
        let mut out = Vec::new();
        let e = parse_account_frame(r#"{"error":"session not found"}"#, "VA00000042", &mut out);
        assert!(matches!(e, Err(BrokerError::Network(_))), "{e:?}");
    }

    #[test]
    fn the_url_is_the_sessions_or_derived_from_the_market_stream() {
        let session = |url: &str| StreamSession {
            url: url.into(),
            session_id: Secret::new("s"),
        };
        assert_eq!(
            events_url(
                &session("wss://sandbox-ws.tradier.com/v1/accounts/events"),
                "wss://ws.tradier.com/v1/markets/events"
            ),
            "wss://sandbox-ws.tradier.com/v1/accounts/events"
        );
        assert_eq!(
            events_url(
                &session("https://stream.tradier.com/v1/accounts/events"),
                "wss://ws.tradier.com/v1/markets/events/"
            ),
            "wss://ws.tradier.com/v1/accounts/events"
        );
    }
}
