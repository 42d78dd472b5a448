//! Encrypted backups through the API: a keychain profile restored onto a machine whose
//! keychain never held its key opens by itself with its credentials readable; a key rotation
//! keeps the backup key; a backup taken while ten accounts are being written is consistent;
//! a restore is refused while the profile is open; the schedule makes one backup a day and
//! prunes only scheduled ones; a setting of the passphrase needs the step-up (see
//! `step_up.rs`); no secret appears in a backup file.

use std::sync::Arc;
use std::time::Duration;

use crate::common::audited;
use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::audit::AuditEvent;
use brokerdesk_core::backup::restore::restore;
use brokerdesk_core::backup::{BackupConfig, BackupTrigger};
use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Code, Secret};

const TOKEN: &str = "backup-test-TOKEN-0123456789abcdef";
const PASSPHRASE: &str = "a long backup passphrase";

async fn profile(dir: &std::path::Path, ks: Arc<MemoryKeyStore>) -> Brokerdesk {
    let bd = Brokerdesk::open(dir, ks).await.unwrap();
    bd.init(None).await.unwrap();
    let mut input = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    input.credentials.api_key = Some(Secret::new(TOKEN));
    bd.account_add(input).await.unwrap();
    bd
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_keychain_profile_restored_elsewhere_opens_by_itself_with_its_credentials() {
    let a = tempfile::tempdir().unwrap();
    let bd = profile(a.path(), Arc::new(MemoryKeyStore::new())).await;
    let not_set = bd.backup_create(None).await.unwrap_err();
    assert_eq!(not_set.code, Code::BackupNotSetUp, "{not_set:?}");
    let short = bd
        .backup_set_passphrase(Secret::new("short"))
        .await
        .unwrap_err();
    assert_eq!(short.code, Code::Validation);
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    // A rotation re-seals the kept backup key: backups go on working.
    bd.rotate_key().await.unwrap();
    let file = bd.backup_create(None).await.unwrap();
    assert!(file
        .path
        .starts_with(&a.path().join("backups").display().to_string()));
    assert_eq!(file.trigger, Some(BackupTrigger::Manual));
    let bytes = std::fs::read(&file.path).unwrap();
    for plain in [TOKEN.as_bytes(), b"SQLite format 3", b"\"FX\""] {
        assert!(
            !contains(&bytes, plain),
            "{} in the backup",
            String::from_utf8_lossy(plain)
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let listed = bd.backup_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current_key);
    let v = bd.backup_verify_named(&listed[0].name).await.unwrap();
    assert!(
        v.intact && v.accounts == 1 && v.protection == "keychain",
        "{v:?}"
    );
    // The window may name only a file in the backup folder.
    for bad in ["../brokerdesk.db", "/etc/passwd", "x.txt"] {
        let e = bd.backup_verify_named(bad).await.unwrap_err();
        assert_eq!(e.code, Code::NotFound, "{bad}");
    }
    assert_eq!(audited(&bd, AuditEvent::BackupCreated).await.len(), 1);
    assert_eq!(audited(&bd, AuditEvent::BackupPassphraseSet).await.len(), 1);

    // Restore onto "another machine": a new data dir and a keychain that never held the key.
    let b = tempfile::tempdir().unwrap();
    let other_keychain = Arc::new(MemoryKeyStore::new());
    let path = std::path::PathBuf::from(&file.path);
    let wrong = restore(
        &path,
        &Secret::new("not the passphrase"),
        b.path(),
        other_keychain.clone(),
        "test",
    )
    .await
    .unwrap_err();
    assert_eq!(
        brokerdesk_core::ErrorCode::code(&wrong),
        Code::WrongPassphrase
    );
    assert!(!b.path().join("brokerdesk.db").exists());
    let report = restore(
        &path,
        &Secret::new(PASSPHRASE),
        b.path(),
        other_keychain.clone(),
        "test",
    )
    .await
    .unwrap();
    assert_eq!(report.previous_copy, None);
    let restored = Brokerdesk::open(b.path(), other_keychain).await.unwrap();
    assert!(
        restored.is_unlocked(),
        "the keychain profile unlocks by itself"
    );
    let accounts = restored.accounts_list().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(
        accounts[0].credentials.iter().all(|c| c.error.is_none()),
        "{accounts:?}"
    );
    assert!(restored.audit_verify().await.unwrap().ok);
    assert_eq!(
        audited(&restored, AuditEvent::ProfileRestored).await.len(),
        1
    );
    // The backup key came along: the restored profile backs up without a new passphrase.
    restored.backup_create(None).await.unwrap();
    restored.close().await;
    bd.close().await;
}

#[tokio::test]
async fn a_restore_is_refused_while_the_profile_is_open_and_changes_nothing() {
    let a = tempfile::tempdir().unwrap();
    let ks = Arc::new(MemoryKeyStore::new());
    let bd = profile(a.path(), ks.clone()).await;
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    let out = a.path().join("copy.bdbackup");
    bd.backup_create(Some(out.clone())).await.unwrap();
    // --out never replaces a file.
    let again = bd.backup_create(Some(out.clone())).await.unwrap_err();
    assert_eq!(again.code, Code::Io, "{again:?}");
    let e = restore(&out, &Secret::new(PASSPHRASE), a.path(), ks.clone(), "test")
        .await
        .unwrap_err();
    assert_eq!(brokerdesk_core::ErrorCode::code(&e), Code::ProfileInUse);
    assert_eq!(bd.accounts_list().await.unwrap().len(), 1);
    bd.close().await;
    drop(bd);
    // Closed: the restore goes through and keeps a copy of what it replaced.
    let report = restore(&out, &Secret::new(PASSPHRASE), a.path(), ks.clone(), "test")
        .await
        .unwrap();
    let copy = report
        .previous_copy
        .expect("a copy of the replaced profile");
    assert!(std::path::Path::new(&copy).exists());
}

#[tokio::test]
async fn a_backup_taken_while_ten_accounts_are_written_is_consistent() {
    let a = tempfile::tempdir().unwrap();
    let ks = Arc::new(MemoryKeyStore::new());
    let bd = Arc::new(profile(a.path(), ks.clone()).await);
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    let writers: Vec<_> = (0..10)
        .map(|i| {
            let bd = bd.clone();
            tokio::spawn(async move {
                for j in 0..5 {
                    let input = AccountInput::new(
                        format!("W{i}-{j}"),
                        BrokerKind::Paper,
                        Environment::Practice,
                    );
                    bd.account_add(input).await.unwrap();
                }
            })
        })
        .collect();
    let mut files = Vec::new();
    for _ in 0..3 {
        files.push(bd.backup_create(None).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    for f in files {
        let v = bd
            .backup_verify(std::path::Path::new(&f.path), None)
            .await
            .unwrap();
        // Each snapshot is one consistent moment: between 1 and 51 accounts, intact.
        assert!(v.intact && (1..=51).contains(&v.accounts), "{v:?}");
    }
}

#[tokio::test]
async fn the_schedule_makes_one_backup_a_day_and_prunes_only_scheduled_ones() {
    let a = tempfile::tempdir().unwrap();
    let ks = Arc::new(MemoryKeyStore::new());
    let bd = Arc::new(profile(a.path(), ks).await);
    // No passphrase: nothing is due, nothing is made.
    assert!(!bd.backup_due().await.unwrap());
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    assert!(bd.backup_due().await.unwrap());
    let folder = a.path().join("elsewhere");
    bd.backup_configure(BackupConfig {
        scheduled: true,
        folder: Some(folder.display().to_string()),
        keep_daily: 1,
        keep_weekly: 0,
    })
    .await
    .unwrap();
    let manual = bd.backup_create(None).await.unwrap();
    let rt = Runtime::start(
        bd.clone(),
        RuntimeOptions {
            auto_lock: false,
            risk_watch: false,
            lazy_connections: true,
            backup_every: Some(Duration::from_millis(50)),
            ..RuntimeOptions::default()
        },
    )
    .await;
    // The manual backup counts as the last one: not due for 24 h.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(bd.backup_list().await.unwrap().len(), 1);
    // A day later (the record aged by hand), the schedule makes one, and only one.
    crate::common::sqlite(
        a.path(),
        "UPDATE backup_runs SET at = '2026-01-01T00:00:00Z'",
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let scheduled = bd
            .backup_list()
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.trigger == Some(BackupTrigger::Scheduled))
            .count();
        if scheduled == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled backup"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let files = bd.backup_list().await.unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().any(|f| f.path == manual.path),
        "a manual backup is never pruned"
    );
    assert!(!bd.backup_due().await.unwrap());
    let status = bd.backup_status().await.unwrap();
    let first = status.last_backup.unwrap();
    assert_eq!(first.trigger, BackupTrigger::Scheduled);
    rt.shutdown().await;
    // Another scheduled backup the same day: keeping one a day, the older one is pruned;
    // the manual one stays.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let newest = bd.backup_scheduled().await.unwrap();
    let names: Vec<String> = bd
        .backup_list()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&newest.path) && names.contains(&manual.path),
        "{names:?}"
    );
    assert!(!names.contains(first.path.as_ref().unwrap()));
}

#[tokio::test]
async fn a_failed_backup_is_shown_until_one_succeeds_and_a_bad_out_path_is_not_recorded() {
    let a = tempfile::tempdir().unwrap();
    let bd = profile(a.path(), Arc::new(MemoryKeyStore::new())).await;
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    // A file where the folder should be: the backup cannot be written there.
    let blocker = a.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let mut config = bd.backup_status().await.unwrap().config;
    config.folder = Some(blocker.join("backups").display().to_string());
    bd.backup_configure(config.clone()).await.unwrap();
    let e = bd.backup_create(None).await.unwrap_err();
    assert_eq!(e.code, Code::Io, "{e:?}");
    let status = bd.backup_status().await.unwrap();
    assert!(status.last_failure.is_some(), "{status:?}");
    let health = bd.health(false).await.unwrap();
    let check = health
        .checks
        .iter()
        .find(|c| c.code == brokerdesk_core::health::HealthCode::Backups)
        .unwrap();
    assert_eq!(
        check.status,
        brokerdesk_core::health::HealthStatus::Fail,
        "{check:?}"
    );
    // Back to the default folder: a success clears it.
    config.folder = None;
    bd.backup_configure(config).await.unwrap();
    let made = bd.backup_create(None).await.unwrap();
    assert!(bd.backup_status().await.unwrap().last_failure.is_none());
    // An --out that exists is the caller's error, not a failed backup.
    let e = bd
        .backup_create(Some(std::path::PathBuf::from(&made.path)))
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::Io);
    assert!(bd.backup_status().await.unwrap().last_failure.is_none());
}
