//! Health checks over the API (`crate::health`): the shallow ones read this machine; with
//! `deep`, each account's broker is asked too. Readable while locked (what needs the key is
//! reported as skipped).

use super::Brokerdesk;
use crate::accounts::model::BrokerKind;
use crate::error::ApiError;
use crate::health::{
    dir_bytes, free_bytes, human_bytes, HealthCheck, HealthCode, HealthReport, HealthStatus,
    StartupReport, DISK_FAIL, DISK_WARN, LOGS_WARN,
};
use crate::store::MIGRATOR;

use HealthCode as C;
use HealthStatus as S;

impl Brokerdesk {
    /// Runs the checks; never fails as a whole (a check that cannot run says why).
    pub async fn health(&self, deep: bool) -> Result<HealthReport, ApiError> {
        let mut checks = vec![self.check_database().await, self.check_migrations().await];
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
        checks.push(self.check_disk_space());
        let logs = dir_bytes(&self.data_dir().join("logs"));
        checks.push(if logs > LOGS_WARN {
            HealthCheck::new(C::Logs, S::Warn, format!("the logs take {}", human_bytes(logs)))
                .fix("delete old files in the data folder's logs/ (Brokerdesk keeps writing the current one)")
        } else {
            HealthCheck::new(C::Logs, S::Ok, format!("the logs take {}", human_bytes(logs)))
        });
        checks.push(self.backup_health().await?);
        if unlocked {
            checks.push(self.check_audit_log().await);
            let accounts = self.accounts_list().await?;
            checks.extend(accounts_check(&accounts));
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

    /// The start-up checks ([`crate::health::StartupReport`]): the shallow checks that decide
    /// whether this profile may trade — the database's quick check, its schema, free disk
    /// space and, once the vault is unlocked, the audit chain and every account's tagged state
    /// and credentials. The vault's own state (first run, locked), the keychain, the logs and
    /// the backups are not among them: the unlock screens and Settings → Health cover those,
    /// and none makes trading unsafe. Never fails as a whole.
    pub async fn startup_check(&self) -> StartupReport {
        let mut checks = vec![
            self.check_database().await,
            self.check_migrations().await,
            self.check_disk_space(),
        ];
        let complete = self.is_unlocked();
        if complete {
            checks.push(self.check_audit_log().await);
            match self.accounts_list().await {
                Ok(accounts) => checks.extend(accounts_check(&accounts)),
                Err(e) => checks.push(
                    HealthCheck::new(
                        C::Accounts,
                        S::Fail,
                        format!("the accounts could not be read: {} ({})", e.message, e.code),
                    )
                    .fix(RESTORE_FIX),
                ),
            }
        }
        StartupReport::new(checks, complete)
    }

    async fn check_database(&self) -> HealthCheck {
        match self.store.quick_check().await {
            Ok(problems) if problems.is_empty() => HealthCheck::new(
                C::Database,
                S::Ok,
                "the database passes SQLite's quick check",
            ),
            Ok(problems) => HealthCheck::new(
                C::Database,
                S::Fail,
                format!("the database is damaged: {}", problems.join("; ")),
            )
            .fix(RESTORE_FIX),
            Err(e) => HealthCheck::new(
                C::Database,
                S::Fail,
                format!("the database could not be checked: {e}"),
            )
            .fix(RESTORE_FIX),
        }
    }

    async fn check_migrations(&self) -> HealthCheck {
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        match self.store.schema_version().await {
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
            )
            .fix(RESTORE_FIX),
        }
    }

    fn check_disk_space(&self) -> HealthCheck {
        match free_bytes(self.data_dir()) {
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
        }
    }

    async fn check_audit_log(&self) -> HealthCheck {
        match self.audit_verify().await {
            Ok(v) if v.ok => HealthCheck::new(C::AuditLog, S::Ok, v.message),
            Ok(v) => HealthCheck::new(C::AuditLog, S::Fail, v.message).fix(AUDIT_FIX),
            Err(e) => HealthCheck::new(C::AuditLog, S::Fail, e.message).fix(AUDIT_FIX),
        }
    }
}

/// How to fix a damaged database (and what cannot be read because of it).
const RESTORE_FIX: &str = "quit Brokerdesk and restore the latest good backup: `brokerdesk backup restore FILE` (it checks the backup first and keeps a copy of the current profile); without a backup, set Brokerdesk up again in a new data folder and import an exported configuration";

/// How to fix an audit chain that does not verify.
const AUDIT_FIX: &str = "the profile was edited outside Brokerdesk: see Activity for the entry named; then quit Brokerdesk and restore a backup from before the edit with `brokerdesk backup restore FILE`; without one, export the configuration (Settings → Data), set Brokerdesk up in a new data folder and import it (credentials are entered again)";

/// Every account's tagged state verifies and its credentials open: one passing check, or a
/// failing one per account in trouble (its name as the subject).
fn accounts_check(accounts: &[crate::accounts::model::Account]) -> Vec<HealthCheck> {
    let mut bad = Vec::new();
    for a in accounts {
        let mut found = Vec::new();
        let mut fix = None;
        if let Some(e) = &a.integrity {
            if e.code == crate::error::Code::StateTampered {
                found.push(format!("its security settings (mode, status, endpoints or risk rules) were changed outside Brokerdesk, so it is held in paper mode and suspended ({})", e.code));
                fix = Some("open the account, check every setting and save it (with your two-factor code if it is on), entering its credentials again; or remove the account");
            } else {
                found.push(format!("{} ({})", e.message, e.code));
            }
        }
        for c in &a.credentials {
            if let Some(e) = &c.error {
                found.push(format!("its {} does not open ({})", c.label, e.code));
                fix.get_or_insert("open the account and enter the credentials named again, then save it; or remove the account");
            }
        }
        if !found.is_empty() {
            bad.push(
                HealthCheck::new(C::Accounts, S::Fail, found.join("; "))
                    .fix(fix.unwrap_or(
                        "open the account, check its settings and save it; or remove it",
                    ))
                    .about(a.name.clone()),
            );
        }
    }
    if bad.is_empty() {
        vec![HealthCheck::new(
            C::Accounts,
            S::Ok,
            format!(
                "{} account(s); every stored state verifies and every credential opens",
                accounts.len()
            ),
        )]
    } else {
        bad
    }
}
