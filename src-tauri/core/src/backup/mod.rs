//! Encrypted backups of the whole profile.
//!
//! - **What**: a consistent snapshot of the database taken while the app runs and writes
//!   (`VACUUM INTO`, SQLite's own online copy), sealed with the backup key ([`file`]). The
//!   database holds every secret only sealed under the data key, so a password-protected
//!   profile's backup is locked twice (backup passphrase, then master password); a
//!   keychain-protected profile's backup carries its data key inside the seal, so the backup
//!   passphrase alone restores it on a machine whose keychain never held it.
//! - **The backup key** is derived once from a backup passphrase the user sets (never the
//!   master password silently) and kept sealed under the data key in the vault row, so the
//!   daily backup needs no prompt; its spec travels in every backup. A key rotation re-seals
//!   it ([`reseal_key`]). Changing the passphrase makes a new key: older backups still open
//!   with the passphrase they were made with.
//! - **Where**: `<data dir>/backups` by default, or a folder the user picks; files are
//!   written under a temporary name, synced and renamed, mode 0600.
//! - **Retention** ([`retention`]) prunes only scheduled backups, keeping the newest of each of
//!   the last `keep_daily` days and of each of the last `keep_weekly` weeks; backups made by
//!   hand are never deleted by Brokerdesk.
//! - **Restore** ([`restore`]) runs with the profile closed.

pub mod file;
pub mod restore;
pub mod retention;

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use ts_rs::TS;

pub use self::file::BackupTrigger;
use self::file::{Header, Manifest};
use crate::error::{Code, ErrorCode, FieldCode, FieldError};
use crate::seal::{KeySpec, PassKey};
use crate::store::{Store, StoreError};
use crate::vault::{Unlocked, VaultError};

/// The extension of backup files.
pub const EXTENSION: &str = "bdbackup";
/// Scheduled backups are made when the last one is at least this old.
pub const SCHEDULE_HOURS: i64 = 24;

/// A backup failure.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup passphrase is set: set one first (Settings → Backups, or `brokerdesk backup passphrase`)")]
    NotSetUp,
    #[error("wrong backup passphrase: it does not open this backup (a backup opens with the passphrase that was set when it was made)")]
    WrongPassphrase,
    #[error("{0}")]
    WeakPassphrase(String),
    #[error("this file is not a Brokerdesk backup")]
    NotABackup,
    #[error("the backup is damaged or was edited: {0}")]
    Damaged(String),
    #[error("the backup was made by a newer Brokerdesk (backup format {0}); upgrade Brokerdesk to open it")]
    NewerFormat(u32),
    #[error("the backup holds a profile from a newer Brokerdesk (schema version {0}); upgrade Brokerdesk to restore it")]
    NewerSchema(i64),
    #[error("the backup could not be made: {0}")]
    Failed(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("the profile in {0} is open in another Brokerdesk process (the app or a command); close it and try again")]
    ProfileInUse(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(e.into())
    }
}

impl BackupError {
    /// An I/O failure, with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        BackupError::Io {
            what: what.into(),
            source,
        }
    }
}

impl ErrorCode for BackupError {
    fn code(&self) -> Code {
        match self {
            BackupError::NotSetUp => Code::BackupNotSetUp,
            BackupError::WrongPassphrase => Code::WrongPassphrase,
            BackupError::WeakPassphrase(_) | BackupError::Invalid(_) => Code::Validation,
            BackupError::NotABackup | BackupError::Damaged(_) | BackupError::NewerFormat(_) => {
                Code::BackupDamaged
            }
            BackupError::NewerSchema(_) => Code::NewerSchema,
            BackupError::Failed(_) => Code::BackupFailed,
            BackupError::Io { source, .. } if is_disk_full(source) => Code::DiskFull,
            BackupError::Io { .. } => Code::Io,
            BackupError::ProfileInUse(_) => Code::ProfileInUse,
            BackupError::Store(e) => e.code(),
            BackupError::Vault(e) => e.code(),
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            BackupError::WeakPassphrase(m) => {
                vec![FieldError::new("passphrase", FieldCode::Invalid, m.clone())]
            }
            _ => Vec::new(),
        }
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

/// Where and how often backups are made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct BackupConfig {
    /// A backup every day while the app runs (the app checks every 15 minutes).
    pub scheduled: bool,
    /// An absolute folder; `null`: `<data dir>/backups`.
    pub folder: Option<String>,
    /// Scheduled backups kept: the newest of each of this many days (1–365)…
    pub keep_daily: u32,
    /// …and of each of this many weeks before those (0–520).
    pub keep_weekly: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            scheduled: true,
            folder: None,
            keep_daily: 7,
            keep_weekly: 4,
        }
    }
}

impl BackupConfig {
    /// Returns the problems with this configuration.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if !(1..=365).contains(&self.keep_daily) {
            errs.push(FieldError::new(
                "keepDaily",
                FieldCode::OutOfRange,
                "Keep between 1 and 365 daily backups.",
            ));
        }
        if self.keep_weekly > 520 {
            errs.push(FieldError::new(
                "keepWeekly",
                FieldCode::OutOfRange,
                "Keep between 0 and 520 weekly backups.",
            ));
        }
        if let Some(f) = &self.folder {
            if f.trim().is_empty() || !Path::new(f).is_absolute() {
                errs.push(FieldError::new(
                    "folder",
                    FieldCode::Invalid,
                    "The backup folder must be an absolute path (or empty for the default).",
                ));
            }
        }
        errs
    }

    /// The folder backups go to.
    pub fn folder_in(&self, data_dir: &Path) -> PathBuf {
        match &self.folder {
            Some(f) => PathBuf::from(f),
            None => default_folder(data_dir),
        }
    }
}

/// `<data dir>/backups`.
pub fn default_folder(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// Reads the configuration (defaults when never saved).
pub async fn load_config(store: &Store) -> Result<BackupConfig, BackupError> {
    let row: Option<(i64, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT scheduled, folder, keep_daily, keep_weekly FROM backup_config WHERE id = 1",
    )
    .fetch_optional(store.pool())
    .await?;
    Ok(match row {
        None => BackupConfig::default(),
        Some((scheduled, folder, daily, weekly)) => BackupConfig {
            scheduled: scheduled != 0,
            folder,
            keep_daily: u32::try_from(daily).unwrap_or(7),
            keep_weekly: u32::try_from(weekly).unwrap_or(4),
        },
    })
}

/// Saves the configuration inside the caller's transaction.
pub async fn save_config(
    conn: &mut SqliteConnection,
    config: &BackupConfig,
) -> Result<(), BackupError> {
    sqlx::query(
        "INSERT INTO backup_config (id, scheduled, folder, keep_daily, keep_weekly)
         VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET scheduled = excluded.scheduled, folder = excluded.folder,
             keep_daily = excluded.keep_daily, keep_weekly = excluded.keep_weekly",
    )
    .bind(i64::from(config.scheduled))
    .bind(&config.folder)
    .bind(i64::from(config.keep_daily))
    .bind(i64::from(config.keep_weekly))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn key_binding(vault_id: &str) -> String {
    format!("vault:{vault_id}:backup_key")
}

/// Whether a backup passphrase is set.
pub async fn has_key(store: &Store) -> Result<bool, BackupError> {
    let set: Option<i64> =
        sqlx::query_scalar("SELECT backup_key_sealed IS NOT NULL FROM vault WHERE id = 1")
            .fetch_optional(store.pool())
            .await?;
    Ok(set == Some(1))
}

/// Opens the kept backup key (`None`: no passphrase set).
pub async fn load_key(
    conn: &mut SqliteConnection,
    key: &Unlocked,
) -> Result<Option<PassKey>, BackupError> {
    let row: Option<(String, Option<Vec<u8>>, Option<String>)> = sqlx::query_as(
        "SELECT vault_id, backup_key_sealed, backup_key_spec FROM vault WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((vault_id, Some(sealed), Some(spec))) = row else {
        return Ok(None);
    };
    let bytes = key.open_bytes(&key_binding(&vault_id), &sealed)?;
    let spec: KeySpec = serde_json::from_str(&spec)
        .map_err(|e| BackupError::Damaged(format!("the kept backup key spec ({e})")))?;
    Ok(Some(PassKey::from_parts(&bytes, &spec)?))
}

/// Keeps a new backup key (sealed under the data key) inside the caller's transaction.
pub async fn store_key(
    conn: &mut SqliteConnection,
    key: &Unlocked,
    pass: &PassKey,
) -> Result<(), BackupError> {
    let vault_id: String = sqlx::query_scalar("SELECT vault_id FROM vault WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let sealed = key.seal(&key_binding(&vault_id), pass.key_bytes())?;
    let spec = serde_json::to_string(&pass.spec())
        .map_err(|e| BackupError::Failed(format!("could not keep the key spec: {e}")))?;
    sqlx::query("UPDATE vault SET backup_key_sealed = ?, backup_key_spec = ? WHERE id = 1")
        .bind(&sealed)
        .bind(&spec)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Re-seals the backup key under a new data key (in a key rotation's transaction).
pub(crate) async fn reseal_key(
    conn: &mut SqliteConnection,
    old: &Unlocked,
    next: &Unlocked,
) -> Result<(), VaultError> {
    let row: (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT vault_id, backup_key_sealed FROM vault WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::from)?;
    if let (vault_id, Some(sealed)) = row {
        let bytes = old.open_bytes(&key_binding(&vault_id), &sealed)?;
        let resealed = next.seal(&key_binding(&vault_id), &bytes)?;
        sqlx::query("UPDATE vault SET backup_key_sealed = ? WHERE id = 1")
            .bind(&resealed)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

/// One backup file, as listed (read from its header, without the passphrase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BackupFile {
    pub path: String,
    /// The file name (what the app's Verify names).
    pub name: String,
    /// RFC 3339, UTC; `null` when the header cannot be read.
    pub created_at: Option<String>,
    #[ts(type = "number")]
    pub bytes: u64,
    pub trigger: Option<BackupTrigger>,
    pub app_version: Option<String>,
    /// Sealed with the backup key set now (the others need the passphrase they were made with).
    pub current_key: bool,
    /// Why the file cannot be read as a backup, if it cannot.
    pub problem: Option<String>,
}

/// One backup attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BackupRun {
    pub at: String,
    pub trigger: BackupTrigger,
    pub path: Option<String>,
    #[ts(type = "number | null")]
    pub bytes: Option<u64>,
    pub error: Option<String>,
}

/// The last successful backup and the last failed attempt (if it came after it).
pub async fn last_runs(
    store: &Store,
) -> Result<(Option<BackupRun>, Option<BackupRun>), BackupError> {
    let ok = run_where(store, false).await?;
    let failed = run_where(store, true).await?;
    let failed = match (&ok, failed) {
        (Some(o), Some(f)) if f.at <= o.at => None,
        (_, f) => f,
    };
    Ok((ok, failed))
}

/// A `backup_runs` row: at, trigger, path, bytes, error.
type RunRow = (String, String, Option<String>, Option<i64>, Option<String>);

async fn run_where(store: &Store, failed: bool) -> Result<Option<BackupRun>, BackupError> {
    let row: Option<RunRow> = sqlx::query_as(
        "SELECT at, trigger, path, bytes, error FROM backup_runs
             WHERE (error IS NOT NULL) = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(failed)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|(at, trigger, path, bytes, error)| BackupRun {
        at,
        trigger: if trigger == "scheduled" {
            BackupTrigger::Scheduled
        } else {
            BackupTrigger::Manual
        },
        path,
        bytes: bytes.and_then(|b| u64::try_from(b).ok()),
        error,
    }))
}

/// Records a failed attempt (its message names no secret: backup errors never carry one).
pub async fn record_failure(
    store: &Store,
    trigger: BackupTrigger,
    error: &str,
) -> Result<(), BackupError> {
    sqlx::query("INSERT INTO backup_runs (at, trigger, error) VALUES (?, ?, ?)")
        .bind(now_rfc3339())
        .bind(trigger.as_str())
        .bind(error)
        .execute(store.pool())
        .await?;
    Ok(())
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The name a new backup gets: `brokerdesk-YYYYMMDD-HHMMSSZ.bdbackup` (UTC), with `auto-`
/// for scheduled ones (the ones retention may delete).
pub fn file_name(at: DateTime<Utc>, trigger: BackupTrigger) -> String {
    let prefix = match trigger {
        BackupTrigger::Manual => "brokerdesk-",
        BackupTrigger::Scheduled => "brokerdesk-auto-",
    };
    format!("{prefix}{}.{EXTENSION}", at.format("%Y%m%d-%H%M%SZ"))
}

/// What [`create`] made.
pub struct Created {
    pub file: BackupFile,
    /// The database's schema version in it.
    pub schema_version: i64,
}

/// Takes a backup: a snapshot of the database, sealed with the kept backup key, written to
/// `out` (a new file) or into the configured folder. Records the run and an audit entry in
/// one transaction after the file is in place.
pub async fn create(
    store: &Store,
    key: &Unlocked,
    data_dir: &Path,
    out: Option<&Path>,
    trigger: BackupTrigger,
    actor: &str,
) -> Result<Created, BackupError> {
    let mut conn = store.acquire().await?;
    let pass = load_key(&mut conn, key)
        .await?
        .ok_or(BackupError::NotSetUp)?;
    let (vault_id, protection, generation): (String, String, i64) =
        sqlx::query_as("SELECT vault_id, protection, key_generation FROM vault WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    drop(conn);
    let schema_version = store.schema_version().await?;
    let db = snapshot(store, data_dir).await?;
    let now = Utc::now();
    let created_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let header = Header {
        format: file::FORMAT,
        created_at: created_at.clone(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version,
        trigger,
        key: pass.spec(),
    };
    let manifest = Manifest {
        vault_id,
        data_key: (protection == "keychain").then(|| B64.encode(key.data_key_bytes())),
        protection,
        key_generation: u32::try_from(generation).unwrap_or(1),
        db_sha256: file::sha256_hex(&db),
        db_bytes: db.len() as u64,
    };
    let bytes = tokio::task::spawn_blocking(move || file::write(&pass, &header, &manifest, &db))
        .await
        .map_err(|e| BackupError::Failed(e.to_string()))??;
    let size = bytes.len() as u64;
    let (out, folder) = match out {
        Some(p) => (Some(p.to_path_buf()), None),
        None => (None, Some(load_config(store).await?.folder_in(data_dir))),
    };
    let path = tokio::task::spawn_blocking(move || match (out, folder) {
        (Some(p), _) => write_new_file(&p, &bytes).map(|()| p),
        (None, Some(dir)) => write_numbered(&dir, &file_name(now, trigger), &bytes),
        (None, None) => Err(BackupError::Failed("no folder".to_string())),
    })
    .await
    .map_err(|e| BackupError::Failed(e.to_string()))??;
    let shown = path.display().to_string();
    let mut tx = store.begin_write().await?;
    sqlx::query("INSERT INTO backup_runs (at, trigger, path, bytes) VALUES (?, ?, ?, ?)")
        .bind(&created_at)
        .bind(trigger.as_str())
        .bind(&shown)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    crate::audit::append(
        &mut tx,
        Some(key),
        actor,
        crate::audit::AuditEvent::BackupCreated,
        None,
        &format!(
            "{} backup written to {shown} ({size} bytes)",
            trigger.as_str()
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Created {
        file: BackupFile {
            name: file_name_of(&path),
            path: shown,
            created_at: Some(created_at),
            bytes: size,
            trigger: Some(trigger),
            app_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            current_key: true,
            problem: None,
        },
        schema_version,
    })
}

fn file_name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A consistent copy of the database (`VACUUM INTO` a private file in the data dir, read
/// back and removed).
async fn snapshot(store: &Store, data_dir: &Path) -> Result<Vec<u8>, BackupError> {
    let tmp = data_dir.join(format!(".snapshot-{}.db", uuid::Uuid::new_v4()));
    let result = async {
        sqlx::query("VACUUM INTO ?")
            .bind(tmp.to_string_lossy().into_owned())
            .execute(store.pool())
            .await
            .map_err(StoreError::from)?;
        std::fs::read(&tmp).map_err(|e| BackupError::io("could not read the snapshot", e))
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Writes a new file named `name` in `dir`, or `<stem>-2.<ext>`, `-3`, … when the name is
/// taken (two backups in one second).
fn write_numbered(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, BackupError> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, EXTENSION));
    for n in 1..=100u32 {
        let path = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}.{ext}"))
        };
        match write_new_file(&path, bytes) {
            Err(BackupError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => return other.map(|()| path),
        }
    }
    Err(BackupError::Failed(format!(
        "{name} and 99 numbered variants already exist in {}",
        dir.display()
    )))
}

/// Writes a new file (never replacing one) through a temporary name, synced, mode 0600.
pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| BackupError::io(format!("cannot create {}", dir.display()), e))?;
    if path.exists() {
        return Err(BackupError::io(
            format!("{} already exists", path.display()),
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        ));
    }
    let partial = dir.join(format!(".{}.partial", file_name_of(path)));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&partial)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        // Not `rename`, which would replace a file made meanwhile: a hard link fails if the
        // name is taken. A folder on a file system without hard links (an external disk
        // formatted FAT or exFAT) gets a rename after one more look.
        match std::fs::hard_link(&partial, path) {
            Ok(()) => std::fs::remove_file(&partial)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) if path.exists() => {
                return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists))
            }
            Err(_) => std::fs::rename(&partial, path)?,
        }
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.map_err(|e| BackupError::io(format!("could not write {}", path.display()), e))
}

/// Syncs a directory, so a rename in it survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Reads a backup's header (the readable part).
pub fn read_header_of(path: &Path) -> Result<Header, BackupError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)
        .map_err(|e| BackupError::io(format!("cannot open {}", path.display()), e))?;
    let mut head = Vec::with_capacity(4096);
    (&mut f)
        .take(file::MAGIC.len() as u64 + 16 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| BackupError::io(format!("cannot read {}", path.display()), e))?;
    Ok(file::read_header(&head)?.0)
}

/// Lists the backup files in a folder, newest first (unreadable ones last, with the reason).
pub fn list(folder: &Path, current: Option<&KeySpec>) -> Result<Vec<BackupFile>, BackupError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(BackupError::io(
                format!("cannot read the folder {}", folder.display()),
                e,
            ))
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
            continue;
        }
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let mut item = BackupFile {
            name: file_name_of(&path),
            path: path.display().to_string(),
            created_at: None,
            bytes,
            trigger: None,
            app_version: None,
            current_key: false,
            problem: None,
        };
        match read_header_of(&path) {
            Ok(h) => {
                item.current_key = current == Some(&h.key);
                item.created_at = Some(h.created_at);
                item.trigger = Some(h.trigger);
                item.app_version = Some(h.app_version);
            }
            Err(e) => item.problem = Some(e.to_string()),
        }
        out.push(item);
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    Ok(out)
}

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BackupVerification {
    pub path: String,
    pub created_at: String,
    pub app_version: String,
    pub trigger: BackupTrigger,
    #[ts(type = "number")]
    pub schema_version: i64,
    /// How the profile's key is kept: `keychain` or `password` (then its master password
    /// opens the restored profile).
    pub protection: String,
    #[ts(type = "number")]
    pub accounts: u64,
    #[ts(type = "number")]
    pub audit_entries: u64,
    /// Always true in a returned value: the seal, the checksum and SQLite's integrity check
    /// passed.
    pub intact: bool,
}

/// Reads a whole backup file (refusing one larger than any backup).
pub fn read_file(path: &Path) -> Result<Vec<u8>, BackupError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| BackupError::io(format!("cannot open {}", path.display()), e))?;
    if meta.len() > file::MAX_FILE {
        return Err(BackupError::NotABackup);
    }
    std::fs::read(path).map_err(|e| BackupError::io(format!("cannot read {}", path.display()), e))
}

/// Opens and checks a backup fully: the seal, the checksum, then the database itself
/// (SQLite's integrity check, its schema not newer than this Brokerdesk's, its vault row
/// the manifest's). `scratch` is a private folder for the temporary copy.
pub async fn verify(
    path: &Path,
    bytes: &[u8],
    pass: &PassKey,
    scratch: &Path,
) -> Result<(BackupVerification, Manifest, Vec<u8>), BackupError> {
    let (header, manifest, db) = file::open(pass, bytes)?;
    let (accounts, audit_entries) = check_database(&db, &manifest, scratch).await?;
    Ok((
        BackupVerification {
            path: path.display().to_string(),
            created_at: header.created_at,
            app_version: header.app_version,
            trigger: header.trigger,
            schema_version: header.schema_version,
            protection: manifest.protection.clone(),
            accounts,
            audit_entries,
            intact: true,
        },
        manifest,
        db.to_vec(),
    ))
}

/// Checks the database bytes on a private temporary copy.
async fn check_database(
    db: &[u8],
    manifest: &Manifest,
    scratch: &Path,
) -> Result<(u64, u64), BackupError> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| BackupError::io(format!("cannot create {}", scratch.display()), e))?;
    let tmp = scratch.join(format!(".verify-{}.db", uuid::Uuid::new_v4()));
    let result = async {
        write_new_file(&tmp, db)?;
        check_database_file(&tmp, manifest).await
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Opens a database file read-only and checks it is the manifest's, intact, and not newer
/// than this Brokerdesk. Returns (accounts, audit entries).
pub(crate) async fn check_database_file(
    path: &Path,
    manifest: &Manifest,
) -> Result<(u64, u64), BackupError> {
    use sqlx::ConnectOptions as _;
    use sqlx::Connection as _;
    let bad = |e: sqlx::Error| BackupError::Damaged(format!("its database cannot be read ({e})"));
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(bad)?;
    let result = async {
        let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .map_err(bad)?;
        if problems.iter().any(|p| p != "ok") {
            return Err(BackupError::Damaged(format!(
                "its database fails SQLite's integrity check: {}",
                problems.join("; ")
            )));
        }
        let schema: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&mut conn)
                .await
                .map_err(bad)?;
        let ours = crate::store::MIGRATOR
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        if let Some(v) = schema.filter(|v| *v > ours) {
            return Err(BackupError::NewerSchema(v));
        }
        let vault_id: Option<String> =
            sqlx::query_scalar("SELECT vault_id FROM vault WHERE id = 1")
                .fetch_optional(&mut conn)
                .await
                .map_err(bad)?;
        if vault_id.as_deref() != Some(manifest.vault_id.as_str()) {
            return Err(BackupError::Damaged(
                "its database is not the profile its manifest names".to_string(),
            ));
        }
        let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut conn)
            .await
            .map_err(bad)?;
        let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&mut conn)
            .await
            .map_err(bad)?;
        Ok((
            u64::try_from(accounts).unwrap_or(0),
            u64::try_from(audit).unwrap_or(0),
        ))
    }
    .await;
    let _ = conn.close().await;
    result
}

/// Deletes the scheduled backups in `folder` that retention no longer keeps; returns their
/// paths. Backups made by hand and files that are not backups are never touched.
pub fn prune(folder: &Path, config: &BackupConfig) -> Result<Vec<PathBuf>, BackupError> {
    let scheduled: Vec<(PathBuf, DateTime<Utc>)> = list(folder, None)?
        .into_iter()
        .filter(|f| f.trigger == Some(BackupTrigger::Scheduled))
        .filter_map(|f| {
            let at = DateTime::parse_from_rfc3339(f.created_at.as_deref()?).ok()?;
            Some((PathBuf::from(f.path), at.with_timezone(&Utc)))
        })
        .collect();
    let mut removed = Vec::new();
    for path in retention::to_delete(&scheduled, config.keep_daily, config.keep_weekly) {
        match std::fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) => tracing::warn!(error = %e, "could not delete an old scheduled backup"),
        }
    }
    Ok(removed)
}
