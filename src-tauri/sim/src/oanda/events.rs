//! The transaction stream: `GET /v3/accounts/{id}/transactions/stream`, an HTTP/1.1
//! chunked body with one JSON object per line — every transaction the account records from
//! then on (order creates, fills, cancels, rejects: [`Feed::publish`] is called by
//! `Account::record`, the one place transactions are made), and a
//! `{"type":"HEARTBEAT","lastTransactionID":…,"time":…}` every `heartbeat_interval`. While a
//! stream is open the book is refreshed every `price_interval`, so a resting limit order the
//! market reaches fills (and its `ORDER_FILL` streams) without waiting for a request. A bad
//! token or an unknown account gets the ordinary JSON error before the body starts.
//!
//! Faults, as on the pricing stream: [`Faults::stream_cut`] aborts the body mid-stream;
//! [`Faults::half_open`] sends nothing (transactions recorded meanwhile are lost to this
//! stream, as on a dead link). [`SimState::inject_transaction_line`] writes any line
//! (garbage, an oversized one) to every open transaction stream.
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio::time::Interval;
use tokio_util::sync::CancellationToken;

use super::stream::ticker;
use super::{wire, SimState};

/// Lines a slow stream may fall behind before it loses some.
const BACKLOG: usize = 1024;

/// One account's transactions as they are recorded, for its open streams.
#[derive(Debug, Clone)]
pub struct Feed(broadcast::Sender<Arc<str>>);

impl Default for Feed {
    fn default() -> Self {
        Self(broadcast::channel(BACKLOG).0)
    }
}

impl Feed {
    /// Sends a transaction to the open streams (none open: dropped).
    pub fn publish(&self, tx: &Value) {
        let _ = self.0.send(Arc::from(tx.to_string()));
    }

    fn send_raw(&self, line: &str) -> usize {
        self.0.send(Arc::from(line)).unwrap_or(0)
    }
}

impl SimState {
    /// Writes `line` (a newline is added), verbatim, on every open transaction stream of
    /// every account (garbage, an oversized line…); returns how many streams get it.
    pub fn inject_transaction_line(&self, line: &str) -> usize {
        self.with_book(|b| b.accounts.values().map(|a| a.feed.send_raw(line)).sum())
    }

    /// Transaction streams open now.
    pub fn transaction_streams(&self) -> usize {
        self.with_book(|b| b.accounts.values().map(|a| a.feed.0.receiver_count()).sum())
    }
}

/// `GET /v3/accounts/{id}/transactions/stream`.
pub async fn stream(State(st): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let Some(rx) = st.with_book(|b| b.accounts.get(&id).map(|a| a.feed.0.subscribe())) else {
        return wire::no_account();
    };
    let pump = Pump {
        cut: st.faults.stream_cut(),
        refresh: ticker(st.price_interval),
        heartbeats: ticker(st.heartbeat_interval),
        st,
        id,
        rx,
        queue: VecDeque::new(),
        ended: false,
    };
    let body = Body::from_stream(futures_util::stream::unfold(pump, Pump::next));
    (
        StatusCode::OK,
        [("content-type", "application/octet-stream")],
        body,
    )
        .into_response()
}

/// Produces the lines of one stream.
struct Pump {
    st: Arc<SimState>,
    id: String,
    rx: broadcast::Receiver<Arc<str>>,
    queue: VecDeque<String>,
    refresh: Interval,
    heartbeats: Interval,
    cut: CancellationToken,
    ended: bool,
}

impl Pump {
    fn heartbeat(&self) -> String {
        let last = self
            .st
            .with_book(|b| b.accounts.get(&self.id).map(|a| a.last_tx()))
            .unwrap_or_default();
        // Written by hand to keep OANDA's field order.
        format!(
            "{{\"type\":\"HEARTBEAT\",\"lastTransactionID\":\"{last}\",\"time\":\"{}\"}}\n",
            wire::now()
        )
    }

    /// The next chunk: one line, or an error that aborts the connection on a cut.
    async fn next(mut self) -> Option<(Result<String, std::io::Error>, Self)> {
        if self.ended {
            return None;
        }
        loop {
            if self.cut.is_cancelled() {
                self.ended = true;
                let err = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "stream cut");
                return Some((Err(err), self));
            }
            let silent = self.st.faults.half_open();
            if let Some(line) = self.queue.pop_front() {
                if !silent {
                    return Some((Ok(line), self));
                }
                continue;
            }
            tokio::select! {
                _ = self.cut.cancelled() => {}
                got = self.rx.recv() => match got {
                    Ok(line) => self.queue.push_back(format!("{line}\n")),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(lost = n, "a slow transaction stream lost lines");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.refresh.tick() => self.st.with_book(|_| ()),
                _ = self.heartbeats.tick() => {
                    if !silent {
                        let line = self.heartbeat();
                        self.queue.push_back(line);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::super::{router, SimState, DEMO_ACCOUNTS, DEMO_TOKEN};
    use crate::{raw_json_request, Faults, SimServer};

    const ACCT: &str = DEMO_ACCOUNTS[0];

    /// Reads `sock` until `want` shows in what was read (2 s at most per read).
    async fn read_until(sock: &mut TcpStream, seen: &mut Vec<u8>, want: &str) {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(seen).contains(want) {
            let n = tokio::time::timeout(Duration::from_secs(2), sock.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {want} in 2 s: {}", String::from_utf8_lossy(seen)))
                .unwrap_or(0);
            assert!(n > 0, "the stream ended: {}", String::from_utf8_lossy(seen));
            seen.extend_from_slice(&buf[..n]);
        }
    }

    #[tokio::test]
    async fn transactions_and_heartbeats_stream_as_lines() {
        let faults = Faults::new();
        let state = SimState::demo(faults.clone())
            .with_intervals(Duration::from_millis(20), Duration::from_millis(50));
        let s = SimServer::start(router(state), faults, 0).await.unwrap();
        let path = format!("/v3/accounts/{ACCT}/transactions/stream");
        let (head, _) = raw_json_request(s.addr(), "GET", &path, "", "").await;
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
        let mut sock = TcpStream::connect(s.addr()).await.unwrap();
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_TOKEN}\r\n\r\n");
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        read_until(
            &mut sock,
            &mut seen,
            r#"{"type":"HEARTBEAT","lastTransactionID":"3","time":""#,
        )
        .await;
        let auth = format!("Authorization: Bearer {DEMO_TOKEN}\r\n");
        let order = r#"{"order":{"type":"MARKET","instrument":"EUR_USD","units":"10","timeInForce":"FOK","positionFill":"DEFAULT","clientExtensions":{"id":"tx-1"}}}"#;
        let orders = format!("/v3/accounts/{ACCT}/orders");
        let (head, _) = raw_json_request(s.addr(), "POST", &orders, &auth, order).await;
        assert!(head.starts_with("HTTP/1.1 201"), "{head}");
        read_until(&mut sock, &mut seen, r#""type":"ORDER_FILL""#).await;
        let text = String::from_utf8_lossy(&seen).to_string();
        for part in [
            r#""type":"MARKET_ORDER""#,
            r#""clientExtensions":{"id":"tx-1"}"#,
            r#""orderID":"4""#,
            r#""clientOrderID":"tx-1""#,
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        read_until(
            &mut sock,
            &mut seen,
            r#"{"type":"HEARTBEAT","lastTransactionID":"5","#,
        )
        .await;
    }
}
