//! `brokerdesk-devserver`: the same API the desktop app's window calls, served over HTTP and
//! WebSocket on 127.0.0.1, backed by a real profile and the real runtime. The browser tests
//! run the UI against it (with the protocol simulators as brokers), and the UI can be
//! developed in a browser with it.
//!
//! ```text
//! brokerdesk-devserver --data-dir DIR [--port N] [--ui DIR] [--test-controls] [--keepalive-ms N]
//! ```
//!
//! - `POST /api/<command>` with the command's arguments as a JSON object runs
//!   [`brokerdesk_core::api::commands::dispatch`] — the very function the app's invoke
//!   handler calls — and answers 200 with the result, or 400 with the `{code, message,
//!   fields}` error (404 for an unknown command).
//! - `GET /events` upgrades to a WebSocket that carries every window event as
//!   `{"event": name, "payload": …}`.
//! - With `--ui DIR`, everything else is served from `DIR` (the UI's build) with the app's
//!   Content-Security-Policy.
//! - With `--test-controls`, `/dev/…` starts protocol simulators in this process and flips
//!   their fault switches, and shows what the app would have notified or copied ([`dev`]).
//! - `--keepalive-ms N` checks order connections every N ms instead of every 30 s, so a test
//!   sees a slower broker's round trip (latency, link quality) within seconds.
//!
//! The first line on stdout is `{"url": "http://127.0.0.1:PORT"}`. It listens on 127.0.0.1
//! only and asks for no credentials: it is a development tool, never to be pointed at a real
//! profile on a shared machine. SIGTERM or Ctrl-C shut it down cleanly.

mod dev;
mod host;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::Brokerdesk;

/// What the command line asks for.
struct Args {
    data_dir: PathBuf,
    port: u16,
    ui: Option<PathBuf>,
    test_controls: bool,
    keepalive: Option<Duration>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut data_dir = None;
    let mut port = 0;
    let mut ui = None;
    let mut test_controls = false;
    let mut keepalive = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => data_dir = it.next().map(PathBuf::from),
            "--port" => {
                port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?
            }
            "--ui" => ui = it.next().map(PathBuf::from),
            "--test-controls" => test_controls = true,
            "--keepalive-ms" => {
                let ms: u64 = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .filter(|ms| *ms > 0)
                    .ok_or("--keepalive-ms needs a number of milliseconds")?;
                keepalive = Some(Duration::from_millis(ms));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        data_dir: data_dir.ok_or("--data-dir DIR is required")?,
        port,
        ui,
        test_controls,
        keepalive,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BROKERDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: brokerdesk-devserver --data-dir DIR [--port N] [--ui DIR] [--test-controls] [--keepalive-ms N]");
            return ExitCode::from(2);
        }
    };
    let keystore = brokerdesk_core::api::default_keystore();
    let core = match Brokerdesk::open_as(&args.data_dir, keystore, "app").await {
        Ok(core) => Arc::new(core),
        Err(e) => {
            eprintln!("cannot open the profile: {e}");
            return ExitCode::from(1);
        }
    };
    let mut options = RuntimeOptions::default();
    if let Some(keepalive) = args.keepalive {
        options.manager.keepalive = keepalive;
    }
    let runtime = Runtime::start(core, options).await;
    let state = server::AppState::new(runtime.clone(), args.ui, args.test_controls);
    let served = server::serve(state, args.port, shutdown_signal()).await;
    runtime.shutdown().await;
    runtime.core().close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the server failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        let ok = parse(&[
            "--data-dir".into(),
            "/tmp/x".into(),
            "--test-controls".into(),
        ]);
        assert!(ok.is_ok_and(|a| a.test_controls && a.port == 0 && a.keepalive.is_none()));
        let fast = parse(&[
            "--data-dir".into(),
            "/tmp/x".into(),
            "--keepalive-ms".into(),
            "500".into(),
        ]);
        assert!(fast.is_ok_and(|a| a.keepalive == Some(Duration::from_millis(500))));
        assert!(parse(&[
            "--data-dir".into(),
            "/tmp/x".into(),
            "--keepalive-ms".into(),
            "0".into()
        ])
        .is_err());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--bogus".into()]).is_err());
    }
}
