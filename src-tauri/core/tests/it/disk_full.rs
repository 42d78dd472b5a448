//! A full disk gives a clear `disk_full` error and loses nothing already saved. Needs root
//! to mount a tiny tmpfs (CI runs as root); skipped elsewhere.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use brokerdesk_core::Code;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Secret};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Mount(dir.to_path_buf()))
}

fn input(i: usize) -> AccountInput {
    let mut a = AccountInput::new(
        format!("Account {i:05} {}", "x".repeat(40)),
        BrokerKind::Alpaca,
        Environment::Practice,
    );
    a.credentials.api_key = Some(Secret::new(format!("PKFULLDISK{i:010}")));
    a.credentials.api_secret = Some(Secret::new(format!("secret-{i:040}")));
    a.instruments = (0..20).map(|j| format!("SYM{j:03}")).collect();
    a
}

#[tokio::test]
async fn full_disk_is_a_clear_error_and_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(_mount) = mount_tmpfs(tmp.path(), "1m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let bd = Brokerdesk::open(tmp.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .expect("open");
    bd.init(None).await.expect("init");
    let mut saved = 0usize;
    let mut err = None;
    for i in 0..5000 {
        match bd.account_add(input(i)).await {
            Ok(_) => saved += 1,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let err = err.expect("the 1 MiB disk must fill up");
    assert_eq!(err.code, Code::DiskFull, "{err}");
    assert!(err.message.contains("disk is full"), "{err}");
    assert!(
        saved >= 3,
        "some accounts fit before the disk filled ({saved})"
    );
    eprintln!("{saved} accounts saved before the disk filled: {err}");
    // Everything saved before the failure is intact and readable.
    let list = bd.accounts_list().await.expect("list after a full disk");
    assert_eq!(list.len(), saved);
    assert!(list
        .iter()
        .all(|a| a.credentials.iter().all(|c| c.error.is_none())));
    bd.close().await;
}
