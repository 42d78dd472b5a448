//! The audit log: an append-only, keyed, hash-chained record of everything security-relevant.
//!
//! Each entry's `hash` covers the previous entry's hash and the entry's own fields
//! (length-prefixed, so no two different entries serialise alike). While the vault is
//! unlocked it is an HMAC-SHA-256 under the **audit key** (32 random bytes sealed under the
//! data key in the vault row, re-sealed by a key rotation; `keyed = 1`), so someone with the
//! database file cannot rewrite an entry and recompute the chain. Entries written while the
//! vault is locked (a failed unlock) carry a plain SHA-256 (`keyed = 0`); the next keyed entry
//! chains over them, which authenticates them from then on.
//!
//! The log's **head** (`audit_head`: the number of entries, the last one's id and hash) is
//! advanced with every keyed entry and carries a MAC of its own, so cutting entries off the
//! end, or removing the head, is caught too. [`Audit::verify`] walks the chain and names the
//! first entry that breaks it. An entry that records a change is written in the same
//! transaction as the change (`append` takes the caller's transaction). SQLite triggers
//! refuse updates and deletes through Brokerdesk's own connections.
//!
//! What it cannot catch (README → Security): entries written while locked and edited before
//! the next unlock, and the whole profile replaced by an older copy of itself (log, head and
//! key together). No entry ever carries a secret: details are built only from ids, names,
//! codes, counts and non-secret settings.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::error::{Code, ErrorCode};
use crate::store::{Store, StoreError};
use crate::vault::{integrity, Unlocked, Vault, VaultError};

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
    /// The configuration was exported (credentials only sealed, with a passphrase).
    ConfigExported,
    /// The backup passphrase was set or changed.
    BackupPassphraseSet,
    /// The backup schedule, folder or retention changed.
    BackupSettingsChanged,
    /// An encrypted backup of the profile was written.
    BackupCreated,
    /// The profile was replaced by a backup (written into the restored profile).
    ProfileRestored,
    /// A configuration file was imported.
    ConfigImported,
    /// Starting at login was turned on or off (the OS's autostart entry).
    AutostartChanged,
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
        AuditEvent::ConfigExported,
        AuditEvent::BackupPassphraseSet,
        AuditEvent::BackupSettingsChanged,
        AuditEvent::BackupCreated,
        AuditEvent::ProfileRestored,
        AuditEvent::ConfigImported,
        AuditEvent::AutostartChanged,
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
            AuditEvent::ConfigExported => "config_exported",
            AuditEvent::BackupPassphraseSet => "backup_passphrase_set",
            AuditEvent::BackupSettingsChanged => "backup_settings_changed",
            AuditEvent::BackupCreated => "backup_created",
            AuditEvent::ProfileRestored => "profile_restored",
            AuditEvent::ConfigImported => "config_imported",
            AuditEvent::AutostartChanged => "autostart_changed",
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
    /// Hex of this entry's chain value: its HMAC under the audit key (or its SHA-256 if it
    /// was written while the vault was locked), chained to the previous one.
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
    #[error(transparent)]
    Vault(#[from] VaultError),
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
            AuditError::Vault(e) => e.code(),
        }
    }
}

const GENESIS: [u8; 32] = [0u8; 32];

/// The fields of an entry, as chained.
struct Fields<'a> {
    at: &'a str,
    event: &'a str,
    actor: &'a str,
    account_id: Option<&'a str>,
    detail: &'a str,
}

impl Fields<'_> {
    fn feed(&self, prev: &[u8], mut update: impl FnMut(&[u8])) {
        update(prev);
        let account = self.account_id.unwrap_or("\u{0}none");
        for field in [self.at, self.event, self.actor, account, self.detail] {
            update(&(field.len() as u64).to_be_bytes());
            update(field.as_bytes());
        }
    }

    /// A plain SHA-256 (an entry written while the vault was locked, or before keying).
    fn sha(&self, prev: &[u8]) -> Vec<u8> {
        let mut h = Sha256::new();
        h.update(b"brokerdesk-audit-v1");
        self.feed(prev, |b| h.update(b));
        h.finalize().to_vec()
    }

    /// The keyed MAC under the audit key.
    fn mac(&self, key: &AuditKey, prev: &[u8]) -> Vec<u8> {
        let mut m = key.mac(b"brokerdesk-audit-v2");
        self.feed(prev, |b| m.update(b));
        m.finalize().into_bytes().to_vec()
    }

    fn hash(&self, key: Option<&AuditKey>, prev: &[u8]) -> Vec<u8> {
        match key {
            Some(k) => self.mac(k, prev),
            None => self.sha(prev),
        }
    }
}

/// The audit key, opened from the vault row.
pub(crate) struct AuditKey(Zeroizing<Vec<u8>>);

/// What the audit key is sealed for (under the data key).
pub(crate) fn audit_key_binding(vault_id: &str) -> String {
    format!("vault:{vault_id}:audit_key")
}

impl AuditKey {
    fn mac(&self, domain: &[u8]) -> Hmac<Sha256> {
        // The key zero-padded to SHA-256's block, exactly as HMAC pads a short key itself
        // (this form cannot fail).
        let mut block = Zeroizing::new([0u8; 64]);
        let n = self.0.len().min(64);
        block[..n].copy_from_slice(&self.0[..n]);
        let mut m = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&(*block).into());
        m.update(domain);
        m
    }

    fn head_mac(&self, entries: i64, last_id: i64, last_hash: &[u8]) -> Vec<u8> {
        let mut m = self.mac(b"brokerdesk-audit-head-v1");
        m.update(&entries.to_be_bytes());
        m.update(&last_id.to_be_bytes());
        m.update(last_hash);
        m.finalize().into_bytes().to_vec()
    }

    /// Opens the audit key (`None` if the vault has none yet).
    async fn open(conn: &mut SqliteConnection, key: &Unlocked) -> Result<Option<Self>, VaultError> {
        let row: Option<(String, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT vault_id, audit_key_sealed FROM vault WHERE id = 1")
                .fetch_optional(&mut *conn)
                .await
                .map_err(StoreError::from)?;
        match row {
            Some((vault_id, Some(sealed))) => Ok(Some(AuditKey(
                key.open_bytes(&audit_key_binding(&vault_id), &sealed)?,
            ))),
            _ => Ok(None),
        }
    }

    /// Opens the audit key, making it the first time (in the caller's write transaction).
    async fn open_or_make(
        conn: &mut SqliteConnection,
        key: &Unlocked,
    ) -> Result<Option<Self>, VaultError> {
        if let Some(k) = Self::open(conn, key).await? {
            return Ok(Some(k));
        }
        let Some(vault_id): Option<String> =
            sqlx::query_scalar("SELECT vault_id FROM vault WHERE id = 1")
                .fetch_optional(&mut *conn)
                .await
                .map_err(StoreError::from)?
        else {
            return Ok(None);
        };
        let mut fresh = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(fresh.as_mut_slice()).map_err(|_| VaultError::Random)?;
        let sealed = key.seal(&audit_key_binding(&vault_id), &fresh)?;
        // The key's existence is part of the tagged vault state (`integrity::twofa_state`),
        // re-tagged only if that state verified before (never laundering an edited one).
        let valid = integrity::check_twofa(&mut *conn, key).await.is_ok();
        sqlx::query("UPDATE vault SET audit_key_sealed = ? WHERE id = 1")
            .bind(&sealed)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from)?;
        if valid {
            integrity::retag_twofa(&mut *conn, key).await?;
        }
        Ok(Some(AuditKey(fresh)))
    }
}

/// The log's authenticated head.
struct Head {
    entries: i64,
    last_id: i64,
    last_hash: Vec<u8>,
    mac: Vec<u8>,
}

impl Head {
    async fn load(conn: &mut SqliteConnection) -> Result<Option<Self>, sqlx::Error> {
        let row: Option<(i64, i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT entries, last_id, last_hash, mac FROM audit_head WHERE id = 1")
                .fetch_optional(&mut *conn)
                .await?;
        Ok(row.map(|(entries, last_id, last_hash, mac)| Head {
            entries,
            last_id,
            last_hash,
            mac,
        }))
    }

    fn valid(&self, key: &AuditKey) -> bool {
        let expected = key.head_mac(self.entries, self.last_id, &self.last_hash);
        expected.len() == self.mac.len()
            && expected
                .iter()
                .zip(&self.mac)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends an entry inside the caller's transaction (so the entry commits with the change it
/// records, or not at all), keyed when `key` (the unlocked vault) is given, and advances the
/// log's authenticated head. Call within a write (`BEGIN IMMEDIATE`) transaction: that lock
/// keeps two processes from chaining onto the same predecessor.
pub async fn append(
    conn: &mut SqliteConnection,
    key: Option<&Unlocked>,
    actor: &str,
    event: AuditEvent,
    account_id: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let audit_key = match key {
        None => None,
        Some(k) => match AuditKey::open_or_make(conn, k).await {
            Ok(ak) => ak,
            Err(VaultError::Store(e)) => return Err(e),
            // An audit key that does not open was edited: the entry is still written (plain),
            // and `verify` reports the key.
            Err(e) => {
                tracing::error!(error = %e, "the audit key does not open; writing the entry unkeyed");
                None
            }
        },
    };
    let prev: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_vec());
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fields = Fields {
        at: &at,
        event: event.as_str(),
        actor,
        account_id,
        detail,
    };
    let hash = fields.hash(audit_key.as_ref(), &prev);
    let id = sqlx::query("INSERT INTO audit_log (at, event, actor, account_id, detail, prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(&at)
        .bind(event.as_str())
        .bind(actor)
        .bind(account_id)
        .bind(detail)
        .bind(&prev)
        .bind(&hash)
        .bind(i64::from(audit_key.is_some()))
        .execute(&mut *conn)
        .await?
        .last_insert_rowid();
    if let Some(ak) = audit_key {
        advance_head(conn, &ak, id, &hash).await?;
    }
    Ok(())
}

/// Moves the head to entry `id` — unless the head there fails its MAC or was removed while
/// keyed entries exist: then it stays broken for `verify` to report, never laundered.
async fn advance_head(
    conn: &mut SqliteConnection,
    key: &AuditKey,
    id: i64,
    hash: &[u8],
) -> Result<(), StoreError> {
    let entries = match Head::load(conn).await? {
        Some(head) if head.valid(key) => {
            let since: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE id > ?")
                .bind(head.last_id)
                .fetch_one(&mut *conn)
                .await?;
            head.entries + since
        }
        Some(_) => return Ok(()),
        None => {
            let keyed_before: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE keyed = 1 AND id < ?")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
            if keyed_before > 0 {
                return Ok(());
            }
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&mut *conn)
                .await?
        }
    };
    sqlx::query(
        "INSERT INTO audit_head (id, entries, last_id, last_hash, mac) VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET entries = ?1, last_id = ?2, last_hash = ?3, mac = ?4",
    )
    .bind(entries)
    .bind(id)
    .bind(hash)
    .bind(key.head_mac(entries, id, hash))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Re-seals the audit key under a new data key (in a key rotation's transaction).
pub(crate) async fn reseal_key(
    conn: &mut SqliteConnection,
    old: &Unlocked,
    next: &Unlocked,
) -> Result<(), VaultError> {
    let vault_id: String = sqlx::query_scalar("SELECT vault_id FROM vault WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    if let Some(ak) = AuditKey::open(conn, old).await? {
        let sealed = next.seal(&audit_key_binding(&vault_id), &ak.0)?;
        sqlx::query("UPDATE vault SET audit_key_sealed = ? WHERE id = 1")
            .bind(&sealed)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

/// Reads and checks the audit log.
#[derive(Clone)]
pub struct Audit {
    store: Store,
    vault: std::sync::Arc<Vault>,
    actor: String,
}

impl Audit {
    pub fn new(store: Store, vault: std::sync::Arc<Vault>, actor: impl Into<String>) -> Self {
        Self {
            store,
            vault,
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
            let key = self.vault.unlocked().await.ok();
            let mut tx = self.store.begin_write().await?;
            append(
                &mut tx,
                key.as_deref(),
                &self.actor,
                event,
                account_id,
                detail,
            )
            .await?;
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

    /// Walks the whole chain from the first entry and names the first one that breaks it:
    /// each keyed entry's MAC, each plain entry's hash, each link, the head's MAC, and that
    /// the log still reaches its head (nothing cut off the end). Needs the vault unlocked.
    pub async fn verify(&self) -> Result<AuditVerification, AuditError> {
        let key = self.vault.unlocked().await?;
        let mut conn = self.store.pool().acquire().await?;
        let broken = |entries: u32, id: Option<i64>, message: String| AuditVerification {
            ok: false,
            entries,
            first_broken_id: id,
            message,
        };
        let audit_key = match AuditKey::open(&mut conn, &key).await {
            Ok(k) => k,
            Err(VaultError::Store(e)) => return Err(e.into()),
            Err(e) => {
                return Ok(broken(
                    0,
                    None,
                    format!("the audit log cannot be checked: its key in the vault does not open ({e}); the profile was edited outside Brokerdesk"),
                ))
            }
        };
        if audit_key.is_none() {
            // Never keyed, or its key removed: the vault's tagged state tells which.
            match integrity::check_twofa(&mut conn, &key).await {
                Ok(()) => {}
                Err(VaultError::StateTampered(_)) => {
                    return Ok(broken(
                        0,
                        None,
                        "the audit log cannot be trusted: its key (or the two-factor settings kept with it) was removed or changed outside Brokerdesk".into(),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        let head = Head::load(&mut conn).await?;
        if let (Some(h), Some(k)) = (&head, &audit_key) {
            if !h.valid(k) {
                return Ok(broken(
                    0,
                    None,
                    "the audit log was tampered with: its authenticated head (entry count and last entry) was edited".into(),
                ));
            }
        }
        let rows = sqlx::query("SELECT id, at, event, actor, account_id, detail, prev_hash, hash, keyed FROM audit_log ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
        let mut prev = GENESIS.to_vec();
        let mut count = 0u32;
        let mut keyed_seen = false;
        let mut head_reached = false;
        let mut after_head = 0u32;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let stored_prev: Vec<u8> = r.try_get("prev_hash")?;
            let stored: Vec<u8> = r.try_get("hash")?;
            let keyed = r.try_get::<i64, _>("keyed")? == 1;
            let account: Option<String> = r.try_get("account_id")?;
            let (at, event, actor, detail): (String, String, String, String) = (
                r.try_get("at")?,
                r.try_get("event")?,
                r.try_get("actor")?,
                r.try_get("detail")?,
            );
            let fields = Fields {
                at: &at,
                event: &event,
                actor: &actor,
                account_id: account.as_deref(),
                detail: &detail,
            };
            if keyed && audit_key.is_none() {
                return Ok(broken(
                    count,
                    Some(id),
                    format!("the audit log was tampered with at entry {id}: it is keyed, but the vault holds no audit key (removed)"),
                ));
            }
            let expect = fields.hash(audit_key.as_ref().filter(|_| keyed), &prev);
            if stored_prev != prev || stored != expect {
                let why = if stored_prev != prev {
                    "it does not follow from the entry before it (an entry was removed or inserted)"
                } else {
                    "its contents were changed after it was written"
                };
                return Ok(broken(
                    count,
                    Some(id),
                    format!("the audit log was tampered with at entry {id}: {why}"),
                ));
            }
            keyed_seen |= keyed;
            count += 1;
            if head_reached {
                after_head += 1;
            }
            if let Some(h) = head.as_ref().filter(|h| h.last_id == id) {
                if h.last_hash != stored || i64::from(count) != h.entries {
                    return Ok(broken(
                        count,
                        Some(id),
                        format!("the audit log was tampered with at entry {id}: it is not the entry the authenticated head names ({} entries up to it)", h.entries),
                    ));
                }
                head_reached = true;
            }
            prev = stored;
        }
        match (&head, keyed_seen) {
            (Some(h), _) if !head_reached => {
                return Ok(broken(
                    count,
                    None,
                    format!("the audit log was tampered with: entries were cut off its end (its authenticated head names entry {} as entry {} of the log)", h.last_id, h.entries),
                ))
            }
            (None, true) => {
                return Ok(broken(
                    count,
                    None,
                    "the audit log was tampered with: its authenticated head was removed".into(),
                ))
            }
            _ => {}
        }
        let unkeyed = if head.is_none() { count } else { after_head };
        let message = if unkeyed == 0 {
            format!("all {count} entries are intact")
        } else {
            format!("all {count} entries are intact; the last {unkeyed} were written while the vault was locked (or before the log was keyed) and are chained but not yet authenticated: the next entry written while unlocked authenticates them")
        };
        Ok(AuditVerification {
            ok: true,
            entries: count,
            first_broken_id: None,
            message,
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
