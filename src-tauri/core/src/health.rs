//! Health checks (issue 12, part 5): what `brokerdesk health` and Settings → Health report,
//! each with a stable code, a status, what was found and how to fix it.
//!
//! Shallow checks read only this machine: the database's integrity and migrations, the
//! vault, the OS keychain, free disk space, the log's size, the audit chain and each
//! account's stored state. Deep checks also sign in at each account's broker (the same
//! check as "Test connection"). The backups check reports the passphrase, the last backup's age and a failed attempt.

use serde::Serialize;
use ts_rs::TS;

/// What a check looked at (stable: scripts may match on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthCode {
    /// SQLite's `quick_check` of the profile's database.
    Database,
    /// The database's schema is this Brokerdesk's.
    Migrations,
    /// The vault exists and is unlocked.
    Vault,
    /// The OS keychain answers.
    Keychain,
    /// Free space where the profile lives.
    DiskSpace,
    /// The size of the log folder.
    Logs,
    /// The last backup's age.
    Backups,
    /// The audit log's keyed chain.
    AuditLog,
    /// Each account's stored state verifies and its credentials open.
    Accounts,
    /// An account's broker accepts its stored credentials (deep).
    Broker,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthStatus {
    Ok,
    /// Not checked (it needs something that is not there, e.g. the vault unlocked).
    Skipped,
    Warn,
    Fail,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HealthCheck {
    pub code: HealthCode,
    /// For per-account checks: the account's name.
    pub subject: Option<String>,
    pub status: HealthStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it (warn and fail).
    pub fix: Option<String>,
}

impl HealthCheck {
    pub fn new(code: HealthCode, status: HealthStatus, detail: impl Into<String>) -> Self {
        Self {
            code,
            subject: None,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// Every check of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HealthReport {
    /// No check failed.
    pub ok: bool,
    /// The worst status of all checks.
    pub worst: HealthStatus,
    /// Whether the brokers were asked too.
    pub deep: bool,
    /// RFC 3339, UTC.
    pub at: String,
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    pub fn new(deep: bool, checks: Vec<HealthCheck>) -> Self {
        let worst = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(HealthStatus::Ok);
        Self {
            ok: worst != HealthStatus::Fail,
            worst,
            deep,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            checks,
        }
    }
}

/// What the start-up checks found ([`crate::api::Brokerdesk::startup_check`]), and so whether
/// the profile runs in the **safe state**: when any check failed, the runtime sends no order
/// (live or paper), connects no account, makes no scheduled backup and does not recover or
/// look up orders at the brokers, until the checks pass again ("Check again"). Reading,
/// exporting, the audit log, health and every fix stay available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StartupReport {
    /// A check failed: the profile runs in the safe state.
    pub safe_mode: bool,
    /// The checks that failed, each with what was found and how to fix it.
    pub failed: Vec<HealthCheck>,
    /// The checks that warned (they do not restrict anything).
    pub warnings: Vec<HealthCheck>,
    /// Whether the checks that need the vault unlocked (the audit log and the accounts) ran;
    /// they run at the first unlock.
    pub complete: bool,
    /// RFC 3339, UTC.
    pub at: String,
}

impl StartupReport {
    /// Sorts `checks` into failures and warnings.
    pub fn new(checks: Vec<HealthCheck>, complete: bool) -> Self {
        let failed: Vec<HealthCheck> = checks
            .iter()
            .filter(|c| c.status == HealthStatus::Fail)
            .cloned()
            .collect();
        let warnings = checks
            .into_iter()
            .filter(|c| c.status == HealthStatus::Warn)
            .collect();
        Self {
            safe_mode: !failed.is_empty(),
            failed,
            warnings,
            complete,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// The failing checks' codes, comma-separated (`accounts, audit_log`).
    pub fn failed_codes(&self) -> String {
        let mut codes: Vec<&str> = self.failed.iter().map(|c| c.code.as_str()).collect();
        codes.dedup();
        codes.join(", ")
    }
}

impl HealthCode {
    /// The stable wire string (`audit_log`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthCode::Database => "database",
            HealthCode::Migrations => "migrations",
            HealthCode::Vault => "vault",
            HealthCode::Keychain => "keychain",
            HealthCode::DiskSpace => "disk_space",
            HealthCode::Logs => "logs",
            HealthCode::Backups => "backups",
            HealthCode::AuditLog => "audit_log",
            HealthCode::Accounts => "accounts",
            HealthCode::Broker => "broker",
        }
    }
}

/// Free space at `path` in bytes (`None` where the platform does not say).
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(path).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The total size of the files directly in `dir` (0 if it does not exist).
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Bytes as a short human figure ("2.1 GiB", "340 MiB", "12 KiB").
pub fn human_bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f >= KIB * KIB * KIB {
        format!("{:.1} GiB", f / (KIB * KIB * KIB))
    } else if f >= KIB * KIB {
        format!("{:.0} MiB", f / (KIB * KIB))
    } else {
        format!("{:.0} KiB", f / KIB)
    }
}

/// Below this much free space the disk check fails (a write may fail with `disk_full`).
pub const DISK_FAIL: u64 = 100 * 1024 * 1024;
/// Below this much it warns.
pub const DISK_WARN: u64 = 1024 * 1024 * 1024;
/// A log folder above this size is worth a look.
pub const LOGS_WARN: u64 = 200 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_decides() {
        let r = HealthReport::new(
            false,
            vec![
                HealthCheck::new(HealthCode::Database, HealthStatus::Ok, "ok"),
                HealthCheck::new(HealthCode::Backups, HealthStatus::Skipped, "not built"),
                HealthCheck::new(HealthCode::DiskSpace, HealthStatus::Warn, "low"),
            ],
        );
        assert!(r.ok);
        assert_eq!(r.worst, HealthStatus::Warn);
        let r = HealthReport::new(
            false,
            vec![HealthCheck::new(
                HealthCode::AuditLog,
                HealthStatus::Fail,
                "x",
            )],
        );
        assert!(!r.ok);
    }

    #[test]
    fn a_failed_check_means_the_safe_state_and_a_warning_does_not() {
        let ok = StartupReport::new(
            vec![
                HealthCheck::new(HealthCode::Database, HealthStatus::Ok, "ok"),
                HealthCheck::new(HealthCode::DiskSpace, HealthStatus::Warn, "low"),
            ],
            true,
        );
        assert!(!ok.safe_mode);
        assert_eq!(ok.warnings.len(), 1);
        let safe = StartupReport::new(
            vec![
                HealthCheck::new(HealthCode::AuditLog, HealthStatus::Fail, "x"),
                HealthCheck::new(HealthCode::Accounts, HealthStatus::Fail, "y"),
            ],
            true,
        );
        assert!(safe.safe_mode);
        assert_eq!(safe.failed_codes(), "audit_log, accounts");
        for c in [HealthCode::DiskSpace, HealthCode::AuditLog] {
            assert_eq!(
                serde_json::to_string(&c).unwrap_or_default(),
                format!("\"{}\"", c.as_str())
            );
        }
    }

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
        assert_eq!(human_bytes(340 * 1024 * 1024), "340 MiB");
        assert_eq!(human_bytes(12 * 1024), "12 KiB");
    }

    #[test]
    fn free_space_is_known_here() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(free_bytes(dir.path()).is_some_and(|b| b > 0));
        std::fs::write(dir.path().join("a.log"), [0u8; 2048]).expect("write");
        assert_eq!(dir_bytes(dir.path()), 2048);
        assert_eq!(dir_bytes(&dir.path().join("none")), 0);
    }
}
