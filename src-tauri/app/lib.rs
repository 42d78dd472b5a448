//! Brokerdesk's Tauri shell: commands, events, tray, notifications and the app's lifecycle.
//! It holds no business logic; everything goes to [`brokerdesk_core::Brokerdesk`].
//!
//! Lifecycle: the window (`main`, from `tauri.conf.json`) and the tray appear at once while the
//! profile opens in the background ([`state::CoreState`]). Closing the window hides it; the app
//! lives in the tray until Quit or SIGTERM/SIGINT, which close the store and exit 0
//! ([`shutdown`]). If the profile cannot be opened the app still starts, and every command
//! returns that error so the UI can explain it.
//!
//! Background work has owners in managed state: [`autolock::AutoLock`] (locks an idle vault),
//! [`clipboard::SecretClipboard`] (clears copied secrets) and [`connections::Connections`]
//! (the live broker connections); shutdown stops them before the store closes.

use std::path::PathBuf;

use brokerdesk_core::ApiError;
use tauri::{AppHandle, Builder, Manager, RunEvent, Runtime, Window, WindowEvent};

pub mod alerts;
pub mod autolock;
pub mod clipboard;
pub mod commands;
pub mod connections;
pub mod events;
pub mod export;
pub mod harden;
pub mod notify;
pub mod prices;
pub mod shutdown;
pub mod state;
pub mod tray;

use autolock::{AutoLock, CoreLock};
use clipboard::SecretClipboard;
use connections::Connections;
use state::{app_error, CoreState};
use tray::Tray;

/// The label of the one window (defined in `tauri.conf.json`).
pub const MAIN_WINDOW: &str = "main";

/// Runs the desktop app; returns only by exiting the process.
pub fn run() {
    let hardened = harden::process();
    let data_dir = brokerdesk_core::paths::resolve_data_dir(None).ok_or_else(|| {
        app_error(
            "no_data_dir",
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

    match app_builder(Builder::default(), data_dir).build(tauri::generate_context!()) {
        Ok(app) => app.run(on_run_event),
        Err(e) => {
            tracing::error!(error = %e, "the app could not start");
            std::process::exit(1);
        }
    }
}

/// Wires the shell onto a builder: plugins, state, commands, window and lifecycle handlers.
/// Generic over the runtime so tests can pass `tauri::test::mock_builder()`.
pub fn app_builder<R: Runtime>(
    builder: Builder<R>,
    data_dir: Result<PathBuf, ApiError>,
) -> Builder<R> {
    builder
        // First: a second launch (e.g. from the desktop menu when no tray host shows our icon)
        // brings the running window back instead of starting another instance on the same data.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_main_window(app)
        }))
        .plugin(tauri_plugin_notification::init())
        // Used from Rust only (`clipboard_write_secret`); the webview has no clipboard permission.
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(CoreState::new(data_dir))
        .manage(AutoLock::new())
        .manage(SecretClipboard::default())
        .manage(Connections::default())
        .manage(prices::Prices::default())
        .manage(shutdown::Shutdown::default())
        .invoke_handler(tauri::generate_handler![
            commands::vault_status,
            commands::vault_init,
            commands::vault_unlock,
            commands::vault_lock,
            commands::vault_change_password,
            commands::vault_rotate_key,
            commands::broker_catalog,
            commands::prop_firm_presets,
            commands::accounts_list,
            commands::account_get,
            commands::account_add,
            commands::account_update,
            commands::account_remove,
            commands::notify_test,
            commands::app_activity,
            commands::twofa_status,
            commands::twofa_setup,
            commands::twofa_enable,
            commands::twofa_verify,
            commands::twofa_disable,
            commands::twofa_regenerate_backup_codes,
            commands::audit_list,
            commands::audit_verify,
            commands::audit_export_csv,
            commands::settings_get,
            commands::settings_update,
            commands::credentials_purge,
            commands::clipboard_write_secret,
            commands::connections_snapshot,
            commands::connection_reconnect,
            commands::connections_reconnect_all,
            commands::account_check,
            commands::account_verify,
            commands::broker_accounts,
            commands::watchlist_set,
            commands::instruments_search,
            commands::prices_snapshot,
        ])
        .on_window_event(on_window_event)
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
}

fn setup<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    // A machine without a tray host still gets a window; only the tray is missing.
    let reconnect_all = |app: &AppHandle<R>| app.state::<Connections>().reconnect_all();
    match Tray::build(app, lock_from_tray, reconnect_all, |app| {
        shutdown::request(app, "tray Quit")
    }) {
        Ok(tray) => {
            app.manage(tray);
        }
        Err(e) => tracing::warn!(error = %e, "no tray icon"),
    }
    tauri::async_runtime::spawn(shutdown::listen_for_signals(app.clone()));
    start_auto_lock(app);

    // Open the profile now rather than on the UI's first call, and bring the tray up to date.
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<CoreState>();
        if let Ok(core) = state.core().await {
            match core.status().await {
                Ok(status) => {
                    if let Some(tray) = app.try_state::<Tray<R>>() {
                        tray.set_vault(&status);
                    }
                    // A keychain vault unlocked itself: connect the accounts now.
                    if status.initialized && !status.locked {
                        app.state::<Connections>().sync_all(&app, &core).await;
                    }
                }
                Err(e) => tracing::warn!(code = %e.code, "could not read the vault state"),
            }
        }
    });
    Ok(())
}

/// Starts the auto-lock loop over the profile (once it is open); each auto-lock is told to the
/// UI and the tray like any other lock.
fn start_auto_lock<R: Runtime>(app: &AppHandle<R>) {
    let (for_core, for_events) = (app.clone(), app.clone());
    let target = CoreLock::new(
        move || for_core.state::<CoreState>().opened(),
        move |status: &brokerdesk_core::VaultStatus| events::vault_changed(&for_events, status),
    );
    app.state::<AutoLock>().start(target);
}

/// The tray's "Lock": locks the vault, then the UI (told by `vault-status`) shows its unlock
/// screen.
fn lock_from_tray<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let result = match app.state::<CoreState>().core().await {
            Ok(core) => core.lock().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(status) => {
                tracing::info!("vault locked from the tray");
                events::vault_changed(&app, &status);
            }
            Err(e) => tracing::warn!(code = %e.code, error = %e.message, "tray Lock failed"),
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
