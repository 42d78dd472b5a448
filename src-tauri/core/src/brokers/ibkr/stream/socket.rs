//! One Client Portal WebSocket and its session, shared by the market-data stream
//! ([`super::IbkrQuoteStream`]) and the order-event stream
//! ([`crate::brokers::ibkr::events::IbkrOrderEvents`]): opening it with the session cookie
//! (after `/tickle`), waiting until the gateway accepts the session, `tic` keepalives, and
//! acting on what frames say about the session ([`Control`]). See the module docs of
//! [`super`] for the rules.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use zeroize::Zeroize;

use super::parse::{parse_frame, ConidMap, Control};
use super::StreamOptions;
use crate::brokers::http::USER_AGENT;
use crate::brokers::ibkr::gateway_status;
use crate::brokers::ibkr::http::IbkrHttp;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;

/// An open gateway WebSocket whose session the gateway accepted.
pub(in crate::brokers::ibkr) struct GatewaySocket {
    conn: WsConn,
    http: Arc<IbkrHttp>,
    options: StreamOptions,
    last_tic: Instant,
    /// The gateway accepted the session on this socket.
    authed: bool,
    /// `{"session":…}` was sent during the handshake.
    session_sent: bool,
    /// `{"session":…}` was sent again after a lost `sts`; a second loss ends the stream.
    session_resent: bool,
    /// An `sts` loss awaits its `/tickle` check (kept across a cancelled `read`).
    check_auth: bool,
}

impl GatewaySocket {
    /// Tickles the gateway (opening the brokerage session if it is closed, else querying
    /// `/iserver/accounts`), opens the socket at `url` with the session cookie and waits
    /// until the gateway accepts the session.
    pub(in crate::brokers::ibkr) async fn open(
        http: Arc<IbkrHttp>,
        url: &str,
        options: StreamOptions,
    ) -> Result<Self, BrokerError> {
        let status = gateway_status(&http).await?;
        if status.authenticated {
            http.query_accounts().await?;
        } else {
            http.open_bridge().await?;
        }
        let mut headers = vec![("User-Agent".to_string(), USER_AGENT.to_string())];
        if let Some(cookie) = http.cookie() {
            headers.push(("Cookie".to_string(), cookie.expose().to_string()));
        }
        let mut ws = WsOptions {
            headers,
            connect_timeout: http.timeout(),
            ping_every: options.ping_every,
            // The gateway's pinned certificate, shared with the REST client.
            tls: http.ws_tls(url)?,
        };
        let refusals = http.refusals();
        let conn = WsConn::connect(url, &ws).await;
        for (_, value) in &mut ws.headers {
            value.zeroize();
        }
        let conn = conn.map_err(|e| http.pinned_error(refusals, e))?;
        let mut socket = Self {
            conn,
            http,
            last_tic: Instant::now(),
            options,
            authed: false,
            session_sent: false,
            session_resent: false,
            check_auth: false,
        };
        socket.handshake().await?;
        Ok(socket)
    }

    /// Reads frames until the gateway accepts the session (their events are dropped: the
    /// greeting and heartbeats).
    async fn handshake(&mut self) -> Result<(), BrokerError> {
        let limit = self.options.handshake_timeout;
        let deadline = Instant::now() + limit;
        let none = ConidMap::new();
        let mut scratch = Vec::new();
        while !self.authed {
            let frame = match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Ok(Ok(Some(frame))) => frame,
                Ok(Ok(None)) => {
                    let m = "the gateway closed the stream before accepting the session";
                    return Err(BrokerError::Network(m.into()));
                }
                Ok(Err(e)) => return Err(e),
                Err(_) if self.session_sent => {
                    return Err(BrokerError::Unavailable {
                        status: 503,
                        message: "the gateway kept waiting for the stream's session".into(),
                    })
                }
                Err(_) => return Err(BrokerError::Timeout(limit)),
            };
            scratch.clear();
            let control = match &frame {
                WsFrame::Pong => Control::None,
                WsFrame::Text(t) => parse_frame(t.as_bytes(), &none, Utc::now(), &mut scratch),
                WsFrame::Binary(b) => parse_frame(b, &none, Utc::now(), &mut scratch),
            };
            self.on_control(control).await?;
        }
        Ok(())
    }

    /// Finishes a `/tickle` check that a cancelled read left pending. Call before reading.
    pub(in crate::brokers::ibkr) async fn settle(&mut self) -> Result<(), BrokerError> {
        if self.check_auth {
            self.recheck_auth().await?;
        }
        Ok(())
    }

    /// The next frame, sending `tic` whenever it is due. `Ok(None)` once the gateway
    /// closed the socket. Cancel-safe.
    pub(in crate::brokers::ibkr) async fn next_frame(
        &mut self,
    ) -> Result<Option<WsFrame>, BrokerError> {
        loop {
            let tic_at = self.last_tic + self.options.tic_every.max(Duration::from_millis(10));
            tokio::select! {
                biased;
                frame = self.conn.next() => return frame,
                () = tokio::time::sleep_until(tic_at) => {
                    self.last_tic = Instant::now();
                    self.conn.send_text("tic").await?;
                }
            }
        }
    }

    /// Sends a command (`smd+…`, `sor+{}`).
    pub(in crate::brokers::ibkr) async fn send_text(
        &mut self,
        text: String,
    ) -> Result<(), BrokerError> {
        self.conn.send_text(text).await
    }

    /// Acts on what a frame said about the session.
    pub(in crate::brokers::ibkr) async fn on_control(
        &mut self,
        control: Control,
    ) -> Result<(), BrokerError> {
        match control {
            Control::None => Ok(()),
            Control::Authenticated => {
                self.authed = true;
                self.session_resent = false;
                Ok(())
            }
            // Before the gateway accepted us: present the session once, then wait.
            Control::WaitingForSession if !self.authed => {
                if self.session_sent {
                    Ok(())
                } else {
                    self.send_session().await
                }
            }
            Control::NotAuthenticated if !self.authed && !self.session_sent => {
                self.send_session().await
            }
            Control::WaitingForSession | Control::NotAuthenticated => {
                self.check_auth = true;
                self.recheck_auth().await
            }
        }
    }

    /// Asks `/tickle` why the socket lost its session (see the module docs of [`super`]).
    async fn recheck_auth(&mut self) -> Result<(), BrokerError> {
        let status = gateway_status(&self.http).await;
        self.check_auth = false;
        let status = status?;
        if !status.authenticated {
            let why = if status.competing {
                "another session took over the gateway's brokerage session"
            } else {
                "the gateway's brokerage session closed"
            };
            return Err(BrokerError::Unavailable {
                status: 503,
                message: why.into(),
            });
        }
        if !self.authed || self.session_resent {
            return Err(BrokerError::Unavailable {
                status: 503,
                message: "the gateway refused the stream's session".into(),
            });
        }
        self.session_resent = true;
        self.send_session().await
    }

    /// Sends `{"session":"…"}` (the session `/tickle` reported last).
    async fn send_session(&mut self) -> Result<(), BrokerError> {
        self.session_sent = true;
        let Some(session) = self.http.session() else {
            return Ok(());
        };
        // The session is plain alphanumerics (`IbkrHttp::set_session`): no escaping needed.
        let message = format!("{{\"session\":\"{}\"}}", session.expose());
        self.conn.send_text(message).await
    }

    /// The gateway's session, to scrub from broker texts.
    pub(in crate::brokers::ibkr) fn http(&self) -> &IbkrHttp {
        &self.http
    }

    pub(in crate::brokers::ibkr) fn authenticated(&self) -> bool {
        self.authed
    }

    /// Two ping intervals: a live link answers a ping (or sends IBKR's own heartbeat)
    /// within one.
    pub(in crate::brokers::ibkr) fn silence_limit(&self) -> Duration {
        self.options.ping_every.max(Duration::from_millis(10)) * 2
    }

    pub(in crate::brokers::ibkr) async fn close(&mut self) {
        self.conn.close().await;
    }
}
