//! Local simulators that speak each broker's real wire protocol (REST, WebSocket, HTTP
//! chunked streams) on 127.0.0.1, with fault injection, for tests, benchmarks and demo mode.
//!
//! Every simulator is an axum router mounted on a [`SimServer`], which binds `127.0.0.1:0`
//! (or a given port), applies the shared [`Faults`] before the broker's own handlers, and
//! shuts down when its handle is dropped or [`SimServer::shutdown`] is called. A server may
//! speak HTTPS ([`SimServer::start_tls`]) with a self-signed [`SimCert`] generated at start,
//! as IBKR's Client Portal gateway does. Tests flip
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

/// A self-signed certificate for `localhost` and `127.0.0.1` with its key, generated at
/// start (what IBKR's gateway serves: no trust store knows it). Every call makes a new one.
pub struct SimCert {
    der: Vec<u8>,
    key_der: Vec<u8>,
}

impl SimCert {
    pub fn generate() -> io::Result<Self> {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let made = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
        Ok(Self {
            der: made.cert.der().to_vec(),
            key_der: made.signing_key.serialize_der(),
        })
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Its SHA-256 fingerprint as `AA:BB:…` (what a client pins).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    fn acceptor(&self) -> io::Result<tokio_rustls::TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let cert = rustls::pki_types::CertificateDer::from(self.der.clone());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(io::Error::other)?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// TLS handshakes a [`SimServer::start_tls`] server completed and failed (a client that
/// refuses the certificate fails it).
#[derive(Debug, Default)]
pub struct TlsStats {
    pub completed: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// A running simulator.
pub struct SimServer {
    addr: SocketAddr,
    faults: Arc<Faults>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Set when the server speaks HTTPS.
    tls: Option<Arc<TlsStats>>,
    /// The certificate a TLS server presents now, and its open connections.
    tls_cert: Option<Arc<std::sync::Mutex<TlsServing>>>,
}

/// What a TLS server presents to new clients, and the connections made with it (so a new
/// certificate can end them: a gateway restarted with a new certificate).
struct TlsServing {
    acceptor: tokio_rustls::TlsAcceptor,
    open: Vec<faults::WeakConnCut>,
}

impl SimServer {
    /// Serves `router` on 127.0.0.1:`port` (0 = any free port) with fault injection.
    pub async fn start(router: Router, faults: Arc<Faults>, port: u16) -> std::io::Result<Self> {
        Self::serve(router, faults, port, None).await
    }

    /// Like [`SimServer::start`], speaking HTTPS (and WSS) with `cert`. A handshake that
    /// fails (a client refusing the certificate) reaches no handler and counts in
    /// [`SimServer::tls_stats`].
    pub async fn start_tls(
        router: Router,
        faults: Arc<Faults>,
        port: u16,
        cert: &SimCert,
    ) -> std::io::Result<Self> {
        Self::serve(router, faults, port, Some(cert.acceptor()?)).await
    }

    async fn serve(
        router: Router,
        faults: Arc<Faults>,
        port: u16,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let cancel = CancellationToken::new();
        let stats = tls.as_ref().map(|_| Arc::new(TlsStats::default()));
        let serving = tls.map(|acceptor| {
            Arc::new(std::sync::Mutex::new(TlsServing {
                acceptor,
                open: Vec::new(),
            }))
        });
        let listener = match (&serving, &stats) {
            (Some(serving), Some(stats)) => {
                CutListener::tls(listener, serving.clone(), stats.clone(), cancel.clone())
            }
            _ => CutListener::Plain(listener),
        };
        let app = router
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                faults::middleware,
            ))
            .into_make_service_with_connect_info::<ConnCut>();
        let token = cancel.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
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
            tls: stats,
            tls_cert: serving,
        })
    }

    /// Presents `cert` from now on, on the same port, and ends every connection made with
    /// the old one (streams too): a gateway restarted with a new certificate, without giving
    /// its port up for someone else to take in between.
    pub fn replace_certificate(&self, cert: &SimCert) -> std::io::Result<()> {
        let serving = self
            .tls_cert
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a TLS simulator"))?;
        let acceptor = cert.acceptor()?;
        let mut serving = serving.lock().unwrap_or_else(|e| e.into_inner());
        serving.acceptor = acceptor;
        for conn in serving.open.drain(..) {
            conn.cut();
        }
        drop(serving);
        self.faults.cut_streams();
        Ok(())
    }

    /// Returns `http://127.0.0.1:PORT` (`https://` for a TLS server).
    pub fn url(&self) -> String {
        let s = if self.tls.is_some() { "s" } else { "" };
        format!("http{s}://{}", self.addr)
    }

    /// Returns `ws://127.0.0.1:PORT` (`wss://` for a TLS server).
    pub fn ws_url(&self) -> String {
        let s = if self.tls.is_some() { "s" } else { "" };
        format!("ws{s}://{}", self.addr)
    }

    /// The handshake counts of a TLS server (`None` for plain HTTP).
    pub fn tls_stats(&self) -> Option<&TlsStats> {
        self.tls.as_deref()
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

/// Accepts TCP connections that a handler can cut ([`ConnCut`]), plain or after a TLS
/// handshake (made by a task of its own, so a slow or failing client holds up nobody).
enum CutListener {
    Plain(TcpListener),
    Tls {
        ready: tokio::sync::mpsc::Receiver<(CuttableStream, SocketAddr)>,
        addr: SocketAddr,
    },
}

/// How long a client may take over its TLS handshake.
const TLS_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(5);

impl CutListener {
    fn tls(
        listener: TcpListener,
        serving: Arc<std::sync::Mutex<TlsServing>>,
        stats: Arc<TlsStats>,
        cancel: CancellationToken,
    ) -> Self {
        use std::sync::atomic::Ordering;
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| ([127, 0, 0, 1], 0).into());
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = cancel.cancelled() => break,
                    a = listener.accept() => a,
                };
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = serving
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .acceptor
                    .clone();
                let (serving, stats, tx) = (serving.clone(), stats.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            stats.completed.fetch_add(1, Ordering::SeqCst);
                            let cut = ConnCut::default();
                            {
                                let mut serving = serving.lock().unwrap_or_else(|e| e.into_inner());
                                serving.open.retain(faults::WeakConnCut::is_open);
                                serving.open.push(cut.weak());
                            }
                            let io = CuttableStream {
                                io: Io::Tls(Box::new(tls)),
                                cut,
                            };
                            let _ = tx.send((io, peer)).await;
                        }
                        Ok(Err(e)) => {
                            stats.failed.fetch_add(1, Ordering::SeqCst);
                            tracing::debug!(error = %e, "TLS handshake failed");
                        }
                        Err(_) => {
                            stats.failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        CutListener::Tls { ready, addr }
    }
}

impl axum::serve::Listener for CutListener {
    type Io = CuttableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self {
            CutListener::Plain(listener) => loop {
                match TcpListener::accept(listener).await {
                    Ok((stream, addr)) => {
                        let _ = stream.set_nodelay(true);
                        let io = CuttableStream {
                            io: Io::Plain(stream),
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
            },
            CutListener::Tls { ready, .. } => match ready.recv().await {
                Some(accepted) => accepted,
                // The handshake task ended (shutdown): wait for the graceful shutdown.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match self {
            CutListener::Plain(l) => l.local_addr(),
            CutListener::Tls { addr, .. } => Ok(*addr),
        }
    }
}

impl Connected<IncomingStream<'_, CutListener>> for ConnCut {
    fn connect_info(stream: IncomingStream<'_, CutListener>) -> Self {
        stream.io().cut.clone()
    }
}

/// The transport under a connection: plain TCP, or TLS over it.
enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(s) => s,
            Io::Tls(s) => s.get_ref().0,
        }
    }
}

/// A stream that fails every read and write once cut, and then closes with a reset.
struct CuttableStream {
    io: Io,
    cut: ConnCut,
}

impl CuttableStream {
    /// The error of a cut connection (and the reset it closes with).
    fn check(&self) -> io::Result<()> {
        if !self.cut.is_cut() {
            return Ok(());
        }
        let _ = self.io.tcp().set_zero_linger();
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection cut by the simulator",
        ))
    }
}

/// Calls `$method` on whichever transport the stream has.
macro_rules! on_io {
    ($self:ident, $s:ident => $call:expr) => {
        match &mut $self.io {
            Io::Plain($s) => {
                let $s = Pin::new($s);
                $call
            }
            Io::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $call
            }
        }
    };
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        on_io!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        on_io!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        on_io!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        on_io!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        on_io!(self, s => s.poll_shutdown(cx))
    }
}
