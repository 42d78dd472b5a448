//! `health`: the profile's checks through the `brokerdesk` binary — all well on a fresh
//! profile; a locked vault skips what needs the key; an edited account and an edited audit
//! log fail with what to do; --deep signs in at each broker (the OANDA simulator).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use common::{Profile, Sim};
use serde_json::Value;

fn check<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no {code} check in {report}"))
}

#[test]
fn a_fresh_profile_is_healthy_and_backups_say_they_are_not_set_up() {
    let p = Profile::new();
    p.init();
    let r = p.ok("health");
    assert_eq!(r["ok"], true, "{r}");
    for code in [
        "database",
        "migrations",
        "vault",
        "disk_space",
        "logs",
        "audit_log",
        "accounts",
    ] {
        assert_eq!(check(&r, code)["status"], "ok", "{code}: {r}");
    }
    let backups = check(&r, "backups");
    assert_eq!(backups["status"], "warn");
    assert!(backups["detail"]
        .as_str()
        .unwrap()
        .contains("no backup passphrase"));
    assert!(backups["fix"]
        .as_str()
        .unwrap()
        .contains("backup passphrase"));
    let human = p.human("health");
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("ok       database"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .trim_end()
            .ends_with("\nhealthy, with warnings (WARN above)"),
        "{}",
        human.stdout
    );
}

#[test]
fn locked_edited_and_deep() {
    let p = Profile::new();
    p.init();
    let sim = Sim::start();
    let url = sim.url();
    p.add_with_secret(
        &format!(
            "--name FX --broker oanda --env practice --rest-url {url} --stream-url {url} --account-id {} --api-key -",
            brokerdesk_sim::oanda::DEMO_ACCOUNTS[0]
        ),
        brokerdesk_sim::oanda::DEMO_TOKEN,
    );
    // Locked (no password given): what needs the key is skipped, and the vault warns.
    let locked = p.run_args(&["--json", "health"], None, None).ok();
    assert_eq!(check(&locked, "vault")["status"], "warn", "{locked}");
    assert_eq!(check(&locked, "audit_log")["status"], "skipped");
    // Deep: the simulator accepts the token.
    let deep = p.ok("health --deep");
    let broker = check(&deep, "broker");
    assert_eq!(broker["status"], "ok", "{deep}");
    assert_eq!(broker["subject"], "FX");
    // Someone edits the account's mode and the audit log in the database.
    p.sqlite("UPDATE accounts SET mode = 'live'");
    p.sqlite("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'x' WHERE id = 1");
    let r = p.ok("health");
    assert_eq!(r["ok"], false, "{r}");
    let accounts = check(&r, "accounts");
    // One row per account in trouble: the account as its subject, the code in the detail.
    assert_eq!(accounts["status"], "fail");
    assert_eq!(accounts["subject"], "FX", "{accounts}");
    assert!(
        accounts["detail"]
            .as_str()
            .unwrap()
            .contains("(state_tampered)"),
        "{accounts}"
    );
    assert!(accounts["fix"].is_string());
    assert_eq!(check(&r, "audit_log")["status"], "fail", "{r}");
    let human = p.human("health");
    assert!(human.stdout.contains("NOT healthy"), "{}", human.stdout);
}
