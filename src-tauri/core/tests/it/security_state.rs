//! The database cannot be edited into leaking or trading (security issue 13, finding 1):
//! each edit below is made with a plain SQLite connection, as malware running as the user
//! (or a synced folder, or a hand with the sqlite3 shell) could, while Brokerdesk is closed.
//! Each is refused with a clear error at the next use, and nothing is sent anywhere.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{base32_decode, phone_code};
use brokerdesk_core::accounts::model::{
    AccountInput, AccountStatus, BrokerKind, Environment, TradingMode,
};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Code, Secret};

const PASSWORD: &str = "correct horse battery staple";
const TOKEN: &str = "state-test-TOKEN-0123456789abcdef";

fn oanda(name: &str) -> AccountInput {
    let mut a = AccountInput::new(name, BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(TOKEN));
    a
}

async fn open(dir: &Path) -> Brokerdesk {
    let bd = Brokerdesk::open(dir, Arc::new(NoKeychain)).await.unwrap();
    bd.ensure_unlocked(Some(Secret::new(PASSWORD)))
        .await
        .unwrap();
    bd
}

/// Runs `sql` on the closed profile's database with the sqlite3 shell, as an attacker with
/// its files would.
async fn edit(dir: &Path, sql: &str) {
    crate::common::sqlite(dir, sql);
}

/// A listener standing for the attacker's endpoint: counts the connections it gets.
async fn attacker_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    tokio::spawn(async move {
        while let Ok((_sock, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, hits)
}

#[tokio::test]
async fn a_moved_endpoint_or_live_mode_in_the_database_opens_nothing_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let fx = bd.account_add(oanda("FX")).await.unwrap();
    let calm = bd.account_add(oanda("Calm")).await.unwrap();
    let mut limited = oanda("Limited");
    limited.risk.max_qty = Some(brokerdesk_core::Decimal::TEN);
    let limited = bd.account_add(limited).await.unwrap();
    assert!(fx.integrity.is_none());
    bd.close().await;

    // The REST and stream URLs pointed at the attacker's (loopback, so the URL policy
    // alone would let it through), and another account flipped to live.
    let (url, hits) = attacker_endpoint().await;
    edit(
        dir.path(),
        &format!(
            "UPDATE accounts SET rest_url = '{url}', stream_url = '{url}' WHERE id = '{}';
             UPDATE accounts SET mode = 'live' WHERE id = '{}';
             UPDATE accounts SET max_qty = '1000000' WHERE id = '{}';",
            fx.id, calm.id, limited.id
        ),
    )
    .await;

    let bd = open(dir.path()).await;
    for (id, what) in [
        (&fx.id, "endpoints"),
        (&calm.id, "mode"),
        (&limited.id, "a risk limit"),
    ] {
        let a = bd.account_get(id).await.unwrap();
        let e = a
            .integrity
            .clone()
            .unwrap_or_else(|| panic!("{what}: no integrity error"));
        assert_eq!(e.code, Code::StateTampered, "{what}: {e}");
        assert!(e.message.contains("changed outside Brokerdesk"), "{e}");
        assert_eq!(a.mode, TradingMode::Paper, "{what}: held in paper mode");
        assert_eq!(a.status, AccountStatus::Suspended, "{what}: held suspended");
        let e = bd.account_verify(id).await.expect_err("nothing connects");
        assert_eq!(e.code, Code::StateTampered, "{what}: {e}");
        assert!(!e.message.contains(TOKEN));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the attacker"
    );

    // Putting the mode back to paper restores exactly the state Brokerdesk tagged: clean
    // again. Brokerdesk's own writes (a status change, a key rotation below) never make an
    // edited row look like its own: those stay flagged until the user saves them.
    bd.account_set_mode(&calm.id, TradingMode::Paper)
        .await
        .unwrap();
    assert!(bd.account_get(&calm.id).await.unwrap().integrity.is_none());
    bd.account_set_status(&limited.id, AccountStatus::Active, Some("check".into()))
        .await
        .unwrap();
    for id in [&fx.id, &limited.id] {
        let a = bd.account_get(id).await.unwrap();
        assert_eq!(
            a.integrity.map(|e| e.code),
            Some(Code::StateTampered),
            "{} lost its flag",
            a.name
        );
    }
    // A key rotation stops at the credential bound to the old endpoints, naming it.
    let e = bd.rotate_key().await.unwrap_err();
    assert!(e.message.contains("account \"FX\""), "{e}");
    assert!(e.message.contains("other endpoints"), "{e}");

    // Saving the account again (the user checked it and entered the credential again)
    // clears it; the credential is sealed for the endpoint it now names.
    let mut fixed = AccountInput::from_account(&bd.account_get(&fx.id).await.unwrap());
    fixed.rest_url = None;
    fixed.stream_url = None;
    fixed.status = AccountStatus::Active;
    fixed.credentials.api_key = Some(Secret::new(TOKEN));
    let saved = bd.account_update(&fx.id, fixed).await.unwrap();
    assert!(saved.integrity.is_none(), "{:?}", saved.integrity);
    assert_eq!(
        bd.account_credentials(&fx.id)
            .await
            .unwrap()
            .api_key
            .unwrap()
            .expose(),
        TOKEN
    );
    // Now the key can change; the account with the edited limit stays flagged under the new
    // key.
    bd.rotate_key().await.unwrap();
    let limited_now = bd.account_get(&limited.id).await.unwrap();
    assert_eq!(
        limited_now.integrity.map(|e| e.code),
        Some(Code::StateTampered)
    );
    assert!(bd.account_get(&fx.id).await.unwrap().integrity.is_none());
    bd.close().await;

    // A credential copied under a moved endpoint with the tag copied too still does not
    // open: the credential's binding names its endpoints.
    edit(
        dir.path(),
        &format!(
            "UPDATE accounts SET rest_url = '{url}' WHERE id = '{}';
             UPDATE accounts SET state_tag = (SELECT state_tag FROM accounts WHERE id = '{}')
               WHERE id = '{}';",
            fx.id, calm.id, fx.id
        ),
    )
    .await;
    let bd = open(dir.path()).await;
    let e = bd.account_verify(&fx.id).await.expect_err("refused");
    assert!(
        matches!(e.code, Code::StateTampered | Code::CiphertextTampered),
        "{e}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn two_factor_state_edited_in_the_database_refuses_every_step_up() {
    for (what, sql) in [
        ("the 2FA row deleted (2FA off)", "DELETE FROM twofa"),
        (
            "the step-up window extended",
            "UPDATE twofa SET step_up_until = '2099-01-01T00:00:00Z'",
        ),
        (
            "the lockout counters reset",
            "UPDATE twofa SET failed_attempts = 0, lockouts = 0, locked_until = NULL",
        ),
        (
            "a backup code of the attacker's planted",
            "INSERT INTO twofa_backup_codes (salt, hash, created_at) VALUES (x'00', x'00', 'now')",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
            .await
            .unwrap();
        bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
        let paper = bd
            .account_add(AccountInput::new(
                "Paper",
                BrokerKind::Paper,
                Environment::Practice,
            ))
            .await
            .unwrap();
        let setup = bd.twofa_setup().await.unwrap();
        let secret = base32_decode(&setup.secret);
        bd.twofa_enable(&phone_code(&secret)).await.unwrap();
        // A wrong code, so the counters have something to reset.
        let _ = bd.twofa_verify("000000").await;
        bd.lock().await.unwrap();
        bd.close().await;

        edit(dir.path(), sql).await;

        let bd = open(dir.path()).await;
        let e = bd
            .account_remove(&paper.id)
            .await
            .expect_err("a sensitive change on edited 2FA state");
        assert_eq!(e.code, Code::StateTampered, "{what}: {e}");
        assert!(e.message.contains("outside Brokerdesk"), "{what}: {e}");
        let e = bd
            .twofa_verify(&phone_code(&secret))
            .await
            .expect_err("no code is accepted");
        assert_eq!(e.code, Code::StateTampered, "{what}: {e}");
        assert!(
            bd.account_get(&paper.id).await.is_ok(),
            "{what}: still there"
        );
        bd.close().await;
    }
}
