//! The WebSocket side shared by the stream clients (Alpaca, Tradier, Tastytrade DXLink,
//! IBKR): connecting with headers and a timeout, TLS (the platform's trust store, or the
//! connector's own configuration — IBKR's pinned gateway certificate, `brokers/pin.rs`),
//! pings while idle so that a live link always answers within the silence limit, and
//! oversized messages skipped rather than fatal.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::BrokerError;
use crate::stream::MAX_MESSAGE;

/// One data frame.
#[derive(Debug, Clone, PartialEq)]
pub enum WsFrame {
    Text(Utf8Bytes),
    Binary(Bytes),
    /// The answer to one of our pings: proof of life.
    Pong,
}

/// How to open a WebSocket.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// Extra request headers (e.g. Alpaca's `Content-Type: application/msgpack`, IBKR's
    /// session cookie). Values are not logged.
    pub headers: Vec<(String, String)>,
    /// Time allowed for TCP + TLS + the upgrade.
    pub connect_timeout: Duration,
    /// A ping is sent after this much silence.
    pub ping_every: Duration,
    /// The TLS configuration for `wss://` (IBKR's pinned gateway certificate); `None`
    /// verifies the server with the platform's trust store.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for WsOptions {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(10),
            tls: None,
        }
    }
}

/// An open WebSocket.
pub struct WsConn {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    ping_every: Duration,
    last_activity: Instant,
    /// The code of the server's close frame, once one arrived.
    close_code: Option<u16>,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConn").finish_non_exhaustive()
    }
}

/// `url` with `https://` turned into `wss://` and `http://` into `ws://` (a configured
/// REST host naming its WebSocket); any other URL as it is, trimmed.
pub fn ws_scheme(url: &str) -> String {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_string()
    }
}

/// True when `url`'s host is a loopback address or `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl WsConn {
    /// Connects to `url` (`ws://` only to loopback, `wss://` anywhere).
    pub async fn connect(url: &str, opts: &WsOptions) -> Result<Self, BrokerError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| BrokerError::Config(format!("the stream URL is not valid: {e}")))?;
        let loopback = is_loopback(&parsed);
        match parsed.scheme() {
            "wss" => {}
            "ws" if loopback => {}
            "ws" => {
                return Err(BrokerError::Config(
                    "plain ws:// is allowed only to this machine; use wss://".into(),
                ))
            }
            other => {
                return Err(BrokerError::Config(format!(
                    "a stream URL must be ws:// or wss://, not {other}://"
                )))
            }
        }
        let mut request = url
            .into_client_request()
            .map_err(|e| BrokerError::Config(format!("the stream URL is not valid: {e}")))?;
        for (name, value) in &opts.headers {
            let name =
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| BrokerError::Config(format!("bad header name {name}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| BrokerError::Config(format!("bad value for header {name}")))?;
            request.headers_mut().insert(name, value);
        }
        let connector = if parsed.scheme() == "wss" {
            Some(Connector::Rustls(match &opts.tls {
                Some(config) => config.clone(),
                None => platform_tls()?,
            }))
        } else {
            None
        };
        let config = WebSocketConfig::default()
            // Room for the largest message we accept plus slack; bigger ones are read
            // whole and skipped by `next`, so one bad message never kills the link.
            .max_message_size(Some(MAX_MESSAGE * 16))
            .max_frame_size(Some(MAX_MESSAGE * 16));
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            connector,
        );
        let (inner, _resp) = tokio::time::timeout(opts.connect_timeout, connect)
            .await
            .map_err(|_| BrokerError::Timeout(opts.connect_timeout))?
            .map_err(handshake_error)?;
        Ok(Self {
            inner,
            ping_every: opts.ping_every.max(Duration::from_millis(10)),
            last_activity: Instant::now(),
            close_code: None,
        })
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), BrokerError> {
        self.inner
            .send(Message::Text(text.into()))
            .await
            .map_err(io_error)
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), BrokerError> {
        self.inner
            .send(Message::Binary(data.into()))
            .await
            .map_err(io_error)
    }

    /// Waits for the next data frame or pong. Sends a ping after `ping_every` of silence.
    /// `Ok(None)` once the server closed the socket. Oversized messages are logged and
    /// skipped. Cancel-safe: nothing is lost if the future is dropped between frames.
    pub async fn next(&mut self) -> Result<Option<WsFrame>, BrokerError> {
        loop {
            let ping_at = self.last_activity + self.ping_every;
            let msg = tokio::select! {
                biased;
                m = self.inner.next() => m,
                _ = tokio::time::sleep_until(ping_at) => {
                    self.last_activity = Instant::now();
                    self.inner
                        .send(Message::Ping(Bytes::from_static(b"brokerdesk")))
                        .await
                        .map_err(io_error)?;
                    continue;
                }
            };
            let Some(msg) = msg else { return Ok(None) };
            let msg = msg.map_err(io_error)?;
            self.last_activity = Instant::now();
            match msg {
                Message::Text(t) if t.len() > MAX_MESSAGE => {
                    tracing::warn!(len = t.len(), "skipping an oversized stream message");
                }
                Message::Binary(b) if b.len() > MAX_MESSAGE => {
                    tracing::warn!(len = b.len(), "skipping an oversized stream message");
                }
                Message::Text(t) => return Ok(Some(WsFrame::Text(t))),
                Message::Binary(b) => return Ok(Some(WsFrame::Binary(b))),
                Message::Pong(_) => return Ok(Some(WsFrame::Pong)),
                // tungstenite queues the pong itself; it goes out with the next write/flush.
                Message::Ping(_) | Message::Frame(_) => {
                    let _ = self.inner.flush().await;
                }
                Message::Close(frame) => {
                    self.close_code = frame.as_ref().map(|f| u16::from(f.code));
                    tracing::info!(reason = ?frame.map(|f| f.reason.to_string()), "the stream server closed the socket");
                    return Ok(None);
                }
            }
        }
    }

    /// The status code of the server's close frame (e.g. 1009 "message too big"), after
    /// [`WsConn::next`] returned `Ok(None)` for it; `None` if it sent none.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// Sends a close frame and waits briefly for the server's; errors are ignored.
    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.inner.close(None)).await;
    }
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> BrokerError {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Http(resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(200)
                        .collect::<String>()
                })
                .unwrap_or_default();
            match status {
                401 | 403 => {
                    BrokerError::Auth(format!("the stream upgrade was refused (HTTP {status})"))
                }
                429 => BrokerError::RateLimited { retry_after: None },
                s @ 500..=599 => BrokerError::Unavailable {
                    status: s,
                    message: body,
                },
                s => BrokerError::Rejected {
                    status: s,
                    code: String::new(),
                    message: format!("the stream upgrade was refused: {body}"),
                },
            }
        }
        other => io_error(other),
    }
}

fn io_error(e: tokio_tungstenite::tungstenite::Error) -> BrokerError {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::ConnectionClosed | E::AlreadyClosed => {
            BrokerError::Network("the stream was closed".into())
        }
        E::Io(e) => BrokerError::Network(format!("the stream dropped: {}", e.kind())),
        E::Tls(e) => BrokerError::Network(format!("TLS failed: {e}")),
        E::Protocol(e) => BrokerError::Network(format!("WebSocket protocol error: {e}")),
        E::Capacity(e) => BrokerError::Protocol(format!("a stream message was too large: {e}")),
        E::Url(e) => BrokerError::Config(format!("the stream URL is not valid: {e}")),
        other => BrokerError::Network(other.to_string()),
    }
}

/// TLS verified by the platform's trust store (the OS verifier), for every host.
fn platform_tls() -> Result<Arc<rustls::ClientConfig>, BrokerError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| BrokerError::Config(format!("TLS setup failed: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BrokerError::Config(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}
