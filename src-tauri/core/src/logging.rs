//! Logging to `<data dir>/logs/brokerdesk.log` (and optionally stderr). Secrets never reach
//! a log line: they are [`crate::Secret`]s, whose `Debug`/`Display` are redacted, and no
//! code formats their exposed value.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::util::SubscriberInitExt;
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

/// Crates that log wire bytes (WebSocket frames, HTTP headers, TLS records) at debug or
/// trace: a frame holds an auth message with a broker key, a header a bearer token. Capped
/// at `info` whatever level the user asks for.
pub const WIRE_CRATES: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "axum",
    "tower_http",
];

/// The log filter for `spec` (`info`, `debug`, `brokerdesk_core=trace`, …) with the
/// [`WIRE_CRATES`] capped at `info`.
pub fn filter(spec: &str) -> EnvFilter {
    let mut f = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    for c in WIRE_CRATES {
        if let Ok(d) = format!("{c}=info").parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// True for a target inside one of the [`WIRE_CRATES`].
fn is_wire(target: &str) -> bool {
    WIRE_CRATES.iter().any(|c| {
        target
            .strip_prefix(c)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// The subscriber the app and the CLI install: `spec` as the filter, and, as a second
/// filter no spec can override (not even `tungstenite::protocol=trace`), nothing below
/// info from the [`WIRE_CRATES`].
pub fn subscriber<W>(spec: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    let wire_cap = tracing_subscriber::filter::filter_fn(|m| {
        !(is_wire(m.target()) && *m.level() > tracing::Level::INFO)
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer)
        .with_filter(filter(spec))
        .with_filter(wire_cap);
    tracing_subscriber::registry().with(layer)
}

/// Installs the global subscriber. `BROKERDESK_LOG` (e.g. `debug`) overrides the level;
/// wire-level crates stay at `info` ([`WIRE_CRATES`]). Returns an error message if the log
/// file cannot be opened (logging then goes to stderr).
pub fn init(data_dir: &Path, also_stderr: bool) -> Result<(), String> {
    let spec = std::env::var("BROKERDESK_LOG").unwrap_or_else(|_| "info".into());
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
            let res = if also_stderr {
                subscriber(&spec, file_writer.and(std::io::stderr)).try_init()
            } else {
                subscriber(&spec, file_writer).try_init()
            };
            res.map_err(|e| e.to_string())
        }
        Err(e) => {
            let _ = subscriber(&spec, std::io::stderr).try_init();
            Err(format!("cannot open the log file {}: {e}", path.display()))
        }
    }
}
