//! `brokerdesk watch`: the desktop app's runtime in a terminal. It connects every account,
//! follows changes made to the profile (by this or any other process), and prints every
//! window event as one JSON line on stdout until --count, --seconds or Ctrl-C.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::runtime::{Runtime, RuntimeEvent, RuntimeOptions};
use brokerdesk_core::{ApiError, Brokerdesk, Code};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::Ctx;
use crate::args::WatchArgs;
use crate::errors::error;

pub async fn watch(bd: &Arc<Brokerdesk>, ctx: &mut Ctx, a: WatchArgs) -> Result<(), ApiError> {
    if let Some(s) = a.seconds {
        if !(s.is_finite() && s > 0.0) {
            return Err(error(Code::Usage, "--seconds must be a positive number"));
        }
    }
    ctx.unlock(bd).await?;
    let rt = Runtime::start(
        bd.clone(),
        RuntimeOptions {
            auto_lock: false,
            backup_every: None,
            risk_watch: true,
            ..RuntimeOptions::default()
        },
    )
    .await;
    let mut rx = rt.subscribe();
    let deadline = a
        .seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s.min(1e9)));
    let limit = a.count.unwrap_or(u64::MAX);
    let mut printed = 0u64;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let result = loop {
        if printed >= limit {
            break Ok(());
        }
        let until_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            _ = &mut interrupted => break Ok(()),
            () = until_deadline => break Ok(()),
            e = rx.recv() => e,
        };
        match event {
            Ok(RuntimeEvent::Ui(e)) => {
                let line = serde_json::json!({ "event": e.name(), "payload": e.payload() });
                let mut out = std::io::stdout().lock();
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    // The reader went away (`| head`): that is the end, not an error.
                    break Ok(());
                }
                printed += 1;
            }
            Ok(RuntimeEvent::Notify(n)) => {
                eprintln!(
                    "{}",
                    serde_json::json!({ "notification": { "title": n.title, "body": n.body } })
                );
            }
            Err(RecvError::Lagged(n)) => eprintln!("{}", serde_json::json!({ "skipped": n })),
            Err(RecvError::Closed) => break Ok(()),
        }
    };
    rt.shutdown().await;
    result
}
