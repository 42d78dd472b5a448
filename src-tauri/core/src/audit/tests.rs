use super::*;
use crate::error::Code;

async fn audit() -> (tempfile::TempDir, Store, Audit) {
    let (dir, store, audit, _) = audit_and_vault(None).await;
    (dir, store, audit)
}

async fn audit_and_vault(
    password: Option<&crate::secret::Secret>,
) -> (tempfile::TempDir, Store, Audit, std::sync::Arc<Vault>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let vault = std::sync::Arc::new(Vault::new(
        store.clone(),
        std::sync::Arc::new(crate::vault::keychain::MemoryKeyStore::new()),
    ));
    vault.init(password).await.expect("init");
    let audit = Audit::new(store.clone(), vault.clone(), "test");
    (dir, store, audit, vault)
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

/// Rewrites every entry as a plain (unkeyed) chain, as someone without the key can.
async fn rechain_plain(s: &Store) {
    type Row = (i64, String, String, String, Option<String>, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, event, actor, account_id, detail FROM audit_log ORDER BY id",
    )
    .fetch_all(s.pool())
    .await
    .expect("rows");
    let mut prev = GENESIS.to_vec();
    for (id, at, event, actor, account, detail) in rows {
        let fields = Fields {
            at: &at,
            event: &event,
            actor: &actor,
            account_id: account.as_deref(),
            detail: &detail,
        };
        let hash = fields.sha(&prev);
        sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ?, keyed = 0 WHERE id = ?")
            .bind(&prev)
            .bind(&hash)
            .bind(id)
            .execute(s.pool())
            .await
            .expect("rewrite");
        prev = hash;
    }
}

/// Someone with the database file rewrites an entry and recomputes every later hash as the
/// old unkeyed chain did: without the audit key the entry's MAC cannot be made, so the
/// rewrite is named; relabelling the entries as unkeyed misses the authenticated head.
#[tokio::test]
async fn a_recomputed_chain_is_caught_without_the_key() {
    let (_d, s, a) = audit().await;
    for i in 0..4 {
        a.record(AuditEvent::AccountEdited, Some("acc"), &format!("edit {i}"))
            .await;
    }
    let keyed: Vec<i64> = sqlx::query_scalar("SELECT keyed FROM audit_log ORDER BY id")
        .fetch_all(s.pool())
        .await
        .expect("rows");
    assert_eq!(
        keyed,
        vec![1, 1, 1, 1],
        "entries written unlocked are keyed"
    );
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(s.pool())
        .await
        .expect("drop");
    // Rewrite entry 2 and recompute the chain from it with the public SHA-256 form.
    sqlx::query("UPDATE audit_log SET detail = 'nothing to see' WHERE id = 2")
        .execute(s.pool())
        .await
        .expect("edit");
    rechain_plain(&s).await;
    let v = a.verify().await.expect("verify");
    assert!(!v.ok, "{v:?}");
    assert_eq!(v.first_broken_id, Some(4), "{v:?}");
    assert!(v.message.contains("authenticated head"), "{v:?}");
}

/// Entries cut off the end, or the head removed, are caught; a plain shorter log is not
/// mistaken for one.
#[tokio::test]
async fn truncation_and_a_removed_head_are_caught() {
    let (_d, s, a) = audit().await;
    for i in 0..5 {
        a.record(AuditEvent::AccountEdited, None, &format!("edit {i}"))
            .await;
    }
    assert!(a.verify().await.expect("verify").ok);
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(s.pool())
        .await
        .expect("drop");
    sqlx::query("DELETE FROM audit_log WHERE id >= 4")
        .execute(s.pool())
        .await
        .expect("truncate");
    let v = a.verify().await.expect("verify");
    assert!(!v.ok && v.message.contains("cut off its end"), "{v:?}");
    // Pointing the head back at the new end needs its MAC.
    sqlx::query("UPDATE audit_head SET entries = 3, last_id = 3, last_hash = (SELECT hash FROM audit_log WHERE id = 3)")
        .execute(s.pool())
        .await
        .expect("head");
    let v = a.verify().await.expect("verify");
    assert!(
        !v.ok
            && v.message
                .contains("head (entry count and last entry) was edited"),
        "{v:?}"
    );
    // And a log without its head while keyed entries remain.
    sqlx::query("DELETE FROM audit_head")
        .execute(s.pool())
        .await
        .expect("delete head");
    let v = a.verify().await.expect("verify");
    assert!(!v.ok && v.message.contains("head was removed"), "{v:?}");
    // A new entry does not launder the removal.
    a.record(AuditEvent::AccountEdited, None, "after").await;
    assert!(!a.verify().await.expect("verify").ok);
}

/// While locked, entries are chained but unkeyed; the next entry written unlocked
/// authenticates them. A key rotation re-seals the audit key: the log stays valid.
#[tokio::test]
async fn locked_entries_are_authenticated_by_the_next_keyed_one_and_rotation_keeps_the_log() {
    let password = crate::secret::Secret::new("correct horse battery staple");
    let (_d, s, a, vault) = audit_and_vault(Some(&password)).await;
    a.record(AuditEvent::VaultCreated, None, "created").await;
    vault.lock().await.expect("lock");
    a.record(AuditEvent::VaultUnlockFailed, None, "wrong_password")
        .await;
    a.record(AuditEvent::VaultUnlockFailed, None, "wrong_password")
        .await;
    vault.unlock(Some(&password)).await.expect("unlock");
    let v = a.verify().await.expect("verify");
    assert!(v.ok, "{v:?}");
    assert!(
        v.message
            .contains("the last 2 were written while the vault was locked"),
        "{v:?}"
    );
    a.record(AuditEvent::VaultUnlocked, None, "password").await;
    let v = a.verify().await.expect("verify");
    assert_eq!(v.message, "all 4 entries are intact", "{v:?}");
    let keyed: Vec<i64> = sqlx::query_scalar("SELECT keyed FROM audit_log ORDER BY id")
        .fetch_all(s.pool())
        .await
        .expect("rows");
    assert_eq!(keyed, vec![1, 0, 0, 1]);

    vault.rotate_key().await.expect("rotate");
    a.record(AuditEvent::KeyRotated, None, "generation 2").await;
    let v = a.verify().await.expect("verify");
    assert_eq!(v.message, "all 5 entries are intact", "{v:?}");
    // The audit key is sealed, never stored in the clear, and tied to the vault row.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT audit_key_sealed FROM vault")
        .fetch_one(s.pool())
        .await
        .expect("key");
    assert!(sealed.len() > 32);
    sqlx::query("UPDATE vault SET audit_key_sealed = NULL")
        .execute(s.pool())
        .await
        .expect("drop key");
    let v = a.verify().await.expect("verify");
    assert!(!v.ok && v.message.contains("cannot be trusted"), "{v:?}");
}

/// The whole log rewritten without keys, its head and its key removed, so that it looks
/// like a log that was never keyed: the key's absence is caught by the vault's tagged state.
#[tokio::test]
async fn a_log_stripped_of_its_keys_is_not_taken_for_an_unkeyed_one() {
    let (_d, s, a) = audit().await;
    for i in 0..3 {
        a.record(AuditEvent::AccountEdited, None, &format!("edit {i}"))
            .await;
    }
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(s.pool())
        .await
        .expect("drop");
    sqlx::query("UPDATE audit_log SET detail = 'rewritten' WHERE id = 1")
        .execute(s.pool())
        .await
        .expect("edit");
    rechain_plain(&s).await;
    sqlx::query("DELETE FROM audit_head")
        .execute(s.pool())
        .await
        .expect("head");
    sqlx::query("UPDATE vault SET audit_key_sealed = NULL")
        .execute(s.pool())
        .await
        .expect("key");
    let v = a.verify().await.expect("verify");
    assert!(!v.ok && v.message.contains("cannot be trusted"), "{v:?}");
}
