//! Where Brokerdesk keeps its data.

use std::path::PathBuf;

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "BROKERDESK_DATA_DIR";

/// Returns the platform's per-user data directory for Brokerdesk
/// (`~/.local/share/brokerdesk` on Linux, `~/Library/Application Support/dev.brokerdesk.Brokerdesk`
/// on macOS, `%APPDATA%\brokerdesk\Brokerdesk\data` on Windows), or `None` when the platform
/// reports no home directory.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "brokerdesk", "Brokerdesk")
        .map(|d| d.data_dir().to_path_buf())
}

/// Resolves the data directory: an explicit path wins, then `BROKERDESK_DATA_DIR`, then the
/// platform default.
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| {
            std::env::var_os(DATA_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(default_data_dir)
}
