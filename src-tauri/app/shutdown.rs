//! Graceful shutdown, from the tray's Quit or from SIGTERM / SIGINT.
//!
//! Closing the window only hides it, and Tauri's exit requests are refused ([`allow_exit`])
//! unless they come from here: the one way out is [`request`], which stops the background
//! work that uses the store or the clipboard (the event forwarder; the runtime — auto-lock,
//! connections, prices; the pending clipboard clear, which clears a copied secret at once),
//! then closes the store (checkpointing SQLite's WAL
//! into the database file) and exits with code 0. A second
//! request while the first is running does nothing, so Quit followed by Ctrl-C cannot close
//! the store twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};

use crate::clipboard::SecretClipboard;
use crate::state::CoreState;
use crate::Forwarder;

/// The longest the store may take to close before the app exits anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a shutdown has started (managed state).
#[derive(Default)]
pub struct Shutdown {
    started: AtomicBool,
}

/// Returns whether Tauri may exit now: only once [`request`] has started the shutdown.
pub fn allow_exit<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<Shutdown>()
        .is_some_and(|s| s.started.load(Ordering::SeqCst))
}

/// Starts the shutdown: stops the background tasks, closes the engine, logs "shutdown
/// complete" and exits with 0.
/// Returns at once; the work runs on the async runtime.
pub fn request<R: Runtime>(app: &AppHandle<R>, reason: &'static str) {
    let Some(flag) = app.try_state::<Shutdown>() else {
        return;
    };
    if flag.started.swap(true, Ordering::SeqCst) {
        tracing::info!(reason, "shutdown already under way");
        return;
    }
    tracing::info!(reason, "shutting down");
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(forwarder) = app.try_state::<Forwarder>() {
            forwarder.cancel.cancel();
            let task = forwarder
                .task
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(task) = task {
                let _ = task.await;
            }
        }
        // Before the store closes: the auto-lock must not check a closed pool, and the
        // connections persist their events there.
        let runtime = app.try_state::<CoreState>().and_then(|s| s.started());
        if let Some(rt) = &runtime {
            rt.shutdown().await;
        }
        // Before exiting: the clipboard plugin lets go of the clipboard on exit.
        if let Some(clipboard) = app.try_state::<SecretClipboard>() {
            clipboard.stop().await;
        }
        if let Some(rt) = runtime {
            if tokio::time::timeout(CLOSE_TIMEOUT, rt.core().close())
                .await
                .is_err()
            {
                tracing::warn!("the store did not close in time; exiting anyway");
            }
        }
        tracing::info!("shutdown complete");
        app.exit(0);
    });
}

/// Turns SIGTERM and SIGINT (Ctrl-C) into a graceful [`request`]. Runs until the first signal.
pub async fn listen_for_signals<R: Runtime>(app: AppHandle<R>) {
    match wait_for_signal().await {
        Ok(name) => request(&app, name),
        Err(e) => tracing::warn!(error = %e, "cannot listen for termination signals"),
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<&'static str> {
    tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
}
