//! Saving the audit log's CSV where the user will find it.
//!
//! The file goes to the user's Downloads folder when the OS names one that exists, otherwise to
//! `<data dir>/exports/` (created owner-only). It is created new (never overwriting: a second
//! export in the same second gets a `-2` suffix) with mode 0600, since the log names accounts
//! and says when the user did what.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local};

/// Returns the export's file name: `brokerdesk-audit-YYYYMMDD-HHMMSS.csv` (local time).
pub fn audit_file_name(now: DateTime<Local>) -> String {
    format!("brokerdesk-audit-{}.csv", now.format("%Y%m%d-%H%M%S"))
}

/// Returns the user's Downloads folder, if the OS names one.
pub fn downloads_dir() -> Option<PathBuf> {
    directories::UserDirs::new().and_then(|d| d.download_dir().map(Path::to_path_buf))
}

/// Returns where exports go: `downloads` if it is an existing directory, otherwise
/// `<data_dir>/exports`.
pub fn export_dir(downloads: Option<PathBuf>, data_dir: &Path) -> PathBuf {
    downloads
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| data_dir.join("exports"))
}

/// Writes `contents` to a new file `name` in `dir` (created if missing, owner-only), mode
/// 0600, adding `-2`, `-3`, … before the extension if the name is taken. Returns its path.
pub fn write_new(dir: &Path, name: &str, contents: &str) -> std::io::Result<PathBuf> {
    create_private_dir(dir)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) => (stem, format!(".{ext}")),
        None => (name, String::new()),
    };
    for n in 1..=100u32 {
        let path = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}{ext}"))
        };
        match create_private(&path, contents) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{name} and 99 numbered variants already exist"),
    ))
}

/// Creates `path` — never replacing a file (`AlreadyExists`) — with mode 0600, and writes
/// and syncs `contents`.
pub fn create_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_name_carries_the_local_date_and_time() {
        let t = Local.with_ymd_and_hms(2026, 3, 7, 9, 5, 2).unwrap();
        assert_eq!(audit_file_name(t), "brokerdesk-audit-20260307-090502.csv");
    }

    #[test]
    fn downloads_when_it_exists_else_the_data_dir() {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        let downloads = home.path().join("Downloads");
        assert_eq!(export_dir(None, &data), data.join("exports"));
        assert_eq!(
            export_dir(Some(downloads.clone()), &data),
            data.join("exports")
        );
        std::fs::create_dir(&downloads).unwrap();
        assert_eq!(export_dir(Some(downloads.clone()), &data), downloads);
    }

    #[test]
    fn writes_a_new_private_file_and_never_overwrites() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("exports");
        let first = write_new(&dir, "brokerdesk-audit-x.csv", "a,b\n").unwrap();
        let second = write_new(&dir, "brokerdesk-audit-x.csv", "c,d\n").unwrap();
        assert_eq!(first, dir.join("brokerdesk-audit-x.csv"));
        assert_eq!(second, dir.join("brokerdesk-audit-x-2.csv"));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "a,b\n");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "c,d\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&first), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
    }
}
