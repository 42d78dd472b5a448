//! The on-disk store: one SQLite file (WAL, foreign keys on) in the data dir, opened through
//! sqlx, with migrations from `migrations/` run at open.
//!
//! Several processes may open the same data dir (the app and the CLI at once): SQLite's own
//! locking keeps that safe, write transactions start `IMMEDIATE` so they queue instead of
//! failing half-way, and an exclusive lock file serialises the migration step at open.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::error::{Code, ErrorCode};

/// The schema migrations, embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The database file's name inside the data dir.
pub const DB_FILE: &str = "brokerdesk.db";
const LOCK_FILE: &str = "brokerdesk.lock";
/// Held (shared) by every open store, and exclusively by a restore: a restore never runs
/// under an open profile, and a profile never opens half-way through a restore.
pub const IN_USE_FILE: &str = "brokerdesk.inuse";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data directory {0} was written by a newer version of Brokerdesk (schema version {1}); upgrade Brokerdesk to open it")]
    NewerSchema(PathBuf, i64),
    #[error("the database could not be migrated: {0}")]
    Migrate(String),
    #[error("the disk is full: the change was not saved")]
    DiskFull,
    #[error("the database is busy (another Brokerdesk process holds a write lock); try again")]
    Busy,
    #[error("the database file is corrupt or not a Brokerdesk database: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlx(String),
}

impl ErrorCode for StoreError {
    fn code(&self) -> Code {
        match self {
            StoreError::DataDir { .. } => Code::DataDir,
            StoreError::NewerSchema(..) => Code::NewerSchema,
            StoreError::Migrate(_) => Code::MigrationFailed,
            StoreError::DiskFull => Code::DiskFull,
            StoreError::Busy => Code::Busy,
            StoreError::Corrupt(_) => Code::CorruptDatabase,
            StoreError::Sqlx(_) => Code::Storage,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLite primary result codes: 5 BUSY, 6 LOCKED, 11 CORRUPT, 13 FULL, 26 NOTADB.
            let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(-1) & 0xff;
            match code {
                5 | 6 => return StoreError::Busy,
                13 => return StoreError::DiskFull,
                11 | 26 => return StoreError::Corrupt(db.message().to_string()),
                _ => {}
            }
        }
        StoreError::Sqlx(e.to_string())
    }
}

/// The open store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    /// The shared in-use lock, released when the last clone is dropped.
    _in_use: std::sync::Arc<File>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, &MIGRATOR, None).await
    }

    /// Opens the store but migrates only up to `target` (tests of upgrades from older schemas).
    pub async fn open_at_version(data_dir: &Path, target: i64) -> Result<Self, StoreError> {
        Self::open_with(data_dir, &MIGRATOR, Some(target)).await
    }

    async fn open_with(
        data_dir: &Path,
        migrator: &Migrator,
        target: Option<i64>,
    ) -> Result<Self, StoreError> {
        let dd_err = |source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        };
        create_private_dir(data_dir).map_err(dd_err)?;
        // Waits while a restore replaces the profile (seconds at most).
        let in_use_path = data_dir.join(IN_USE_FILE);
        let in_use = tokio::task::spawn_blocking(move || {
            let f = open_lock_file(&in_use_path)?;
            f.lock_shared()?;
            Ok::<_, std::io::Error>(f)
        })
        .await
        .map_err(|e| StoreError::Migrate(e.to_string()))?
        .map_err(dd_err)?;
        let path = data_dir.join(DB_FILE);
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(StoreError::from)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Deleted rows (e.g. a removed account's sealed secrets) are overwritten, not left
            // in free pages.
            .pragma("secure_delete", "ON");
        // Two processes creating the same fresh database at once: switching it to WAL can
        // answer SQLITE_BUSY at once, without the busy handler. That passes in a moment: retry
        // for up to 5 s.
        let mut attempt = 0;
        let pool = loop {
            let connected = SqlitePoolOptions::new()
                .max_connections(4)
                // A COMMIT that failed (e.g. disk full) can leave a connection inside its
                // transaction; never hand such a connection out again.
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
                })
                .connect_with(opts.clone())
                .await
                .map_err(StoreError::from);
            match connected {
                Err(StoreError::Busy) if attempt < 100 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => break other?,
            }
        };
        restrict_file(&path).map_err(dd_err)?;

        // Serialise migrations between processes opening the same fresh data dir.
        // flock blocks, and another task of this very process may hold it: wait off-runtime.
        let mut attempt = 0;
        loop {
            let lock_path = data_dir.join(LOCK_FILE);
            let lock = tokio::task::spawn_blocking(move || lock_file(&lock_path))
                .await
                .map_err(|e| StoreError::Migrate(e.to_string()))?
                .map_err(dd_err)?;
            let result = match target {
                Some(t) => migrator.run_to(t, &pool).await,
                None => migrator.run(&pool).await,
            };
            drop(lock);
            match result.map_err(|e| match e {
                MigrateError::VersionMissing(v) => {
                    StoreError::NewerSchema(data_dir.to_path_buf(), v)
                }
                MigrateError::Execute(e) => StoreError::from(e),
                other => StoreError::Migrate(other.to_string()),
            }) {
                // (See the connect above: a fresh database still settling.)
                Err(StoreError::Busy) if attempt < 100 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => break other?,
            }
        }
        Ok(Self {
            pool,
            path,
            _in_use: std::sync::Arc::new(in_use),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Returns the database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection from the pool, for reads (and writes that need no transaction).
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Begins a write transaction that takes SQLite's write lock up front, so two processes
    /// writing at once queue on the busy timeout instead of failing mid-transaction.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Runs SQLite's `quick_check`; returns the problems it names (none: intact).
    pub async fn quick_check(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// Returns the highest applied migration version.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(v.unwrap_or(0))
    }

    /// Copies the WAL into the database and truncates it to nothing (after a purge: the
    /// deleted rows' old pages must not linger in the WAL). With `secure_delete` on, the
    /// freed pages in the database are zeroed too.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await?;
        if busy != 0 {
            // A reader held an old snapshot: nothing lost, the next checkpoint finishes it.
            tracing::warn!("the WAL checkpoint could not complete: another connection is reading");
        }
        Ok(())
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn restrict_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens (creating, 0600) a lock file.
pub(crate) fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    restrict_file(path)?;
    Ok(f)
}

fn lock_file(path: &Path) -> std::io::Result<File> {
    let f = open_lock_file(path)?;
    f.lock()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fresh_db_gets_all_migrations_and_pragmas() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).await.expect("open");
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        assert_eq!(store.schema_version().await.expect("version"), latest);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .expect("q");
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.pool())
            .await
            .expect("q");
        assert_eq!(fk, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(store.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(m & 0o077, 0, "db file must not be group/world readable");
        }
    }

    #[tokio::test]
    async fn older_db_is_upgraded_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = Store::open_at_version(dir.path(), 1)
            .await
            .expect("open v1");
        assert_eq!(old.schema_version().await.expect("v"), 1);
        sqlx::query(
            "INSERT INTO vault (id, vault_id, protection, key_generation, key_check, created_at, updated_at)
             VALUES (1, 'v-old', 'keychain', 1, x'00', 'then', 'then')",
        )
        .execute(old.pool())
        .await
        .expect("insert");
        old.close().await;

        let new = Store::open(dir.path()).await.expect("open latest");
        assert!(new.schema_version().await.expect("v") >= 2);
        let vid: String = sqlx::query_scalar("SELECT vault_id FROM vault")
            .fetch_one(new.pool())
            .await
            .expect("q");
        assert_eq!(vid, "v-old");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(new.pool())
            .await
            .expect("q");
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn newer_schema_is_refused_clearly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::open(dir.path()).await.expect("open");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (9999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
        )
        .execute(s.pool())
        .await
        .expect("insert");
        s.close().await;
        let err = Store::open(dir.path()).await.expect_err("must refuse");
        assert_eq!(err.code(), Code::NewerSchema, "{err}");
    }

    #[tokio::test]
    async fn garbage_file_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(DB_FILE), vec![0x42u8; 8192]).expect("write");
        let err = Store::open(dir.path()).await.expect_err("must refuse");
        assert_eq!(err.code(), Code::CorruptDatabase, "{err}");
    }

    #[tokio::test]
    async fn two_stores_on_one_dir_can_both_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = tokio::join!(Store::open(dir.path()), Store::open(dir.path()));
        let (a, b) = (a.expect("a"), b.expect("b"));
        let mut handles = Vec::new();
        for (i, s) in [a.clone(), b.clone()].into_iter().enumerate() {
            handles.push(tokio::spawn(async move {
                for j in 0..20 {
                    let mut tx = s.begin_write().await.expect("begin");
                    sqlx::query(
                        "INSERT INTO accounts (id, name, broker, environment, created_at, updated_at)
                         VALUES (?, ?, 'paper', 'practice', 'now', 'now')",
                    )
                    .bind(format!("{i}-{j}"))
                    .bind(format!("acct {i}-{j}"))
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                    tx.commit().await.expect("commit");
                }
            }));
        }
        for h in handles {
            h.await.expect("join");
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(a.pool())
            .await
            .expect("q");
        assert_eq!(n, 40);
    }
}
