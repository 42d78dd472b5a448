//! The audit log: an append-only, hash-chained record of everything security-relevant.
//!
//! Each entry's `hash` is SHA-256 over the previous entry's hash and the entry's own fields
//! (length-prefixed, so no two different entries serialise alike). Editing, inserting or
//! deleting a row in the middle breaks the chain at that row, which [`Audit::verify`] names.
//! SQLite triggers refuse updates and deletes through Brokerdesk's own connections; someone
//! with the database file and a sqlite3 shell can drop them, which is what the chain is for.
//! Deleting the newest entries cannot be told from a shorter history: the chain protects the
//! past, not the tail. No entry ever carries a secret: details are built only from ids,
//! names, codes and counts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection};
use ts_rs::TS;

use crate::error::{Code, ErrorCode};
use crate::store::{Store, StoreError};

/// What happened. The string forms are stable (stored, filtered on, exported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AuditEvent {
    VaultCreated,
    VaultUnlocked,
    VaultUnlockFailed,
    VaultLocked,
    MasterPasswordChanged,
    KeyRotated,
    TwofaSetupStarted,
    TwofaEnabled,
    TwofaDisabled,
    TwofaVerified,
    TwofaFailed,
    TwofaLockedOut,
    BackupCodeUsed,
    BackupCodesRegenerated,
    AccountCreated,
    AccountEdited,
    AccountRemoved,
    CredentialsStored,
    CredentialsRotated,
    CredentialsPurged,
    ConnectionAuthFailed,
    ModeSwitched,
    SettingsChanged,
    StatusChanged,
    RiskRefused,
    RiskWarning,
    KillSwitch,
    /// A gateway's TLS certificate was pinned on first use (IBKR).
    CertificatePinned,
    /// A gateway presented another certificate than the pinned one; it was refused.
    CertificateRefused,
    /// A new gateway certificate was trusted by hand (a step-up).
    CertificateTrusted,
}

impl AuditEvent {
    pub const ALL: &'static [AuditEvent] = &[
        AuditEvent::VaultCreated,
        AuditEvent::VaultUnlocked,
        AuditEvent::VaultUnlockFailed,
        AuditEvent::VaultLocked,
        AuditEvent::MasterPasswordChanged,
        AuditEvent::KeyRotated,
        AuditEvent::TwofaSetupStarted,
        AuditEvent::TwofaEnabled,
        AuditEvent::TwofaDisabled,
        AuditEvent::TwofaVerified,
        AuditEvent::TwofaFailed,
        AuditEvent::TwofaLockedOut,
        AuditEvent::BackupCodeUsed,
        AuditEvent::BackupCodesRegenerated,
        AuditEvent::AccountCreated,
        AuditEvent::AccountEdited,
        AuditEvent::AccountRemoved,
        AuditEvent::CredentialsStored,
        AuditEvent::CredentialsRotated,
        AuditEvent::CredentialsPurged,
        AuditEvent::ConnectionAuthFailed,
        AuditEvent::ModeSwitched,
        AuditEvent::SettingsChanged,
        AuditEvent::StatusChanged,
        AuditEvent::RiskRefused,
        AuditEvent::RiskWarning,
        AuditEvent::KillSwitch,
        AuditEvent::CertificatePinned,
        AuditEvent::CertificateRefused,
        AuditEvent::CertificateTrusted,
    ];

    /// Returns the stable string form.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::VaultCreated => "vault_created",
            AuditEvent::VaultUnlocked => "vault_unlocked",
            AuditEvent::VaultUnlockFailed => "vault_unlock_failed",
            AuditEvent::VaultLocked => "vault_locked",
            AuditEvent::MasterPasswordChanged => "master_password_changed",
            AuditEvent::KeyRotated => "key_rotated",
            AuditEvent::TwofaSetupStarted => "twofa_setup_started",
            AuditEvent::TwofaEnabled => "twofa_enabled",
            AuditEvent::TwofaDisabled => "twofa_disabled",
            AuditEvent::TwofaVerified => "twofa_verified",
            AuditEvent::TwofaFailed => "twofa_failed",
            AuditEvent::TwofaLockedOut => "twofa_locked_out",
            AuditEvent::BackupCodeUsed => "backup_code_used",
            AuditEvent::BackupCodesRegenerated => "backup_codes_regenerated",
            AuditEvent::AccountCreated => "account_created",
            AuditEvent::AccountEdited => "account_edited",
            AuditEvent::AccountRemoved => "account_removed",
            AuditEvent::CredentialsStored => "credentials_stored",
            AuditEvent::CredentialsRotated => "credentials_rotated",
            AuditEvent::CredentialsPurged => "credentials_purged",
            AuditEvent::ConnectionAuthFailed => "connection_auth_failed",
            AuditEvent::ModeSwitched => "mode_switched",
            AuditEvent::SettingsChanged => "settings_changed",
            AuditEvent::StatusChanged => "status_changed",
            AuditEvent::RiskRefused => "risk_refused",
            AuditEvent::RiskWarning => "risk_warning",
            AuditEvent::KillSwitch => "kill_switch",
            AuditEvent::CertificatePinned => "certificate_pinned",
            AuditEvent::CertificateRefused => "certificate_refused",
            AuditEvent::CertificateTrusted => "certificate_trusted",
        }
    }
}

impl std::str::FromStr for AuditEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AuditEvent::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| format!("unknown audit event {s:?}"))
    }
}

/// One audit entry as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub event: AuditEvent,
    /// Which surface acted: `app` or `cli`.
    pub actor: String,
    pub account_id: Option<String>,
    /// Human detail (never a secret).
    pub detail: String,
    /// Hex SHA-256 of this entry (chained to the previous one).
    pub hash: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct AuditFilter {
    /// Only these events (empty: all).
    pub events: Vec<AuditEvent>,
    pub account_id: Option<String>,
    /// RFC 3339 bounds, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Case-insensitive text search in the event, detail, actor and account id.
    pub search: Option<String>,
    /// Newest first; at most this many (default 500, max 10,000).
    pub limit: Option<u32>,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditVerification {
    pub ok: bool,
    pub entries: u32,
    /// The first entry whose hash does not follow from its predecessor and contents.
    #[ts(type = "number | null")]
    pub first_broken_id: Option<i64>,
    pub message: String,
}

/// An audit failure.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid audit filter: {0}")]
    BadFilter(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AuditError {
    fn from(e: sqlx::Error) -> Self {
        AuditError::Store(e.into())
    }
}

impl ErrorCode for AuditError {
    fn code(&self) -> Code {
        match self {
            AuditError::BadFilter(_) => Code::Validation,
            AuditError::Store(e) => e.code(),
        }
    }
}

const GENESIS: [u8; 32] = [0u8; 32];

fn entry_hash(
    prev: &[u8],
    at: &str,
    event: &str,
    actor: &str,
    account_id: Option<&str>,
    detail: &str,
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"brokerdesk-audit-v1");
    h.update(prev);
    for field in [at, event, actor, account_id.unwrap_or("\u{0}none"), detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends an entry inside the caller's transaction (so the entry commits with the change it
/// records, or not at all). Call within a write (`BEGIN IMMEDIATE`) transaction: that lock
/// keeps two processes from chaining onto the same predecessor.
pub async fn append(
    conn: &mut SqliteConnection,
    actor: &str,
    event: AuditEvent,
    account_id: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let prev: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_vec());
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let hash = entry_hash(&prev, &at, event.as_str(), actor, account_id, detail);
    sqlx::query("INSERT INTO audit_log (at, event, actor, account_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(&at)
        .bind(event.as_str())
        .bind(actor)
        .bind(account_id)
        .bind(detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Reads and checks the audit log.
#[derive(Clone)]
pub struct Audit {
    store: Store,
    actor: String,
}

impl Audit {
    pub fn new(store: Store, actor: impl Into<String>) -> Self {
        Self {
            store,
            actor: actor.into(),
        }
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Records an event in its own transaction (for events that change nothing else, such
    /// as a failed unlock). A failure to record is logged, never fatal to the caller.
    pub async fn record(&self, event: AuditEvent, account_id: Option<&str>, detail: &str) {
        let result = async {
            let mut tx = self.store.begin_write().await?;
            append(&mut tx, &self.actor, event, account_id, detail).await?;
            tx.commit().await.map_err(StoreError::from)
        }
        .await;
        if let Err(e) = result {
            tracing::error!(event = event.as_str(), error = %e, "could not write the audit log");
        }
    }

    /// Lists entries, newest first.
    pub async fn list(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, AuditError> {
        let limit = f.limit.unwrap_or(500).clamp(1, 10_000);
        self.query(f, Some(limit)).await
    }

    async fn query(
        &self,
        f: &AuditFilter,
        limit: Option<u32>,
    ) -> Result<Vec<AuditEntry>, AuditError> {
        for (name, v) in [("since", &f.since), ("until", &f.until)] {
            if let Some(v) = v {
                DateTime::parse_from_rfc3339(v)
                    .map_err(|e| AuditError::BadFilter(format!("{name}: {e}")))?;
            }
        }
        let mut sql = String::from(
            "SELECT id, at, event, actor, account_id, detail, hash FROM audit_log WHERE 1 = 1",
        );
        let mut binds: Vec<String> = Vec::new();
        if !f.events.is_empty() {
            sql.push_str(&format!(
                " AND event IN ({})",
                vec!["?"; f.events.len()].join(", ")
            ));
            binds.extend(f.events.iter().map(|e| e.as_str().to_string()));
        }
        if let Some(a) = &f.account_id {
            sql.push_str(" AND account_id = ?");
            binds.push(a.clone());
        }
        // Timestamps are stored in one fixed RFC 3339 UTC format, so compare as instants.
        if let Some(s) = &f.since {
            sql.push_str(" AND julianday(at) >= julianday(?)");
            binds.push(s.clone());
        }
        if let Some(u) = &f.until {
            sql.push_str(" AND julianday(at) <= julianday(?)");
            binds.push(u.clone());
        }
        if let Some(q) = f
            .search
            .as_ref()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            sql.push_str(" AND (instr(lower(event), ?1x) > 0 OR instr(lower(detail), ?1x) > 0 OR instr(lower(actor), ?1x) > 0 OR instr(lower(COALESCE(account_id, '')), ?1x) > 0)");
            let n = binds.len() + 1;
            sql = sql.replace("?1x", &format!("?{n}"));
            binds.push(q.to_lowercase());
        }
        sql.push_str(" ORDER BY id DESC");
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(self.store.pool()).await?;
        rows.iter()
            .map(|r| {
                let event: String = r.try_get("event")?;
                let hash: Vec<u8> = r.try_get("hash")?;
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    event: event
                        .parse()
                        .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
                    actor: r.try_get("actor")?,
                    account_id: r.try_get("account_id")?,
                    detail: r.try_get("detail")?,
                    hash: hex(&hash),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(AuditError::from)
    }

    /// Walks the whole chain from the first entry and names the first one that breaks it.
    pub async fn verify(&self) -> Result<AuditVerification, AuditError> {
        let rows = sqlx::query("SELECT id, at, event, actor, account_id, detail, prev_hash, hash FROM audit_log ORDER BY id")
            .fetch_all(self.store.pool())
            .await?;
        let mut prev = GENESIS.to_vec();
        let mut count = 0u32;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let stored_prev: Vec<u8> = r.try_get("prev_hash")?;
            let stored: Vec<u8> = r.try_get("hash")?;
            let account: Option<String> = r.try_get("account_id")?;
            let expect = entry_hash(
                &prev,
                &r.try_get::<String, _>("at")?,
                &r.try_get::<String, _>("event")?,
                &r.try_get::<String, _>("actor")?,
                account.as_deref(),
                &r.try_get::<String, _>("detail")?,
            );
            if stored_prev != prev || stored != expect {
                let why = if stored_prev != prev {
                    "it does not follow from the entry before it (an entry was removed or inserted)"
                } else {
                    "its contents were changed after it was written"
                };
                return Ok(AuditVerification {
                    ok: false,
                    entries: count,
                    first_broken_id: Some(id),
                    message: format!("the audit log was tampered with at entry {id}: {why}"),
                });
            }
            prev = stored;
            count += 1;
        }
        Ok(AuditVerification {
            ok: true,
            entries: count,
            first_broken_id: None,
            message: format!("all {count} entries are intact"),
        })
    }

    /// Returns every entry matching `f` as CSV (RFC 4180), oldest first. The filter's
    /// `limit` applies when given; without one the export is complete.
    pub async fn export_csv(&self, f: &AuditFilter) -> Result<String, AuditError> {
        let mut entries = self.query(f, f.limit).await?;
        entries.reverse();
        let mut out = String::from("id,at,event,actor,account_id,detail,hash\r\n");
        for e in entries {
            let cells = [
                e.id.to_string(),
                e.at,
                e.event.as_str().to_string(),
                e.actor,
                e.account_id.unwrap_or_default(),
                e.detail,
                e.hash,
            ];
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        Ok(out)
    }
}

fn csv_cell(s: &str) -> String {
    // Quote as RFC 4180 asks, and defuse spreadsheet formulas (=, +, -, @ at the start).
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
