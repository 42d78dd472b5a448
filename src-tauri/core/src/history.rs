//! Configuration history (issue 12, part 3): every change to an account's configuration
//! (created, edited, rolled back) and to the app settings is a numbered version, written in
//! the change's own transaction, with who, when, the whole configuration as it became (the
//! export form: no secret) and what changed. `config rollback` applies an earlier version as
//! a new edit (with the step-ups an edit would need), so nothing is ever rewritten.
//!
//! The history is a record for the user, not a security boundary: the audit log is the
//! tamper-evident one, and a rollback shows what it will apply (`config show`) and goes
//! through the same checks as any edit.

use serde::Serialize;
use sqlx::{Row, SqliteConnection};
use ts_rs::TS;

use crate::accounts::diff;
use crate::accounts::model::Account;
use crate::portable::ExportedAccount;
use crate::settings::AppSettings;
use crate::store::StoreError;

/// The subject of the app settings' versions.
pub const SETTINGS: &str = "settings";

/// One version.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigVersion {
    #[ts(type = "number")]
    pub version: i64,
    /// The account's id; `null` for the app settings.
    pub account_id: Option<String>,
    /// The account's name at the time, or `settings`.
    pub subject: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// `app`, `cli` or `import`.
    pub actor: String,
    /// What changed (`path: before → after`), or `created`.
    pub changes: Vec<String>,
    /// The whole configuration as it became: an exported account, or the app settings.
    #[ts(type = "unknown")]
    pub config: serde_json::Value,
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Rollback {
    /// The version applied again.
    #[ts(type = "number")]
    pub applied: i64,
    /// Whether anything changed (else the subject already had that configuration).
    pub changed: bool,
    /// The subject's newest version afterwards (the new one when something changed).
    pub now: ConfigVersion,
}

async fn insert(
    conn: &mut SqliteConnection,
    account_id: Option<&str>,
    subject: &str,
    actor: &str,
    config: &str,
    changes: &[String],
) -> Result<(), StoreError> {
    let changes = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO config_versions (account_id, subject, at, actor, config, changes)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(account_id)
    .bind(subject)
    .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    .bind(actor)
    .bind(config)
    .bind(changes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records `after` as an account's new version (in the change's transaction): `before` is
/// the account as it was (`None`: created). An edit that changed no setting adds nothing.
pub async fn record_account(
    conn: &mut SqliteConnection,
    actor: &str,
    before: Option<&Account>,
    after: &Account,
) -> Result<(), StoreError> {
    let changes = match before {
        None => vec!["created".to_string()],
        Some(b) => diff::changes(b, after),
    };
    if changes.is_empty() {
        return Ok(());
    }
    let config = serde_json::to_string(&ExportedAccount::of(after)).unwrap_or_default();
    insert(conn, Some(&after.id), &after.name, actor, &config, &changes).await
}

/// The actor of the versions an import writes, and of the snapshot taken before it.
pub const IMPORT: &str = "import";

/// Records `account` as it is now, unless its newest version already holds exactly this
/// configuration: the snapshot an import takes (in its transaction) before it changes an
/// account, so the configuration it replaces is a version to roll back to even when it was
/// made before versions were kept. Returns whether a version was written.
pub async fn snapshot_account(
    conn: &mut SqliteConnection,
    account: &Account,
) -> Result<bool, StoreError> {
    let config = serde_json::to_string(&ExportedAccount::of(account)).unwrap_or_default();
    let newest: Option<String> = sqlx::query_scalar(
        "SELECT config FROM config_versions WHERE account_id = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(&account.id)
    .fetch_optional(&mut *conn)
    .await?;
    if newest.as_deref() == Some(config.as_str()) {
        return Ok(false);
    }
    let changes = vec!["snapshot before an import".to_string()];
    insert(
        conn,
        Some(&account.id),
        &account.name,
        IMPORT,
        &config,
        &changes,
    )
    .await?;
    Ok(true)
}

/// [`snapshot_account`] for the app settings.
pub async fn snapshot_settings(
    conn: &mut SqliteConnection,
    settings: &AppSettings,
) -> Result<bool, StoreError> {
    let config = serde_json::to_string(settings).unwrap_or_default();
    let newest: Option<String> = sqlx::query_scalar(
        "SELECT config FROM config_versions WHERE account_id IS NULL ORDER BY version DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if newest.as_deref() == Some(config.as_str()) {
        return Ok(false);
    }
    let changes = vec!["snapshot before an import".to_string()];
    insert(conn, None, SETTINGS, IMPORT, &config, &changes).await?;
    Ok(true)
}

/// Records new app settings (in the change's transaction); `changes` as the audit says them.
pub async fn record_settings(
    conn: &mut SqliteConnection,
    actor: &str,
    new: &AppSettings,
    changes: &[String],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let config = serde_json::to_string(new).unwrap_or_default();
    insert(conn, None, SETTINGS, actor, &config, changes).await
}

fn read(r: &sqlx::sqlite::SqliteRow) -> Result<ConfigVersion, sqlx::Error> {
    let changes: String = r.try_get("changes")?;
    let config: String = r.try_get("config")?;
    Ok(ConfigVersion {
        version: r.try_get("version")?,
        account_id: r.try_get("account_id")?,
        subject: r.try_get("subject")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        changes: serde_json::from_str(&changes).unwrap_or_default(),
        config: serde_json::from_str(&config).unwrap_or(serde_json::Value::Null),
    })
}

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Everything,
    Account(&'a str),
    Settings,
}

/// The versions of `subject`, newest first, at most `limit`.
pub async fn list(
    conn: &mut SqliteConnection,
    subject: Subject<'_>,
    limit: u32,
) -> Result<Vec<ConfigVersion>, StoreError> {
    // One query with optional filters (bound, never spliced).
    let (account, settings_only) = match subject {
        Subject::Everything => (None, false),
        Subject::Account(id) => (Some(id), false),
        Subject::Settings => (None, true),
    };
    let rows = sqlx::query(
        "SELECT * FROM config_versions
         WHERE (?1 IS NULL OR account_id = ?1) AND (?2 = 0 OR account_id IS NULL)
         ORDER BY version DESC LIMIT ?3",
    )
    .bind(account)
    .bind(i64::from(settings_only))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(read).collect::<Result<Vec<_>, _>>()?)
}

/// One version, if it exists.
pub async fn get(
    conn: &mut SqliteConnection,
    version: i64,
) -> Result<Option<ConfigVersion>, StoreError> {
    let row = sqlx::query("SELECT * FROM config_versions WHERE version = ?")
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(read).transpose()?)
}
