//! The real OS keychain (Secret Service on Linux). Needs a session bus with an unlocked
//! keyring, so it is `#[ignore]`d in the ordinary run, and the test command runs it
//! explicitly where one is set up (a private `dbus-run-session` with gnome-keyring):
//! `cargo test … --test it -- --ignored os_keychain::`. Run without a reachable Secret
//! Service it fails: it never passes without having touched a keychain.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::vault::keychain::{KeyStore, OsKeychain};
use brokerdesk_core::{Brokerdesk, Secret};

#[tokio::test]
#[ignore = "needs a reachable Secret Service: test.sh runs it with --ignored in a private D-Bus session"]
async fn keychain_protected_vault_survives_a_restart() {
    OsKeychain.probe().expect(
        "Secret Service reachable (run inside dbus-run-session with an unlocked gnome-keyring)",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bd = Brokerdesk::open(dir.path(), Arc::new(OsKeychain))
        .await
        .expect("open");
    let st = bd.init(None).await.expect("init with the OS keychain");
    assert!(st.keychain_available && !st.locked);
    let mut a = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new("os-keychain-token-0123456789"));
    bd.account_add(a).await.expect("add");
    bd.rotate_key().await.expect("rotate");
    bd.close().await;

    let again = Brokerdesk::open(dir.path(), Arc::new(OsKeychain))
        .await
        .expect("reopen");
    let st = again.status().await.expect("status");
    assert!(!st.locked, "unlocked from the keychain at start: {st:?}");
    let list = again.accounts_list().await.expect("list");
    assert_eq!(list[0].credentials[0].masked, "••••6789");

    // Moving to a master password removes the key from the keychain.
    again
        .change_password(None, Secret::new("a strong master password"))
        .await
        .expect("set password");
    again.close().await;
    let third = Brokerdesk::open(dir.path(), Arc::new(OsKeychain))
        .await
        .expect("reopen");
    assert!(
        third.status().await.expect("status").locked,
        "a password vault starts locked"
    );
    third
        .unlock(Some(Secret::new("a strong master password")))
        .await
        .expect("unlock");
}
