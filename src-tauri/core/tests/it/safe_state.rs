//! The start-up checks and the safe state (issue 12, part 5): a profile edited outside
//! Brokerdesk — an account row, the audit log — starts held: the report names the failing
//! checks by their stable codes with a fix, every order (on any account) is refused with
//! `safe_mode` and nothing is stored for it, nothing connects; reading, the audit log and
//! health still work. Fixing it (removing the account; restoring a backup) and checking again
//! leaves the safe state, and orders go through.

use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::backup::restore::restore;
use brokerdesk_core::brokers::OrderSide;
use brokerdesk_core::health::{HealthCode, StartupReport};
use brokerdesk_core::runtime::{Runtime, RuntimeEvent, RuntimeOptions, UiEvent};
use brokerdesk_core::trading::model::OrderStatus;
use brokerdesk_core::trading::OrderDraft;
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Code, Secret};
use rust_decimal_macros::dec;

const PASSWORD: &str = "correct horse battery staple";
const PASSPHRASE: &str = "a long backup passphrase";

fn options() -> RuntimeOptions {
    RuntimeOptions {
        auto_lock: false,
        risk_watch: false,
        backup_every: None,
        ..RuntimeOptions::default()
    }
}

async fn open(dir: &std::path::Path) -> Arc<Brokerdesk> {
    Arc::new(Brokerdesk::open(dir, Arc::new(NoKeychain)).await.unwrap())
}

fn paper(name: &str) -> AccountInput {
    AccountInput::new(name, BrokerKind::Paper, Environment::Practice)
}

fn buy() -> OrderDraft {
    OrderDraft::market("EUR_USD", OrderSide::Buy, "1000")
}

fn codes(r: &StartupReport) -> Vec<HealthCode> {
    r.failed.iter().map(|c| c.code).collect()
}

/// Waits for the next `safe-state` event.
async fn next_safe_state(
    events: &mut tokio::sync::broadcast::Receiver<RuntimeEvent>,
) -> StartupReport {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(RuntimeEvent::Ui(UiEvent::SafeState(r))) = events.recv().await {
                return r;
            }
        }
    })
    .await
    .expect("a safe-state event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_account_holds_every_order_until_it_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let bd = open(dir.path()).await;
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let clean = bd.account_add(paper("Clean")).await.unwrap();
    let mut limited = paper("Edited");
    limited.risk.max_qty = Some(dec!(10));
    let edited = bd.account_add(limited).await.unwrap();
    bd.close().await;
    drop(bd);

    // Someone with the files loosens a limit.
    crate::common::sqlite(
        dir.path(),
        &format!(
            "UPDATE accounts SET max_qty = '1000000' WHERE id = '{}';",
            edited.id
        ),
    );

    let bd = open(dir.path()).await;
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    let rt = Runtime::start(bd.clone(), options()).await;
    let report = rt.startup_report().await;
    assert!(report.safe_mode && report.complete, "{report:?}");
    assert_eq!(codes(&report), vec![HealthCode::Accounts]);
    let failed = &report.failed[0];
    assert_eq!(failed.subject.as_deref(), Some("Edited"));
    assert!(
        failed.detail.contains("changed outside Brokerdesk"),
        "{failed:?}"
    );
    assert!(failed.detail.contains("state_tampered"), "{failed:?}");
    assert!(failed
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("remove the account")));

    // Every order is refused, on the clean account too, and nothing is stored for it.
    for id in [&clean.id, &edited.id] {
        let e = rt.order_place(id, buy()).await.unwrap_err();
        assert_eq!(e.code, Code::SafeMode, "{e}");
        assert!(e.message.contains("accounts"), "{e}");
        assert!(rt.orders_list(id, false).await.unwrap().is_empty());
    }
    assert!(rt.connections().is_empty(), "nothing connects");
    assert!(rt.is_held());
    // Reading, the audit log and health still work.
    assert_eq!(bd.accounts_list().await.unwrap().len(), 2);
    assert!(bd.audit_verify().await.unwrap().ok);
    assert!(!bd.health(false).await.unwrap().ok);

    // The fix: the edited account removed. The runtime checks again by itself.
    let mut events = rt.subscribe();
    bd.account_remove(&edited.id).await.unwrap();
    let after = next_safe_state(&mut events).await;
    assert!(!after.safe_mode, "{after:?}");
    assert!(!rt.is_held());
    // "Check again" agrees, and orders go through.
    assert!(!rt.startup_recheck().await.safe_mode);
    let filled = rt.order_place(&clean.id, buy()).await.unwrap();
    assert_eq!(filled.status, OrderStatus::Filled);

    rt.shutdown().await;
    bd.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_audit_log_holds_trading_until_a_backup_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let backup = elsewhere.path().join("good.bdbackup");
    let bd = open(dir.path()).await;
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let a = bd.account_add(paper("Paper")).await.unwrap();
    bd.backup_set_passphrase(Secret::new(PASSPHRASE))
        .await
        .unwrap();
    bd.backup_create(Some(backup.clone())).await.unwrap();
    bd.close().await;
    drop(bd);

    // Someone with the files rewrites an entry (past the triggers that refuse it).
    crate::common::sqlite(
        dir.path(),
        "DROP TRIGGER audit_log_no_update; \
         UPDATE audit_log SET detail = 'nothing to see' WHERE id = (SELECT MIN(id) FROM audit_log);",
    );

    // Started locked (a password vault): the checks that need the key wait for the unlock.
    let bd = open(dir.path()).await;
    let rt = Runtime::start(bd.clone(), options()).await;
    let locked = rt.startup_report().await;
    assert!(!locked.safe_mode && !locked.complete, "{locked:?}");
    // An order right after the unlock runs them first: it is refused.
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    let e = rt.order_place(&a.id, buy()).await.unwrap_err();
    assert_eq!(e.code, Code::SafeMode, "{e}");
    assert!(e.message.contains("audit_log"), "{e}");
    let report = rt.startup_report().await;
    assert!(report.safe_mode && report.complete);
    assert_eq!(codes(&report), vec![HealthCode::AuditLog]);
    assert!(report.failed[0].detail.contains("tampered"), "{report:?}");
    assert!(report.failed[0]
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("brokerdesk backup restore FILE")));
    // Checking again changes nothing while the log is still edited.
    assert!(rt.startup_recheck().await.safe_mode);
    assert!(rt.orders_list(&a.id, false).await.unwrap().is_empty());
    rt.shutdown().await;
    bd.close().await;
    drop((rt, bd));

    // The fix: the backup restored, with the app closed.
    restore(
        &backup,
        &Secret::new(PASSPHRASE),
        dir.path(),
        Arc::new(NoKeychain),
        "test",
    )
    .await
    .unwrap();
    let bd = open(dir.path()).await;
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    let rt = Runtime::start(bd.clone(), options()).await;
    let report = rt.startup_report().await;
    assert!(!report.safe_mode && report.complete, "{report:?}");
    let filled = rt.order_place(&a.id, buy()).await.unwrap();
    assert_eq!(filled.status, OrderStatus::Filled);
    rt.shutdown().await;
    bd.close().await;
}
