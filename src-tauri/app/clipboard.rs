//! Copying a secret to the OS clipboard, and taking it back off 30 seconds later.
//!
//! [`SecretClipboard`] (managed state) writes with the clipboard plugin's "secret" variant,
//! which asks clipboard managers to keep the text out of their history, then starts one
//! cancellable task that, after [`CLEAR_AFTER`], clears the clipboard *only if it still holds
//! exactly that text* — whatever the user copied since is left alone. A newer copy cancels the
//! older task (the clipboard is the newer copy's now); shutdown makes the pending task clear at
//! once instead of waiting. Writes and clears are serialised by one lock, so a clear can never
//! land between a newer write and the cancelling of the older task.
//!
//! The text is held as a [`Secret`] (zeroized on drop, redacted in `Debug`), the read-back copy
//! too; nothing here logs it. The clipboard is reached through [`ClipboardIo`] so the timing is
//! tested with a fake clipboard and paused time. Its calls block (on Linux they talk to the X
//! server or the Wayland compositor), so they run on the blocking pool, never on the main thread
//! where reading our own selection could deadlock.

use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::{ApiError, Code, Secret};
use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a copied secret stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);
/// The longest shutdown waits for the pending clear.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The OS clipboard (the plugin in the app, a fake in tests). Calls may block.
pub trait ClipboardIo: Clone + Send + Sync + 'static {
    /// Writes text, hinting clipboard managers to keep it out of their history.
    fn write_secret(&self, text: &str) -> Result<(), String>;
    /// Returns the clipboard's text (an error when it holds none).
    fn read_text(&self) -> Result<String, String>;
    fn clear(&self) -> Result<(), String>;
}

impl<R: Runtime> ClipboardIo for AppHandle<R> {
    fn write_secret(&self, text: &str) -> Result<(), String> {
        self.clipboard()
            .write_secret(text)
            .map_err(|e| e.to_string())
    }

    fn read_text(&self) -> Result<String, String> {
        self.clipboard().read_text().map_err(|e| e.to_string())
    }

    fn clear(&self) -> Result<(), String> {
        self.clipboard().clear().map_err(|e| e.to_string())
    }
}

/// What the delayed clear found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearOutcome {
    /// The secret was still there and is gone now.
    Cleared,
    /// The user copied something else since: left alone.
    Changed,
    /// A newer copy took over before the delay ran out.
    Replaced,
    /// The clipboard could not be read or cleared.
    Failed,
}

struct Pending {
    replaced: CancellationToken,
    task: JoinHandle<ClearOutcome>,
}

/// Copies secrets and clears them again (managed state).
pub struct SecretClipboard {
    /// Held across each write and each clear (see the module docs).
    op: Arc<Mutex<()>>,
    pending: std::sync::Mutex<Option<Pending>>,
    shutdown: CancellationToken,
    clear_after: Duration,
}

impl Default for SecretClipboard {
    fn default() -> Self {
        Self::new(CLEAR_AFTER)
    }
}

impl SecretClipboard {
    pub fn new(clear_after: Duration) -> Self {
        Self {
            op: Arc::new(Mutex::new(())),
            pending: std::sync::Mutex::new(None),
            shutdown: CancellationToken::new(),
            clear_after,
        }
    }

    /// Puts `text` on the clipboard and schedules its removal. Must be called on the async
    /// runtime (Tauri's async commands are).
    pub async fn write<C: ClipboardIo>(&self, io: C, text: Secret) -> Result<(), ApiError> {
        if text.is_empty() {
            return Err(ApiError::new(Code::Validation, "there is nothing to copy"));
        }
        if self.shutdown.is_cancelled() {
            return Err(ApiError::new(
                Code::ShuttingDown,
                "Brokerdesk is shutting down",
            ));
        }
        let text = Arc::new(text);
        let _op = self.op.lock().await;
        let written = {
            let (io, text) = (io.clone(), text.clone());
            tokio::task::spawn_blocking(move || io.write_secret(text.expose())).await
        };
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not write to the clipboard");
                return Err(ApiError::new(
                    Code::ClipboardFailed,
                    format!("could not write to the clipboard: {e}"),
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    Code::ClipboardFailed,
                    format!("could not write to the clipboard: {e}"),
                ))
            }
        }
        let replaced = CancellationToken::new();
        let task = tokio::spawn(clear_later(
            io,
            text,
            self.clear_after,
            self.op.clone(),
            replaced.clone(),
            self.shutdown.clone(),
        ));
        let previous = self.lock_pending().replace(Pending { replaced, task });
        if let Some(previous) = previous {
            previous.replaced.cancel();
        }
        tracing::debug!(
            "secret copied to the clipboard; clearing it in {:?}",
            self.clear_after
        );
        Ok(())
    }

    /// Clears a secret still on the clipboard now (shutdown), and refuses further copies.
    pub async fn stop(&self) -> Option<ClearOutcome> {
        self.shutdown.cancel();
        let pending = self.lock_pending().take()?;
        match tokio::time::timeout(STOP_TIMEOUT, pending.task).await {
            Ok(Ok(outcome)) => Some(outcome),
            _ => {
                tracing::warn!("the clipboard was not cleared in time");
                None
            }
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Waits `after` (or for shutdown), then clears the clipboard if it still holds `text`.
async fn clear_later<C: ClipboardIo>(
    io: C,
    text: Arc<Secret>,
    after: Duration,
    op: Arc<Mutex<()>>,
    replaced: CancellationToken,
    shutdown: CancellationToken,
) -> ClearOutcome {
    tokio::select! {
        biased;
        () = replaced.cancelled() => return ClearOutcome::Replaced,
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(after) => {}
    }
    let _op = op.lock().await;
    if replaced.is_cancelled() {
        return ClearOutcome::Replaced;
    }
    let outcome = tokio::task::spawn_blocking(move || clear_if_same(&io, &text))
        .await
        .unwrap_or(ClearOutcome::Failed);
    match outcome {
        ClearOutcome::Cleared => tracing::info!("copied secret cleared from the clipboard"),
        ClearOutcome::Changed => tracing::debug!("the clipboard changed since; left alone"),
        ClearOutcome::Failed | ClearOutcome::Replaced => {}
    }
    outcome
}

fn clear_if_same<C: ClipboardIo>(io: &C, text: &Secret) -> ClearOutcome {
    // Anything but text (an image, nothing at all) is not ours either.
    let Ok(current) = io.read_text().map(Secret::from) else {
        return ClearOutcome::Changed;
    };
    if current != *text {
        return ClearOutcome::Changed;
    }
    match io.clear() {
        Ok(()) => ClearOutcome::Cleared,
        Err(e) => {
            tracing::warn!(error = %e, "could not clear the clipboard");
            ClearOutcome::Failed
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// A clipboard in memory; `fail_reads` makes reads fail as a foreign format would.
    #[derive(Clone, Default)]
    struct Fake {
        text: Arc<std::sync::Mutex<Option<String>>>,
        clears: Arc<std::sync::Mutex<u32>>,
    }

    impl Fake {
        fn get(&self) -> Option<String> {
            self.text.lock().unwrap().clone()
        }
        fn user_copies(&self, text: &str) {
            *self.text.lock().unwrap() = Some(text.to_string());
        }
        fn clears(&self) -> u32 {
            *self.clears.lock().unwrap()
        }
    }

    impl ClipboardIo for Fake {
        fn write_secret(&self, text: &str) -> Result<(), String> {
            self.user_copies(text);
            Ok(())
        }
        fn read_text(&self) -> Result<String, String> {
            self.get()
                .ok_or_else(|| "no text on the clipboard".to_string())
        }
        fn clear(&self) -> Result<(), String> {
            *self.text.lock().unwrap() = None;
            *self.clears.lock().unwrap() += 1;
            Ok(())
        }
    }

    async fn sleep(secs: u64) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }

    fn pending_outcome(c: &SecretClipboard) -> Option<JoinHandle<ClearOutcome>> {
        c.lock_pending().take().map(|p| p.task)
    }

    #[tokio::test(start_paused = true)]
    async fn a_secret_is_cleared_30_seconds_later() {
        let (io, c) = (Fake::default(), SecretClipboard::default());
        c.write(io.clone(), Secret::new("s3cret-api-key"))
            .await
            .unwrap();
        assert_eq!(io.get().as_deref(), Some("s3cret-api-key"));
        sleep(29).await;
        assert_eq!(io.get().as_deref(), Some("s3cret-api-key"));
        sleep(2).await;
        assert_eq!(io.get(), None);
        assert_eq!(io.clears(), 1);
        let outcome = pending_outcome(&c).unwrap().await.unwrap();
        assert_eq!(outcome, ClearOutcome::Cleared);
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_user_copied_since_is_left_alone() {
        let (io, c) = (Fake::default(), SecretClipboard::default());
        c.write(io.clone(), Secret::new("s3cret-api-key"))
            .await
            .unwrap();
        sleep(10).await;
        io.user_copies("a line of their notes");
        sleep(30).await;
        assert_eq!(io.get().as_deref(), Some("a line of their notes"));
        assert_eq!(io.clears(), 0);
        let outcome = pending_outcome(&c).unwrap().await.unwrap();
        assert_eq!(outcome, ClearOutcome::Changed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_newer_copy_takes_over_the_countdown() {
        let (io, c) = (Fake::default(), SecretClipboard::default());
        c.write(io.clone(), Secret::new("first-secret"))
            .await
            .unwrap();
        let first = c.lock_pending().as_ref().unwrap().replaced.clone();
        sleep(20).await;
        c.write(io.clone(), Secret::new("second-secret"))
            .await
            .unwrap();
        assert!(first.is_cancelled());
        sleep(15).await; // 35 s after the first copy, 15 s after the second
        assert_eq!(io.get().as_deref(), Some("second-secret"));
        sleep(16).await;
        assert_eq!(io.get(), None);
        assert_eq!(io.clears(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_clears_at_once_and_refuses_further_copies() {
        let (io, c) = (Fake::default(), SecretClipboard::default());
        c.write(io.clone(), Secret::new("s3cret-api-key"))
            .await
            .unwrap();
        sleep(5).await;
        let started = tokio::time::Instant::now();
        assert_eq!(c.stop().await, Some(ClearOutcome::Cleared));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(io.get(), None);
        let err = c.write(io.clone(), Secret::new("late")).await.unwrap_err();
        assert_eq!(err.code, Code::ShuttingDown);
        assert_eq!(io.get(), None);
        // Nothing pending: a second stop has nothing to do.
        assert_eq!(c.stop().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_clipboard_without_text_is_not_ours_and_empty_text_is_refused() {
        let (io, c) = (Fake::default(), SecretClipboard::default());
        c.write(io.clone(), Secret::new("s3cret-api-key"))
            .await
            .unwrap();
        *io.text.lock().unwrap() = None; // e.g. an image copied since
        sleep(31).await;
        assert_eq!(io.clears(), 0);
        let err = c.write(io.clone(), Secret::new("")).await.unwrap_err();
        assert_eq!(err.code, Code::Validation);
    }
}
