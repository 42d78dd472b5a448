//! The tray icon: one glance tells whether every connection is up.
//!
//! [`TrayState`] is the only thing callers set; it picks the icon and the tooltip. The menu's
//! "Lock" item follows the vault: it is enabled only while the vault is unlocked *and*
//! protected by a master password (a keychain-only vault cannot be locked, since nothing could
//! unlock it again but the keychain itself).
//!
//! "Kill switch — stop all trading" is always there, just above "Quit": it runs the runtime's
//! kill switch without flattening (closing live positions is the window's explicit second
//! choice), whether the window is shown or not.
//!
//! On Linux the tray is an AppIndicator: it reports no clicks (the menu is the only way in)
//! and shows no tooltip; both work on Windows and macOS.

use brokerdesk_core::{ApiError, Code, VaultStatus};
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

const TRAY_ID: &str = "main";
const MENU_SHOW: &str = "show";
const MENU_LOCK: &str = "lock";
const MENU_QUIT: &str = "quit";
const MENU_KILL_SWITCH: &str = "kill_switch";
/// The kill switch's menu label.
pub const KILL_SWITCH_LABEL: &str = "Kill switch — stop all trading";
const MENU_RECONNECT_ALL: &str = "reconnect_all";
const MENU_ACCOUNT_PREFIX: &str = "account:";
const MENU_TRADING_PREFIX: &str = "trading:";

/// What the tray shows: the worst state across all connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    /// No account is connected or trying to (also the state at start).
    Idle,
    /// Every connection is up.
    Connected { count: usize },
    /// At least one connection is retrying.
    Reconnecting { count: usize },
    /// At least one connection is down for good (e.g. an auth failure).
    Disconnected { count: usize },
}

impl TrayState {
    /// Returns the PNG of this state's icon.
    pub fn icon_png(self) -> &'static [u8] {
        match self {
            TrayState::Idle => include_bytes!("../../icons/tray-idle.png"),
            TrayState::Connected { .. } => include_bytes!("../../icons/tray-connected.png"),
            TrayState::Reconnecting { .. } => include_bytes!("../../icons/tray-reconnecting.png"),
            TrayState::Disconnected { .. } => include_bytes!("../../icons/tray-disconnected.png"),
        }
    }

    /// Returns the tooltip of this state.
    pub fn tooltip(self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        match self {
            TrayState::Idle => "Brokerdesk — no connections yet".to_string(),
            TrayState::Connected { count } => {
                format!("Brokerdesk — {count} connection{} up", plural(count))
            }
            TrayState::Reconnecting { count } => {
                format!(
                    "Brokerdesk — reconnecting {count} connection{}",
                    plural(count)
                )
            }
            TrayState::Disconnected { count } => {
                format!("Brokerdesk — {count} connection{} down", plural(count))
            }
        }
    }
}

/// Returns whether the tray's "Lock" item should be enabled for this vault state.
pub fn can_lock(status: &VaultStatus) -> bool {
    status.can_lock()
}

/// The tray's handles, kept as managed state so the vault and connection code can update it.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    show_item: MenuItem<R>,
    lock_item: MenuItem<R>,
    kill_item: MenuItem<R>,
    quit_item: MenuItem<R>,
    /// The trading and account lines last shown, so an unchanged menu is not rebuilt.
    accounts: std::sync::Mutex<Option<(Vec<String>, Vec<String>)>>,
}

impl<R: Runtime> Tray<R> {
    /// Builds the tray icon and its menu. `on_lock`, `on_reconnect_all`, `on_kill_switch`
    /// and `on_quit` run on the event loop and must not block.
    pub fn build(
        app: &AppHandle<R>,
        on_lock: impl Fn(&AppHandle<R>) + Send + Sync + 'static,
        on_reconnect_all: impl Fn(&AppHandle<R>) + Send + Sync + 'static,
        on_kill_switch: impl Fn(&AppHandle<R>) + Send + Sync + 'static,
        on_quit: impl Fn(&AppHandle<R>) + Send + Sync + 'static,
    ) -> tauri::Result<Self> {
        let show = MenuItem::with_id(app, MENU_SHOW, "Show Brokerdesk", true, None::<&str>)?;
        // Disabled until the vault reports it is unlocked with a master password.
        let lock_item = MenuItem::with_id(app, MENU_LOCK, "Lock", false, None::<&str>)?;
        let separator = PredefinedMenuItem::separator(app)?;
        let kill = MenuItem::with_id(app, MENU_KILL_SWITCH, KILL_SWITCH_LABEL, true, None::<&str>)?;
        let separator2 = PredefinedMenuItem::separator(app)?;
        let quit = MenuItem::with_id(app, MENU_QUIT, "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[&show, &lock_item, &separator, &kill, &separator2, &quit],
        )?;

        let state = TrayState::Idle;
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(Image::from_bytes(state.icon_png())?)
            .tooltip(state.tooltip())
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(move |app, event: MenuEvent| match event.id().as_ref() {
                MENU_SHOW => show_main_window(app),
                MENU_LOCK => on_lock(app),
                MENU_RECONNECT_ALL => on_reconnect_all(app),
                MENU_KILL_SWITCH => on_kill_switch(app),
                MENU_QUIT => on_quit(app),
                id if id.starts_with(MENU_TRADING_PREFIX) => show_main_window(app),
                _ => {}
            })
            .on_tray_icon_event(|tray, event| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    show_main_window(tray.app_handle());
                }
            })
            .build(app)?;
        Ok(Self {
            icon,
            show_item: show,
            lock_item,
            kill_item: kill,
            quit_item: quit,
            accounts: std::sync::Mutex::new(None),
        })
    }

    /// Shows the trading lines (accounts trading for real or on a broker's practice
    /// environment, orders that need review; a click opens the window), one disabled line per
    /// connected account ("Name — state") and "Reconnect all" (rebuilds the menu when the
    /// lines changed).
    pub fn set_connections(&self, trading: &[String], lines: &[String]) {
        {
            let mut shown = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            let next = (trading.to_vec(), lines.to_vec());
            if shown.as_ref() == Some(&next) {
                return;
            }
            *shown = Some(next);
        }
        if let Err(e) = self.rebuild_menu(trading, lines) {
            tracing::warn!(error = %e, "could not update the tray menu");
        }
    }

    fn rebuild_menu(&self, trading: &[String], lines: &[String]) -> tauri::Result<()> {
        let app = self.icon.app_handle();
        let mut owned: Vec<Box<dyn IsMenuItem<R>>> = Vec::new();
        owned.push(Box::new(self.show_item.clone()));
        owned.push(Box::new(self.lock_item.clone()));
        if !trading.is_empty() {
            owned.push(Box::new(PredefinedMenuItem::separator(app)?));
            for (i, line) in trading.iter().enumerate() {
                // Enabled so it reads clearly; a click shows the window.
                owned.push(Box::new(MenuItem::with_id(
                    app,
                    format!("{MENU_TRADING_PREFIX}{i}"),
                    line,
                    true,
                    None::<&str>,
                )?));
            }
        }
        if !lines.is_empty() {
            owned.push(Box::new(PredefinedMenuItem::separator(app)?));
            for (i, line) in lines.iter().enumerate() {
                let id = format!("{MENU_ACCOUNT_PREFIX}{i}");
                owned.push(Box::new(MenuItem::with_id(
                    app,
                    id,
                    line,
                    false,
                    None::<&str>,
                )?));
            }
            owned.push(Box::new(MenuItem::with_id(
                app,
                MENU_RECONNECT_ALL,
                "Reconnect all",
                true,
                None::<&str>,
            )?));
        }
        owned.push(Box::new(PredefinedMenuItem::separator(app)?));
        owned.push(Box::new(self.kill_item.clone()));
        owned.push(Box::new(PredefinedMenuItem::separator(app)?));
        owned.push(Box::new(self.quit_item.clone()));
        let items: Vec<&dyn IsMenuItem<R>> = owned.iter().map(|b| b.as_ref()).collect();
        let menu = Menu::with_items(app, &items)?;
        self.icon.set_menu(Some(menu))
    }

    /// Shows a connection state.
    pub fn set_state(&self, state: TrayState) {
        let icon = Image::from_bytes(state.icon_png());
        let result = icon
            .and_then(|i| self.icon.set_icon(Some(i)))
            .and_then(|()| self.icon.set_tooltip(Some(state.tooltip())));
        if let Err(e) = result {
            tracing::warn!(error = %e, ?state, "could not update the tray icon");
        }
    }

    /// Follows a vault state change (the "Lock" item).
    pub fn set_vault(&self, status: &VaultStatus) {
        if let Err(e) = self.lock_item.set_enabled(can_lock(status)) {
            tracing::warn!(error = %e, "could not update the tray menu");
        }
    }
}

/// The notification for a kill switch that could not run at all (it fails only before it
/// changes anything: no profile, a locked vault). A kill switch that ran is notified by the
/// runtime, failures included.
pub fn kill_switch_failed_body(e: &ApiError) -> String {
    match e.code {
        Code::Locked => {
            "Nothing was stopped: the vault is locked. Unlock Brokerdesk, then use the kill switch again."
                .to_string()
        }
        Code::NotInitialized => "Nothing was stopped: there are no accounts yet.".to_string(),
        _ => format!("Nothing was stopped: {} ({})", e.message, e.code),
    }
}

/// Shows, unminimizes and focuses the main window.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(crate::MAIN_WINDOW) else {
        tracing::warn!("the main window is gone");
        return;
    };
    let result = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not show the main window");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use brokerdesk_core::vault::VaultProtection;

    use super::*;

    fn status(initialized: bool, locked: bool, protection: Option<VaultProtection>) -> VaultStatus {
        VaultStatus {
            initialized,
            locked,
            protection,
            keychain_available: false,
            keychain_error: None,
            auto_unlock_error: None,
            key_generation: 1,
            data_dir: String::new(),
            version: String::new(),
        }
    }

    #[test]
    fn lock_is_offered_only_for_an_unlocked_password_vault() {
        use VaultProtection::{Keychain, Password};
        assert!(can_lock(&status(true, false, Some(Password))));
        assert!(!can_lock(&status(true, true, Some(Password))));
        assert!(!can_lock(&status(true, false, Some(Keychain))));
        assert!(!can_lock(&status(false, false, None)));
    }

    #[test]
    fn a_kill_switch_that_could_not_run_says_nothing_was_stopped() {
        let locked = kill_switch_failed_body(&ApiError::new(Code::Locked, "the vault is locked"));
        assert!(locked.starts_with("Nothing was stopped") && locked.contains("Unlock"));
        let other = kill_switch_failed_body(&ApiError::new(Code::Storage, "disk on fire"));
        assert_eq!(other, "Nothing was stopped: disk on fire (storage)");
        assert_eq!(KILL_SWITCH_LABEL, "Kill switch — stop all trading");
    }

    #[test]
    fn every_state_has_a_decodable_icon_and_a_tooltip() {
        for state in [
            TrayState::Idle,
            TrayState::Connected { count: 1 },
            TrayState::Reconnecting { count: 2 },
            TrayState::Disconnected { count: 3 },
        ] {
            let img = Image::from_bytes(state.icon_png()).unwrap();
            assert!(img.width() >= 16 && img.height() >= 16);
            assert!(state.tooltip().starts_with("Brokerdesk — "));
        }
        assert_eq!(TrayState::Idle.tooltip(), "Brokerdesk — no connections yet");
        assert_eq!(
            TrayState::Connected { count: 1 }.tooltip(),
            "Brokerdesk — 1 connection up"
        );
    }
}
