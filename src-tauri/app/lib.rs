//! Brokerdesk's Tauri shell: commands, events, tray, notifications and the app's lifecycle.
//! It holds no business logic; everything goes to [`brokerdesk_core::Brokerdesk`].
//!
//! Lifecycle: the window (`main`, from `tauri.conf.json`, created hidden and shown in
//! [`setup`] unless the app was started hidden: [`autostart::HIDDEN_ARG`], what the
//! start-at-login entry passes) and the tray appear at once while the profile opens in the
//! background ([`state::CoreState`]). Closing the window hides it; the app
//! lives in the tray until Quit or SIGTERM/SIGINT, which close the store and exit 0
//! ([`shutdown`]). If the profile cannot be opened the app still starts, and every command
//! returns that error so the UI can explain it.
//!
//! Everything that runs lives in the core's [`brokerdesk_core::runtime::Runtime`] (connections,
//! prices, auto-lock, the change watcher), started when the profile opens ([`state`]). The shell
//! registers the core's commands by name ([`invoke`]), forwards the runtime's events to the
//! window, the tray and notifications ([`forward`]), and owns only what is the desktop's: the
//! tray, the clipboard ([`clipboard::SecretClipboard`]), starting at login ([`autostart`]) and
//! the lifecycle ([`shutdown`]).

use std::path::PathBuf;
use std::sync::Arc;

use brokerdesk_core::api::commands;
use brokerdesk_core::{ApiError, Code};
use tauri::ipc::{Invoke, InvokeBody, InvokeError};
use tauri::{AppHandle, Builder, Manager, RunEvent, Runtime, Window, WindowEvent};
use tokio_util::sync::CancellationToken;

pub mod autostart;
pub mod clipboard;
pub mod forward;
pub mod harden;
pub mod host;
pub mod navigation;
pub mod notify;
pub mod shutdown;
pub mod state;
pub mod tray;

use clipboard::SecretClipboard;
use host::AppHost;
use state::CoreState;
use tray::Tray;

/// The label of the one window (defined in `tauri.conf.json`).
pub const MAIN_WINDOW: &str = "main";

/// Stops the event forwarder at shutdown (managed state).
#[derive(Default)]
pub struct Forwarder {
    pub cancel: CancellationToken,
    pub task: std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

/// Runs the desktop app; returns only by exiting the process.
pub fn run() {
    let hardened = harden::process();
    let data_dir = brokerdesk_core::paths::resolve_data_dir(None).ok_or_else(|| {
        ApiError::new(
            Code::NoDataDir,
            "no data directory: set BROKERDESK_DATA_DIR or HOME",
        )
    });
    init_logging(data_dir.as_ref().ok());
    log_panics();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = ?data_dir.as_ref().ok(),
        "brokerdesk-app starting");
    if let Err(e) = hardened {
        tracing::warn!(error = %e, "could not mark the process non-dumpable");
    }

    // args_os: `args` would panic on an argument that is not UTF-8.
    let hidden =
        autostart::start_hidden(std::env::args_os().map(|a| a.to_string_lossy().into_owned()));
    if hidden {
        tracing::info!("starting hidden in the tray");
    }
    match app_builder(Builder::default(), data_dir, hidden).build(tauri::generate_context!()) {
        Ok(app) => app.run(on_run_event),
        Err(e) => {
            tracing::error!(error = %e, "the app could not start");
            std::process::exit(1);
        }
    }
}

/// Wires the shell onto a builder: plugins, state, the command handler, window and lifecycle
/// handlers. Generic over the runtime so tests can pass `tauri::test::mock_builder()`.
/// `hidden`: keep the window hidden at start (the app lives in the tray until shown).
pub fn app_builder<R: Runtime>(
    builder: Builder<R>,
    data_dir: Result<PathBuf, ApiError>,
    hidden: bool,
) -> Builder<R> {
    builder
        // First: a second launch (e.g. from the desktop menu when no tray host shows our icon)
        // brings the running window back instead of starting another instance on the same data.
        // A second start at login (`--hidden`) leaves the running one as it is.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if !autostart::start_hidden(&args) {
                tray::show_main_window(app)
            }
        }))
        // Start at login: used from Rust only (the core's `autostart_set`, audited); the
        // window has no permission for the plugin's own commands.
        .plugin(autostart::plugin())
        .plugin(tauri_plugin_notification::init())
        // Used from Rust only (the `clipboard_copy` command copies text the core makes); the
        // webview has no clipboard permission.
        .plugin(tauri_plugin_clipboard_manager::init())
        // Used from Rust only: web links open in the browser, never in the window.
        .plugin(tauri_plugin_opener::init())
        .plugin(navigation::guard())
        .manage(CoreState::new(data_dir))
        .manage(SecretClipboard::default())
        .manage(Forwarder::default())
        .manage(shutdown::Shutdown::default())
        .invoke_handler(invoke)
        .on_window_event(on_window_event)
        .setup(move |app| {
            setup(app.handle(), hidden)?;
            Ok(())
        })
}

/// Every command of the core's IPC contract ([`commands::COMMANDS`]), by name: the JSON
/// arguments go to [`commands::dispatch`], its `{code, message, fields}` errors back to the
/// window as they are. Returns false (Tauri answers "command not found") for anything else.
fn invoke<R: Runtime>(invoke: Invoke<R>) -> bool {
    let name = invoke.message.command().to_string();
    if !commands::COMMANDS.contains(&name.as_str()) {
        return false;
    }
    let args = match invoke.message.payload() {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(_) => serde_json::Value::Null,
    };
    let app = invoke.message.webview().app_handle().clone();
    invoke.resolver.respond_async(async move {
        let result = async {
            let rt = app.state::<CoreState>().runtime().await?;
            let host = AppHost::new(app.clone());
            let cx = commands::Ctx {
                runtime: &rt,
                host: &host,
            };
            commands::dispatch(&cx, &name, args).await
        }
        .await;
        result.map_err(|e| InvokeError(serde_json::to_value(&e).unwrap_or_default()))
    });
    true
}

fn setup<R: Runtime>(app: &AppHandle<R>, hidden: bool) -> tauri::Result<()> {
    // A machine without a tray host still gets a window; only the tray is missing.
    let reconnect_all = |app: &AppHandle<R>| {
        if let Some(rt) = app.state::<CoreState>().started() {
            rt.reconnect_all();
        }
    };
    match Tray::build(
        app,
        lock_from_tray,
        reconnect_all,
        kill_switch_from_tray,
        |app| shutdown::request(app, "tray Quit"),
    ) {
        Ok(tray) => {
            app.manage(tray);
            // The window is created hidden (`tauri.conf.json`): shown now unless the app
            // starts hidden in the tray.
            if !hidden {
                tray::show_main_window(app);
            }
        }
        Err(e) => {
            // Without a tray a hidden window could never be opened: show it anyway.
            tracing::warn!(error = %e, "no tray icon");
            tray::show_main_window(app);
        }
    }
    tauri::async_runtime::spawn(shutdown::listen_for_signals(app.clone()));

    // Forward the runtime's events to the window, the tray and notifications as soon as it
    // starts; then open the profile now rather than on the UI's first call.
    let for_forwarder = app.clone();
    app.state::<CoreState>()
        .on_started(move |rt: Arc<brokerdesk_core::runtime::Runtime>| {
            let forwarder = for_forwarder.state::<Forwarder>();
            let task = tauri::async_runtime::spawn(forward::run(
                for_forwarder.clone(),
                rt,
                forwarder.cancel.clone(),
            ));
            *forwarder.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = app.state::<CoreState>().runtime().await {
            tracing::warn!(code = %e.code, "the profile did not open at start");
        }
    });
    Ok(())
}

/// The tray's "Lock": locks the vault; the runtime then tells the UI (its unlock screen) and
/// the tray.
fn lock_from_tray<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let result = match app.state::<CoreState>().core().await {
            Ok(core) => core.lock().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(_) => tracing::info!("vault locked from the tray"),
            Err(e) => tracing::warn!(code = %e.code, error = %e.message, "tray Lock failed"),
        }
    });
}

/// The tray's "Kill switch — stop all trading": the runtime's kill switch, without flattening
/// (closing live positions is the window's explicit second choice). It needs no window: the
/// runtime stops everything and notifies the outcome itself (through the forwarder); only a
/// kill switch that could not run at all (no profile, a locked vault) is notified here.
fn kill_switch_from_tray<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tracing::warn!("kill switch from the tray");
        let result = match app.state::<CoreState>().runtime().await {
            Ok(rt) => rt.kill_switch(false).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(report) => tracing::warn!(
                accounts = report.accounts.len(),
                failures = report.failures,
                elapsed_ms = report.elapsed_ms,
                "tray kill switch done"
            ),
            Err(e) => {
                tracing::error!(code = %e.code, error = %e.message, "tray kill switch could not run");
                let notice = brokerdesk_core::runtime::Notice::new(
                    "Brokerdesk — kill switch",
                    tray::kill_switch_failed_body(&e),
                );
                // Best effort: a failed notification is logged by the notifier.
                let _ = notify::Notifier::new(app.clone()).send(&notice);
            }
        }
    });
}

/// Closing the window hides it to the tray; the app keeps running.
fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == MAIN_WINDOW && !shutdown::allow_exit(window.app_handle()) {
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!(error = %e, "could not hide the window");
            }
        }
    }
}

/// Refuses every exit that does not come from [`shutdown::request`]. A programmatic exit
/// (`AppHandle::exit` from elsewhere) is turned into a graceful shutdown; an exit because the
/// last window went away is ignored (the app lives in the tray).
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::ExitRequested { api, code, .. } = event {
        if !shutdown::allow_exit(app) {
            api.prevent_exit();
            if code.is_some() {
                shutdown::request(app, "exit requested");
            }
        }
    }
}

/// Sends panics to the log file too: a desktop app's stderr is seen by nobody.
fn log_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        default_hook(info);
    }));
}

fn init_logging(data_dir: Option<&PathBuf>) {
    let result = match data_dir {
        Some(dir) => brokerdesk_core::logging::init(dir, true),
        None => tracing_subscriber::fmt()
            .try_init()
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = result {
        eprintln!("brokerdesk-app: logging: {e}");
    }
}
