//! Accounts over the API: the catalog, listing, adding, editing, removing, the trading mode,
//! checking stored credentials with the broker, the emergency purge, and what the runtime
//! needs to connect them.

use super::guard::{Gate, Sensitive};
use super::{api, Brokerdesk, DomainEvent, VERIFY_PER_MINUTE};
use crate::accounts::catalog::{self, BrokerInfo, PropFirmPresetInfo};
use crate::accounts::model::{Account, AccountInput, AccountStatus, BrokerKind, TradingMode};
use crate::accounts::{Credentials, PurgeReport};
use crate::audit::AuditEvent;
use crate::brokers::{self, AccountSummary, BrokerError, ConnectorConfig};
use crate::error::{ApiError, Code, ErrorCode};

impl Brokerdesk {
    /// Returns what each broker needs.
    pub fn broker_catalog(&self) -> Vec<BrokerInfo> {
        catalog::broker_catalog()
    }

    /// Returns the prop-firm presets.
    pub fn prop_firm_presets(&self) -> Vec<PropFirmPresetInfo> {
        catalog::prop_firm_presets()
    }

    pub async fn accounts_list(&self) -> Result<Vec<Account>, ApiError> {
        self.accounts.list().await.map_err(api)
    }

    /// Returns an account by id, unique id prefix or exact name.
    pub async fn account_get(&self, key: &str) -> Result<Account, ApiError> {
        self.accounts.get(key).await.map_err(api)
    }

    /// Adds an account without asking the broker. Storing credentials is sensitive.
    pub async fn account_add(&self, input: AccountInput) -> Result<Account, ApiError> {
        self.guard(|g| async move { self.add_in(&g, input).await })
            .await
    }

    /// The body of an add, inside a guard (the checked add runs its broker check first).
    pub(super) async fn add_in(
        &self,
        g: &Gate<'_>,
        mut input: AccountInput,
    ) -> Result<Account, ApiError> {
        // A new built-in paper account watches a few instruments of the simulated market, so
        // prices stream at once.
        if input.broker == BrokerKind::Paper && input.instruments.is_empty() {
            input.instruments = brokers::paper::DEFAULT_WATCHLIST
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        let auth = if input.credentials.api_key.is_some() || input.credentials.api_secret.is_some()
        {
            Some(g.step_up(Sensitive::StoreCredentials).await?)
        } else {
            None
        };
        let with_credentials = auth.is_some();
        let notes = move |a: &Account| {
            let mut notes = vec![(
                AuditEvent::AccountCreated,
                format!("{} ({} {})", a.name, a.broker, a.environment),
            )];
            if with_credentials {
                notes.push((AuditEvent::CredentialsStored, credential_fields(a)));
            }
            notes
        };
        let a = self
            .accounts
            .add(input, auth.as_ref(), &notes)
            .await
            .map_err(api)?;
        g.publish(DomainEvent::AccountChanged {
            account_id: a.id.clone(),
        });
        Ok(a)
    }

    /// Replaces an account's configuration without asking the broker. New credentials, or
    /// stored ones pointed at another endpoint, are sensitive.
    pub async fn account_update(
        &self,
        key: &str,
        input: AccountInput,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let current = self.accounts.get(key).await.map_err(api)?;
            self.update_in(&g, &current, input).await
        })
        .await
    }

    /// The body of an update, inside a guard.
    pub(super) async fn update_in(
        &self,
        g: &Gate<'_>,
        current: &Account,
        input: AccountInput,
    ) -> Result<Account, ApiError> {
        let new_credentials =
            input.credentials.api_key.is_some() || input.credentials.api_secret.is_some();
        // Reactivating by hand and loosening a protection need a fresh code; tightening never.
        let reactivates = crate::risk::status::transition(current.status, input.status)?;
        if reactivates {
            g.step_up(Sensitive::ReactivateAccount).await?;
        }
        let mut probe = input.prop_firm.clone();
        crate::accounts::validate::fill_preset(&mut probe);
        let loosened = crate::risk::loosens(current, &input, &probe);
        if !loosened.is_empty() {
            g.step_up(Sensitive::LoosenRisk).await?;
        }
        let auth = if new_credentials {
            Some(g.step_up(Sensitive::StoreCredentials).await?)
        } else if super::checks::endpoints_moved(&input, current)
            && super::checks::guards_a_session(current)
        {
            Some(g.step_up(Sensitive::MoveCredentials).await?)
        } else {
            None
        };
        // Written in the update's own transaction: what changed, before → after.
        let notes = |a: &Account| {
            let changed = crate::accounts::diff::changes(current, a);
            let mut notes = vec![(
                AuditEvent::AccountEdited,
                if changed.is_empty() {
                    format!("{}: no setting changed", a.name)
                } else {
                    format!("{}: {}", a.name, changed.join("; "))
                },
            )];
            if !loosened.is_empty() {
                notes.push((
                    AuditEvent::AccountEdited,
                    format!("{}: protection loosened ({})", a.name, loosened.join(", ")),
                ));
            }
            if current.status != a.status {
                notes.push((
                    AuditEvent::StatusChanged,
                    format!("{}: {} → {}", a.name, current.status, a.status),
                ));
            }
            if new_credentials {
                notes.push((AuditEvent::CredentialsRotated, credential_fields(a)));
            }
            notes
        };
        let a = self
            .accounts
            .update(&current.id, input, auth.as_ref(), &notes)
            .await
            .map_err(api)?;
        g.publish(DomainEvent::AccountChanged {
            account_id: a.id.clone(),
        });
        Ok(a)
    }

    /// Removes an account; returns what was removed. Sensitive.
    pub async fn account_remove(&self, key: &str) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let auth = g.step_up(Sensitive::RemoveAccount).await?;
            let notes = |a: &Account| {
                vec![(
                    AuditEvent::AccountRemoved,
                    format!("{} ({} {})", a.name, a.broker, a.environment),
                )]
            };
            let a = self
                .accounts
                .remove(&auth, key, &notes)
                .await
                .map_err(api)?;
            g.publish(DomainEvent::AccountRemoved {
                account_id: a.id.clone(),
            });
            Ok(a)
        })
        .await
    }

    /// Changes an account's status by hand: allowed moves only (terminated is final);
    /// reactivating (to active) is sensitive. Audited; the runtime and the window hear of it.
    pub async fn account_set_status(
        &self,
        key: &str,
        status: AccountStatus,
        reason: Option<String>,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let before = self.accounts.get(key).await.map_err(api)?;
            if crate::risk::status::transition(before.status, status)? {
                g.step_up(Sensitive::ReactivateAccount).await?;
            }
            let reason = reason
                .map(|r| crate::text::cap(r.trim(), 500))
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "changed by hand".into());
            self.status_in(&g, &before, status, &reason).await
        })
        .await
    }

    /// Changes an account's status for a rule (a breach, a reset, the kill switch): the
    /// machine's allowed moves, no step-up (it is the system acting), audited.
    pub async fn account_set_status_by_rule(
        &self,
        key: &str,
        status: AccountStatus,
        reason: &str,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let before = self.accounts.get(key).await.map_err(api)?;
            crate::risk::status::transition(before.status, status)?;
            self.status_in(&g, &before, status, reason).await
        })
        .await
    }

    async fn status_in(
        &self,
        g: &Gate<'_>,
        before: &Account,
        status: AccountStatus,
        reason: &str,
    ) -> Result<Account, ApiError> {
        let was = before.status;
        let notes = |a: &Account| {
            vec![(
                AuditEvent::StatusChanged,
                format!("{}: {was} → {} ({reason})", a.name, a.status),
            )]
        };
        let (_, a) = self
            .accounts
            .set_status(&before.id, status, Some(reason), &notes)
            .await
            .map_err(api)?;
        if before.status != a.status {
            g.publish(DomainEvent::AccountChanged {
                account_id: a.id.clone(),
            });
        }
        Ok(a)
    }

    /// Sets an account's trading mode. Switching to live is sensitive and needs a broker
    /// check of the stored credentials in the last 24 hours; back to paper is always allowed.
    pub async fn account_set_mode(
        &self,
        key: &str,
        mode: TradingMode,
    ) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let before = self.accounts.get(key).await.map_err(api)?;
            let auth = match mode {
                TradingMode::Live => Some(self.live_gate(&g, &before).await?),
                TradingMode::Paper => None,
            };
            let was = before.mode;
            let notes = |a: &Account| {
                vec![(
                    AuditEvent::ModeSwitched,
                    format!("{}: {was} → {}", a.name, a.mode),
                )]
            };
            let a = self
                .accounts
                .set_mode(&before.id, mode, auth.as_ref(), &notes)
                .await
                .map_err(api)?;
            if before.mode != a.mode {
                g.publish(DomainEvent::ModeChanged {
                    account_id: a.id.clone(),
                });
            }
            Ok(a)
        })
        .await
    }

    /// Puts a live account back on paper by itself (its broker started refusing the stored
    /// credentials): audited with the reason. Returns whether it was live.
    pub async fn account_drop_to_paper(&self, key: &str, reason: &str) -> Result<bool, ApiError> {
        self.guard(|g| async move {
            let before = self.accounts.get(key).await.map_err(api)?;
            if before.mode != TradingMode::Live {
                return Ok(false);
            }
            let notes = |a: &Account| {
                vec![(
                    AuditEvent::ModeSwitched,
                    format!("{}: live → paper by itself ({reason})", a.name),
                )]
            };
            let a = self
                .accounts
                .set_mode(&before.id, TradingMode::Paper, None, &notes)
                .await
                .map_err(api)?;
            g.publish(DomainEvent::ModeChanged {
                account_id: a.id.clone(),
            });
            Ok(true)
        })
        .await
    }

    /// What going live needs, in this order: two-factor authentication on, a fresh step-up,
    /// an active account, and the stored credentials accepted by the broker in the last few
    /// minutes — checked now if the last check is older (a broker that cannot be reached
    /// leaves the account on paper).
    async fn live_gate(
        &self,
        g: &Gate<'_>,
        account: &Account,
    ) -> Result<super::guard::Authorized, ApiError> {
        if !self.twofa.is_enabled().await.map_err(api)? {
            return Err(ApiError::new(
                Code::LiveNeedsTwofa,
                format!(
                    "{} stays on paper: turn on two-factor authentication first (Security, or `brokerdesk twofa setup`); live trading is never one click away",
                    account.name
                ),
            ));
        }
        let auth = g.step_up(Sensitive::SwitchToLive).await?;
        if account.status != crate::accounts::model::AccountStatus::Active {
            return Err(ApiError::new(
                Code::AccountNotActive,
                format!(
                    "{} is {}: only an active account can go live",
                    account.name, account.status
                ),
            ));
        }
        if account.broker != BrokerKind::Paper && !self.checked_recently(&account.id).await? {
            match self.account_verify(&account.id).await {
                Ok(_) => {}
                Err(e)
                    if e.code == Code::BrokerAuth
                        || e.code == Code::VerifyRateLimited
                        || e.code == Code::CertificateChanged =>
                {
                    return Err(e)
                }
                Err(e) => {
                    return Err(ApiError::new(
                        Code::LiveNeedsVerifiedConnection,
                        format!(
                            "{} stays on paper: its broker could not confirm the credentials just now ({})",
                            account.name, e.message
                        ),
                    ))
                }
            }
        }
        Ok(auth)
    }

    /// Whether the latest broker check of the account succeeded within the live window.
    async fn checked_recently(&self, account_id: &str) -> Result<bool, ApiError> {
        let since = (chrono::Utc::now() - crate::accounts::LIVE_CHECK_MAX_AGE)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let ok: Option<bool> = sqlx::query_scalar(
            "SELECT ok FROM account_verifications WHERE account_id = ? AND at > ? ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(since)
        .fetch_optional(self.store.pool())
        .await
        .map_err(|e| api(crate::store::StoreError::from(e)))?;
        Ok(ok == Some(true))
    }

    /// Checks an account's stored credentials against its broker and returns what the
    /// broker reports (account number, type, currency, balance, equity, buying power). At most
    /// [`VERIFY_PER_MINUTE`] checks per account per minute: brokers block clients that retry
    /// logins too often (Tastytrade for hours).
    pub async fn account_verify(&self, key: &str) -> Result<AccountSummary, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let account = self.accounts.get(key).await.map_err(api)?;
        let recent = self.recent_checks(&account.id).await?;
        if recent >= VERIFY_PER_MINUTE {
            return Err(ApiError::new(
                Code::VerifyRateLimited,
                format!(
                    "{} was checked {recent} times in the last minute; wait a minute before checking again",
                    account.name
                ),
            ));
        }
        let creds = self
            .accounts
            .open_credentials(&account.id)
            .await
            .map_err(api)?;
        let result = async {
            let mut cfg = ConnectorConfig::new(
                account.broker,
                account.environment,
                account.broker_account_id.clone(),
                account.rest_url.as_deref(),
                account.stream_url.as_deref(),
            )?
            .with_credentials(creds.api_key, creds.api_secret);
            cfg.tls_pin = self.gateway_pin(&account, &cfg);
            let pin = cfg.tls_pin.clone();
            let result = brokers::connector(cfg)?.verify().await;
            // The gateway's certificate pinned on first use, or refused, is stored before
            // the answer (a CLI exits right after).
            if let Some(pin) = pin {
                self.record_pin(&account, &pin).await;
            }
            result
        }
        .await;
        let code = result.as_ref().err().map(|e| e.code().as_str());
        self.record_verification(&account.id, result.is_ok(), code)
            .await?;
        if let Err(BrokerError::Auth(_)) = &result {
            let detail = format!(
                "{}: the broker refused the stored credentials",
                account.name
            );
            self.audit
                .record(AuditEvent::ConnectionAuthFailed, Some(&account.id), &detail)
                .await;
        }
        result.map_err(api)
    }

    /// Emergency: deletes every stored credential and forces every account to paper mode,
    /// in one transaction. Sensitive.
    pub async fn credentials_purge(&self) -> Result<PurgeReport, ApiError> {
        self.guard(|g| async move {
            let auth = g.step_up(Sensitive::PurgeCredentials).await?;
            let report = self.accounts.purge_credentials(&auth).await.map_err(api)?;
            // The purged values must not stay readable anywhere: a new data key (the old one,
            // in memory or wrapped in an old copy of the vault row, opens nothing new), and
            // the WAL copied into the database and truncated.
            let generation = self.vault.rotate_key().await.map_err(api)?;
            self.store.checkpoint().await.map_err(api)?;
            g.audit(
                AuditEvent::CredentialsPurged,
                None,
                format!(
                    "{} credentials deleted from {} accounts; every account is in paper mode; the data key was replaced (generation {generation})",
                    report.credentials_deleted, report.accounts
                ),
            );
            g.publish(DomainEvent::CredentialsPurged);
            g.publish(DomainEvent::VaultChanged);
            Ok(report)
        })
        .await
    }

    /// Deletes a terminated account's stored credentials (the last step of terminating it,
    /// after an explicit confirmation in the window or the CLI). Only for a terminated
    /// account: it can never trade again, so its credentials have no use left. The data key
    /// is replaced and the WAL truncated, as for the full purge, so the deleted values stay
    /// readable nowhere. Audited.
    pub async fn account_forget_credentials(&self, key: &str) -> Result<Account, ApiError> {
        self.guard(|g| async move {
            let a = self.accounts.get(key).await.map_err(api)?;
            if a.status != AccountStatus::Terminated {
                return Err(ApiError::new(
                    Code::AccountNotTerminated,
                    format!(
                        "{} is {}: only a terminated account's credentials are purged this way (remove the account, or `brokerdesk purge` for every account)",
                        a.name, a.status
                    ),
                ));
            }
            let deleted = self.accounts.forget_credentials(&a.id).await.map_err(api)?;
            let generation = self.vault.rotate_key().await.map_err(api)?;
            self.store.checkpoint().await.map_err(api)?;
            g.audit(
                AuditEvent::CredentialsPurged,
                Some(&a.id),
                format!(
                    "{}: {deleted} credentials deleted (terminated); the data key was replaced (generation {generation})",
                    a.name
                ),
            );
            g.publish(DomainEvent::AccountChanged {
                account_id: a.id.clone(),
            });
            g.publish(DomainEvent::VaultChanged);
            self.accounts.get(&a.id).await.map_err(api)
        })
        .await
    }

    /// Opens an account's credentials (for connectors; never sent to the UI).
    pub async fn account_credentials(&self, key: &str) -> Result<Credentials, ApiError> {
        self.accounts.open_credentials(key).await.map_err(api)
    }

    /// Returns every account the app should keep connected — a real broker (not the built-in
    /// paper broker) with stored credentials — with its connector configuration, credentials
    /// opened (they stay inside [`ConnectorConfig`]'s secrets). Needs the unlocked vault.
    /// An account whose configuration is invalid is logged and left out.
    pub async fn connection_configs(&self) -> Result<Vec<(Account, ConnectorConfig)>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let mut out = Vec::new();
        for account in self.accounts.list().await.map_err(api)? {
            match self.connector_config(&account).await {
                Ok(Some(cfg)) => out.push((account, cfg)),
                Ok(None) => {}
                // One account whose stored credentials no longer open (tampered, copied from
                // another profile) is left out; the others still connect. Its list entry
                // flags the unreadable credential.
                Err(e) => tracing::warn!(account = %account.id, code = %e.code,
                    "the account's credentials cannot be opened; not connecting it"),
            }
        }
        Ok(out)
    }

    /// Like [`Brokerdesk::connection_configs`] for one account: `None` when it should not be
    /// connected (paper broker, no credentials, invalid configuration).
    pub async fn connection_config(
        &self,
        key: &str,
    ) -> Result<Option<(Account, ConnectorConfig)>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let account = self.accounts.get(key).await.map_err(api)?;
        Ok(self
            .connector_config(&account)
            .await?
            .map(|cfg| (account, cfg)))
    }

    async fn connector_config(
        &self,
        account: &Account,
    ) -> Result<Option<ConnectorConfig>, ApiError> {
        // IBKR stores nothing (the login lives at the gateway): connectable without secrets.
        // An account lacking a required credential (imported without them, or purged) is
        // not connected: it shows that its credentials are missing until they are entered.
        let info = catalog::broker_info(account.broker);
        let needs_secrets = !info.credential_fields.is_empty();
        let missing_required = info
            .credential_fields
            .iter()
            .filter(|c| c.required)
            .any(|c| !account.credentials.iter().any(|s| s.field == c.field));
        if account.broker == BrokerKind::Paper {
            // The simulated market: a price channel, no credentials.
            return Ok(
                ConnectorConfig::new(account.broker, account.environment, None, None, None).ok(),
            );
        }
        if needs_secrets && (account.credentials.is_empty() || missing_required) {
            return Ok(None);
        }
        let creds = self
            .accounts
            .open_credentials(&account.id)
            .await
            .map_err(api)?;
        match ConnectorConfig::new(
            account.broker,
            account.environment,
            account.broker_account_id.clone(),
            account.rest_url.as_deref(),
            account.stream_url.as_deref(),
        ) {
            Ok(cfg) => {
                let mut cfg = cfg.with_credentials(creds.api_key, creds.api_secret);
                cfg.tls_pin = self.gateway_pin(account, &cfg);
                Ok(Some(cfg))
            }
            Err(e) => {
                tracing::warn!(account = %account.id, code = %e.code(),
                    "the account's connector configuration is invalid; not connecting it");
                Ok(None)
            }
        }
    }
}

/// Names the credential fields an account has stored (never their values).
fn credential_fields(a: &Account) -> String {
    let names: Vec<&str> = a.credentials.iter().map(|c| c.field.as_str()).collect();
    format!("fields: {}", names.join(", "))
}
