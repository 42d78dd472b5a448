//! `backup` through the `brokerdesk` binary: the passphrase from stdin, a backup without a
//! secret in it, list and verify, a restore onto another data directory whose credentials
//! work against the OANDA simulator, a wrong passphrase and damaged files refused with the
//! profile untouched, a restore refused while the profile is open, and `kill -9` at five
//! points of a restore, each leaving a whole profile (the old one or the restored one).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;

use crate::common;

use common::{contains, names, Profile, Sim, PW};

const PASSPHRASE: &str = "correct horse battery staple";

fn with_passphrase(p: &Profile) {
    p.run_args(
        &["--json", "backup", "passphrase"],
        Some(PW),
        Some(&format!("{PASSPHRASE}\n{PASSPHRASE}\n")),
    )
    .ok();
}

/// Restores `file` into `target` with the passphrase on stdin (and `crash` as the crash
/// point, if any).
fn restore(target: &Profile, file: &str, passphrase: &str, crash: Option<&str>) -> common::Run {
    let mut c = target.command(&["--json", "backup", "restore", file, "--yes"], None);
    if let Some(step) = crash {
        c.env("BROKERDESK_RESTORE_CRASH_AT", step);
    }
    c.stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(format!("{passphrase}\n").as_bytes())
            .unwrap();
    }
    common::Run::from(child.wait_with_output().unwrap())
}

#[test]
fn a_backup_restored_on_another_data_dir_signs_in_at_the_broker() {
    let sim = Sim::start();
    let url = sim.url();
    let p = Profile::new();
    p.init();
    p.add_with_secret(
        &format!(
            "--name FX --broker oanda --env practice --rest-url {url} --stream-url {url} --account-id {} --api-key -",
            brokerdesk_sim::oanda::DEMO_ACCOUNTS[0]
        ),
        brokerdesk_sim::oanda::DEMO_TOKEN,
    );
    // No passphrase yet: refused, and said how to set one.
    p.json("backup create").expect_error(3, "backup_not_set_up");
    let health = p.ok("health");
    let backups = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "backups")
        .unwrap()
        .clone();
    assert_eq!(backups["status"], "warn", "{backups}");
    // A short passphrase is refused, two different entries too; then set.
    p.run_args(
        &["--json", "backup", "passphrase"],
        Some(PW),
        Some("short\nshort\n"),
    )
    .expect_error(3, "validation");
    p.run_args(
        &["--json", "backup", "passphrase"],
        Some(PW),
        Some(&format!("{PASSPHRASE}\nsomething else\n")),
    )
    .expect_error(3, "validation");
    with_passphrase(&p);
    let out = p.dir.path().join("manual.bdbackup");
    let made = p.ok_args(&["backup", "create", "--out", out.to_str().unwrap()]);
    assert_eq!(made["trigger"], "manual");
    let bytes = std::fs::read(&out).unwrap();
    for plain in [
        brokerdesk_sim::oanda::DEMO_TOKEN,
        PW,
        PASSPHRASE,
        "SQLite format 3",
    ] {
        assert!(!contains(&bytes, plain.as_bytes()), "{plain} in the backup");
    }
    // Into the folder too; the list reads headers without the passphrase.
    p.ok("backup create");
    let list = p.ok("backup list");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let verified = p.ok_args(&["backup", "verify", out.to_str().unwrap()]);
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["accounts"], 1);
    assert_eq!(verified["protection"], "password");
    let status = p.ok("backup status");
    assert_eq!(status["passphraseSet"], true);
    assert!(status["lastBackup"]["path"].is_string(), "{status}");

    // Another machine: a new data dir.
    let q = Profile::new();
    let wrong = restore(&q, out.to_str().unwrap(), "not the passphrase at all", None);
    wrong.expect_error(5, "wrong_passphrase");
    assert!(!q.db().exists());
    let report = restore(&q, out.to_str().unwrap(), PASSPHRASE, None).ok();
    assert_eq!(report["previousCopy"], serde_json::Value::Null);
    assert_eq!(report["backup"]["accounts"], 1);
    // It opens with the master password it had, and the broker takes its credentials.
    assert_eq!(names(&q.ok("account list")), ["FX"]);
    let checked = q.ok("account verify FX");
    assert_eq!(
        checked["accountId"],
        brokerdesk_sim::oanda::DEMO_ACCOUNTS[0],
        "{checked}"
    );
    let audit = q.ok("audit list");
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "profile_restored"),
        "{audit}"
    );
}

#[test]
fn damaged_files_and_an_open_profile_are_refused_and_nothing_changes() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Old --broker paper --env paper");
    with_passphrase(&p);
    let out = p.dir.path().join("b.bdbackup");
    p.ok_args(&["backup", "create", "--out", out.to_str().unwrap()]);
    let bytes = std::fs::read(&out).unwrap();

    let target = Profile::new();
    target.init();
    target.ok("account add --name Target --broker paper --env paper");
    let bad = target.dir.path().join("bad.bdbackup");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("flipped", {
            let mut b = bytes.clone();
            let i = b.len() - 10;
            b[i] ^= 0x40;
            b
        }),
        ("not a backup", b"{\"schemaVersion\": 1}".to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, content) in cases {
        std::fs::write(&bad, &content).unwrap();
        let run = restore(&target, bad.to_str().unwrap(), PASSPHRASE, None);
        run.expect_error(3, "backup_damaged");
        assert_eq!(names(&target.ok("account list")), ["Target"], "{what}");
        // Not this profile's key: the passphrase it was made with is asked for (stdin).
        target
            .run_args(
                &["--json", "backup", "verify", bad.to_str().unwrap()],
                Some(PW),
                Some(&format!("{PASSPHRASE}\n")),
            )
            .expect_error(3, "backup_damaged");
    }

    // The app (here: `watch`) has the target open: refused, nothing changed.
    let mut watching = target
        .command(&["watch", "--seconds", "30"], Some(PW))
        .spawn()
        .unwrap();
    // Wait until it holds the profile's in-use lock (shared: an exclusive try fails).
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.dir.path().join("brokerdesk.inuse"))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while lock.try_lock().is_ok() {
        lock.unlock().unwrap();
        assert!(
            std::time::Instant::now() < deadline,
            "watch never opened the profile"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    restore(&target, out.to_str().unwrap(), PASSPHRASE, None).expect_error(1, "profile_in_use");
    let _ = watching.kill();
    let _ = watching.wait();
    assert_eq!(names(&target.ok("account list")), ["Target"]);
}

#[test]
fn a_restore_killed_at_any_point_leaves_a_whole_profile() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Backed --broker paper --env paper");
    with_passphrase(&p);
    let out = p.dir.path().join("b.bdbackup");
    p.ok_args(&["backup", "create", "--out", out.to_str().unwrap()]);

    for (step, restored) in [
        ("checked", false),
        ("copied", false),
        ("keychain", false),
        ("wal_removed", false),
        ("renamed", true),
    ] {
        let target = Profile::new();
        target.init();
        target.ok("account add --name Current --broker paper --env paper");
        let run = restore(&target, out.to_str().unwrap(), PASSPHRASE, Some(step));
        assert_ne!(run.code, 0, "{step}: the restore was not stopped");
        let expected = if restored { "Backed" } else { "Current" };
        assert_eq!(names(&target.ok("account list")), [expected], "{step}");
        let health = target.ok("health");
        let db = health["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "database")
            .unwrap()
            .clone();
        assert_eq!(db["status"], "ok", "{step}: {health}");
        // And a restore run again completes.
        restore(&target, out.to_str().unwrap(), PASSPHRASE, None).ok();
        assert_eq!(names(&target.ok("account list")), ["Backed"], "{step}");
    }
}
