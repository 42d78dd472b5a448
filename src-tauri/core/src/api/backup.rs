//! Encrypted backups over the API (`backup/`): the passphrase (a step-up), the schedule,
//! backing up now, the list and a full check of one file. Restoring runs with the profile
//! closed, so it is [`crate::backup::restore::restore`], not a method here.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::guard::Sensitive;
use super::{api, Brokerdesk};
use crate::audit::AuditEvent;
use crate::backup::{
    self, BackupConfig, BackupError, BackupFile, BackupRun, BackupTrigger, BackupVerification,
};
use crate::error::{ApiError, Code};
use crate::seal::PassKey;
use crate::secret::Secret;
use crate::store::StoreError;

/// Where backups stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BackupStatus {
    /// A backup passphrase is set (without one no backup can be made).
    pub passphrase_set: bool,
    pub config: BackupConfig,
    /// The folder backups go to now.
    pub folder: String,
    /// The default folder (`<data dir>/backups`).
    pub default_folder: String,
    pub last_backup: Option<BackupRun>,
    /// The last attempt that failed, if none succeeded after it.
    pub last_failure: Option<BackupRun>,
    /// When the schedule makes the next one (RFC 3339; `null`: not scheduled, or no
    /// passphrase). "Due now" is a time in the past: the app makes it within 15 minutes.
    pub next_due: Option<String>,
}

impl Brokerdesk {
    /// Where backups stand (readable while locked).
    pub async fn backup_status(&self) -> Result<BackupStatus, ApiError> {
        let config = backup::load_config(&self.store).await.map_err(api)?;
        let passphrase_set = backup::has_key(&self.store).await.map_err(api)?;
        let (last_backup, last_failure) = backup::last_runs(&self.store).await.map_err(api)?;
        let next_due = (config.scheduled && passphrase_set).then(|| {
            self.last_scheduled_due(last_backup.as_ref())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        Ok(BackupStatus {
            passphrase_set,
            folder: config.folder_in(self.data_dir()).display().to_string(),
            default_folder: backup::default_folder(self.data_dir())
                .display()
                .to_string(),
            config,
            last_backup,
            last_failure,
            next_due,
        })
    }

    /// When the next scheduled backup is due, given the last successful one.
    fn last_scheduled_due(&self, last: Option<&BackupRun>) -> chrono::DateTime<chrono::Utc> {
        last.and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.at).ok())
            .map(|at| {
                at.with_timezone(&chrono::Utc) + chrono::Duration::hours(backup::SCHEDULE_HOURS)
            })
            .unwrap_or_else(chrono::Utc::now)
    }

    /// Whether a scheduled backup is due now.
    pub async fn backup_due(&self) -> Result<bool, ApiError> {
        let s = self.backup_status().await?;
        Ok(s.config.scheduled
            && s.passphrase_set
            && self.last_scheduled_due(s.last_backup.as_ref()) <= chrono::Utc::now())
    }

    /// Sets (or replaces) the backup passphrase: a step-up, since whoever knows it can open
    /// every backup made after (and a keychain profile's backup carries its data key).
    /// Backups made before keep opening with the passphrase they were made with.
    pub async fn backup_set_passphrase(
        &self,
        passphrase: Secret,
    ) -> Result<BackupStatus, ApiError> {
        self.guard(|g| async move {
            crate::seal::check_new_passphrase(&passphrase)
                .map_err(|e| api(BackupError::from(e)))?;
            let _proof = g.step_up(Sensitive::SetBackupPassphrase).await?;
            let had = backup::has_key(&self.store).await.map_err(api)?;
            let pass = tokio::task::spawn_blocking(move || PassKey::create(&passphrase))
                .await
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
                .map_err(|e| api(BackupError::from(e)))?;
            let mut tx = self.store.begin_write().await.map_err(api)?;
            backup::store_key(&mut tx, g.key(), &pass).await.map_err(api)?;
            crate::audit::append(
                &mut tx,
                Some(g.key()),
                self.audit.actor(),
                AuditEvent::BackupPassphraseSet,
                None,
                if had {
                    "the backup passphrase was changed; earlier backups still need the passphrase they were made with"
                } else {
                    "a backup passphrase was set"
                },
            )
            .await
            .map_err(api)?;
            tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
            Ok(())
        })
        .await?;
        self.backup_status().await
    }

    /// Changes the schedule, the folder or the retention.
    pub async fn backup_configure(&self, config: BackupConfig) -> Result<BackupStatus, ApiError> {
        self.guard(|g| async move {
            let fields = config.validate();
            if !fields.is_empty() {
                return Err(ApiError::invalid(fields));
            }
            let old = backup::load_config(&self.store).await.map_err(api)?;
            let mut tx = self.store.begin_write().await.map_err(api)?;
            backup::save_config(&mut tx, &config).await.map_err(api)?;
            crate::audit::append(
                &mut tx,
                Some(g.key()),
                self.audit.actor(),
                AuditEvent::BackupSettingsChanged,
                None,
                &describe_change(&old, &config, self.data_dir()),
            )
            .await
            .map_err(api)?;
            tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
            Ok(())
        })
        .await?;
        self.backup_status().await
    }

    /// Makes a backup now: to `out` (a new file) or into the backup folder. Audited.
    pub async fn backup_create(&self, out: Option<PathBuf>) -> Result<BackupFile, ApiError> {
        self.backup_make(out, BackupTrigger::Manual).await
    }

    /// Makes the scheduled backup and prunes old scheduled ones (the runtime calls this when
    /// [`Brokerdesk::backup_due`]). A failure is recorded (the status and health show it).
    pub async fn backup_scheduled(&self) -> Result<BackupFile, ApiError> {
        let made = self.backup_make(None, BackupTrigger::Scheduled).await;
        if made.is_ok() {
            let config = backup::load_config(&self.store).await.map_err(api)?;
            let folder = config.folder_in(self.data_dir());
            let pruned = tokio::task::spawn_blocking(move || backup::prune(&folder, &config))
                .await
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
            match pruned {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(count = removed.len(), "old scheduled backups deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not prune old backups"),
            }
        }
        made
    }

    async fn backup_make(
        &self,
        out: Option<PathBuf>,
        trigger: BackupTrigger,
    ) -> Result<BackupFile, ApiError> {
        self.guard(|g| async move { self.backup_write(g.key(), out, trigger).await })
            .await
    }

    async fn backup_write(
        &self,
        key: &crate::vault::Unlocked,
        out: Option<PathBuf>,
        trigger: BackupTrigger,
    ) -> Result<BackupFile, ApiError> {
        let made = backup::create(
            &self.store,
            key,
            self.data_dir(),
            out.as_deref(),
            trigger,
            self.audit.actor(),
        )
        .await;
        match made {
            Ok(c) => Ok(c.file),
            Err(e) => {
                // A failure of the backups the folder holds is kept (Settings and `health`
                // show it until one succeeds); a file asked for by hand (`--out`) is the
                // caller's to see, not the schedule's.
                if !matches!(e, BackupError::NotSetUp) && out.is_none() {
                    let _ = backup::record_failure(&self.store, trigger, &e.to_string()).await;
                }
                Err(api(e))
            }
        }
    }

    /// The backups in the backup folder, newest first.
    pub async fn backup_list(&self) -> Result<Vec<BackupFile>, ApiError> {
        let folder = backup::load_config(&self.store)
            .await
            .map_err(api)?
            .folder_in(self.data_dir());
        let current = self.kept_backup_key().await?.map(|k| k.spec());
        tokio::task::spawn_blocking(move || backup::list(&folder, current.as_ref()))
            .await
            .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
            .map_err(api)
    }

    async fn kept_backup_key(&self) -> Result<Option<PassKey>, ApiError> {
        let Ok(key) = self.vault.unlocked().await else {
            return Ok(None);
        };
        let mut conn = self.store.acquire().await.map_err(api)?;
        backup::load_key(&mut conn, &key).await.map_err(api)
    }

    /// Checks a backup file fully (seal, checksum, SQLite's integrity check, schema): with
    /// `passphrase`, or else with the kept key when the file was sealed with it.
    pub async fn backup_verify(
        &self,
        path: &Path,
        passphrase: Option<Secret>,
    ) -> Result<BackupVerification, ApiError> {
        let p = path.to_path_buf();
        let bytes = tokio::task::spawn_blocking(move || backup::read_file(&p))
            .await
            .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
            .map_err(api)?;
        let (header, _) = backup::file::read_header(&bytes).map_err(api)?;
        let pass = match passphrase {
            Some(pp) => {
                let spec = header.key.clone();
                tokio::task::spawn_blocking(move || PassKey::open(&pp, &spec))
                    .await
                    .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?
                    .map_err(|e| api(BackupError::from(e)))?
            }
            None => match self.kept_backup_key().await? {
                Some(k) if k.matches(&header.key) => k,
                Some(_) => {
                    return Err(api(BackupError::Invalid(
                        "this backup was made with an earlier backup passphrase: give that passphrase to check it".to_string(),
                    )))
                }
                None => return Err(api(BackupError::NotSetUp)),
            },
        };
        let (v, _, _) = backup::verify(path, &bytes, &pass, self.data_dir())
            .await
            .map_err(api)?;
        Ok(v)
    }

    /// [`Brokerdesk::backup_verify`] of a file in the backup folder, named by its file name
    /// only (the window cannot point it at any other file), with the kept key.
    pub async fn backup_verify_named(&self, name: &str) -> Result<BackupVerification, ApiError> {
        let plain = Path::new(name)
            .file_name()
            .is_some_and(|n| n == std::ffi::OsStr::new(name));
        if !plain || !name.ends_with(&format!(".{}", backup::EXTENSION)) {
            return Err(ApiError::new(
                Code::NotFound,
                format!("{name:?} is not a backup file name in the backup folder"),
            ));
        }
        let folder = backup::load_config(&self.store)
            .await
            .map_err(api)?
            .folder_in(self.data_dir());
        self.backup_verify(&folder.join(name), None).await
    }
}

/// What a configuration change changed, before → after.
fn describe_change(old: &BackupConfig, new: &BackupConfig, data_dir: &Path) -> String {
    let mut parts = Vec::new();
    let sched = |c: &BackupConfig| if c.scheduled { "daily" } else { "by hand only" };
    if old.scheduled != new.scheduled {
        parts.push(format!("schedule {} → {}", sched(old), sched(new)));
    }
    if old.folder != new.folder {
        parts.push(format!(
            "folder {} → {}",
            old.folder_in(data_dir).display(),
            new.folder_in(data_dir).display()
        ));
    }
    if (old.keep_daily, old.keep_weekly) != (new.keep_daily, new.keep_weekly) {
        parts.push(format!(
            "keep {} daily + {} weekly → {} daily + {} weekly",
            old.keep_daily, old.keep_weekly, new.keep_daily, new.keep_weekly
        ));
    }
    if parts.is_empty() {
        "no backup setting changed".to_string()
    } else {
        parts.join("; ")
    }
}

impl Brokerdesk {
    /// The health check of backups: set up, the last one's age, the last attempt's failure.
    pub(super) async fn backup_health(&self) -> Result<crate::health::HealthCheck, ApiError> {
        use crate::health::{HealthCheck, HealthCode as C, HealthStatus as S};
        let s = self.backup_status().await?;
        if !s.passphrase_set {
            return Ok(HealthCheck::new(
                C::Backups,
                S::Warn,
                "backups are not set up: no backup passphrase",
            )
            .fix(
                "set a backup passphrase in Settings → Backups (or `brokerdesk backup passphrase`)",
            ));
        }
        if let Some(f) = &s.last_failure {
            return Ok(HealthCheck::new(
                C::Backups,
                S::Fail,
                format!(
                    "the last backup attempt ({}) failed: {}",
                    f.at,
                    f.error.as_deref().unwrap_or("unknown error")
                ),
            )
            .fix(
                "check the backup folder (Settings → Backups) and the free space, then back up now",
            ));
        }
        let Some(last) = &s.last_backup else {
            return Ok(
                HealthCheck::new(C::Backups, S::Warn, "no backup has been made yet")
                    .fix("back up now (Settings → Backups, or `brokerdesk backup create`)"),
            );
        };
        let age = chrono::DateTime::parse_from_rfc3339(&last.at)
            .map(|at| chrono::Utc::now() - at.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        let hours = age.num_hours();
        let said = if hours < 1 {
            "less than an hour ago".to_string()
        } else if hours < 48 {
            format!("{hours} h ago")
        } else {
            format!("{} days ago", age.num_days())
        };
        let message = format!("the last backup was made {said} ({})", last.at);
        Ok(if hours >= 2 * backup::SCHEDULE_HOURS {
            HealthCheck::new(C::Backups, S::Warn, message).fix(if s.config.scheduled {
                "the daily backup runs while the app is open and unlocked: open it, or back up now"
            } else {
                "backups are made by hand only: back up now, or turn the daily schedule on"
            })
        } else {
            HealthCheck::new(C::Backups, S::Ok, message)
        })
    }
}
