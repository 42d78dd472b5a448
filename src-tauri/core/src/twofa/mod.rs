//! Two-factor step-up: TOTP (RFC 6238) plus single-use backup codes, a persisted lockout
//! after repeated failures, and the 15-minute step-up window that sensitive changes need.
//!
//! State lives in the store so every Brokerdesk process (the app and each CLI call) sees the
//! same thing: the TOTP secret (sealed by the vault), the last accepted time step (replay
//! protection), consecutive failures and the lockout they caused (which a restart does not
//! reset), and the end of the current step-up window.

pub mod backup;
pub mod qr;
pub mod totp;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::Row;
use ts_rs::TS;

use crate::audit::{self, AuditEvent};
use crate::error::{Code, ErrorCode};
use crate::secret::Secret;
use crate::store::{Store, StoreError};
use crate::vault::integrity;
use crate::vault::{Unlocked, Vault, VaultError, TWOFA_SECRET_BINDING as SECRET_BINDING};

/// How long a successful verification keeps sensitive changes open.
pub const STEP_UP_MINUTES: i64 = 15;
/// How recent the code must be for the actions that need a code of their own (turning 2FA
/// off, new backup codes): entered for that action, not left over from an earlier one.
pub const FRESH_CODE_SECONDS: i64 = 60;
/// Consecutive failures before a lockout.
pub const MAX_FAILURES: i64 = 5;
/// The first lockout lasts this long; each further one doubles it, up to a day.
pub const FIRST_LOCKOUT_SECONDS: i64 = 60;
const MAX_LOCKOUT_SECONDS: i64 = 24 * 3600;

/// The two-factor state as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Set up but not yet confirmed with a code.
    pub pending: bool,
    pub backup_codes_remaining: u32,
    /// Until when sensitive changes are allowed without a new code (RFC 3339), if open.
    pub step_up_until: Option<String>,
    /// Until when verification is refused after too many failures (RFC 3339), if locked out.
    pub locked_until: Option<String>,
    pub failed_attempts: u32,
}

/// What the user needs to add Brokerdesk to an authenticator app. Shown once, at setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TwoFactorSetup {
    pub otpauth_uri: String,
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    /// The otpauth URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Fresh backup codes. Shown once; only salted hashes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BackupCodes {
    pub codes: Vec<String>,
}

/// A two-factor failure.
#[derive(Debug, thiserror::Error)]
pub enum TwofaError {
    #[error("two-factor authentication is not enabled")]
    NotEnabled,
    #[error("two-factor authentication is already enabled; disable it first to set it up again")]
    AlreadyEnabled,
    #[error("two-factor authentication has not been set up; start the setup first")]
    NotSetUp,
    #[error("wrong two-factor code ({remaining} attempts left before a lockout)")]
    WrongCode { remaining: i64 },
    #[error("this two-factor code was already used; wait for the next one")]
    Replayed,
    #[error("too many wrong two-factor codes: try again after {until}")]
    LockedOut { until: String },
    #[error("this change needs a fresh two-factor code (or a backup code)")]
    StepUpRequired,
    #[error("nothing to copy: {0}")]
    NothingToCopy(&'static str),
    #[error("could not render the QR code: {0}")]
    Qr(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TwofaError {
    fn from(e: sqlx::Error) -> Self {
        TwofaError::Store(e.into())
    }
}

impl ErrorCode for TwofaError {
    fn code(&self) -> Code {
        match self {
            TwofaError::NotEnabled => Code::TwofaNotEnabled,
            TwofaError::AlreadyEnabled => Code::TwofaAlreadyEnabled,
            TwofaError::NotSetUp => Code::TwofaNotSetUp,
            TwofaError::WrongCode { .. } => Code::WrongCode,
            TwofaError::Replayed => Code::CodeReplayed,
            TwofaError::LockedOut { .. } => Code::TwofaLockedOut,
            TwofaError::StepUpRequired => Code::StepUpRequired,
            TwofaError::Qr(_) => Code::QrFailed,
            TwofaError::NothingToCopy(_) => Code::NotFound,
            TwofaError::Vault(e) => e.code(),
            TwofaError::Store(e) => e.code(),
        }
    }
}

struct Row2fa {
    enabled: bool,
    secret_sealed: Vec<u8>,
    last_step: i64,
    failed_attempts: i64,
    lockouts: i64,
    locked_until: Option<DateTime<Utc>>,
}

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An open step-up window.
#[derive(Debug, Clone, Copy)]
struct Window {
    until: DateTime<Utc>,
    /// When its code was verified; `None` once an action that needs a code of its own used it.
    fresh_since: Option<DateTime<Utc>>,
}

/// A clock, replaceable in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Backup codes issued by this process, one per line, and when.
type Issued = (DateTime<Utc>, zeroize::Zeroizing<String>);

/// How long after they were issued this process's new backup codes can still be copied.
pub const CODES_COPYABLE_FOR: Duration = Duration::minutes(10);

/// Two-factor operations over the store.
#[derive(Clone)]
pub struct TwoFactor {
    store: Store,
    /// The step-up window, in this process's memory only: a code verified by one process
    /// (the app, one CLI command) opens nothing for another, and no database edit opens it.
    window: Arc<std::sync::Mutex<Option<Window>>>,
    /// The backup codes this process issued last, and when: they may be copied (by
    /// reference, `clipboard_copy`) for [`CODES_COPYABLE_FOR`] after they were shown.
    issued: Arc<std::sync::Mutex<Option<Issued>>>,
    /// For the key that tags the two-factor state (`vault::integrity`).
    vault: Arc<Vault>,
    actor: String,
    profile: String,
    clock: Clock,
}

impl TwoFactor {
    /// `profile` names this Brokerdesk profile in authenticator apps.
    pub fn new(
        store: Store,
        vault: Arc<Vault>,
        actor: impl Into<String>,
        profile: impl Into<String>,
    ) -> Self {
        Self {
            store,
            window: Arc::new(std::sync::Mutex::new(None)),
            issued: Arc::new(std::sync::Mutex::new(None)),
            vault,
            actor: actor.into(),
            profile: profile.into(),
            clock: Arc::new(Utc::now),
        }
    }

    /// Replaces the clock (tests of skew, replay, lockout and expiry).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    async fn load(&self, conn: &mut sqlx::SqliteConnection) -> Result<Option<Row2fa>, TwofaError> {
        let Some(r) = sqlx::query("SELECT * FROM twofa WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Row2fa {
            enabled: r.try_get::<String, _>("state")? == "enabled",
            secret_sealed: r.try_get("secret_sealed")?,
            last_step: r.try_get("last_step")?,
            failed_attempts: r.try_get("failed_attempts")?,
            lockouts: r.try_get("lockouts")?,
            locked_until: parse_time(r.try_get("locked_until")?),
        }))
    }

    /// Loads the row after checking the two-factor state's tag: state edited outside
    /// Brokerdesk (a deleted row, a longer window, reset counters, a planted backup code) is
    /// refused with `state_tampered`, so no decision is taken on its word.
    ///
    /// The check and the load read one snapshot (a read transaction): read apart, a write
    /// committed between them (another code being verified at the same moment) would pair
    /// one state's row with the next state's tag and look like tampering.
    async fn load_checked(
        &self,
        conn: &mut sqlx::SqliteConnection,
    ) -> Result<Option<Row2fa>, TwofaError> {
        let key = self.vault.unlocked().await?;
        self.load_checked_with(conn, &key).await
    }

    /// [`Self::load_checked`] under `key`, in one read snapshot.
    async fn load_checked_with(
        &self,
        conn: &mut sqlx::SqliteConnection,
        key: &Unlocked,
    ) -> Result<Option<Row2fa>, TwofaError> {
        use sqlx::Connection;
        let mut snapshot = conn.begin().await?;
        integrity::check_twofa(&mut snapshot, key).await?;
        let row = self.load(&mut snapshot).await?;
        snapshot.commit().await?;
        Ok(row)
    }

    /// Returns the current state.
    pub async fn status(&self) -> Result<TwoFactorStatus, TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        let row = self.load(&mut conn).await?;
        let remaining: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM twofa_backup_codes WHERE used_at IS NULL")
                .fetch_one(&mut *conn)
                .await?;
        let now = self.now();
        Ok(match row {
            None => TwoFactorStatus {
                enabled: false,
                pending: false,
                backup_codes_remaining: 0,
                step_up_until: None,
                locked_until: None,
                failed_attempts: 0,
            },
            Some(r) => TwoFactorStatus {
                enabled: r.enabled,
                pending: !r.enabled,
                backup_codes_remaining: if r.enabled {
                    u32::try_from(remaining).unwrap_or(0)
                } else {
                    0
                },
                step_up_until: self
                    .window()
                    .map(|w| w.until)
                    .filter(|t| *t > now && r.enabled)
                    .map(fmt_time),
                locked_until: r.locked_until.filter(|t| *t > now).map(fmt_time),
                failed_attempts: u32::try_from(r.failed_attempts).unwrap_or(0),
            },
        })
    }

    /// Returns true when 2FA is on.
    pub async fn is_enabled(&self) -> Result<bool, TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        Ok(self
            .load_checked(&mut conn)
            .await?
            .is_some_and(|r| r.enabled))
    }

    /// Starts (or restarts) setup: a new 160-bit secret, stored sealed as pending.
    pub async fn setup(&self, key: &Unlocked) -> Result<TwoFactorSetup, TwofaError> {
        let mut tx = self.store.begin_write().await?;
        key.check_generation(&mut tx).await?;
        integrity::check_twofa(&mut tx, key).await?;
        if self.load(&mut tx).await?.is_some_and(|r| r.enabled) {
            return Err(TwofaError::AlreadyEnabled);
        }
        let mut secret = zeroize::Zeroizing::new([0u8; totp::SECRET_BYTES]);
        getrandom::fill(secret.as_mut()).map_err(|_| TwofaError::Vault(VaultError::Random))?;
        let sealed = key.seal(SECRET_BINDING, secret.as_ref())?;
        let now = fmt_time(self.now());
        sqlx::query(
            "INSERT INTO twofa (id, state, secret_sealed, last_step, failed_attempts, lockouts, updated_at)
             VALUES (1, 'pending', ?1, 0, 0, 0, ?2)
             ON CONFLICT (id) DO UPDATE SET state = 'pending', secret_sealed = ?1, last_step = 0, updated_at = ?2",
        )
        .bind(&sealed)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            Some(key),
            &self.actor,
            AuditEvent::TwofaSetupStarted,
            None,
            "",
        )
        .await?;
        integrity::retag_twofa(&mut tx, key).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let t = totp::totp(secret.as_ref(), &self.profile).map_err(TwofaError::Qr)?;
        let uri = t.to_url().map_err(|e| TwofaError::Qr(e.to_string()))?;
        Ok(TwoFactorSetup {
            qr_svg: qr::svg(&uri)?,
            secret: t.secret().to_base32(),
            otpauth_uri: uri,
        })
    }

    fn remember_issued(&self, codes: &[String]) {
        *self.issued.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((self.now(), zeroize::Zeroizing::new(codes.join("\n"))));
    }

    /// The backup codes this process issued in the last [`CODES_COPYABLE_FOR`], one per line
    /// (for the clipboard: they are shown once, and only hashes are stored).
    pub fn issued_codes(&self) -> Result<Secret, TwofaError> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        match issued.as_ref() {
            Some((at, codes)) if self.now() - *at <= CODES_COPYABLE_FOR => {
                Ok(Secret::new(codes.as_str()))
            }
            _ => Err(TwofaError::NothingToCopy(
                "the backup codes can be copied for 10 minutes after they were issued; issue new ones to copy them again",
            )),
        }
    }

    /// The secret of a setup not yet confirmed, in base32 (for the clipboard, to type into
    /// an authenticator app). Once 2FA is on its secret is never given out again.
    pub async fn pending_secret(&self, key: &Unlocked) -> Result<Secret, TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        let row = self.load(&mut conn).await?.ok_or(TwofaError::NotSetUp)?;
        if row.enabled {
            return Err(TwofaError::NothingToCopy(
                "two-factor authentication is on: its secret is not shown again",
            ));
        }
        let secret = key.open_bytes(SECRET_BINDING, &row.secret_sealed)?;
        let t = totp::totp(&secret, &self.profile).map_err(TwofaError::Qr)?;
        Ok(Secret::new(t.secret().to_base32()))
    }

    /// Returns the pending or enabled setup's otpauth URI (for `twofa setup --qr-png`).
    pub async fn otpauth_uri(&self, key: &Unlocked) -> Result<String, TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        let row = self.load(&mut conn).await?.ok_or(TwofaError::NotSetUp)?;
        let secret = key.open_bytes(SECRET_BINDING, &row.secret_sealed)?;
        let t = totp::totp(&secret, &self.profile).map_err(TwofaError::Qr)?;
        t.to_url().map_err(|e| TwofaError::Qr(e.to_string()))
    }

    /// Confirms setup with a valid code: 2FA is on, and the 10 backup codes are returned
    /// (once). Also opens the step-up window.
    pub async fn enable(&self, key: &Unlocked, code: &str) -> Result<BackupCodes, TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        let row = self.load(&mut conn).await?.ok_or(TwofaError::NotSetUp)?;
        drop(conn);
        if row.enabled {
            return Err(TwofaError::AlreadyEnabled);
        }
        self.check(key, code, false).await?;
        let codes = backup::generate();
        let hashed = backup::hash_all(&codes).await?;
        let mut tx = self.store.begin_write().await?;
        integrity::check_twofa(&mut tx, key).await?;
        let now = fmt_time(self.now());
        sqlx::query(
            "UPDATE twofa SET state = 'enabled', enabled_at = ?1, updated_at = ?1 WHERE id = 1",
        )
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        backup::replace(&mut tx, &hashed, &now).await?;
        audit::append(
            &mut tx,
            Some(key),
            &self.actor,
            AuditEvent::TwofaEnabled,
            None,
            "10 backup codes issued",
        )
        .await?;
        integrity::retag_twofa(&mut tx, key).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.remember_issued(&codes);
        Ok(BackupCodes { codes })
    }

    /// Verifies a TOTP or backup code and opens the 15-minute step-up window.
    pub async fn verify(&self, key: &Unlocked, code: &str) -> Result<TwoFactorStatus, TwofaError> {
        if !self.is_enabled().await? {
            return Err(TwofaError::NotEnabled);
        }
        self.check(key, code, true).await?;
        self.status().await
    }

    fn window(&self) -> Option<Window> {
        *self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails with `step_up_required` unless 2FA is off or this process verified a code in the
    /// last 15 minutes. With `own_code` (turning 2FA off, new backup codes) the code must have
    /// been entered for this action: verified in the last minute and not used by another such
    /// action; this call uses it up.
    pub async fn require_step_up(&self, own_code: bool) -> Result<(), TwofaError> {
        let mut conn = self.store.pool().acquire().await?;
        let enabled = self
            .load_checked(&mut conn)
            .await?
            .is_some_and(|r| r.enabled);
        if !enabled {
            return Ok(());
        }
        let now = self.now();
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        match window.as_mut() {
            Some(w) if w.until > now && !own_code => Ok(()),
            Some(w)
                if w.until > now
                    && w.fresh_since
                        .is_some_and(|t| now - t <= Duration::seconds(FRESH_CODE_SECONDS)) =>
            {
                w.fresh_since = None;
                Ok(())
            }
            _ => Err(TwofaError::StepUpRequired),
        }
    }

    /// Closes the step-up window (locking the app revokes it, as `sudo -k` does).
    pub fn end_step_up(&self) {
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Turns 2FA off (a step-up-protected change: the caller checks the window first).
    pub async fn disable(&self, _auth: &crate::api::guard::Authorized) -> Result<(), TwofaError> {
        if !self.is_enabled().await? {
            return Err(TwofaError::NotEnabled);
        }
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        integrity::check_twofa(&mut tx, &key).await?;
        sqlx::query("DELETE FROM twofa").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM twofa_backup_codes")
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            Some(&*key),
            &self.actor,
            AuditEvent::TwofaDisabled,
            None,
            "",
        )
        .await?;
        integrity::retag_twofa(&mut tx, &key).await?;
        tx.commit().await.map_err(StoreError::from)?;
        *self.issued.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Issues 10 new backup codes; the old ones stop working.
    pub async fn regenerate_backup_codes(
        &self,
        _auth: &crate::api::guard::Authorized,
    ) -> Result<BackupCodes, TwofaError> {
        if !self.is_enabled().await? {
            return Err(TwofaError::NotEnabled);
        }
        let codes = backup::generate();
        let hashed = backup::hash_all(&codes).await?;
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        integrity::check_twofa(&mut tx, &key).await?;
        backup::replace(&mut tx, &hashed, &fmt_time(self.now())).await?;
        audit::append(
            &mut tx,
            Some(&*key),
            &self.actor,
            AuditEvent::BackupCodesRegenerated,
            None,
            "10 backup codes issued; the previous ones no longer work",
        )
        .await?;
        integrity::retag_twofa(&mut tx, &key).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.remember_issued(&codes);
        Ok(BackupCodes { codes })
    }

    /// Checks a code against the stored secret (and, when `allow_backup`, the backup codes),
    /// enforcing the lockout and replay rules, and records the outcome.
    async fn check(
        &self,
        key: &Unlocked,
        code: &str,
        allow_backup: bool,
    ) -> Result<(), TwofaError> {
        let now = self.now();
        let mut conn = self.store.pool().acquire().await?;
        let row = self
            .load_checked_with(&mut conn, key)
            .await?
            .ok_or(TwofaError::NotSetUp)?;
        drop(conn);
        if let Some(until) = row.locked_until.filter(|t| *t > now) {
            return Err(TwofaError::LockedOut {
                until: fmt_time(until),
            });
        }
        let secret = key.open_bytes(SECRET_BINDING, &row.secret_sealed)?;
        let t = totp::totp(&secret, &self.profile).map_err(TwofaError::Qr)?;
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let step =
            totp::matching_step(&t, code, unix).map(|s| i64::try_from(s).unwrap_or(i64::MAX));

        // Read-modify-write of the counters in one immediate transaction: the row is read
        // again under the write lock, so parallel wrong codes (several processes, or many
        // calls at once) each count, and a lockout set meanwhile is honoured.
        let mut tx = self.store.begin_write().await?;
        integrity::check_twofa(&mut tx, key).await?;
        let row = self.load(&mut tx).await?.ok_or(TwofaError::NotSetUp)?;
        if let Some(until) = row.locked_until.filter(|t| *t > now) {
            return Err(TwofaError::LockedOut {
                until: fmt_time(until),
            });
        }
        let outcome = match step {
            Some(s) if s <= row.last_step => Err(TwofaError::Replayed),
            Some(s) => {
                sqlx::query("UPDATE twofa SET last_step = ? WHERE id = 1")
                    .bind(s)
                    .execute(&mut *tx)
                    .await?;
                Ok(AuditEvent::TwofaVerified)
            }
            None if allow_backup && backup::looks_like(code) => {
                if backup::consume(&mut tx, code, &fmt_time(now)).await? {
                    Ok(AuditEvent::BackupCodeUsed)
                } else {
                    Err(TwofaError::WrongCode { remaining: 0 })
                }
            }
            None => Err(TwofaError::WrongCode { remaining: 0 }),
        };
        match outcome {
            Ok(event) => {
                // Success also resets the lockout escalation: only the rightful user gets here.
                // (The window is this process's own: `step_up_until` stays NULL.)
                sqlx::query("UPDATE twofa SET failed_attempts = 0, lockouts = 0, step_up_until = NULL, updated_at = ? WHERE id = 1")
                    .bind(fmt_time(now))
                    .execute(&mut *tx)
                    .await?;
                audit::append(&mut tx, Some(key), &self.actor, event, None, "").await?;
                integrity::retag_twofa(&mut tx, key).await?;
                tx.commit().await.map_err(StoreError::from)?;
                *self.window.lock().unwrap_or_else(|e| e.into_inner()) = Some(Window {
                    until: now + Duration::minutes(STEP_UP_MINUTES),
                    fresh_since: Some(now),
                });
                Ok(())
            }
            Err(e) => {
                let failures = row.failed_attempts + 1;
                let (failures, lockouts, locked_until) = if failures >= MAX_FAILURES {
                    let secs =
                        (FIRST_LOCKOUT_SECONDS << row.lockouts.min(20)).min(MAX_LOCKOUT_SECONDS);
                    (0, row.lockouts + 1, Some(now + Duration::seconds(secs)))
                } else {
                    (failures, row.lockouts, None)
                };
                sqlx::query("UPDATE twofa SET failed_attempts = ?, lockouts = ?, locked_until = COALESCE(?, locked_until), updated_at = ? WHERE id = 1")
                    .bind(failures)
                    .bind(lockouts)
                    .bind(locked_until.map(fmt_time))
                    .bind(fmt_time(now))
                    .execute(&mut *tx)
                    .await?;
                let why = match &e {
                    TwofaError::Replayed => "a code was replayed",
                    _ => "a wrong code",
                };
                audit::append(
                    &mut tx,
                    Some(key),
                    &self.actor,
                    AuditEvent::TwofaFailed,
                    None,
                    why,
                )
                .await?;
                if let Some(until) = locked_until {
                    let detail = format!(
                        "{MAX_FAILURES} failures in a row; locked until {}",
                        fmt_time(until)
                    );
                    audit::append(
                        &mut tx,
                        Some(key),
                        &self.actor,
                        AuditEvent::TwofaLockedOut,
                        None,
                        &detail,
                    )
                    .await?;
                }
                integrity::retag_twofa(&mut tx, key).await?;
                tx.commit().await.map_err(StoreError::from)?;
                Err(match (e, locked_until) {
                    (_, Some(until)) => TwofaError::LockedOut {
                        until: fmt_time(until),
                    },
                    (TwofaError::WrongCode { .. }, None) => TwofaError::WrongCode {
                        remaining: MAX_FAILURES - failures,
                    },
                    (other, None) => other,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
