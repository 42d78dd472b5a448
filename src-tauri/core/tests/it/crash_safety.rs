//! Killing the process in the middle of writes never corrupts the store or leaves a
//! half-written account: a child process adds accounts in a loop, the test SIGKILLs it at
//! varying moments, then checks SQLite's integrity and that every account is whole.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::store::Store;
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};

const CHILD_ENV: &str = "BROKERDESK_CRASH_CHILD_DIR";
const PASSWORD: &str = "crash test password";

fn input(tag: &str, i: usize) -> AccountInput {
    let mut a = AccountInput::new(
        format!("{tag}-{i}"),
        BrokerKind::Alpaca,
        Environment::Practice,
    );
    a.credentials.api_key = Some(Secret::new(format!("PKCRASH{i:012}")));
    a.credentials.api_secret = Some(Secret::new(format!("crash-secret-{i:030}")));
    a.instruments = vec!["AAPL".into(), "MSFT".into(), "SPY".into()];
    a
}

/// The child: adds accounts until killed. Runs only when the parent sets `CHILD_ENV`.
#[tokio::test]
async fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let bd = Brokerdesk::open(dir.as_ref(), Arc::new(NoKeychain))
        .await
        .expect("open");
    bd.unlock(Some(Secret::new(PASSWORD)))
        .await
        .expect("unlock");
    let tag = format!("p{}", std::process::id());
    for i in 0.. {
        bd.account_add(input(&tag, i)).await.expect("add");
        if i % 7 == 0 {
            // Also exercise updates and deletes while being killed.
            let list = bd.accounts_list().await.expect("list");
            if let Some(a) = list.first() {
                let mut edit = AccountInput::from_account(a);
                edit.instruments.push("QQQ".into());
                bd.account_update(&a.id, edit).await.expect("update");
            }
        }
    }
}

#[tokio::test]
async fn kill_during_writes_leaves_a_consistent_store() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .expect("open");
    bd.init(Some(Secret::new(PASSWORD))).await.expect("init");
    bd.close().await;

    let exe = std::env::current_exe().expect("test binary");
    // The child is this test binary running only `crash_child_writer`, named by its path
    // inside the binary (`crash_safety::crash_child_writer` in the shared `it` binary):
    // the module path without the crate's name.
    let child_test = match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::crash_child_writer"),
        None => "crash_child_writer".to_string(),
    };
    for (round, delay_ms) in [150u64, 400, 900].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args(["--exact", &child_test, "--nocapture"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        // Wait for the child to be writing, then kill it without warning.
        let store = Store::open(dir.path()).await.expect("store");
        let start = Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
                .fetch_one(store.pool())
                .await
                .expect("count");
            if n > (round as i64 + 1) * 5 || start.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        store.close().await;
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();

        let store = Store::open(dir.path()).await.expect("reopen after a crash");
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(store.pool())
            .await
            .expect("integrity");
        assert_eq!(ok, "ok");
        let fk: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(store.pool())
            .await
            .expect("fk");
        assert!(fk.is_empty(), "dangling rows: {fk:?}");
        store.close().await;

        let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
            .await
            .expect("open");
        bd.unlock(Some(Secret::new(PASSWORD)))
            .await
            .expect("unlock");
        let list = bd.accounts_list().await.expect("list");
        assert!(!list.is_empty());
        for a in &list {
            assert_eq!(a.credentials.len(), 2, "{} lost a credential", a.name);
            assert!(
                a.credentials.iter().all(|c| c.error.is_none()),
                "{} has an unreadable credential",
                a.name
            );
            assert!(a.instruments.len() >= 3, "{} lost instruments", a.name);
            assert!(!a.status_history.is_empty(), "{} has no history", a.name);
        }
        bd.close().await;
    }
}
