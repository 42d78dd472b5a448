//! Health checks over the API (`crate::health`): the shallow ones read this machine; with
//! `deep`, each account's broker is asked too. Readable while locked (what needs the key is
//! reported as skipped).

use super::Brokerdesk;
use crate::accounts::model::BrokerKind;
use crate::error::ApiError;
use crate::health::{
    dir_bytes, free_bytes, human_bytes, HealthCheck, HealthCode, HealthReport, HealthStatus,
    DISK_FAIL, DISK_WARN, LOGS_WARN,
};
use crate::store::MIGRATOR;

use HealthCode as C;
use HealthStatus as S;

impl Brokerdesk {
    /// Runs the checks; never fails as a whole (a check that cannot run says why).
    pub async fn health(&self, deep: bool) -> Result<HealthReport, ApiError> {
        let mut checks = Vec::new();
        checks.push(match self.store.quick_check().await {
            Ok(problems) if problems.is_empty() => {
                HealthCheck::new(C::Database, S::Ok, "the database passes SQLite's quick check")
            }
            Ok(problems) => HealthCheck::new(
                C::Database,
                S::Fail,
                format!("the database is damaged: {}", problems.join("; ")),
            )
            .fix("quit Brokerdesk and keep a copy of the data folder; then set Brokerdesk up again in a new data folder and import an exported configuration"),
            Err(e) => HealthCheck::new(C::Database, S::Fail, format!("the database could not be checked: {e}")),
        });
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        checks.push(match self.store.schema_version().await {
            Ok(v) if v == latest => HealthCheck::new(
                C::Migrations,
                S::Ok,
                format!("the schema is up to date (version {v})"),
            ),
            Ok(v) => HealthCheck::new(
                C::Migrations,
                S::Fail,
                format!("the schema is at version {v}; this Brokerdesk expects {latest}"),
            )
            .fix("restart Brokerdesk: it applies its migrations when it opens the profile"),
            Err(e) => HealthCheck::new(
                C::Migrations,
                S::Fail,
                format!("the schema could not be read: {e}"),
            ),
        });
        let status = self.status().await?;
        let unlocked = status.initialized && !status.locked;
        checks.push(if !status.initialized {
            HealthCheck::new(C::Vault, S::Fail, "no vault yet")
                .fix("create one: first run, or `brokerdesk init`")
        } else if status.locked {
            HealthCheck::new(
                C::Vault,
                S::Warn,
                "the vault is locked: the audit log and the accounts are not checked",
            )
            .fix("unlock it and check again")
        } else {
            HealthCheck::new(
                C::Vault,
                S::Ok,
                format!("unlocked; key generation {}", status.key_generation),
            )
        });
        let keychain_needed = matches!(
            status.protection,
            Some(crate::vault::VaultProtection::Keychain)
        );
        checks.push(match (&status.keychain_error, keychain_needed) {
            (None, _) => HealthCheck::new(C::Keychain, S::Ok, "the OS keychain answers"),
            (Some(e), true) => HealthCheck::new(
                C::Keychain,
                S::Fail,
                format!("the OS keychain, which holds this vault's key, does not answer: {e}"),
            )
            .fix("start your desktop's keyring (e.g. GNOME Keyring) and unlock it"),
            (Some(e), false) => HealthCheck::new(
                C::Keychain,
                S::Skipped,
                format!(
                    "not used (the master password protects the vault); it does not answer: {e}"
                ),
            ),
        });
        checks.push(match free_bytes(self.data_dir()) {
            Some(free) if free < DISK_FAIL => HealthCheck::new(
                C::DiskSpace,
                S::Fail,
                format!("{} free where the profile lives", human_bytes(free)),
            )
            .fix("free some space: below 100 MiB, saving may fail with disk_full"),
            Some(free) if free < DISK_WARN => HealthCheck::new(
                C::DiskSpace,
                S::Warn,
                format!("{} free where the profile lives", human_bytes(free)),
            )
            .fix("free some space before it runs out"),
            Some(free) => {
                HealthCheck::new(C::DiskSpace, S::Ok, format!("{} free", human_bytes(free)))
            }
            None => HealthCheck::new(
                C::DiskSpace,
                S::Skipped,
                "this platform does not report free space",
            ),
        });
        let logs = dir_bytes(&self.data_dir().join("logs"));
        checks.push(if logs > LOGS_WARN {
            HealthCheck::new(C::Logs, S::Warn, format!("the logs take {}", human_bytes(logs)))
                .fix("delete old files in the data folder's logs/ (Brokerdesk keeps writing the current one)")
        } else {
            HealthCheck::new(C::Logs, S::Ok, format!("the logs take {}", human_bytes(logs)))
        });
        checks.push(self.backup_health().await?);
        if unlocked {
            checks.push(match self.audit_verify().await {
                Ok(v) if v.ok => HealthCheck::new(C::AuditLog, S::Ok, v.message),
                Ok(v) => HealthCheck::new(C::AuditLog, S::Fail, v.message)
                    .fix("the profile was edited outside Brokerdesk: see Activity"),
                Err(e) => HealthCheck::new(C::AuditLog, S::Fail, e.message),
            });
            let accounts = self.accounts_list().await?;
            let mut bad = Vec::new();
            for a in &accounts {
                if let Some(e) = &a.integrity {
                    bad.push(format!("{}: {}", a.name, e.code));
                }
                for c in &a.credentials {
                    if let Some(e) = &c.error {
                        bad.push(format!("{}'s {}: {}", a.name, c.label, e.code));
                    }
                }
            }
            checks.push(if bad.is_empty() {
                HealthCheck::new(
                    C::Accounts,
                    S::Ok,
                    format!("{} account(s); every stored state verifies and every credential opens", accounts.len()),
                )
            } else {
                HealthCheck::new(C::Accounts, S::Fail, bad.join("; "))
                    .fix("open each account named, check its settings and save it; enter credentials that do not open again")
            });
            if deep {
                for a in accounts.iter().filter(|a| a.broker != BrokerKind::Paper) {
                    checks.push(
                        match self.account_verify(&a.id).await {
                            Ok(s) => HealthCheck::new(
                                C::Broker,
                                S::Ok,
                                format!("signed in; broker account …{}", s.account_last4),
                            ),
                            Err(e) => HealthCheck::new(
                                C::Broker,
                                S::Fail,
                                format!("{} ({})", e.message, e.code),
                            )
                            .fix("open the account and use Test connection"),
                        }
                        .about(a.name.clone()),
                    );
                }
            }
        } else {
            for code in [C::AuditLog, C::Accounts] {
                checks.push(HealthCheck::new(
                    code,
                    S::Skipped,
                    "needs the vault unlocked",
                ));
            }
        }
        Ok(HealthReport::new(deep, checks))
    }
}
