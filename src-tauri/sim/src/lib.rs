//! Local simulators that speak each broker's real wire protocol (REST, WebSocket, HTTP
//! chunked streams) on 127.0.0.1, with fault injection, for tests, benchmarks and demo mode.
//!
//! Every simulator is an axum router mounted on a [`SimServer`], which binds `127.0.0.1:0`
//! (or a given port), applies the shared [`Faults`] before the broker's own handlers, and
//! shuts down when its handle is dropped or [`SimServer::shutdown`] is called. Tests flip
//! fault switches through [`SimServer::faults`] while clients are connected.

pub mod alpaca;
pub mod faults;
pub mod ibkr;
pub mod oanda;
pub mod tastytrade;
pub mod tradier;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use faults::{Fault, Faults};

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
        let app = router.layer(axum::middleware::from_fn_with_state(
            faults.clone(),
            faults::middleware,
        ));
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
