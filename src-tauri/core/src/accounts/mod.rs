//! Account configuration: the model ([`model`]), what each broker needs ([`catalog`]),
//! validation ([`validate`]) and storage ([`repo`]). [`Accounts`] ties them to the vault:
//! secrets are sealed before they touch the database and only masked values come out.

pub mod catalog;
pub mod diff;
pub mod model;
pub mod repo;
pub mod validate;

use std::sync::Arc;

use chrono::Utc;

use self::catalog::broker_info;
use self::model::{
    Account, AccountInput, AccountStatus, CredentialField, MaskedCredential, TradingMode,
};
use self::validate::Context;
use crate::api::guard::Authorized;
use crate::audit::{self, AuditEvent};
use crate::error::{Code, ErrorCode, FieldCode, FieldError};
use crate::secret::Secret;
use crate::store::{Store, StoreError};
use crate::vault::integrity::{self, CredentialScope};
use crate::vault::{account_secret_binding, Unlocked, Vault, VaultError};

/// How recent a successful broker check of the stored credentials must be to go live.
pub const LIVE_CHECK_MAX_AGE: chrono::Duration = chrono::Duration::minutes(5);

/// An account's opened credentials. Zeroized on drop, redacted in `Debug`.
#[derive(Debug, Default)]
pub struct Credentials {
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
}

/// What an emergency purge did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PurgeReport {
    /// How many accounts there are (all now in paper mode).
    pub accounts: u32,
    pub credentials_deleted: u32,
}

/// An account operation failure.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{}", validation_summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("an account named {0:?} already exists")]
    DuplicateName(String),
    #[error("no account matches {0:?}")]
    NotFound(String),
    #[error("{0:?} matches {1} accounts; use more of the id")]
    Ambiguous(String, usize),
    #[error("switching to live trading needs this account's credentials accepted by its broker in the last 5 minutes (the switch checks them itself when it can reach the broker); the built-in paper broker has no live mode")]
    LiveNeedsVerifiedConnection,
    /// A sensitive change reached this module without the API's guard: a bug.
    #[error("internal error: a sensitive change was attempted without the two-factor guard")]
    Unguarded,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn validation_summary(fields: &[FieldError]) -> String {
    match fields {
        [one] => format!("invalid {}: {}", one.field, one.message),
        many => format!(
            "{} fields are invalid: {}",
            many.len(),
            many.iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(e.into())
    }
}

impl ErrorCode for AccountError {
    fn code(&self) -> Code {
        match self {
            AccountError::Invalid(_) => Code::Validation,
            AccountError::DuplicateName(_) => Code::DuplicateName,
            AccountError::NotFound(_) => Code::NotFound,
            AccountError::Ambiguous(..) => Code::Ambiguous,
            AccountError::LiveNeedsVerifiedConnection => Code::LiveNeedsVerifiedConnection,
            AccountError::Unguarded => Code::Internal,
            AccountError::Vault(e) => e.code(),
            AccountError::Store(e) => e.code(),
        }
    }

    fn fields(&self) -> Vec<FieldError> {
        match self {
            AccountError::Invalid(f) => f.clone(),
            AccountError::DuplicateName(n) => vec![FieldError::new(
                "name",
                FieldCode::Duplicate,
                format!("An account named {n:?} already exists."),
            )],
            _ => Vec::new(),
        }
    }
}

/// Account operations over the store and the vault.
pub struct Accounts {
    store: Store,
    vault: Arc<Vault>,
    /// Who the audit entries of changes name (`app`, `cli`).
    actor: String,
}

/// Whether a change makes a new configuration version of the account (`crate::history`).
#[derive(Clone, Copy)]
enum Version<'a> {
    /// Not a configuration change (mode, status, pin).
    Unchanged,
    Created,
    /// Edited from this (the account as it was).
    Edited(&'a Account),
}

/// What a change carries besides its input: the guard's proof (for credentials), its audit
/// entries, and who its configuration version names.
#[derive(Clone, Copy)]
pub(crate) struct Change<'a> {
    pub auth: Option<&'a Authorized>,
    pub notes: Notes<'a>,
    pub history_actor: &'a str,
    /// An import: required credentials may stay missing (see `validate::Context`).
    pub import: bool,
}

/// The audit entries a change writes in its own transaction, made from the account as it
/// is after the change (as it was, for a removal): event and detail (never a secret).
pub type Notes<'a> = &'a (dyn Fn(&Account) -> Vec<(AuditEvent, String)> + Send + Sync);

impl Accounts {
    pub fn new(store: Store, vault: Arc<Vault>, actor: impl Into<String>) -> Self {
        Self {
            store,
            vault,
            actor: actor.into(),
        }
    }

    /// Writes `notes`' entries for account `id` inside the change's transaction `tx` (so the
    /// change and its record commit together, or neither does) and, for a change of its
    /// configuration, its new version (`crate::history`). Reads the account once for both.
    async fn journal(
        &self,
        tx: &mut repo::Tx,
        key: &Unlocked,
        id: &str,
        notes: Notes<'_>,
        version: Version<'_>,
    ) -> Result<(), AccountError> {
        self.journal_as(tx, key, id, notes, version, &self.actor)
            .await
    }

    /// [`Accounts::journal`], the new version naming `history_actor` (`import`).
    async fn journal_as(
        &self,
        tx: &mut repo::Tx,
        key: &Unlocked,
        id: &str,
        notes: Notes<'_>,
        version: Version<'_>,
        history_actor: &str,
    ) -> Result<(), AccountError> {
        let Some(stored) = repo::load(&mut *tx, Some(id)).await?.pop() else {
            return Ok(());
        };
        let account = present(stored, key)?;
        self.write_notes(tx, key, &account, notes).await?;
        let before = match version {
            Version::Unchanged => return Ok(()),
            Version::Created => None,
            Version::Edited(before) => Some(before),
        };
        crate::history::record_account(&mut *tx, history_actor, before, &account).await?;
        Ok(())
    }

    async fn write_notes(
        &self,
        tx: &mut repo::Tx,
        key: &Unlocked,
        account: &Account,
        notes: Notes<'_>,
    ) -> Result<(), AccountError> {
        for (event, detail) in notes(account) {
            audit::append(
                &mut *tx,
                Some(key),
                &self.actor,
                event,
                Some(&account.id),
                &detail,
            )
            .await?;
        }
        Ok(())
    }

    /// Lists every account, secrets masked. Requires the vault to be unlocked.
    pub async fn list(&self) -> Result<Vec<Account>, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut conn = self.store.pool().acquire().await?;
        let stored = repo::load(&mut conn, None).await?;
        stored.into_iter().map(|s| present(s, &key)).collect()
    }

    /// Returns one account by id, unique id prefix (4+ characters) or exact name.
    pub async fn get(&self, key: &str) -> Result<Account, AccountError> {
        let unlocked = self.vault.unlocked().await?;
        let mut conn = self.store.pool().acquire().await?;
        let id = resolve_one(&mut conn, key).await?;
        let stored = repo::load(&mut conn, Some(&id))
            .await?
            .pop()
            .ok_or_else(|| AccountError::NotFound(key.to_string()))?;
        present(stored, &unlocked)
    }

    /// Validates an input as `add` (`existing` = None) or `update` would, without storing
    /// anything: field errors and a taken name come back before any broker is asked.
    /// Returns the input normalized as it would be stored.
    pub async fn precheck(
        &self,
        existing: Option<&str>,
        mut input: AccountInput,
    ) -> Result<AccountInput, AccountError> {
        let mut conn = self.store.pool().acquire().await?;
        match existing {
            None => {
                let checked = validate::validate(&mut input, &Context::Create);
                let taken = repo::name_taken(&mut conn, &input.name, None).await?;
                check_all(checked, taken, &input.name)?;
            }
            Some(key) => {
                let id = resolve_one(&mut conn, key).await?;
                let current = repo::load(&mut conn, Some(&id))
                    .await?
                    .pop()
                    .ok_or_else(|| AccountError::NotFound(key.to_string()))?;
                let stored: Vec<CredentialField> =
                    current.secrets.iter().map(|(f, _)| *f).collect();
                let ctx = Context::Update {
                    broker: current.account.broker,
                    environment: current.account.environment,
                    stored: &stored,
                    import: false,
                };
                let checked = validate::validate(&mut input, &ctx);
                let taken = repo::name_taken(&mut conn, &input.name, Some(&id)).await?;
                check_all(checked, taken, &input.name)?;
            }
        }
        Ok(input)
    }

    /// Validates and stores a new account, sealing its credentials.
    /// Storing credentials needs the guard's proof (`auth`).
    pub async fn add(
        &self,
        input: AccountInput,
        auth: Option<&Authorized>,
        notes: Notes<'_>,
    ) -> Result<Account, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        key.check_generation(&mut tx).await?;
        let change = Change {
            auth,
            notes,
            history_actor: &self.actor,
            import: false,
        };
        let id = self
            .add_tx(&mut tx, &key, input, &Context::Create, change)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.get(&id).await
    }

    /// The body of [`Accounts::add`] in the caller's transaction (an import adds and edits
    /// several accounts in one): validates against `ctx` (`Create`, or `Import`, which lets
    /// required credentials be missing), stores, journals. Returns the new account's id.
    pub(crate) async fn add_tx(
        &self,
        tx: &mut repo::Tx,
        key: &Unlocked,
        mut input: AccountInput,
        ctx: &Context<'_>,
        change: Change<'_>,
    ) -> Result<String, AccountError> {
        let Change {
            auth,
            notes,
            history_actor,
            import: _,
        } = change;
        let checked = validate::validate(&mut input, ctx);
        let id = uuid::Uuid::new_v4().to_string();
        let now = Utc::now().to_rfc3339();
        check_all(
            checked,
            repo::name_taken(tx, &input.name, None).await?,
            &input.name,
        )?;
        repo::upsert(tx, &id, &input, &now, true).await?;
        repo::push_status(
            tx,
            &id,
            input.status,
            input.status_reason.as_deref().or(Some("created")),
            &now,
        )
        .await?;
        write_secrets(tx, key, auth, &id, &input, &now).await?;
        integrity::retag_account(tx, key, &id).await?;
        self.journal_as(tx, key, &id, notes, Version::Created, history_actor)
            .await?;
        tracing::info!(account = %id, broker = %input.broker, environment = %input.environment, "account added");
        Ok(id)
    }

    /// Replaces an account's configuration. Credentials left `None` keep their stored value;
    /// new ones need the guard's proof (`auth`).
    pub async fn update(
        &self,
        key_or_id: &str,
        input: AccountInput,
        auth: Option<&Authorized>,
        notes: Notes<'_>,
    ) -> Result<Account, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        key.check_generation(&mut tx).await?;
        let change = Change {
            auth,
            notes,
            history_actor: &self.actor,
            import: false,
        };
        let id = self
            .update_tx(&mut tx, &key, key_or_id, input, change)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(account = %id, "account updated");
        self.get(&id).await
    }

    /// The body of [`Accounts::update`] in the caller's transaction. Returns the account's id.
    pub(crate) async fn update_tx(
        &self,
        tx: &mut repo::Tx,
        key: &Unlocked,
        key_or_id: &str,
        mut input: AccountInput,
        change: Change<'_>,
    ) -> Result<String, AccountError> {
        let Change {
            auth,
            notes,
            history_actor,
            import,
        } = change;
        let id = resolve_one(tx, key_or_id).await?;
        let current = repo::load(tx, Some(&id))
            .await?
            .pop()
            .ok_or_else(|| AccountError::NotFound(key_or_id.to_string()))?;
        let before = current.account.clone();
        let stored_fields: Vec<CredentialField> = current.secrets.iter().map(|(f, _)| *f).collect();
        let ctx = Context::Update {
            broker: current.account.broker,
            environment: current.account.environment,
            stored: &stored_fields,
            import,
        };
        let checked = validate::validate(&mut input, &ctx);
        check_all(
            checked,
            repo::name_taken(tx, &input.name, Some(&id)).await?,
            &input.name,
        )?;
        let now = Utc::now().to_rfc3339();
        // Stored credentials are bound to their endpoints: moving the endpoints (which the
        // API guards with a step-up) re-seals the ones kept for the new place. One that does
        // not open (or a state changed outside Brokerdesk) must be entered again.
        let old_scope = CredentialScope::of_account(&current.account);
        if CredentialScope::of_input(&input) != old_scope {
            let kept: Vec<_> = current
                .secrets
                .iter()
                .filter(|(f, _)| input.credentials.get(*f).is_none())
                .collect();
            if !kept.is_empty() {
                auth.ok_or(AccountError::Unguarded)?;
                if !integrity::account_tag_ok(key, &current.account, current.state_tag.as_deref()) {
                    return Err(state_tampered(&current.account).into());
                }
            }
            let new_scope = CredentialScope::of_input(&input);
            for (field, sealed) in kept {
                let secret = key.open(
                    &account_secret_binding(&id, field.as_str(), &old_scope),
                    sealed,
                )?;
                let resealed = key.seal(
                    &account_secret_binding(&id, field.as_str(), &new_scope),
                    secret.expose().as_bytes(),
                )?;
                repo::put_secret(tx, &id, *field, &resealed, key.generation(), &now).await?;
            }
        }
        repo::upsert(tx, &id, &input, &now, false).await?;
        if input.status != current.account.status {
            repo::push_status(tx, &id, input.status, input.status_reason.as_deref(), &now).await?;
        }
        write_secrets(tx, key, auth, &id, &input, &now).await?;
        integrity::retag_account(tx, key, &id).await?;
        self.journal_as(tx, key, &id, notes, Version::Edited(&before), history_actor)
            .await?;
        Ok(id)
    }

    /// Puts an account in paper mode inside the caller's transaction (an import, before it
    /// replaces the configuration; the edit that follows re-tags the account's state).
    pub(crate) async fn to_paper_tx(
        &self,
        tx: &mut repo::Tx,
        id: &str,
    ) -> Result<(), AccountError> {
        sqlx::query("UPDATE accounts SET mode = 'paper', updated_at = ? WHERE id = ?")
            .bind(Utc::now().to_rfc3339())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Opens an account's stored credentials for use by a broker connector. Fails with the
    /// vault's distinct errors (`ciphertext_tampered`, `ciphertext_misbound`) when a stored
    /// value was altered or moved.
    pub async fn open_credentials(&self, key_or_id: &str) -> Result<Credentials, AccountError> {
        self.open_credentials_where(key_or_id, |_| true).await
    }

    /// Like [`Accounts::open_credentials`], opening only the stored fields `wanted` selects:
    /// a field about to be replaced is not opened, since it may be the one that no longer
    /// opens (a tampered value is replaced by entering it again).
    pub async fn open_credentials_where(
        &self,
        key_or_id: &str,
        wanted: impl Fn(CredentialField) -> bool,
    ) -> Result<Credentials, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut conn = self.store.pool().acquire().await?;
        let id = resolve_one(&mut conn, key_or_id).await?;
        let stored = repo::load(&mut conn, Some(&id))
            .await?
            .pop()
            .ok_or_else(|| AccountError::NotFound(key_or_id.to_string()))?;
        if !integrity::account_tag_ok(&key, &stored.account, stored.state_tag.as_deref()) {
            return Err(state_tampered(&stored.account).into());
        }
        let scope = CredentialScope::of_account(&stored.account);
        let mut creds = Credentials::default();
        for (field, sealed) in stored.secrets.iter().filter(|(f, _)| wanted(*f)) {
            let secret = key.open(&account_secret_binding(&id, field.as_str(), &scope), sealed)?;
            match field {
                CredentialField::ApiKey => creds.api_key = Some(secret),
                CredentialField::ApiSecret => creds.api_secret = Some(secret),
            }
        }
        Ok(creds)
    }

    /// Sets an account's trading mode. Live needs stored credentials that the broker accepted
    /// in the last 24 hours (the latest check in `account_verifications` succeeded); the
    /// built-in paper broker never goes live.
    /// Going live needs the guard's proof (`auth`).
    pub async fn set_mode(
        &self,
        key_or_id: &str,
        mode: TradingMode,
        auth: Option<&Authorized>,
        notes: Notes<'_>,
    ) -> Result<Account, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        let id = resolve_one(&mut tx, key_or_id).await?;
        let stored = repo::load(&mut tx, Some(&id))
            .await?
            .pop()
            .ok_or_else(|| AccountError::NotFound(key_or_id.to_string()))?;
        let valid = integrity::account_tag_ok(&key, &stored.account, stored.state_tag.as_deref());
        if mode == TradingMode::Live {
            auth.ok_or(AccountError::Unguarded)?;
            let since = (Utc::now() - LIVE_CHECK_MAX_AGE)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let verified: Option<bool> = sqlx::query_scalar(
                "SELECT v.ok FROM account_verifications v JOIN accounts a ON a.id = v.account_id \
                 WHERE v.account_id = ? AND v.at > ? AND a.broker <> 'paper' \
                 AND (a.broker = 'ibkr' \
                      OR EXISTS (SELECT 1 FROM account_secrets s WHERE s.account_id = v.account_id)) \
                 ORDER BY v.at DESC, v.id DESC LIMIT 1",
            )
            .bind(&id)
            .bind(since)
            .fetch_optional(&mut *tx)
            .await?;
            if verified != Some(true) {
                return Err(AccountError::LiveNeedsVerifiedConnection);
            }
            // Live only for a state Brokerdesk wrote: never on the word of an edited row.
            if !valid {
                return Err(state_tampered(&stored.account).into());
            }
        }
        sqlx::query("UPDATE accounts SET mode = ?, updated_at = ? WHERE id = ?")
            .bind(mode.as_str())
            .bind(Utc::now().to_rfc3339())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if valid {
            integrity::retag_account(&mut tx, &key, &id).await?;
        }
        if stored.account.mode != mode {
            self.journal(&mut tx, &key, &id, notes, Version::Unchanged)
                .await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.get(&id).await
    }

    /// Sets an account's status and records the change with its reason (the caller checked
    /// the transition: `risk::status::transition`). Returns the account before and after.
    pub async fn set_status(
        &self,
        key_or_id: &str,
        status: AccountStatus,
        reason: Option<&str>,
        notes: Notes<'_>,
    ) -> Result<(Account, Account), AccountError> {
        let key = self.vault.unlocked().await?;
        let before = self.get(key_or_id).await?;
        if before.status == status {
            return Ok((before.clone(), before));
        }
        let mut tx = self.store.begin_write().await?;
        let valid = integrity::account_valid(&mut tx, &key, &before.id).await?;
        let now = Utc::now().to_rfc3339();
        sqlx::query("UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(&now)
            .bind(&before.id)
            .execute(&mut *tx)
            .await?;
        repo::push_status(&mut tx, &before.id, status, reason, &now).await?;
        if valid {
            integrity::retag_account(&mut tx, &key, &before.id).await?;
        }
        self.journal(&mut tx, &key, &before.id, notes, Version::Unchanged)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        let after = self.get(&before.id).await?;
        Ok((before, after))
    }

    /// Deletes every stored credential and switches every account to paper mode, in one
    /// transaction. Accounts keep their configuration; their credentials must be entered again.
    pub async fn purge_credentials(&self, _auth: &Authorized) -> Result<PurgeReport, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM accounts")
            .fetch_all(&mut *tx)
            .await?;
        let mut valid = Vec::new();
        for id in &ids {
            if integrity::account_valid(&mut tx, &key, id).await? {
                valid.push(id.clone());
            }
        }
        let deleted = sqlx::query("DELETE FROM account_secrets")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let now = Utc::now().to_rfc3339();
        sqlx::query("UPDATE accounts SET mode = 'paper', updated_at = ?")
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        for id in &valid {
            integrity::retag_account(&mut tx, &key, id).await?;
        }
        let accounts = ids.len();
        tx.commit().await.map_err(StoreError::from)?;
        tracing::warn!(credentials = deleted, "all stored credentials purged");
        Ok(PurgeReport {
            accounts: u32::try_from(accounts).unwrap_or(u32::MAX),
            credentials_deleted: u32::try_from(deleted).unwrap_or(u32::MAX),
        })
    }

    /// Deletes one account's stored credentials (a terminated account's, on request) and puts
    /// it in paper mode; returns how many were deleted.
    pub async fn forget_credentials(&self, id: &str) -> Result<u32, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        let valid = integrity::account_valid(&mut tx, &key, id).await?;
        let deleted = sqlx::query("DELETE FROM account_secrets WHERE account_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE accounts SET mode = 'paper', updated_at = ? WHERE id = ?")
            .bind(Utc::now().to_rfc3339())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if valid {
            integrity::retag_account(&mut tx, &key, id).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        tracing::warn!(account = %id, credentials = deleted, "a terminated account's credentials purged");
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    /// Pins `sha256` for the gateway at `origin`, replacing the pin: trusting a new
    /// certificate, which needs the guard's proof.
    pub async fn pin_trusted(
        &self,
        _auth: &Authorized,
        id: &str,
        origin: &str,
        sha256: &str,
        notes: Notes<'_>,
    ) -> Result<Account, AccountError> {
        let key = self.vault.unlocked().await?;
        let mut tx = self.store.begin_write().await?;
        let valid = integrity::account_valid(&mut tx, &key, id).await?;
        if repo::pin_trusted(&mut tx, id, origin, sha256, &Utc::now().to_rfc3339()).await? == 0 {
            return Err(AccountError::NotFound(id.to_string()));
        }
        if valid {
            integrity::retag_account(&mut tx, &key, id).await?;
        }
        self.journal(&mut tx, &key, id, notes, Version::Unchanged)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.get(id).await
    }

    /// Removes an account and its sealed secrets.
    pub async fn remove(
        &self,
        _auth: &Authorized,
        key_or_id: &str,
        notes: Notes<'_>,
    ) -> Result<Account, AccountError> {
        let key = self.vault.unlocked().await?;
        let account = self.get(key_or_id).await?;
        let mut tx = self.store.begin_write().await?;
        if repo::delete(&mut tx, &account.id).await? == 0 {
            return Err(AccountError::NotFound(key_or_id.to_string()));
        }
        self.write_notes(&mut tx, &key, &account, notes).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(account = %account.id, "account removed");
        Ok(account)
    }
}

/// Combines validation with the uniqueness check, so the user sees every problem at once.
fn check_all(
    checked: Result<(), Vec<FieldError>>,
    name_taken: bool,
    name: &str,
) -> Result<(), AccountError> {
    match (checked, name_taken && !name.is_empty()) {
        (Ok(()), false) => Ok(()),
        (Ok(()), true) => Err(AccountError::DuplicateName(name.to_string())),
        (Err(mut errs), taken) => {
            if taken {
                errs.insert(
                    0,
                    FieldError::new(
                        "name",
                        FieldCode::Duplicate,
                        format!("An account named {name:?} already exists."),
                    ),
                );
            }
            Err(AccountError::Invalid(errs))
        }
    }
}

/// An audit entry written with a change, in its transaction: actor, event, detail.
pub struct Record<'a> {
    pub actor: &'a str,
    pub event: AuditEvent,
    pub detail: &'a str,
}

/// Records the gateway certificate a connection pinned on first use (`origin` = `host:port`),
/// unless the account already has a pin for that origin, with its audit entry in the same
/// transaction. Not a user change (no step-up), but the pin is part of the account's tagged
/// security state, so it needs the unlocked vault. Returns whether it was recorded.
pub async fn pin_first_use(
    store: &Store,
    vault: &Vault,
    id: &str,
    origin: &str,
    sha256: &str,
    record: Record<'_>,
) -> Result<bool, AccountError> {
    let key = vault.unlocked().await?;
    let mut tx = store.begin_write().await?;
    if !integrity::account_valid(&mut tx, &key, id).await? {
        // An edited account learns no pin (and connects nowhere until it is saved again).
        return Ok(false);
    }
    let done = repo::pin_first_use(&mut tx, id, origin, sha256, &Utc::now().to_rfc3339()).await?;
    if done {
        integrity::retag_account(&mut tx, &key, id).await?;
        audit::append(
            &mut tx,
            Some(&key),
            record.actor,
            record.event,
            Some(id),
            record.detail,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(done)
}

/// Records a certificate the gateway at `origin` presented instead of the pinned one
/// (refused), while `pinned` is still the account's pin, with its audit entry in the same
/// transaction. Returns whether it was new.
pub async fn pin_refused(
    store: &Store,
    vault: &Vault,
    id: &str,
    origin: &str,
    pinned: &str,
    refused: &str,
    record: Record<'_>,
) -> Result<bool, AccountError> {
    let key = vault.unlocked().await.ok();
    let mut tx = store.begin_write().await?;
    let done = repo::pin_refused(&mut tx, id, origin, pinned, refused).await?;
    if done {
        audit::append(
            &mut tx,
            key.as_deref(),
            record.actor,
            record.event,
            Some(id),
            record.detail,
        )
        .await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(done)
}

async fn resolve_one(conn: &mut sqlx::SqliteConnection, key: &str) -> Result<String, AccountError> {
    let key = key.trim();
    let mut ids = repo::resolve(conn, key).await?;
    match ids.len() {
        0 => Err(AccountError::NotFound(key.to_string())),
        1 => Ok(ids.remove(0)),
        n => Err(AccountError::Ambiguous(key.to_string(), n)),
    }
}

async fn write_secrets(
    tx: &mut repo::Tx,
    key: &Unlocked,
    auth: Option<&Authorized>,
    id: &str,
    input: &AccountInput,
    now: &str,
) -> Result<(), AccountError> {
    for field in CredentialField::ALL {
        if let Some(secret) = input.credentials.get(*field) {
            auth.ok_or(AccountError::Unguarded)?;
            let sealed = key.seal(
                &account_secret_binding(id, field.as_str(), &CredentialScope::of_input(input)),
                secret.expose().as_bytes(),
            )?;
            repo::put_secret(tx, id, *field, &sealed, key.generation(), now).await?;
        }
    }
    Ok(())
}

/// Turns a stored account into its UI form, opening each secret only to mask it.
fn present(s: repo::StoredAccount, key: &Unlocked) -> Result<Account, AccountError> {
    let mut account = s.account;
    let info = broker_info(account.broker);
    let valid = integrity::account_tag_ok(key, &account, s.state_tag.as_deref());
    let scope = CredentialScope::of_account(&account);
    let mut credentials = Vec::with_capacity(s.secrets.len());
    for (field, sealed) in &s.secrets {
        // One damaged secret must not hide every account: report it on the credential.
        let (masked, error) = match key.open(
            &account_secret_binding(&account.id, field.as_str(), &scope),
            sealed,
        ) {
            Ok(secret) => (secret.masked(), None),
            Err(e) => {
                tracing::warn!(account = %account.id, field = field.as_str(), code = %e.code(), "stored credential cannot be opened");
                ("unreadable".to_string(), Some(e.to_api_error()))
            }
        };
        let label = info
            .credential_fields
            .iter()
            .find(|c| c.field == *field)
            .map(|c| c.label.clone())
            .unwrap_or_else(|| field.as_str().to_string());
        credentials.push(MaskedCredential {
            field: *field,
            label,
            masked,
            error,
        });
    }
    account.credentials = credentials;
    if !valid {
        // Changed outside Brokerdesk: shown (so the user can see what was done and fix
        // it), but held in paper mode and suspended, whatever the row says.
        tracing::warn!(account = %account.id, "the account's security state does not match its tag");
        account.integrity = Some(state_tampered(&account).to_api_error());
        account.mode = TradingMode::Paper;
        account.status = AccountStatus::Suspended;
    }
    Ok(account)
}

/// The error for an account whose security state was changed outside Brokerdesk.
fn state_tampered(a: &Account) -> VaultError {
    VaultError::StateTampered(format!(
        "the security settings stored for account {:?} (mode, status, endpoints or risk rules) \
         were changed outside Brokerdesk; it is held in paper mode and suspended and nothing \
         connects with its credentials: check every setting, then save the account (with \
         your two-factor code) and enter its credentials again",
        crate::text::cap(&a.name, 100)
    ))
}

#[cfg(test)]
mod tests;
