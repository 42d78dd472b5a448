//! The audit log records each account change in the change's own transaction, with what
//! changed (before → after, never a secret), and a change whose record cannot be written is
//! not made (security issue 13, finding 10). The keyed chain itself is tested in
//! `audit/tests.rs`.

use std::sync::Arc;

use crate::common::audited;
use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::audit::{AuditEvent, AuditFilter};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Code, Secret};

const TOKEN: &str = "audit-test-TOKEN-0123456789abcdef";
const NEW_TOKEN: &str = "audit-test-NEWTOKEN-fedcba9876543210";

#[tokio::test]
async fn an_edit_records_what_changed_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .unwrap();
    bd.init(None).await.unwrap();
    let mut input = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    input.credentials.api_key = Some(Secret::new(TOKEN));
    input.instruments = vec!["EUR_USD".into()];
    let a = bd.account_add(input).await.unwrap();

    let mut edit = AccountInput::from_account(&a);
    edit.name = "FX main".into();
    edit.instruments.push("GBP_USD".into());
    edit.weekend_trading = !a.weekend_trading;
    edit.credentials.api_key = Some(Secret::new(NEW_TOKEN));
    bd.account_update(&a.id, edit).await.unwrap();

    let edited = audited(&bd, AuditEvent::AccountEdited).await;
    assert_eq!(edited.len(), 1, "{edited:?}");
    let detail = &edited[0];
    assert!(detail.starts_with("FX main: "), "{detail}");
    assert!(detail.contains("name: \"FX\" → \"FX main\""), "{detail}");
    assert!(
        detail.contains("instruments: [\"EUR_USD\"] → [\"EUR_USD\",\"GBP_USD\"]"),
        "{detail}"
    );
    assert!(detail.contains(&format!(
        "weekendTrading: {} → {}",
        a.weekend_trading, !a.weekend_trading
    )));
    assert_eq!(
        audited(&bd, AuditEvent::CredentialsRotated).await,
        vec!["fields: api_key".to_string()]
    );
    let everything = bd.audit_export_csv(&AuditFilter::default()).await.unwrap();
    for secret in [TOKEN, NEW_TOKEN] {
        assert!(
            !everything.contains(secret),
            "a secret reached the audit log"
        );
    }
    let v = bd.audit_verify().await.unwrap();
    assert!(
        v.ok && v.message == format!("all {} entries are intact", v.entries),
        "{v:?}"
    );
    bd.close().await;
}

/// The audit entry is written in the change's transaction: when it cannot be written (here
/// a trigger refuses it, as a full disk would), the change is not made either.
#[tokio::test]
async fn a_change_whose_record_cannot_be_written_is_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .unwrap();
    bd.init(None).await.unwrap();
    let a = bd
        .account_add(AccountInput::new(
            "Desk",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    crate::common::sqlite(
        dir.path(),
        "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    );
    let mut edit = AccountInput::from_account(&a);
    edit.name = "Renamed".into();
    let e = bd.account_update(&a.id, edit).await.unwrap_err();
    assert_ne!(e.code, Code::Validation, "{e}");
    assert_eq!(
        bd.account_get(&a.id).await.unwrap().name,
        "Desk",
        "nothing changed"
    );
    let e = bd.account_remove(&a.id).await.unwrap_err();
    assert_ne!(e.code, Code::NotFound, "{e}");
    assert!(bd.account_get(&a.id).await.is_ok(), "not removed either");

    crate::common::sqlite(dir.path(), "DROP TRIGGER audit_refused;");
    bd.account_remove(&a.id).await.unwrap();
    assert_eq!(audited(&bd, AuditEvent::AccountRemoved).await.len(), 1);
    assert!(bd.audit_verify().await.unwrap().ok);
    bd.close().await;
}
