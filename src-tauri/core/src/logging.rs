//! Logging to `<data dir>/logs/brokerdesk.log` (and optionally stderr). Secrets never reach
//! a log line: they are [`crate::Secret`]s, whose `Debug`/`Display` are redacted, and no
//! code formats their exposed value.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

/// Returns the log file's path for a data dir.
pub fn log_file(data_dir: &Path) -> PathBuf {
    data_dir.join("logs").join("brokerdesk.log")
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Installs the global subscriber. `BROKERDESK_LOG` (e.g. `debug`) overrides the level.
/// Returns an error message if the log file cannot be opened (logging then goes to stderr).
pub fn init(data_dir: &Path, also_stderr: bool) -> Result<(), String> {
    let filter =
        EnvFilter::try_from_env("BROKERDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let path = log_file(data_dir);
    let file = path
        .parent()
        .map(create_private_dir)
        .transpose()
        .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
    match file {
        Ok(f) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            let file_writer = Mutex::new(f);
            let builder = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false);
            let res = if also_stderr {
                builder
                    .with_writer(file_writer.and(std::io::stderr))
                    .try_init()
            } else {
                builder.with_writer(file_writer).try_init()
            };
            res.map_err(|e| e.to_string())
        }
        Err(e) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init();
            Err(format!("cannot open the log file {}: {e}", path.display()))
        }
    }
}
