//! What the database says about security is authenticated by the data key, so whoever can
//! write `brokerdesk.db` without the key (malware as the same user, a synced folder) cannot
//! edit it into leaking or trading:
//!
//! - **Credentials are bound to their endpoints.** A credential's AEAD associated data names
//!   its account, its field, and the broker, environment and REST/stream URLs it was entered
//!   for ([`account_secret_binding`]). Pointing an account at another host makes its stored
//!   token unopenable (`ciphertext_tampered`) before any request is built; moving an endpoint
//!   through Brokerdesk (with the step-up) re-seals the credentials for the new one.
//! - **An account's security state carries a tag**: an HMAC-SHA-256, under a key derived from
//!   the data key, over its mode, status, endpoints, broker, environment and every risk rule
//!   and limit, and its gateway certificate pin ([`account_tag`]). Every write through Brokerdesk re-tags in the same
//!   transaction; a row whose tag does not verify is shown in paper mode and suspended, with
//!   `state_tampered` on it, and nothing opens its credentials until it is saved again.
//! - **Two-factor state carries a tag** kept in the vault row ([`twofa_tag`]): the TOTP row
//!   (whether 2FA is on, its secret, replay step, failure count, lockout, step-up window) and
//!   every backup-code hash. Deleting the row, extending the window, resetting the counters or
//!   inserting a backup code of one's own fails the check, and every step-up is then refused
//!   with `state_tampered`.
//!
//! A vault made before this existed (its key check says v1) is upgraded at its first unlock,
//! in one transaction: credentials re-sealed with endpoint bindings, tags written, and the key
//! check replaced by v2 — which only the data key can write, so the upgrade cannot be replayed
//! to make the old, unbound form acceptable again. What a tag cannot tell is a whole old copy
//! of the database put back (every tag valid for its time): see the README's security model.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{Row, SqliteConnection};

use super::{Unlocked, VaultError};
use crate::accounts::model::{Account, AccountInput};
use crate::accounts::repo;

/// The key check's plaintext in a vault whose credentials are endpoint-bound and whose
/// security state is tagged.
pub(super) const KEY_CHECK_V2: &[u8] = b"brokerdesk key check v2: endpoint-bound, tagged";
/// The key check's plaintext before that (upgraded at the next unlock).
pub(super) const KEY_CHECK_V1: &[u8] = b"brokerdesk key check v1";

/// Where an account's credentials may be used: what their binding names besides the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    pub broker: &'a str,
    pub environment: &'a str,
    pub rest_url: Option<&'a str>,
    pub stream_url: Option<&'a str>,
}

impl<'a> CredentialScope<'a> {
    pub fn of_account(a: &'a Account) -> Self {
        Self {
            broker: a.broker.as_str(),
            environment: a.environment.as_str(),
            rest_url: a.rest_url.as_deref(),
            stream_url: a.stream_url.as_deref(),
        }
    }

    pub fn of_input(a: &'a AccountInput) -> Self {
        Self {
            broker: a.broker.as_str(),
            environment: a.environment.as_str(),
            rest_url: a.rest_url.as_deref(),
            stream_url: a.stream_url.as_deref(),
        }
    }
}

/// The binding (associated data) of an account's secret field: the row, the field, and the
/// endpoints it may be sent to. (The URLs are the account's overrides as stored; none means
/// the catalog's default for that broker and environment.)
pub fn account_secret_binding(account_id: &str, field: &str, scope: &CredentialScope) -> String {
    format!(
        "account:{account_id}:{field}@{}|{}|{}|{}",
        scope.broker,
        scope.environment,
        scope.rest_url.unwrap_or(""),
        scope.stream_url.unwrap_or("")
    )
}

/// The binding before credentials were endpoint-bound (read once, by the upgrade).
fn legacy_account_secret_binding(account_id: &str, field: &str) -> String {
    format!("account:{account_id}:{field}")
}

impl Unlocked {
    /// An HMAC-SHA-256 of `data` under a key derived from the data key for `domain` (so a
    /// tag of one kind can never stand for another).
    fn tag(&self, domain: &str, data: &[u8]) -> Vec<u8> {
        let Ok(mut derive) = Hmac::<Sha256>::new_from_slice(self.dek.as_bytes()) else {
            return Vec::new();
        };
        derive.update(b"brokerdesk state tag v1:");
        derive.update(domain.as_bytes());
        let key = derive.finalize().into_bytes();
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
            return Vec::new();
        };
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// Checks a tag in constant time.
    fn tag_ok(&self, domain: &str, data: &[u8], tag: &[u8]) -> bool {
        let expected = self.tag(domain, data);
        !expected.is_empty()
            && expected.len() == tag.len()
            && expected
                .iter()
                .zip(tag)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// What an account's tag covers, in a fixed order: everything that decides where its
/// credentials go, whether it trades with real money, and what protects it.
fn account_state(a: &Account) -> Vec<u8> {
    let state = serde_json::json!([
        a.id,
        a.broker.as_str(),
        a.environment.as_str(),
        a.broker_account_id,
        a.rest_url,
        a.stream_url,
        a.mode.as_str(),
        a.status.as_str(),
        a.prop_firm,
        a.risk,
        a.trading_hours,
        a.weekend_trading,
        // The gateway certificate pin: clearing it would let the next connection pin an
        // attacker's certificate on "first use".
        a.tls_pin.as_ref().map(|p| (&p.sha256, &p.origin)),
    ]);
    state.to_string().into_bytes()
}

/// The tag of an account's security state.
pub fn account_tag(key: &Unlocked, a: &Account) -> Vec<u8> {
    key.tag("account", &account_state(a))
}

/// Whether an account's stored tag matches its state.
pub fn account_tag_ok(key: &Unlocked, a: &Account, tag: Option<&[u8]>) -> bool {
    tag.is_some_and(|t| key.tag_ok("account", &account_state(a), t))
}

/// Whether account `id`'s stored state matches its tag (false for no such account). Writes
/// that are not the user's review of the whole account (a mode or status change, a pin
/// learned, a purge) check this first and re-tag only a state that was valid: they must
/// never make an edited row look like Brokerdesk's own.
pub async fn account_valid(
    conn: &mut SqliteConnection,
    key: &Unlocked,
    id: &str,
) -> Result<bool, VaultError> {
    Ok(repo::load(&mut *conn, Some(id))
        .await?
        .pop()
        .is_some_and(|s| account_tag_ok(key, &s.account, s.state_tag.as_deref())))
}

/// Re-reads account `id` as stored and writes its tag (in the caller's transaction): for
/// Brokerdesk's own writes of a state that was valid, and for the user saving the account.
pub async fn retag_account(
    conn: &mut SqliteConnection,
    key: &Unlocked,
    id: &str,
) -> Result<(), VaultError> {
    for stored in repo::load(&mut *conn, Some(id)).await? {
        let tag = account_tag(key, &stored.account);
        sqlx::query("UPDATE accounts SET state_tag = ? WHERE id = ?")
            .bind(tag)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The two-factor state as stored: the TOTP row (or none) and every backup code — and the
/// sealed audit key, once there is one.
async fn twofa_state(conn: &mut SqliteConnection) -> Result<Vec<u8>, VaultError> {
    let row = sqlx::query(
        "SELECT state, secret_sealed, last_step, failed_attempts, lockouts, locked_until,
                step_up_until, enabled_at FROM twofa WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let totp = match row {
        None => serde_json::Value::Null,
        Some(r) => serde_json::json!([
            r.try_get::<String, _>("state")?,
            hex(&r.try_get::<Vec<u8>, _>("secret_sealed")?),
            r.try_get::<i64, _>("last_step")?,
            r.try_get::<i64, _>("failed_attempts")?,
            r.try_get::<i64, _>("lockouts")?,
            r.try_get::<Option<String>, _>("locked_until")?,
            r.try_get::<Option<String>, _>("step_up_until")?,
            r.try_get::<Option<String>, _>("enabled_at")?,
        ]),
    };
    let mut codes = Vec::new();
    for r in sqlx::query("SELECT id, salt, hash, used_at FROM twofa_backup_codes ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        codes.push(serde_json::json!([
            r.try_get::<i64, _>("id")?,
            hex(&r.try_get::<Vec<u8>, _>("salt")?),
            hex(&r.try_get::<Vec<u8>, _>("hash")?),
            r.try_get::<Option<String>, _>("used_at")?,
        ]));
    }
    // The audit key (`audit`) rides on this tag once it exists, so removing it (to pass a
    // log rewritten without keys for one that was never keyed) shows. Before it exists the
    // state reads exactly as it did before the audit key, so older tags still verify.
    let audit_key: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT audit_key_sealed FROM vault WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    let state = match audit_key {
        None => serde_json::json!([totp, codes]),
        Some(sealed) => serde_json::json!([totp, codes, hex(&sealed)]),
    };
    Ok(state.to_string().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the tag of the two-factor state as it now stands (in the caller's transaction,
/// after its writes).
pub async fn retag_twofa(conn: &mut SqliteConnection, key: &Unlocked) -> Result<(), VaultError> {
    let tag = key.tag("twofa", &twofa_state(&mut *conn).await?);
    sqlx::query("UPDATE vault SET twofa_tag = ? WHERE id = 1")
        .bind(tag)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Checks the two-factor state against its tag: [`VaultError::StateTampered`] when it was
/// changed outside Brokerdesk.
pub async fn check_twofa(conn: &mut SqliteConnection, key: &Unlocked) -> Result<(), VaultError> {
    // The tag and the state it covers are read in one snapshot (a savepoint when the caller
    // is already in a transaction): read apart, a write committed in between would pair one
    // state with the next one's tag and look like tampering.
    let mut snapshot = sqlx::Connection::begin(&mut *conn).await?;
    let tag: Option<Vec<u8>> = sqlx::query_scalar("SELECT twofa_tag FROM vault WHERE id = 1")
        .fetch_optional(&mut *snapshot)
        .await?
        .flatten();
    let state = twofa_state(&mut snapshot).await?;
    snapshot.commit().await?;
    match tag {
        Some(t) if key.tag_ok("twofa", &state, &t) => Ok(()),
        _ => Err(VaultError::StateTampered(
            "the two-factor settings (on/off, the secret, the failure count and lockout, the \
             step-up window or the backup codes) or the audit log's key were changed outside \
             Brokerdesk, so no \
             two-factor code is accepted and no sensitive change can be made; trading, the \
             kill switch and locking still work. Brokerdesk cannot tell what was changed: to \
             start over, set Brokerdesk up again in a new data folder"
                .into(),
        )),
    }
}

/// What verified under the current key, read before a key rotation writes anything (the
/// re-sealed 2FA secret is part of the two-factor state).
pub(super) struct Verified {
    accounts: Vec<String>,
    twofa: bool,
}

/// Reads which accounts and whether the two-factor state verify under `key`.
pub(super) async fn verified(
    conn: &mut SqliteConnection,
    key: &Unlocked,
) -> Result<Verified, VaultError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_all(&mut *conn)
        .await?;
    let mut accounts = Vec::new();
    for id in ids {
        if account_valid(&mut *conn, key, &id).await? {
            accounts.push(id);
        }
    }
    let twofa = check_twofa(&mut *conn, key).await.is_ok();
    Ok(Verified { accounts, twofa })
}

/// Re-tags, with the new key after a rotation, what verified under the old one
/// ([`verified`], read before the rotation wrote anything); what did not (edited outside
/// Brokerdesk) gets no tag, so it stays flagged.
pub(super) async fn retag_all(
    conn: &mut SqliteConnection,
    before: &Verified,
    new: &Unlocked,
) -> Result<(), VaultError> {
    sqlx::query("UPDATE accounts SET state_tag = NULL")
        .execute(&mut *conn)
        .await?;
    for id in &before.accounts {
        retag_account(&mut *conn, new, id).await?;
    }
    if before.twofa {
        retag_twofa(&mut *conn, new).await
    } else {
        sqlx::query("UPDATE vault SET twofa_tag = NULL WHERE id = 1")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// A stored account secret, still sealed, with what its binding names.
pub(super) struct StoredSecret {
    pub account_id: String,
    pub field: String,
    pub sealed: Vec<u8>,
    /// The account's name, for messages.
    pub name: String,
    /// Its endpoint binding ([`account_secret_binding`]), from the account's row.
    pub binding: String,
}

/// Every stored account secret with its binding, by account and field.
pub(super) async fn stored_secrets(
    conn: &mut SqliteConnection,
) -> Result<Vec<StoredSecret>, VaultError> {
    let rows = sqlx::query(
        "SELECT s.account_id, s.field, s.sealed, a.name, a.broker, a.environment, a.rest_url,
                a.stream_url
         FROM account_secrets s JOIN accounts a ON a.id = s.account_id
         ORDER BY s.account_id, s.field",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let account_id: String = r.try_get("account_id")?;
        let field: String = r.try_get("field")?;
        let (broker, environment): (String, String) =
            (r.try_get("broker")?, r.try_get("environment")?);
        let (rest_url, stream_url): (Option<String>, Option<String>) =
            (r.try_get("rest_url")?, r.try_get("stream_url")?);
        let scope = CredentialScope {
            broker: &broker,
            environment: &environment,
            rest_url: rest_url.as_deref(),
            stream_url: stream_url.as_deref(),
        };
        out.push(StoredSecret {
            binding: account_secret_binding(&account_id, &field, &scope),
            sealed: r.try_get("sealed")?,
            name: r.try_get("name")?,
            account_id,
            field,
        });
    }
    Ok(out)
}

/// Upgrades a v1 vault (in the caller's transaction): every credential re-sealed from its
/// row-only binding to the endpoint binding, everything tagged. The caller then writes the v2
/// key check.
pub(super) async fn upgrade_v1(
    conn: &mut SqliteConnection,
    key: &Unlocked,
) -> Result<(), VaultError> {
    for stored in stored_secrets(&mut *conn).await? {
        let StoredSecret {
            account_id,
            field,
            sealed,
            binding,
            ..
        } = stored;
        // A value that does not open stays as it is: it is reported on its account (and
        // replaced by entering it again), as before.
        let Ok(secret) = key.open(&legacy_account_secret_binding(&account_id, &field), &sealed)
        else {
            continue;
        };
        let resealed = key.seal(&binding, secret.expose().as_bytes())?;
        sqlx::query("UPDATE account_secrets SET sealed = ? WHERE account_id = ? AND field = ?")
            .bind(resealed)
            .bind(&account_id)
            .bind(&field)
            .execute(&mut *conn)
            .await?;
    }
    // Nothing was tagged before: everything as it stands now is accepted, once.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_all(&mut *conn)
        .await?;
    for id in ids {
        retag_account(&mut *conn, key, &id).await?;
    }
    retag_twofa(conn, key).await
}
