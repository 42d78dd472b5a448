//! Local simulators that speak each broker's real wire protocol (REST, WebSocket, HTTP
//! chunked streams) on 127.0.0.1, with fault injection, for tests, benchmarks and demo mode.
//!
//! Every simulator is an axum router mounted on a [`SimServer`], which binds `127.0.0.1:0`
//! (or a given port), applies the shared [`Faults`] before the broker's own handlers, and
//! shuts down when its handle is dropped or [`SimServer::shutdown`] is called. Tests flip
//! fault switches through [`SimServer::faults`] while clients are connected.
//!
//! Every connection can be dropped on purpose by the handler serving it: each request
//! carries a `ConnectInfo<`[`faults::ConnCut`]`>`, and once it is cut the connection fails its
//! reads and writes (so the answer is never written) and closes with a reset. That is how
//! [`faults::OrderFault::AcceptThenCut`] accepts an order and never answers.

pub mod alpaca;
pub mod faults;
pub mod ibkr;
pub mod oanda;
pub mod tastytrade;
pub mod tradier;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use faults::ConnCut;
pub use faults::{Fault, Faults, OrderFault, OrderStats, RandomOrderFaults};

/// Locks a mutex, recovering the data if a panicking holder poisoned it (a simulator must
/// keep serving the other tests' requests).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A raw HTTP/1.1 exchange for the simulators' own tests: one JSON request with the given
/// extra header lines (each ending in `\r\n`) on a fresh connection, and the answer's head
/// and body as they came off the socket.
#[cfg(test)]
pub(crate) async fn raw_json_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

/// A running simulator.
pub struct SimServer {
    addr: SocketAddr,
    faults: Arc<Faults>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Serves `router` on 127.0.0.1:`port` (0 = any free port) with fault injection.
    pub async fn start(router: Router, faults: Arc<Faults>, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let cancel = CancellationToken::new();
        let app = router
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                faults::middleware,
            ))
            .into_make_service_with_connect_info::<ConnCut>();
        let token = cancel.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(CutListener(listener), app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "simulator stopped");
            }
        });
        Ok(Self {
            addr,
            faults,
            cancel,
            task: Some(task),
        })
    }

    /// Returns `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Returns `ws://127.0.0.1:PORT`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fault switches of this simulator.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Stops serving (open streams are cut) and waits for the server task.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        self.faults.cut_streams();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.faults.cut_streams();
    }
}

/// Accepts TCP connections that a handler can cut ([`ConnCut`]).
struct CutListener(TcpListener);

impl axum::serve::Listener for CutListener {
    type Io = CuttableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = CuttableStream {
                        stream,
                        cut: ConnCut::default(),
                    };
                    return (io, addr);
                }
                // Out of file descriptors and the like: wait a little, as axum does.
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, CutListener>> for ConnCut {
    fn connect_info(stream: IncomingStream<'_, CutListener>) -> Self {
        stream.io().cut.clone()
    }
}

/// A TCP stream that fails every read and write once cut, and then closes with a reset.
struct CuttableStream {
    stream: TcpStream,
    cut: ConnCut,
}

impl CuttableStream {
    /// The error of a cut connection (and the reset it closes with).
    fn check(&self) -> io::Result<()> {
        if !self.cut.is_cut() {
            return Ok(());
        }
        let _ = self.stream.set_zero_linger();
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection cut by the simulator",
        ))
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
