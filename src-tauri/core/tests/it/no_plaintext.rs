//! Secrets never appear in plaintext anywhere on disk (database, WAL, shared memory, logs)
//! nor in anything the API returns, across add, edit, list, rotation and password change.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::path::Path;
use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};

const SECRETS: &[&str] = &[
    "SECRET-oanda-token-9f8e7d6c5b4a39281706",
    "SECRET-alpaca-key-PK1234567890ABCDEF",
    "SECRET-alpaca-secret-zyxwvutsrqponm0987",
    "SECRET-rotated-oanda-token-55aa66bb77cc",
];
const PASSWORD: &str = "SECRET-master-password-horse-battery";
const NEW_PASSWORD: &str = "SECRET-second-master-password-staple";

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn assert_clean(label: &str, haystack: &[u8]) {
    for s in SECRETS.iter().chain([PASSWORD, NEW_PASSWORD].iter()) {
        let needle = s.as_bytes();
        // Also look for the part after the "SECRET-" marker, and for UTF-16 copies.
        let tail = &needle[7..];
        let utf16: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        for n in [needle, tail, &utf16[..]] {
            assert!(
                !haystack.windows(n.len()).any(|w| w == n),
                "{label} contains a secret ({})",
                String::from_utf8_lossy(&needle[..12])
            );
        }
    }
}

#[tokio::test]
async fn no_secret_in_data_dir_logs_or_api_replies() {
    let dir = tempfile::tempdir().expect("tempdir");
    brokerdesk_core::logging::init(dir.path(), false).expect("logging");
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .expect("open");
    let mut replies = Vec::new();
    replies.push(
        serde_json::to_string(&bd.init(Some(Secret::new(PASSWORD))).await.expect("init"))
            .expect("json"),
    );

    let mut oanda = AccountInput::new("FX", BrokerKind::Oanda, Environment::Practice);
    oanda.credentials.api_key = Some(Secret::new(SECRETS[0]));
    let fx = bd.account_add(oanda).await.expect("add oanda");
    replies.push(serde_json::to_string(&fx).expect("json"));
    let mut alpaca = AccountInput::new("Stocks", BrokerKind::Alpaca, Environment::Practice);
    alpaca.credentials.api_key = Some(Secret::new(SECRETS[1]));
    alpaca.credentials.api_secret = Some(Secret::new(SECRETS[2]));
    replies.push(
        serde_json::to_string(&bd.account_add(alpaca).await.expect("add alpaca")).expect("json"),
    );

    // A rejected input that carries a secret: the error must not echo it.
    let mut bad = AccountInput::new("", BrokerKind::Oanda, Environment::Practice);
    bad.credentials.api_key = Some(Secret::new(format!("{} ", SECRETS[0])));
    let err = bd.account_add(bad).await.expect_err("invalid");
    replies.push(serde_json::to_string(&err).expect("json"));
    replies.push(format!("{err} {err:?}"));

    let mut edit = AccountInput::from_account(&fx);
    edit.credentials.api_key = Some(Secret::new(SECRETS[3]));
    replies.push(
        serde_json::to_string(&bd.account_update(&fx.id, edit).await.expect("edit")).expect("json"),
    );
    replies.push(serde_json::to_string(&bd.accounts_list().await.expect("list")).expect("json"));
    replies.push(serde_json::to_string(&bd.rotate_key().await.expect("rotate")).expect("json"));
    let wrong = bd
        .change_password(
            Some(Secret::new("wrong password here")),
            Secret::new(NEW_PASSWORD),
        )
        .await
        .expect_err("wrong");
    replies.push(format!("{err:?} {wrong}", err = wrong));
    replies.push(
        serde_json::to_string(
            &bd.change_password(Some(Secret::new(PASSWORD)), Secret::new(NEW_PASSWORD))
                .await
                .expect("change"),
        )
        .expect("json"),
    );
    replies.push(format!(
        "{:?}",
        bd.account_credentials(&fx.id).await.expect("creds")
    ));

    for r in &replies {
        assert_clean("an API reply", r.as_bytes());
    }
    // Inspect the files while the database is still open (WAL and -shm present) and after.
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("brokerdesk.db-wal")),
        "WAL present: {files:?}"
    );
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).expect("read"));
    }
    bd.close().await;
    let mut files = Vec::new();
    all_files(dir.path(), &mut files);
    let log = std::fs::read_to_string(dir.path().join("logs/brokerdesk.log")).expect("log file");
    assert!(
        log.contains("account added"),
        "the log is really written: {log}"
    );
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).expect("read"));
    }
}
