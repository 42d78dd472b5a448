use std::sync::Arc;

use super::keychain::{MemoryKeyStore, NoKeychain};
use super::*;
use crate::error::Code;

async fn store(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path()).await.expect("open store")
}

fn pw(s: &str) -> Secret {
    Secret::new(s)
}

/// The scope of the test accounts below (OANDA practice, default endpoints).
const SCOPE: CredentialScope<'static> = CredentialScope {
    broker: "oanda",
    environment: "practice",
    rest_url: None,
    stream_url: None,
};

async fn insert_secret(store: &Store, u: &Unlocked, account: &str, field: &str, value: &str) {
    sqlx::query(
        "INSERT OR IGNORE INTO accounts (id, name, broker, environment, created_at, updated_at)
         VALUES (?, ?, 'oanda', 'practice', 'now', 'now')",
    )
    .bind(account)
    .bind(account)
    .execute(store.pool())
    .await
    .expect("insert account");
    let sealed = u
        .seal(
            &account_secret_binding(account, field, &SCOPE),
            value.as_bytes(),
        )
        .expect("seal");
    sqlx::query("INSERT INTO account_secrets (account_id, field, sealed, key_generation, updated_at) VALUES (?, ?, ?, ?, 'now')")
        .bind(account)
        .bind(field)
        .bind(sealed)
        .bind(i64::from(u.generation()))
        .execute(store.pool())
        .await
        .expect("insert secret");
}

async fn read_secret(
    store: &Store,
    u: &Unlocked,
    account: &str,
    field: &str,
) -> Result<Secret, VaultError> {
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT sealed FROM account_secrets WHERE account_id = ? AND field = ?")
            .bind(account)
            .bind(field)
            .fetch_one(store.pool())
            .await
            .expect("row");
    u.open(&account_secret_binding(account, field, &SCOPE), &sealed)
}

#[tokio::test]
async fn keychain_vault_unlocks_itself_after_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let v = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v.init(None).await.expect("init");
    let u = v.unlocked().await.expect("unlocked after init");
    insert_secret(&v.store, &u, "a1", "api_key", "tok-keychain-123").await;
    assert_eq!(ks.names().len(), 1);

    let v2 = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    assert!(matches!(v2.unlocked().await, Err(VaultError::Locked)));
    v2.unlock(None).await.expect("unlock from keychain");
    let u2 = v2.unlocked().await.expect("unlocked");
    assert_eq!(
        read_secret(&v2.store, &u2, "a1", "api_key")
            .await
            .expect("open")
            .expose(),
        "tok-keychain-123"
    );
    let st = v2.state().await.expect("state");
    assert_eq!(st.protection, Some(VaultProtection::Keychain));
    assert!(!st.locked);
}

#[tokio::test]
async fn no_keychain_requires_a_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    let err = v.init(None).await.expect_err("must require a password");
    assert_eq!(err.code(), Code::PasswordRequired, "{err}");
    assert!(
        !v.state().await.expect("state").initialized,
        "nothing may be stored"
    );
    v.init(Some(&pw("correct horse battery")))
        .await
        .expect("init with password");
    assert_eq!(
        v.state().await.expect("state").protection,
        Some(VaultProtection::Password)
    );
}

#[tokio::test]
async fn password_vault_starts_locked_and_refuses_wrong_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    v.init(Some(&pw("correct horse battery")))
        .await
        .expect("init");
    let u = v.unlocked().await.expect("unlocked");
    insert_secret(&v.store, &u, "a1", "api_key", "tok-pw-1234567890").await;

    let v2 = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    assert!(v2.state().await.expect("state").locked);
    assert_eq!(
        v2.unlocked().await.err().map(|e| e.code()),
        Some(Code::Locked)
    );
    let e = v2
        .unlock(Some(&pw("wrong horse battery")))
        .await
        .expect_err("wrong");
    assert_eq!(e.code(), Code::WrongPassword);
    assert_eq!(
        v2.unlock(None).await.expect_err("none").code(),
        Code::PasswordMissing
    );
    v2.unlock(Some(&pw("correct horse battery")))
        .await
        .expect("right password");
    let u2 = v2.unlocked().await.expect("unlocked");
    assert_eq!(
        read_secret(&v2.store, &u2, "a1", "api_key")
            .await
            .expect("open")
            .expose(),
        "tok-pw-1234567890"
    );

    v2.lock().await.expect("lock");
    assert_eq!(
        v2.unlocked().await.err().map(|e| e.code()),
        Some(Code::Locked)
    );
}

#[tokio::test]
async fn keychain_vault_cannot_be_locked_and_init_twice_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(MemoryKeyStore::new()));
    v.init(None).await.expect("init");
    assert_eq!(
        v.lock().await.expect_err("no pw").code(),
        Code::NoMasterPassword
    );
    assert_eq!(
        v.init(None).await.expect_err("twice").code(),
        Code::AlreadyInitialized
    );
}

#[tokio::test]
async fn weak_passwords_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    for p in ["short", "        ", ""] {
        assert_eq!(
            v.init(Some(&pw(p))).await.expect_err(p).code(),
            Code::WeakPassword
        );
    }
    let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
    assert_eq!(
        v.init(Some(&pw(&long))).await.expect_err("long").code(),
        Code::WeakPassword
    );
}

/// Eight characters are not enough: passwords an attacker's dictionary or keyboard walk
/// finds at once are refused with zxcvbn's reason, before anything is stored; passphrases of
/// a few uncommon words pass. The refusal and the meter are one function.
#[tokio::test]
async fn guessable_passwords_are_refused_with_a_reason_and_passphrases_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    for p in [
        "aaaaaaaa",
        "password",
        "Password1",
        "12345678",
        "qwertyuiop",
        "brokerdesk2026",
        "iloveyou!",
    ] {
        let rated = password_strength(&pw(p));
        assert!(!rated.acceptable, "{p} passed with score {}", rated.score);
        assert!(rated.score < MIN_PASSWORD_SCORE, "{p}");
        let e = v.init(Some(&pw(p))).await.expect_err(p);
        assert_eq!(e.code(), Code::WeakPassword, "{p}");
        let reason = rated.reason.expect("a reason");
        assert!(e.to_string().contains(&reason), "{e} / {reason}");
        // ("password" is a word of the message itself.)
        assert!(
            p == "password" || !e.to_string().contains(p),
            "the password is echoed: {e}"
        );
    }
    assert!(!v.state().await.expect("state").initialized);
    for p in [
        "correct horse battery staple",
        "correct horse battery",
        "a new passphrase",
        "another long passphrase",
        "crash test password",
        "a completely different passphrase",
        "Tr0ub4dour&3-lamp-violet",
    ] {
        let rated = password_strength(&pw(p));
        assert!(rated.acceptable, "{p}: {:?}", rated.reason);
        assert!(rated.score >= MIN_PASSWORD_SCORE, "{p}");
    }
}

#[tokio::test]
async fn tampered_and_moved_ciphertexts_give_distinct_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(MemoryKeyStore::new()));
    v.init(None).await.expect("init");
    let u = v.unlocked().await.expect("unlocked");
    insert_secret(&v.store, &u, "a1", "api_key", "tok-a1-abcdefghijkl").await;
    insert_secret(&v.store, &u, "a2", "api_key", "tok-a2-abcdefghijkl").await;

    // Copy a1's ciphertext onto a2 with plain SQL.
    sqlx::query("UPDATE account_secrets SET sealed = (SELECT sealed FROM account_secrets WHERE account_id = 'a1') WHERE account_id = 'a2'")
        .execute(v.store.pool())
        .await
        .expect("copy");
    let e = read_secret(&v.store, &u, "a2", "api_key")
        .await
        .expect_err("moved");
    assert_eq!(e.code(), Code::CiphertextMisbound, "{e}");
    assert!(e.to_string().contains("account:a1:api_key"), "{e}");

    // Flip a byte in a1's ciphertext.
    sqlx::query("UPDATE account_secrets SET sealed = CAST(substr(sealed, 1, length(sealed) - 1) || x'00' AS BLOB) WHERE account_id = 'a1'")
        .execute(v.store.pool())
        .await
        .expect("tamper");
    let e = read_secret(&v.store, &u, "a1", "api_key")
        .await
        .expect_err("tampered");
    assert_eq!(e.code(), Code::CiphertextTampered, "{e}");
    assert!(
        !e.to_string().contains("tok-"),
        "no plaintext in the message"
    );
}

#[tokio::test]
async fn rotation_reseals_everything_and_replaces_the_keychain_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let v = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v.init(None).await.expect("init");
    let u1 = v.unlocked().await.expect("u1");
    for i in 0..5 {
        insert_secret(
            &v.store,
            &u1,
            &format!("a{i}"),
            "api_key",
            &format!("secret-value-{i}-xyz"),
        )
        .await;
    }
    let before: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM account_secrets ORDER BY account_id")
            .fetch_all(v.store.pool())
            .await
            .expect("before");
    let old_names = ks.names();

    assert_eq!(v.rotate_key().await.expect("rotate"), 2);
    let u2 = v.unlocked().await.expect("u2");
    assert_eq!(u2.generation(), 2);
    for i in 0..5 {
        let s = read_secret(&v.store, &u2, &format!("a{i}"), "api_key")
            .await
            .expect("open after rotation");
        assert_eq!(s.expose(), format!("secret-value-{i}-xyz"));
        // The old key no longer opens anything.
        assert!(read_secret(&v.store, &u1, &format!("a{i}"), "api_key")
            .await
            .is_err());
    }
    let after: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed FROM account_secrets ORDER BY account_id")
            .fetch_all(v.store.pool())
            .await
            .expect("after");
    assert!(before.iter().zip(&after).all(|(b, a)| b != a));
    let new_names = ks.names();
    assert_eq!(new_names.len(), 1);
    assert_ne!(old_names, new_names);
    let gens: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT key_generation FROM account_secrets")
        .fetch_all(v.store.pool())
        .await
        .expect("gens");
    assert_eq!(gens, vec![2]);

    // A fresh process unlocks with the new keychain entry.
    let v2 = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v2.unlock(None).await.expect("unlock gen 2");
}

#[tokio::test]
async fn rotation_with_password_keeps_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    v.init(Some(&pw("correct horse battery")))
        .await
        .expect("init");
    let u = v.unlocked().await.expect("u");
    insert_secret(&v.store, &u, "a1", "api_secret", "the-secret-abcdef").await;
    v.rotate_key().await.expect("rotate");
    let v2 = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    v2.unlock(Some(&pw("correct horse battery")))
        .await
        .expect("unlock");
    let u2 = v2.unlocked().await.expect("u2");
    assert_eq!(
        read_secret(&v2.store, &u2, "a1", "api_secret")
            .await
            .expect("open")
            .expose(),
        "the-secret-abcdef"
    );
}

#[tokio::test]
async fn a_tampered_secret_aborts_rotation_naming_it_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let v = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v.init(None).await.expect("init");
    let u = v.unlocked().await.expect("u");
    insert_secret(&v.store, &u, "a1", "api_key", "good-secret-123456").await;
    insert_secret(&v.store, &u, "a2", "api_key", "other-secret-123456").await;
    sqlx::query("UPDATE account_secrets SET sealed = x'0100' WHERE account_id = 'a2'")
        .execute(v.store.pool())
        .await
        .expect("tamper");
    let names = ks.names();
    // The check a password change runs first names the value and what to do, as does the
    // rotation itself.
    let checked = v.check_all_readable().await.expect_err("unreadable");
    let e = v.rotate_key().await.expect_err("must abort");
    for e in [&checked, &e] {
        assert_eq!(e.code(), Code::CiphertextTampered);
        let text = e.to_string();
        assert!(
            text.contains("the data key was not changed")
                && text.contains("api_key of account \"a2\" (a2)")
                && text.contains("enter that account's credentials again"),
            "{text}"
        );
    }
    assert_eq!(ks.names(), names, "the new keychain entry is cleaned up");
    assert_eq!(v.state().await.expect("state").key_generation, 1);
    assert_eq!(
        read_secret(&v.store, &u, "a1", "api_key")
            .await
            .expect("still opens")
            .expose(),
        "good-secret-123456"
    );
}

#[tokio::test]
async fn change_password_and_move_from_keychain_to_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let v = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v.init(None).await.expect("init");
    let u = v.unlocked().await.expect("u");
    insert_secret(&v.store, &u, "a1", "api_key", "keep-me-1234567890").await;

    v.change_password(
        &crate::api::guard::Authorized::for_tests(crate::api::guard::Sensitive::ChangePassword),
        None,
        &pw("first password!"),
    )
    .await
    .expect("set first password");
    assert!(
        ks.names().is_empty(),
        "the keychain no longer holds the key"
    );
    assert_eq!(
        v.state().await.expect("s").protection,
        Some(VaultProtection::Password)
    );

    let e = v
        .change_password(
            &crate::api::guard::Authorized::for_tests(crate::api::guard::Sensitive::ChangePassword),
            Some(&pw("not the password")),
            &pw("second password!"),
        )
        .await
        .expect_err("wrong current");
    assert_eq!(e.code(), Code::WrongPassword);
    v.change_password(
        &crate::api::guard::Authorized::for_tests(crate::api::guard::Sensitive::ChangePassword),
        Some(&pw("first password!")),
        &pw("second password!"),
    )
    .await
    .expect("change");

    let v2 = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    assert_eq!(
        v2.unlock(Some(&pw("first password!")))
            .await
            .expect_err("old")
            .code(),
        Code::WrongPassword
    );
    v2.unlock(Some(&pw("second password!")))
        .await
        .expect("new password");
    let u2 = v2.unlocked().await.expect("u2");
    assert_eq!(
        read_secret(&v2.store, &u2, "a1", "api_key")
            .await
            .expect("open")
            .expose(),
        "keep-me-1234567890"
    );
}

#[tokio::test]
async fn missing_or_foreign_keychain_key_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let v = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    v.init(None).await.expect("init");
    let name = ks.names().remove(0);

    ks.set(&name, &[7u8; 32]).expect("overwrite");
    let v2 = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    assert_eq!(
        v2.unlock(None).await.expect_err("mismatch").code(),
        Code::KeychainKeyMismatch
    );

    ks.delete(&name).expect("delete");
    assert_eq!(
        v2.unlock(None).await.expect_err("missing").code(),
        Code::KeychainKeyMissing
    );
}

#[tokio::test]
async fn another_process_rotating_the_key_stops_stale_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ks = MemoryKeyStore::new();
    let a = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    a.init(None).await.expect("init");
    let b = Vault::new(store(&dir).await, Arc::new(ks.clone()));
    b.unlock(None).await.expect("b unlock");
    a.rotate_key().await.expect("rotate in a");

    let ub = b.unlocked().await.expect("b still holds its key");
    let mut tx = b.store.begin_write().await.expect("tx");
    assert_eq!(
        ub.check_generation(&mut tx)
            .await
            .expect_err("stale")
            .code(),
        Code::VaultChanged
    );
    drop(tx);
    assert!(
        b.state().await.expect("state").locked,
        "b reports itself locked"
    );
    b.unlock(None).await.expect("b re-unlocks with the new key");
}

/// A vault from before endpoint binding (v1 key check, row-only bindings, no tags) is
/// upgraded at its first unlock: the credential opens under its endpoint binding, the state
/// is tagged, the key check is v2 and the data key is new — so the old key check cannot be
/// put back to run the upgrade again over edited state.
#[tokio::test]
async fn a_v1_vault_is_upgraded_once_at_unlock_with_a_new_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = Vault::new(store(&dir).await, Arc::new(NoKeychain));
    v.init(Some(&pw("correct horse battery staple")))
        .await
        .expect("init");
    let u = v.unlocked().await.expect("u");
    let vault_id: String = sqlx::query_scalar("SELECT vault_id FROM vault")
        .fetch_one(v.store.pool())
        .await
        .expect("id");
    // Make it a v1 vault: the v1 key check, a row-only binding, no tags.
    let v1_check = u
        .seal(&key_check_binding(&vault_id), integrity::KEY_CHECK_V1)
        .expect("seal");
    sqlx::query("UPDATE vault SET key_check = ?, twofa_tag = NULL")
        .bind(&v1_check)
        .execute(v.store.pool())
        .await
        .expect("v1");
    sqlx::query(
        "INSERT INTO accounts (id, name, broker, environment, created_at, updated_at)
         VALUES ('a1', 'a1', 'oanda', 'practice', 'now', 'now')",
    )
    .execute(v.store.pool())
    .await
    .expect("account");
    let legacy = u
        .seal("account:a1:api_key", b"legacy-token-0123456789")
        .expect("seal");
    sqlx::query("INSERT INTO account_secrets (account_id, field, sealed, key_generation, updated_at) VALUES ('a1', 'api_key', ?, 1, 'now')")
        .bind(&legacy)
        .execute(v.store.pool())
        .await
        .expect("secret");
    drop(u);

    let v = Vault::new(v.store.clone(), Arc::new(NoKeychain));
    v.unlock(Some(&pw("correct horse battery staple")))
        .await
        .expect("unlock upgrades");
    let u = v.unlocked().await.expect("u");
    assert_eq!(u.generation(), 2, "a new data key after the upgrade");
    assert_eq!(
        read_secret(&v.store, &u, "a1", "api_key")
            .await
            .expect("opens under its endpoint binding")
            .expose(),
        "legacy-token-0123456789"
    );
    let tag: Option<Vec<u8>> = sqlx::query_scalar("SELECT state_tag FROM accounts")
        .fetch_one(v.store.pool())
        .await
        .expect("tag");
    assert!(tag.is_some());
    let mut conn = v.store.acquire().await.expect("conn");
    integrity::check_twofa(&mut conn, &u)
        .await
        .expect("2FA state tagged");
    drop(conn);

    // Putting the old key check back: it no longer opens under the new key.
    sqlx::query("UPDATE vault SET key_check = ?")
        .bind(&v1_check)
        .execute(v.store.pool())
        .await
        .expect("replay");
    let v = Vault::new(v.store.clone(), Arc::new(NoKeychain));
    let e = v
        .unlock(Some(&pw("correct horse battery staple")))
        .await
        .expect_err("the old key check is refused");
    assert_eq!(e.code(), Code::CiphertextTampered, "{e}");
}
