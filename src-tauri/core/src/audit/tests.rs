use super::*;
use crate::error::Code;

async fn audit() -> (tempfile::TempDir, Store, Audit) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let audit = Audit::new(store.clone(), "test");
    (dir, store, audit)
}

#[tokio::test]
async fn entries_chain_and_verify() {
    let (_d, _s, a) = audit().await;
    a.record(
        AuditEvent::VaultCreated,
        None,
        "protected by the master password",
    )
    .await;
    a.record(
        AuditEvent::AccountCreated,
        Some("acc-1"),
        "FX (oanda practice)",
    )
    .await;
    a.record(AuditEvent::TwofaFailed, None, "a wrong code")
        .await;
    let v = a.verify().await.expect("verify");
    assert!(v.ok, "{v:?}");
    assert_eq!(v.entries, 3);
    let list = a.list(&AuditFilter::default()).await.expect("list");
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].event, AuditEvent::TwofaFailed, "newest first");
    assert_eq!(list[2].actor, "test");
}

#[tokio::test]
async fn filters_and_search() {
    let (_d, _s, a) = audit().await;
    a.record(AuditEvent::AccountCreated, Some("acc-1"), "FX main")
        .await;
    a.record(AuditEvent::AccountCreated, Some("acc-2"), "Stocks")
        .await;
    a.record(AuditEvent::AccountRemoved, Some("acc-1"), "FX main")
        .await;
    let f = AuditFilter {
        events: vec![AuditEvent::AccountCreated],
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 2);
    let f = AuditFilter {
        account_id: Some("acc-1".into()),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 2);
    let f = AuditFilter {
        search: Some("stocks".into()),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 1);
    let f = AuditFilter {
        search: Some("REMOVED".into()),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 1);
    let f = AuditFilter {
        since: Some("2999-01-01T00:00:00Z".into()),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 0);
    let f = AuditFilter {
        since: Some("yesterday".into()),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect_err("bad").code(), Code::Validation);
    let f = AuditFilter {
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(a.list(&f).await.expect("l").len(), 1);
}

#[tokio::test]
async fn the_log_refuses_edits_and_detects_them_when_forced() {
    let (_d, s, a) = audit().await;
    for i in 0..5 {
        a.record(AuditEvent::AccountEdited, Some("acc"), &format!("edit {i}"))
            .await;
    }
    // Through Brokerdesk's connection the triggers refuse changes.
    assert!(
        sqlx::query("UPDATE audit_log SET detail = 'x' WHERE id = 2")
            .execute(s.pool())
            .await
            .is_err()
    );
    assert!(sqlx::query("DELETE FROM audit_log WHERE id = 2")
        .execute(s.pool())
        .await
        .is_err());
    // Someone drops the trigger and edits entry 3: verification names entry 3.
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(s.pool())
        .await
        .expect("drop");
    sqlx::query("UPDATE audit_log SET detail = 'nothing to see' WHERE id = 3")
        .execute(s.pool())
        .await
        .expect("edit");
    let v = a.verify().await.expect("verify");
    assert!(!v.ok);
    assert_eq!(v.first_broken_id, Some(3));
    assert_eq!(v.entries, 2);
}

#[tokio::test]
async fn a_deleted_middle_entry_is_detected() {
    let (_d, s, a) = audit().await;
    for i in 0..4 {
        a.record(AuditEvent::AccountEdited, None, &format!("edit {i}"))
            .await;
    }
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(s.pool())
        .await
        .expect("drop");
    sqlx::query("DELETE FROM audit_log WHERE id = 2")
        .execute(s.pool())
        .await
        .expect("delete");
    let v = a.verify().await.expect("verify");
    assert_eq!(v.first_broken_id, Some(3), "{v:?}");
}

#[tokio::test]
async fn csv_export_quotes_and_defuses_formulas() {
    let (_d, _s, a) = audit().await;
    a.record(
        AuditEvent::AccountCreated,
        Some("acc"),
        "name with, comma and \"quotes\"",
    )
    .await;
    a.record(AuditEvent::AccountCreated, Some("acc"), "=HYPERLINK(\"x\")")
        .await;
    let csv = a.export_csv(&AuditFilter::default()).await.expect("csv");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "id,at,event,actor,account_id,detail,hash");
    assert!(
        lines[1].contains("\"name with, comma and \"\"quotes\"\"\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("'=HYPERLINK"), "{}", lines[2]);
}
