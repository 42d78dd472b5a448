//! `config history | show | rollback` through the `brokerdesk` binary: each account edit and
//! settings change is a version with what changed; rolling back applies an earlier version as
//! a new one; a removed account's versions can be read but not applied.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use common::Profile;

#[test]
fn edits_are_versions_and_a_rollback_is_a_new_one() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Desk --broker paper --env paper --max-daily-loss 5");
    p.ok("account edit Desk --max-daily-loss 4 --pairs EUR_USD,USD_JPY");
    let history = p.ok("config history Desk");
    let list = history.as_array().unwrap();
    assert_eq!(list.len(), 2, "{history}");
    let (edit, created) = (&list[0], &list[1]);
    assert_eq!(created["changes"], serde_json::json!(["created"]));
    let changes: Vec<&str> = edit["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"propFirm.maxDailyLossPct: \"5\" → \"4\""),
        "{changes:?}"
    );
    assert_eq!(edit["actor"], "cli");
    assert_eq!(edit["config"]["propFirm"]["maxDailyLossPct"], "4");

    // Back to the first version: a third version, the limit 5 again.
    let first = created["version"].as_i64().unwrap();
    let done = p.ok(&format!("config rollback {first}"));
    assert_eq!(done["changed"], true, "{done}");
    let now = &done["now"];
    assert!(now["version"].as_i64().unwrap() > edit["version"].as_i64().unwrap());
    assert!(
        now["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "propFirm.maxDailyLossPct: \"4\" → \"5\""),
        "{now}"
    );
    let account = p.ok("account show Desk");
    assert_eq!(account["propFirm"]["maxDailyLossPct"].to_string(), "5");
    assert_eq!(p.ok("config history Desk").as_array().unwrap().len(), 3);
    // Nothing left to change: the same version again changes nothing.
    let again = p.human(&format!("config rollback {first}"));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);

    let shown = p.ok(&format!("config show {first}"));
    assert_eq!(shown["config"]["name"], "Desk");
    p.json("config show 999").expect_error(4, "not_found");
}

#[test]
fn settings_have_versions_and_removed_accounts_cannot_be_rolled_back() {
    let p = Profile::new();
    p.init();
    p.ok("settings auto-lock 15");
    let settings = p.ok("config history settings");
    let v = &settings.as_array().unwrap()[0];
    assert_eq!(v["subject"], "settings");
    assert_eq!(
        v["changes"],
        serde_json::json!(["auto-lock off → auto-lock after 15 idle minutes"])
    );
    p.ok("settings auto-lock off");
    assert_eq!(
        p.ok(&format!("config rollback {}", v["version"]))["changed"],
        true
    );
    assert_eq!(p.ok("settings show")["autoLockMinutes"], 15);

    let added = p.ok("account add --name Gone --broker paper --env paper");
    let id = added["account"]["id"]
        .as_str()
        .unwrap_or_else(|| added["id"].as_str().unwrap())
        .to_string();
    p.ok("account remove Gone --yes");
    let history = p.ok(&format!("config history {id}"));
    let version = history.as_array().unwrap()[0]["version"].as_i64().unwrap();
    let e = p
        .json(&format!("config rollback {version}"))
        .expect_error(4, "not_found");
    assert!(
        e["message"].as_str().unwrap().contains("Gone was removed"),
        "{e}"
    );
}
