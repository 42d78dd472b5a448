//! Checking credentials with the broker before they are saved (`account add`, `account
//! edit`, the editor's "Test connection"), and discovering the accounts a credential
//! reaches (OANDA tokens reach several).
//!
//! Policy, the same in the UI and the CLI:
//! - the broker refuses the credentials (401/403) → nothing is stored, `broker_auth` with
//!   the broker's reason;
//! - the broker rejects the configuration (unknown account id, a token reaching several
//!   OANDA accounts and none chosen, a bad URL) → nothing is stored, with what to fix;
//! - the broker cannot be reached (network, timeout, 5xx, 429, garbage) → the account is
//!   saved unverified and the outcome says why, so a trader can set up while offline; live
//!   trading stays locked until a check succeeds (`account verify`);
//! - `check = false` skips the broker entirely (recorded as skipped).
//!
//! Checks of drafts (no account yet) are rate-limited per broker credential in memory, 5
//! per minute like stored accounts, so a form cannot hammer a broker's login.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use super::guard::{Gate, Sensitive};
use super::{api, Brokerdesk, DomainEvent, VERIFY_PER_MINUTE};
use crate::accounts::model::{Account, AccountInput, BrokerKind, CredentialField, TradingMode};
use crate::audit::AuditEvent;
use crate::brokers::{self, AccountSummary, BrokerAccountRef, BrokerError, ConnectorConfig};
use crate::error::{ApiError, Code, ErrorCode, FieldCode, FieldError};
use crate::secret::Secret;
use crate::store::StoreError;

/// What checking credentials with the broker found.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "status",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[ts(export)]
pub enum CheckOutcome {
    /// The broker accepted the credentials.
    Verified { summary: AccountSummary },
    /// The broker could not be reached; saved unverified.
    Unreachable { code: Code, message: String },
    /// Not checked (asked not to, or nothing to check: the paper broker, no credentials).
    Skipped { reason: String },
}

/// An account saved after a check.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SavedAccount {
    pub account: Account,
    pub check: CheckOutcome,
}

/// Draft checks per credential fingerprint (in memory; per process).
#[derive(Debug, Default)]
pub(super) struct DraftLimiter(std::sync::Mutex<HashMap<[u8; 16], VecDeque<Instant>>>);

impl DraftLimiter {
    fn allow(&self, key: [u8; 16]) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let window = Duration::from_secs(60);
        map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        let q = map.entry(key).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.len() >= usize::try_from(VERIFY_PER_MINUTE).unwrap_or(5) {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// The rate-limit key of a check: the account, or for a draft the broker login it would
/// hit (broker, key, endpoint — not the secret, so trying other secrets shares a budget).
fn fingerprint(
    broker: BrokerKind,
    account: Option<&str>,
    key: Option<&Secret>,
    rest: Option<&str>,
) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(broker.to_string().as_bytes());
    h.update([0]);
    if let Some(id) = account {
        h.update(b"account:");
        h.update(id.as_bytes());
    } else {
        h.update(key.map(|k| k.expose()).unwrap_or_default().as_bytes());
        h.update([0]);
        h.update(rest.unwrap_or_default().as_bytes());
    }
    let digest = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn rate_limited(what: &str) -> ApiError {
    ApiError::new(
        Code::VerifyRateLimited,
        format!(
            "{what} was checked {VERIFY_PER_MINUTE} times in the last minute; wait a minute before checking again"
        ),
    )
}

/// Whether an error means "could not reach / could not tell", as opposed to a refusal.
fn unreachable(e: &BrokerError) -> bool {
    matches!(
        e,
        BrokerError::Network(_)
            | BrokerError::Timeout(_)
            | BrokerError::Unavailable { .. }
            | BrokerError::RateLimited { .. }
            | BrokerError::Protocol(_)
            | BrokerError::CircuitOpen(_)
    )
}

fn config_for(
    input: &AccountInput,
    key: Option<Secret>,
    secret: Option<Secret>,
) -> Result<ConnectorConfig, BrokerError> {
    Ok(ConnectorConfig::new(
        input.broker,
        input.environment,
        input
            .broker_account_id
            .clone()
            .filter(|a| !a.trim().is_empty()),
        input.rest_url.as_deref(),
        input.stream_url.as_deref(),
    )?
    .with_credentials(key, secret))
}

impl Brokerdesk {
    /// Lists the broker accounts a draft's credentials reach (the OANDA picker).
    pub async fn broker_accounts(
        &self,
        input: &AccountInput,
    ) -> Result<Vec<BrokerAccountRef>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let (key, secret) = (
            input.credentials.api_key.clone(),
            input.credentials.api_secret.clone(),
        );
        if !self.drafts.allow(fingerprint(
            input.broker,
            None,
            key.as_ref(),
            input.rest_url.as_deref(),
        )) {
            return Err(rate_limited("This credential"));
        }
        let cfg = config_for(input, key, secret).map_err(api)?;
        brokers::connector(cfg)
            .map_err(api)?
            .list_accounts()
            .await
            .map_err(api)
    }

    /// Checks a draft's credentials with the broker (the editor's "Test connection"),
    /// without saving anything. For an existing account (`existing`), credentials left
    /// empty in the draft are the stored ones.
    pub async fn account_check(
        &self,
        existing: Option<&str>,
        input: &AccountInput,
    ) -> Result<CheckOutcome, ApiError> {
        // Guarded though it saves nothing: sending stored credentials to an edited endpoint
        // needs the step-up.
        self.guard(|g| async move {
            let current = match existing {
                Some(key) => Some(self.accounts.get(key).await.map_err(api)?),
                None => None,
            };
            let mut input = self
                .accounts
                .precheck(current.as_ref().map(|a| a.id.as_str()), input.clone())
                .await
                .map_err(api)?;
            self.check(&g, current.as_ref(), &mut input).await
        })
        .await
    }

    /// Adds an account after checking its credentials with the broker (`check`), per the
    /// policy above. A token reaching exactly one OANDA account fills in its id.
    pub async fn account_add_checked(
        &self,
        mut input: AccountInput,
        check: bool,
    ) -> Result<SavedAccount, ApiError> {
        self.guard(|g| async move {
            // The step-up comes first: a retry after entering a code must not spend another
            // of the broker checks allowed per minute.
            if input.credentials.api_key.is_some() || input.credentials.api_secret.is_some() {
                g.step_up(Sensitive::StoreCredentials).await?;
            }
            let outcome = if check {
                input = self.accounts.precheck(None, input).await.map_err(api)?;
                self.check(&g, None, &mut input).await?
            } else {
                CheckOutcome::Skipped {
                    reason: "not checked, as asked".into(),
                }
            };
            let account = self.add_in(&g, input).await?;
            self.record_check(&account, &outcome).await?;
            Ok(SavedAccount {
                account,
                check: outcome,
            })
        })
        .await
    }

    /// Updates an account, checking with the broker first when what the check depends on
    /// changed (credentials, environment, endpoints, broker account id).
    pub async fn account_update_checked(
        &self,
        key: &str,
        mut input: AccountInput,
        check: bool,
    ) -> Result<SavedAccount, ApiError> {
        self.guard(|g| async move {
            let current = self.accounts.get(key).await.map_err(api)?;
            let new_credentials =
                input.credentials.api_key.is_some() || input.credentials.api_secret.is_some();
            let moved = endpoints_moved(&input, &current);
            // Pointing stored credentials at another host is as sensitive as storing new
            // ones: the connection would send them there. Asked before the broker check.
            if new_credentials {
                g.step_up(Sensitive::StoreCredentials).await?;
            } else if moved && guards_a_session(&current) {
                g.step_up(Sensitive::MoveCredentials).await?;
            }
            let changed =
                new_credentials || moved || input.broker_account_id != current.broker_account_id;
            let outcome = if !check {
                CheckOutcome::Skipped {
                    reason: "not checked, as asked".into(),
                }
            } else if !changed {
                CheckOutcome::Skipped {
                    reason: "nothing the broker checks has changed".into(),
                }
            } else {
                input = self
                    .accounts
                    .precheck(Some(&current.id), input)
                    .await
                    .map_err(api)?;
                self.check(&g, Some(&current), &mut input).await?
            };
            let mut account = self.update_in(&g, &current, input).await?;
            let verified = matches!(outcome, CheckOutcome::Verified { .. });
            if changed && !verified {
                // Earlier checks vouch for what is no longer there: the latest row now says
                // "unverified", and a live account goes back to paper until a check succeeds.
                self.record_unverified_change(&account).await?;
                if account.mode == TradingMode::Live {
                    let notes = |a: &Account| {
                        vec![(
                            AuditEvent::ModeSwitched,
                            format!(
                                "{}: live → paper (credentials or endpoints changed without a successful broker check)",
                                a.name
                            ),
                        )]
                    };
                    account = self
                        .accounts
                        .set_mode(&account.id, TradingMode::Paper, None, &notes)
                        .await
                        .map_err(api)?;
                    g.publish(DomainEvent::ModeChanged {
                        account_id: account.id.clone(),
                    });
                }
            }
            if verified || !changed {
                self.record_check(&account, &outcome).await?;
            }
            Ok(SavedAccount {
                account,
                check: outcome,
            })
        })
        .await
    }

    async fn record_unverified_change(&self, account: &Account) -> Result<(), ApiError> {
        self.record_verification(&account.id, false, Some("changed_unverified"))
            .await
    }

    /// Appends one broker check of an account (the live gate reads the latest; the rate
    /// limit counts the last minute's).
    pub(super) async fn record_verification(
        &self,
        account_id: &str,
        ok: bool,
        code: Option<&str>,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO account_verifications (account_id, at, ok, code) VALUES (?, ?, ?, ?)",
        )
        .bind(account_id)
        .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .bind(ok)
        .bind(code)
        .execute(self.store.pool())
        .await
        .map_err(|e| api(StoreError::from(e)))?;
        Ok(())
    }

    async fn record_check(
        &self,
        account: &Account,
        outcome: &CheckOutcome,
    ) -> Result<(), ApiError> {
        let (ok, code) = match outcome {
            CheckOutcome::Verified { .. } => (true, None),
            CheckOutcome::Unreachable { code, .. } => (false, Some(code.as_str())),
            CheckOutcome::Skipped { .. } => return Ok(()),
        };
        self.record_verification(&account.id, ok, code).await
    }

    /// The check itself. Refusals are errors (nothing may be saved); unreachable is an
    /// outcome. May fill in the OANDA account id.
    async fn check(
        &self,
        g: &Gate<'_>,
        current: Option<&Account>,
        input: &mut AccountInput,
    ) -> Result<CheckOutcome, ApiError> {
        if input.broker == BrokerKind::Paper {
            return Ok(CheckOutcome::Skipped {
                reason: "the built-in paper broker has no credentials to check".into(),
            });
        }
        let (mut key, mut secret) = (
            input.credentials.api_key.clone(),
            input.credentials.api_secret.clone(),
        );
        if let Some(acct) = current {
            let moved = endpoints_moved(input, acct);
            let uses_stored = (key.is_none() || secret.is_none()) && guards_a_session(acct);
            if moved && uses_stored {
                // Stored secrets sent to an endpoint other than the stored one: step-up.
                g.step_up(Sensitive::MoveCredentials).await?;
            }
            if key.is_none() || secret.is_none() {
                // Only what the draft leaves empty: a field it replaces may be unreadable.
                let (need_key, need_secret) = (key.is_none(), secret.is_none());
                let stored = self
                    .accounts
                    .open_credentials_where(&acct.id, |f| match f {
                        CredentialField::ApiKey => need_key,
                        CredentialField::ApiSecret => need_secret,
                    })
                    .await
                    .map_err(api)?;
                key = key.or(stored.api_key);
                secret = secret.or(stored.api_secret);
            }
        }
        if key.is_none() && secret.is_none() {
            return Ok(CheckOutcome::Skipped {
                reason: "no credentials to check".into(),
            });
        }
        // Every call to the broker spends from one budget per account (per broker login
        // for drafts), refusals included, next to `account verify`'s recorded checks.
        let recent = match current {
            Some(acct) => self.recent_checks(&acct.id).await?,
            None => 0,
        };
        let allowed = recent < VERIFY_PER_MINUTE
            && self.drafts.allow(fingerprint(
                input.broker,
                current.map(|a| a.id.as_str()),
                key.as_ref(),
                input.rest_url.as_deref(),
            ));
        if !allowed {
            return Err(rate_limited("This credential"));
        }
        let cfg = config_for(input, key, secret).map_err(api)?;
        let broker = brokers::connector(cfg).map_err(api)?;
        if input.broker == BrokerKind::Oanda && input.broker_account_id.is_none() {
            match broker.list_accounts().await {
                Ok(list) if list.len() == 1 => {
                    input.broker_account_id = Some(list[0].account_id.clone());
                }
                Ok(list) if list.len() > 1 => {
                    let ids: Vec<&str> = list.iter().map(|a| a.account_id.as_str()).collect();
                    return Err(ApiError {
                        code: Code::ChooseBrokerAccount,
                        message: format!(
                            "this OANDA token reaches {} accounts ({}); choose one with --account-id (the app shows a picker)",
                            ids.len(),
                            ids.join(", ")
                        ),
                        fields: vec![FieldError::new(
                            "brokerAccountId",
                            FieldCode::ChooseBrokerAccount,
                            "choose which of the token's accounts to add",
                        )],
                    });
                }
                Ok(_) => {}
                Err(e) if unreachable(&e) => return Ok(unreachable_outcome(&e)),
                Err(e) => return Err(self.refused(current, e).await),
            }
        }
        match broker.verify().await {
            Ok(summary) => Ok(CheckOutcome::Verified { summary }),
            Err(e) if unreachable(&e) => Ok(unreachable_outcome(&e)),
            Err(e) => Err(self.refused(current, e).await),
        }
    }

    /// The error for a refusal, audited when the broker refused stored credentials.
    async fn refused(&self, current: Option<&Account>, e: BrokerError) -> ApiError {
        if let (BrokerError::Auth(_), Some(acct)) = (&e, current) {
            let detail = format!("{}: the broker refused the credentials", acct.name);
            self.audit
                .record(AuditEvent::ConnectionAuthFailed, Some(&acct.id), &detail)
                .await;
        }
        let mut err = api(e);
        err.message = format!("{}; nothing was saved", err.message);
        err
    }

    /// Checks of an account recorded in the last minute.
    pub(super) async fn recent_checks(&self, account_id: &str) -> Result<i64, ApiError> {
        let since = (chrono::Utc::now() - chrono::Duration::seconds(60))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_verifications WHERE account_id = ? AND at > ?",
        )
        .bind(account_id)
        .bind(since)
        .fetch_one(self.store.pool())
        .await
        .map_err(|e| api(StoreError::from(e)))
    }
}

/// Whether a draft points an account's credentials somewhere else than where they are
/// stored (environment or endpoints).
/// Whether moving `account`'s endpoints is sensitive: it has stored credentials the
/// connection would send there, or (IBKR) no stored secret at all because its session lives
/// at the gateway — pointing it elsewhere redirects a logged-in session's orders.
pub(super) fn guards_a_session(account: &Account) -> bool {
    !account.credentials.is_empty()
        || crate::accounts::catalog::broker_info(account.broker)
            .credential_fields
            .is_empty()
            && account.broker != BrokerKind::Paper
}

pub(super) fn endpoints_moved(input: &AccountInput, current: &Account) -> bool {
    input.environment != current.environment
        || input.rest_url != current.rest_url
        || input.stream_url != current.stream_url
}

fn unreachable_outcome(e: &BrokerError) -> CheckOutcome {
    CheckOutcome::Unreachable {
        code: e.code(),
        message: format!(
            "{e}; saved without checking — run `account verify` once the broker can be reached"
        ),
    }
}
