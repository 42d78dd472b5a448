//! Keys that should change do: after a purge, a master-password change, or moving from the
//! keychain to a password, old material — an old copy of the profile with its old password,
//! or the key the keychain held — opens nothing sealed afterwards, and a purged credential
//! is in neither the database nor its WAL.

use std::path::Path;
use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::vault::keychain::{KeyStore, MemoryKeyStore, NoKeychain};
use brokerdesk_core::{Brokerdesk, Code, Secret};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a completely different passphrase";
const TOKEN: &str = "purge-me-TOKEN-0123456789abcdef";
const LATER: &str = "sealed-after-the-change-0123456789";

fn oanda(token: &str) -> AccountInput {
    let mut a = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(token));
    a
}

fn files_contain(dir: &Path, needle: &[u8]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            std::fs::read(p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .map(|p| p.display().to_string())
        .collect()
}

/// Opens the profile again (without a keychain) and unlocks it with [`PASSWORD`].
async fn reopen(dir: &Path) -> Brokerdesk {
    let bd = Brokerdesk::open(dir, Arc::new(NoKeychain)).await.unwrap();
    bd.ensure_unlocked(Some(Secret::new(PASSWORD)))
        .await
        .unwrap();
    bd
}

/// Copies the profile's database (checkpointed: the profile is closed first) to `to`.
async fn snapshot(bd: Brokerdesk, dir: &Path, to: &Path) {
    bd.close().await;
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(dir.join("brokerdesk.db"), to.join("brokerdesk.db")).unwrap();
}

/// Puts the current sealed credential of `account_id` into the old copy and asks the old
/// copy (unlocked with its old key) to open it.
async fn old_copy_opens(
    dir: &Path,
    old_dir: &Path,
    old_keystore: Arc<dyn KeyStore>,
    old_password: Option<&str>,
    account_id: &str,
) -> Result<(), Code> {
    let current = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}?mode=ro",
        dir.join("brokerdesk.db").display()
    ))
    .await
    .unwrap();
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT sealed FROM account_secrets WHERE account_id = ?")
            .bind(account_id)
            .fetch_one(&current)
            .await
            .unwrap();
    current.close().await;
    let old = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        old_dir.join("brokerdesk.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE account_secrets SET sealed = ? WHERE account_id = ?")
        .bind(&sealed)
        .bind(account_id)
        .execute(&old)
        .await
        .unwrap();
    old.close().await;
    let bd = Brokerdesk::open(old_dir, old_keystore).await.unwrap();
    bd.ensure_unlocked(old_password.map(Secret::new))
        .await
        .unwrap();
    let result = bd
        .account_credentials(account_id)
        .await
        .map(drop)
        .map_err(|e| e.code);
    bd.close().await;
    result
}

#[tokio::test]
async fn a_purge_leaves_nothing_readable() {
    let dir = tempfile::tempdir().unwrap();
    let old_dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let a = bd.account_add(oanda(TOKEN)).await.unwrap();
    snapshot(bd, dir.path(), old_dir.path()).await;

    let bd = reopen(dir.path()).await;
    let sealed_before: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM account_secrets")
        .fetch_one(bd.store().pool())
        .await
        .unwrap();
    let report = bd.credentials_purge().await.unwrap();
    assert_eq!(report.credentials_deleted, 1);
    // Neither the sealed value nor the token is anywhere in the database, WAL or shm.
    assert_eq!(
        files_contain(dir.path(), &sealed_before),
        Vec::<String>::new()
    );
    assert_eq!(
        files_contain(dir.path(), TOKEN.as_bytes()),
        Vec::<String>::new()
    );

    // New credentials are sealed under a new key: the old copy opens nothing.
    let mut again = AccountInput::from_account(&bd.account_get(&a.id).await.unwrap());
    again.credentials.api_key = Some(Secret::new(LATER));
    bd.account_update(&a.id, again).await.unwrap();
    bd.close().await;
    let opened = old_copy_opens(
        dir.path(),
        old_dir.path(),
        Arc::new(NoKeychain),
        Some(PASSWORD),
        &a.id,
    )
    .await;
    assert!(
        opened.is_err(),
        "the old key opened a credential sealed after the purge"
    );
}

#[tokio::test]
async fn a_new_master_password_gets_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let old_dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let a = bd.account_add(oanda(TOKEN)).await.unwrap();
    snapshot(bd, dir.path(), old_dir.path()).await;

    let bd = reopen(dir.path()).await;
    let before = bd.status().await.unwrap().key_generation;
    bd.change_password(Some(Secret::new(PASSWORD)), Secret::new(NEW_PASSWORD))
        .await
        .unwrap();
    assert!(bd.status().await.unwrap().key_generation > before);
    let mut rotate = AccountInput::from_account(&bd.account_get(&a.id).await.unwrap());
    rotate.credentials.api_key = Some(Secret::new(LATER));
    bd.account_update(&a.id, rotate).await.unwrap();
    assert_eq!(
        bd.account_credentials(&a.id)
            .await
            .unwrap()
            .api_key
            .unwrap()
            .expose(),
        LATER
    );
    bd.close().await;
    // The old wrapped key with the old password: opens the old copy, not the new secret.
    let opened = old_copy_opens(
        dir.path(),
        old_dir.path(),
        Arc::new(NoKeychain),
        Some(PASSWORD),
        &a.id,
    )
    .await;
    assert!(
        opened.is_err(),
        "old password + old wrapped key opened a new credential"
    );
}

#[tokio::test]
async fn leaving_the_keychain_leaves_its_key_behind() {
    let dir = tempfile::tempdir().unwrap();
    let old_dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(MemoryKeyStore::new());
    let bd = Brokerdesk::open(dir.path(), keychain.clone())
        .await
        .unwrap();
    bd.init(None).await.unwrap();
    let a = bd.account_add(oanda(TOKEN)).await.unwrap();
    snapshot(bd, dir.path(), old_dir.path()).await;
    // What the keychain held, kept by someone who read it before the change.
    let stolen = Arc::new(keychain.clone_entries());

    let bd = Brokerdesk::open(dir.path(), keychain.clone())
        .await
        .unwrap();
    bd.change_password(None, Secret::new(NEW_PASSWORD))
        .await
        .unwrap();
    let mut rotate = AccountInput::from_account(&bd.account_get(&a.id).await.unwrap());
    rotate.credentials.api_key = Some(Secret::new(LATER));
    bd.account_update(&a.id, rotate).await.unwrap();
    bd.close().await;
    let opened = old_copy_opens(dir.path(), old_dir.path(), stolen, None, &a.id).await;
    assert!(
        opened.is_err(),
        "the keychain's old key opened a new credential"
    );
}

/// One unreadable credential (an edited database) stops a password change and a key
/// rotation before anything changes, naming the account and the field; entering that
/// account's credentials again clears the way.
#[tokio::test]
async fn an_unreadable_credential_stops_key_changes_naming_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let good = bd.account_add(oanda(TOKEN)).await.unwrap();
    let mut input = oanda(LATER);
    input.name = "Damaged FX".into();
    let bad = bd.account_add(input).await.unwrap();
    bd.close().await;
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("brokerdesk.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE account_secrets SET sealed = x'00ff00ff' WHERE account_id = ?")
        .bind(&bad.id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let bd = reopen(dir.path()).await;
    let generation = bd.status().await.unwrap().key_generation;
    let e = bd
        .change_password(Some(Secret::new(PASSWORD)), Secret::new(NEW_PASSWORD))
        .await
        .expect_err("an unreadable credential");
    assert_eq!(e.code, Code::CiphertextTampered);
    assert!(
        e.message.contains("api_key of account \"Damaged FX\"")
            && e.message.contains("enter that account's credentials again"),
        "{}",
        e.message
    );
    let e = bd.rotate_key().await.expect_err("rotation too");
    assert_eq!(e.code, Code::CiphertextTampered);
    assert_eq!(bd.status().await.unwrap().key_generation, generation);
    // The other account's credential still opens, and the password did not change.
    assert_eq!(
        bd.account_credentials(&good.id)
            .await
            .unwrap()
            .api_key
            .unwrap()
            .expose(),
        TOKEN
    );
    bd.lock().await.unwrap();
    bd.ensure_unlocked(Some(Secret::new(PASSWORD)))
        .await
        .unwrap();

    // Entering the damaged account's credential again lets the key change.
    let mut fixed = AccountInput::from_account(&bd.account_get(&bad.id).await.unwrap());
    fixed.credentials.api_key = Some(Secret::new(LATER));
    bd.account_update(&bad.id, fixed).await.unwrap();
    bd.change_password(Some(Secret::new(PASSWORD)), Secret::new(NEW_PASSWORD))
        .await
        .unwrap();
    assert!(bd.status().await.unwrap().key_generation > generation);
}
