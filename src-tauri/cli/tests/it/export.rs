//! `export`: the configuration as JSON or YAML through the `brokerdesk` binary — every
//! account's settings and the app settings, never a credential, only the accounts asked for,
//! a new 0600 file with --out (an existing file is never replaced), audited.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use common::{Profile, PW};

const FX_TOKEN: &str = "export-test-FXTOKEN-0123456789abcdef";
const ALPACA_SECRET: &str = "export-test-ALPACASECRET-fedcba98765";

fn profile() -> Profile {
    let p = Profile::new();
    p.init();
    p.add_with_secret(
        "--name FX --broker oanda --env practice --api-key - --pairs EUR_USD,GBP_USD --max-daily-loss 5",
        FX_TOKEN,
    );
    p.add_with_secret(
        "--name Stocks --broker alpaca --env practice --api-key AKEXPORTTEST --api-secret -",
        ALPACA_SECRET,
    );
    p
}

#[test]
fn every_account_and_the_settings_in_json_without_a_credential() {
    let p = profile();
    let run = p.human("export");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["schemaVersion"], 1);
    assert_eq!(doc["serial"], 1);
    assert!(
        doc["lineage"].as_str().is_some_and(|l| l.len() >= 32),
        "{doc}"
    );
    assert!(
        doc["settings"]["priceUpdatesPerSecond"].is_number(),
        "{doc}"
    );
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let fx = accounts.iter().find(|a| a["name"] == "FX").unwrap();
    assert_eq!(fx["broker"], "oanda");
    assert_eq!(fx["instruments"], serde_json::json!(["EUR_USD", "GBP_USD"]));
    assert_eq!(
        fx["credentials"],
        serde_json::json!({"api_key": "not exported"})
    );
    assert!(fx.get("mode").is_none() && fx.get("id").is_none(), "{fx}");
    let stocks = accounts.iter().find(|a| a["name"] == "Stocks").unwrap();
    assert_eq!(
        stocks["credentials"],
        serde_json::json!({"api_key": "not exported", "api_secret": "not exported"})
    );
    for secret in [FX_TOKEN, ALPACA_SECRET, "AKEXPORTTEST"] {
        assert!(!run.stdout.contains(secret), "a credential was exported");
    }
    // The next export is the next serial, and both are audited.
    assert_eq!(p.human("export").json()["serial"], 2);
    let audited = p.ok("audit list --event config_exported");
    assert_eq!(audited.as_array().unwrap().len(), 2, "{audited}");
}

#[test]
fn yaml_only_the_accounts_asked_for_and_unknown_ones_refused() {
    let p = profile();
    let run = p.human("export --format yaml --accounts fx");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let yaml = &run.stdout;
    assert!(yaml.starts_with("schemaVersion: 1\n"), "{yaml}");
    assert!(yaml.contains("- name: FX\n"), "{yaml}");
    assert!(yaml.contains("api_key: not exported"), "{yaml}");
    assert!(
        !yaml.contains("Stocks"),
        "only the account asked for: {yaml}"
    );
    assert!(!yaml.contains(FX_TOKEN));

    p.json("export --accounts FX,Nope")
        .expect_error(4, "not_found");
}

#[test]
fn out_writes_a_new_private_file_and_never_replaces_one() {
    let p = profile();
    let out = p.dir.path().join("setup.json");
    let path = out.to_str().unwrap();
    let done = p.ok_args(&["export", "--out", path]);
    assert_eq!(done["path"], path);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["accounts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = p.run_args(&["--json", "export", "--out", path], Some(PW), None);
    let e = again.expect_error(2, "usage");
    assert!(e["message"].as_str().unwrap().contains("exists"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        text,
        "left as it was"
    );
}
