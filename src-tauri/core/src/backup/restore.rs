//! Restoring a backup onto a data directory (this machine's profile or a new one).
//!
//! Runs with the profile closed: every open [`Store`] holds a shared lock on
//! `brokerdesk.inuse`, and a restore takes it exclusively (`profile_in_use` otherwise), so
//! neither the app nor a command can open the profile half-way through.
//!
//! The order, so that a crash at any point (a `kill -9`, a power cut) leaves either the old
//! profile or the restored one, whole, and never a mix:
//! 1. the passphrase is checked against the backup's key check value, the profile is locked,
//!    and the backup is opened and checked completely (seal, checksum, SQLite's integrity
//!    check, schema) into a private temporary file in the data dir — a wrong passphrase or a
//!    damaged file stops here, having changed nothing;
//! 2. the current database's WAL is checkpointed into it (so the database file alone is the
//!    whole profile) and a copy is kept in `pre-restore/`;
//! 3. a keychain-protected profile's data key goes into the OS keychain under the profile's
//!    own entry name (an existing profile's entries are left alone);
//! 4. the emptied `-wal`/`-shm` files are removed and the restored file is renamed over the
//!    database in one atomic step, and the directory synced.
//!
//! Nothing of the old profile is lost at any step: until step 4 the database file is the old
//! profile, complete; after it, the copy in `pre-restore/` is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::{file, sync_dir, BackupError, BackupVerification};
use crate::audit::AuditEvent;
use crate::seal::PassKey;
use crate::secret::Secret;
use crate::store::{Store, DB_FILE, IN_USE_FILE};
use crate::vault::keychain::{entry_name, KeyStore};

/// The environment variable that makes a restore stop dead (`abort`) at a named step: the
/// crash tests' way of killing it at an exact point. Steps: `checked`, `copied`,
/// `keychain`, `wal_removed`, `renamed`.
pub const CRASH_AT_ENV: &str = "BROKERDESK_RESTORE_CRASH_AT";

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RestoreReport {
    pub data_dir: String,
    pub backup: BackupVerification,
    /// Where the profile that was replaced is kept (`null`: there was none).
    pub previous_copy: Option<String>,
}

fn crash_point(step: &str) {
    if std::env::var(CRASH_AT_ENV).is_ok_and(|v| v == step) {
        std::process::abort();
    }
}

/// Restores `backup` (read from `path`) into `data_dir`, replacing the profile there.
pub async fn restore(
    path: &Path,
    passphrase: &Secret,
    data_dir: &Path,
    keystore: Arc<dyn KeyStore>,
    actor: &str,
) -> Result<RestoreReport, BackupError> {
    let bytes = super::read_file(path)?;
    let (header, _) = file::read_header(&bytes)?;
    let pass = {
        let passphrase = passphrase.clone();
        let spec = header.key.clone();
        tokio::task::spawn_blocking(move || PassKey::open(&passphrase, &spec))
            .await
            .map_err(|e| BackupError::Failed(e.to_string()))??
    };
    crate::store::create_private_dir(data_dir)
        .map_err(|e| BackupError::io(format!("cannot use {}", data_dir.display()), e))?;
    let _lock = lock_exclusive(data_dir)?;
    remove_leftovers(data_dir);

    // 1. Open and check it all, into a private temporary file beside the database.
    let (header, manifest, db) = file::open(&pass, &bytes)?;
    drop(bytes);
    let staged = data_dir.join(format!(".restore-{}.db", uuid::Uuid::new_v4()));
    let result = async {
        super::write_new_file(&staged, &db)?;
        drop(db);
        let (accounts, audit_entries) = super::check_database_file(&staged, &manifest).await?;
        let verification = BackupVerification {
            path: path.display().to_string(),
            created_at: header.created_at.clone(),
            app_version: header.app_version.clone(),
            trigger: header.trigger,
            schema_version: header.schema_version,
            protection: manifest.protection.clone(),
            accounts,
            audit_entries,
            intact: true,
        };
        crash_point("checked");

        // 2. Fold the WAL into the database; keep a copy.
        let db_path = data_dir.join(DB_FILE);
        let previous_copy = if db_path.exists() {
            checkpoint(&db_path).await?;
            Some(keep_copy(data_dir, &db_path)?)
        } else {
            None
        };
        crash_point("copied");

        // 3. The data key of a keychain-protected profile.
        if let Some(dek) = manifest.data_key()? {
            let name = entry_name(&manifest.vault_id, manifest.key_generation);
            let ks = keystore.clone();
            tokio::task::spawn_blocking(move || ks.set(&name, &dek))
                .await
                .map_err(|e| BackupError::Failed(e.to_string()))?
                .map_err(|e| {
                    BackupError::Failed(format!(
                        "this profile keeps its key in the OS keychain, and the key could not be stored in this machine's keychain ({e}); restore where a keychain is available"
                    ))
                })?;
        }
        crash_point("keychain");

        // 4. Out with the (empty) WAL, in with the restored database.
        for suffix in ["-wal", "-shm"] {
            let p = data_dir.join(format!("{DB_FILE}{suffix}"));
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(BackupError::io(format!("cannot remove {}", p.display()), e)),
            }
        }
        crash_point("wal_removed");
        std::fs::rename(&staged, &db_path)
            .map_err(|e| BackupError::io("cannot put the restored database in place", e))?;
        sync_dir(data_dir).map_err(|e| BackupError::io("cannot sync the data directory", e))?;
        crash_point("renamed");
        Ok((verification, previous_copy))
    }
    .await;
    let _ = std::fs::remove_file(&staged);
    let (verification, previous_copy) = result?;
    drop(_lock);

    // The restored profile's own log says so (unkeyed: the key is not at hand here; the next
    // keyed entry authenticates it).
    let store = Store::open(data_dir).await?;
    let mut conn = store.acquire().await?;
    let detail = format!(
        "restored from the backup made {} ({}){}",
        verification.created_at,
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        previous_copy
            .as_ref()
            .map(|p| format!("; the replaced profile is kept at {}", p.display()))
            .unwrap_or_default()
    );
    crate::audit::append(
        &mut conn,
        None,
        actor,
        AuditEvent::ProfileRestored,
        None,
        &detail,
    )
    .await?;
    drop(conn);
    store.close().await;

    Ok(RestoreReport {
        data_dir: data_dir.display().to_string(),
        backup: verification,
        previous_copy: previous_copy.map(|p| p.display().to_string()),
    })
}

/// Takes the profile's in-use lock exclusively, or says who holds it.
fn lock_exclusive(data_dir: &Path) -> Result<std::fs::File, BackupError> {
    let path = data_dir.join(IN_USE_FILE);
    let f = crate::store::open_lock_file(&path)
        .map_err(|e| BackupError::io(format!("cannot open {}", path.display()), e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(BackupError::ProfileInUse(data_dir.to_path_buf()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(BackupError::io(
            format!("cannot lock {}", path.display()),
            e,
        )),
    }
}

/// Folds the WAL into the database file and truncates it.
async fn checkpoint(db_path: &Path) -> Result<(), BackupError> {
    use sqlx::{ConnectOptions as _, Connection as _};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db_path)
        .connect()
        .await
        .map_err(|e| BackupError::Failed(format!("cannot open the current profile ({e})")))?;
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| BackupError::Failed(format!("cannot checkpoint the current profile ({e})")))?;
    let _ = conn.close().await;
    if busy != 0 {
        return Err(BackupError::ProfileInUse(
            db_path.parent().unwrap_or(db_path).to_path_buf(),
        ));
    }
    Ok(())
}

/// Copies the current database to `pre-restore/brokerdesk-<time>.db` (through a temporary
/// name, synced).
fn keep_copy(data_dir: &Path, db_path: &Path) -> Result<PathBuf, BackupError> {
    let dir = data_dir.join("pre-restore");
    crate::store::create_private_dir(&dir)
        .map_err(|e| BackupError::io(format!("cannot create {}", dir.display()), e))?;
    let name = format!(
        "brokerdesk-{}.db",
        chrono::Utc::now().format("%Y%m%d-%H%M%S%.3fZ")
    );
    let target = dir.join(&name);
    let bytes = std::fs::read(db_path)
        .map_err(|e| BackupError::io("cannot read the current profile", e))?;
    super::write_new_file(&target, &bytes)?;
    Ok(target)
}

/// Removes temporary files a crashed restore or backup left behind.
fn remove_leftovers(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if (name.starts_with(".restore-")
            || name.starts_with(".verify-")
            || name.starts_with(".snapshot-"))
            && name.ends_with(".db")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
