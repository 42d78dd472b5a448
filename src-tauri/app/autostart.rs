//! Starting at login, hidden in the tray.
//!
//! The platform's own mechanism, through the official plugin (`tauri-plugin-autostart`): on
//! Linux an XDG autostart entry, `~/.config/autostart/Brokerdesk.desktop`, whose `Exec` line
//! is this binary with [`HIDDEN_ARG`]; a Launch Agent on macOS; the registry's `Run` key on
//! Windows. The state lives with the OS only: the Settings switch reads it each time
//! ([`crate::host::AppHost`]). The window cannot reach the plugin's own commands (the
//! capability in `tauri.conf.json` grants none of them): it goes through the core's
//! `autostart_set`, which is guarded, audited and announced with a notification.
//!
//! Started with [`HIDDEN_ARG`], the app keeps its window hidden and lives in the tray; the
//! tray's "Show Brokerdesk" (or launching it again) shows the window.

use tauri::plugin::TauriPlugin;
use tauri::Runtime;

/// The argument the autostart entry passes: start with the window hidden, in the tray.
pub const HIDDEN_ARG: &str = "--hidden";

/// The autostart entry's name (on Linux its file name: `Brokerdesk.desktop`).
pub const ENTRY_NAME: &str = "Brokerdesk";

/// The plugin, set up to start this binary with [`HIDDEN_ARG`].
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new()
        .app_name(ENTRY_NAME)
        .arg(HIDDEN_ARG)
        .build()
}

/// Returns whether the command line asks to start hidden in the tray.
pub fn start_hidden<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> bool {
    args.into_iter().skip(1).any(|a| a.as_ref() == HIDDEN_ARG)
}

/// Where the OS keeps the entry, for the Settings switch to show.
pub fn location() -> String {
    #[cfg(target_os = "linux")]
    {
        // The plugin writes under $HOME/.config/autostart (not $XDG_CONFIG_HOME).
        match directories::BaseDirs::new() {
            Some(dirs) => dirs
                .home_dir()
                .join(".config/autostart")
                .join(format!("{ENTRY_NAME}.desktop"))
                .display()
                .to_string(),
            None => format!("~/.config/autostart/{ENTRY_NAME}.desktop"),
        }
    }
    #[cfg(target_os = "macos")]
    {
        format!("a Launch Agent in ~/Library/LaunchAgents ({ENTRY_NAME})")
    }
    #[cfg(target_os = "windows")]
    {
        format!("the registry's Run key (HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{ENTRY_NAME})")
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        format!("the OS's autostart entry ({ENTRY_NAME})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hidden_argument_starts_hidden() {
        assert!(start_hidden(["/usr/bin/brokerdesk-app", "--hidden"]));
        assert!(!start_hidden(["/usr/bin/brokerdesk-app"]));
        assert!(!start_hidden(["/usr/bin/brokerdesk-app", "--hidden=no"]));
        // The program's own name is not an argument.
        assert!(!start_hidden(["--hidden"]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_linux_entry_is_an_xdg_autostart_file() {
        assert!(location().ends_with("/.config/autostart/Brokerdesk.desktop"));
    }
}
