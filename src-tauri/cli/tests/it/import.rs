//! `import` (and `export --with-credentials`) through the `brokerdesk` binary: round trips
//! into fresh profiles in both formats, with and without sealed credentials; a corpus of bad
//! files each refused with its code and the profile unchanged; the dry run; conflicts; the
//! step-up for credentials and for loosening.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;

use crate::common;
use crate::phone::enable_2fa;

use common::{Profile, PW};

const FX_TOKEN: &str = "import-test-FXTOKEN-0123456789abcdef";
const ALPACA_KEY: &str = "AKIMPORTTEST0123";
const ALPACA_SECRET: &str = "import-test-ALPACASECRET-fedcba98765";
const PASSPHRASE: &str = "a long export passphrase";

fn source() -> Profile {
    let p = Profile::new();
    p.init();
    p.add_with_secret(
        "--name FX --broker oanda --env practice --api-key - --pairs EUR_USD,GBP_USD --max-daily-loss 5 --max-qty 10",
        FX_TOKEN,
    );
    p.add_with_secret(
        &format!(
            "--name Stocks --broker alpaca --env practice --api-key {ALPACA_KEY} --api-secret -"
        ),
        ALPACA_SECRET,
    );
    p.ok(
        "account add --no-verify --name Desk --broker paper --env practice --max-open-positions 3",
    );
    p.ok("settings auto-lock 15");
    p
}

fn fresh() -> Profile {
    let p = Profile::new();
    p.init();
    p
}

/// The configuration a profile has: its export without what differs per export (and per
/// profile), and with each account's stored credential fields as the export lists them.
fn configuration(p: &Profile) -> Value {
    let mut doc = p.ok("export");
    let o = doc.as_object_mut().unwrap();
    for k in ["exportedAt", "serial", "lineage"] {
        o.remove(k);
    }
    let mut accounts = o["accounts"].as_array().unwrap().clone();
    accounts.sort_by_key(|a| a["name"].as_str().unwrap().to_string());
    o.insert("accounts".into(), Value::Array(accounts));
    doc
}

fn without_credentials(mut v: Value) -> Value {
    for a in v["accounts"].as_array_mut().unwrap() {
        a.as_object_mut().unwrap().remove("credentials");
    }
    v
}

fn write(p: &Profile, name: &str, text: &str) -> String {
    let path = p.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn export_sealed(p: &Profile, format: &str) -> String {
    let run = p.run_args(
        &["export", "--format", format, "--with-credentials"],
        Some(PW),
        Some(&format!("{PASSPHRASE}\n{PASSPHRASE}\n")),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

fn import(p: &Profile, args: &[&str], stdin: Option<&str>) -> common::Run {
    let full: Vec<&str> = ["--json", "import"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    p.run_args(&full, Some(PW), stdin)
}

#[test]
fn round_trips_into_a_fresh_profile_in_json_and_yaml() {
    let src = source();
    let want = configuration(&src);
    for format in ["json", "yaml"] {
        let text = src.human(&format!("export --format {format}")).stdout;
        let dst = fresh();
        let file = write(&dst, &format!("setup.{format}"), &text);
        let done = import(&dst, &[&file], None).ok();
        assert_eq!(done["applied"], true, "{done}");
        let got = configuration(&dst);
        assert_eq!(
            without_credentials(got.clone()),
            without_credentials(want.clone()),
            "{format}"
        );
        // No credentials travelled: the accounts have none, and say so.
        let accounts = dst.ok("account list");
        for a in accounts.as_array().unwrap() {
            assert_eq!(a["mode"], "paper");
            assert!(a["credentials"].as_array().unwrap().is_empty(), "{a}");
        }
        let fx = done["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "FX")
            .unwrap();
        assert_eq!(fx["credentialsMissing"], serde_json::json!(["api_key"]));
        // Versions by "import", and the import audited.
        let history = dst.ok("config history");
        assert!(
            history
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["actor"] == "import"),
            "{history}"
        );
        let audited = dst.ok("audit list --event config_imported");
        assert_eq!(audited.as_array().unwrap().len(), 1, "{audited}");
        // Importing the same file again changes nothing.
        let again = import(&dst, &[&file], None).ok();
        assert_eq!(again["changesAnything"], false, "{again}");
        assert_eq!(configuration(&dst), got);
    }
}

#[test]
fn credentials_travel_sealed_and_arrive_unverified() {
    let src = source();
    // Without the flag no secret is in the file, in either format.
    for format in ["json", "yaml"] {
        let plain = src.human(&format!("export --format {format}")).stdout;
        for secret in [FX_TOKEN, ALPACA_SECRET, ALPACA_KEY] {
            assert!(!plain.contains(secret), "{secret} exported in {format}");
        }
    }
    for format in ["json", "yaml"] {
        let sealed = export_sealed(&src, format);
        for secret in [FX_TOKEN, ALPACA_SECRET, ALPACA_KEY, PASSPHRASE] {
            assert!(
                !sealed.contains(secret),
                "{secret} in plaintext in the sealed {format} export"
            );
        }
        assert!(sealed.contains("sealed"), "{sealed}");
        let dst = fresh();
        let file = write(&dst, &format!("sealed.{format}"), &sealed);
        // A wrong passphrase is refused and changes nothing.
        import(&dst, &[&file], Some("not the right passphrase\n"))
            .expect_error(5, "wrong_passphrase");
        assert!(dst.ok("account list").as_array().unwrap().is_empty());
        // No passphrase at all (empty stdin): refused.
        import(&dst, &[&file], None).expect_error(5, "passphrase_required");
        let done = import(&dst, &[&file], Some(&format!("{PASSPHRASE}\n"))).ok();
        assert_eq!(done["credentialsOpened"], true);
        assert_eq!(
            configuration(&dst)["accounts"],
            configuration(&src)["accounts"],
            "{format}: the same configuration and the same credential fields"
        );
        // The secrets themselves arrived: their masks match.
        let masks = |p: &Profile| -> Vec<Vec<String>> {
            let mut list: Vec<Value> = p.ok("account list").as_array().unwrap().clone();
            list.sort_by_key(|a| a["name"].as_str().unwrap().to_string());
            list.iter().map(common::masks).collect()
        };
        assert_eq!(masks(&dst), masks(&src));
        for a in dst.ok("account list").as_array().unwrap() {
            assert_eq!(a["mode"], "paper");
        }
        let audited = src.ok("audit list --event config_exported");
        assert!(
            audited.as_array().unwrap().iter().any(|e| e["detail"]
                .as_str()
                .unwrap()
                .contains("with the credentials of 2 account(s)")),
            "{audited}"
        );
    }
    // A sealed block moved into another document (another serial) does not open.
    let a: Value = serde_json::from_str(&export_sealed(&src, "json")).unwrap();
    let mut b: Value = serde_json::from_str(&export_sealed(&src, "json")).unwrap();
    b["credentials"] = a["credentials"].clone();
    let dst = fresh();
    let file = write(&dst, "moved.json", &b.to_string());
    import(&dst, &[&file], Some(&format!("{PASSPHRASE}\n"))).expect_error(3, "import_damaged");
    // The passphrase is asked twice: two different ones export nothing.
    let run = src.run_args(
        &["--json", "export", "--with-credentials"],
        Some(PW),
        Some(&format!("{PASSPHRASE}\nanother passphrase\n")),
    );
    run.expect_error(3, "validation");
    let run = src.run_args(
        &["--json", "export", "--with-credentials"],
        Some(PW),
        Some("short\nshort\n"),
    );
    run.expect_error(3, "weak_password");
}

#[test]
fn bad_files_are_refused_with_their_code_and_change_nothing() {
    let src = source();
    let good = src.human("export").stdout;
    let dst = source();
    let before = configuration(&dst);
    let history_before = dst.ok("config history").as_array().unwrap().len();
    let newer = good.replacen("\"schemaVersion\": 1", "\"schemaVersion\": 99", 1);
    let unknown = good.replacen("\"serial\"", "\"surprise\": true,\n  \"serial\"", 1);
    let wrong_type = good.replacen("\"weekendTrading\": true", "\"weekendTrading\": \"yes\"", 1);
    let bad_limit = good.replacen("\"maxQty\": \"10\"", "\"maxQty\": \"-1\"", 1);
    assert_ne!(bad_limit, good, "the fixture has maxQty 10");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(", ")
        ));
    }
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        (
            "truncated.json",
            good.as_bytes()[..good.len() / 2].to_vec(),
            3,
            "import_unreadable",
        ),
        (
            "wrong-type.json",
            wrong_type.into_bytes(),
            3,
            "import_invalid",
        ),
        ("unknown.json", unknown.into_bytes(), 3, "import_invalid"),
        (
            "newer.json",
            newer.into_bytes(),
            3,
            "import_unsupported_version",
        ),
        ("limit.json", bad_limit.into_bytes(), 3, "import_invalid"),
        ("bomb.yaml", bomb.into_bytes(), 3, "import_unreadable"),
        ("deep.json", deep.into_bytes(), 3, "import_unreadable"),
        (
            "latin1.json",
            b"{\"schemaVersion\": 1, \"appVersion\": \"caf\xe9\"}".to_vec(),
            3,
            "import_unreadable",
        ),
        ("empty.json", Vec::new(), 3, "import_unreadable"),
        ("list.yaml", b"- 1\n- 2\n".to_vec(), 3, "import_invalid"),
    ];
    for (name, bytes, exit, code) in cases {
        let path = dst.dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let e = import(
            &dst,
            &[path.to_str().unwrap(), "--on-conflict", "replace"],
            None,
        )
        .expect_error(exit, code);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("nothing was changed"),
            "{name}: {e}"
        );
        if code == "import_invalid" && name != "list.yaml" {
            assert!(!e["fields"].as_array().unwrap().is_empty(), "{name}: {e}");
        }
    }
    // Where the problems are, by path.
    let path = dst.dir.path().join("limit.json");
    let e = import(&dst, &[path.to_str().unwrap()], None).expect_error(3, "import_invalid");
    let fields: Vec<String> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("accounts[") && f.ends_with("].risk.maxQty")),
        "{fields:?}"
    );
    // 50 MB: refused before it is read.
    let huge = dst.dir.path().join("huge.json");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    import(&dst, &[huge.to_str().unwrap()], None).expect_error(3, "import_too_large");
    assert_eq!(
        configuration(&dst),
        before,
        "a refused import changed the profile"
    );
    assert_eq!(
        dst.ok("config history").as_array().unwrap().len(),
        history_before
    );
    assert!(dst
        .ok("audit list --event config_imported")
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn a_dry_run_shows_each_change_and_changes_nothing() {
    let src = source();
    let text = src.human("export").stdout;
    let dst = source();
    dst.ok("account edit FX --max-qty 5");
    dst.ok("settings auto-lock off");
    let before = configuration(&dst);
    let file = write(&dst, "setup.json", &text);
    let preview = import(&dst, &[&file, "--dry-run"], None).ok();
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["conflicts"], serde_json::json!(["FX"]));
    let fx = preview["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "FX")
        .unwrap();
    assert_eq!(fx["action"], "conflict");
    assert_eq!(
        fx["changes"],
        serde_json::json!([{"path": "risk.maxQty", "kind": "changed", "before": "\"5\"", "after": "\"10\""}])
    );
    let stocks = preview["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Stocks")
        .unwrap();
    assert_eq!(stocks["action"], "unchanged");
    assert_eq!(
        preview["settings"]["changes"][0]["kind"], "added",
        "{preview}"
    );
    // Loosening FX's limit (5 → 10) is named, and needs the step-up.
    let replaced = import(
        &dst,
        &[&file, "--dry-run", "--on-conflict", "replace"],
        None,
    )
    .ok();
    let fx = replaced["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "FX")
        .unwrap();
    assert_eq!(fx["action"], "replace");
    assert_eq!(fx["loosens"], serde_json::json!(["max quantity"]));
    assert!(!replaced["stepUp"].as_array().unwrap().is_empty());
    // The human preview names the field with both values.
    let human = dst.run_args(&["import", &file, "--dry-run"], Some(PW), None);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("~ risk.maxQty: \"5\" → \"10\""),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("Dry run: nothing was changed."),
        "{}",
        human.stdout
    );
    assert_eq!(configuration(&dst), before);
}

#[test]
fn conflicts_are_refused_by_default_and_skipped_replaced_or_renamed_on_request() {
    let src = source();
    let text = src.human("export").stdout;
    let file_in = |p: &Profile| write(p, "setup.json", &text);

    let dst = source();
    dst.ok("account edit Desk --max-open-positions 1");
    let file = file_in(&dst);
    let before = configuration(&dst);
    let e = import(&dst, &[&file], None).expect_error(3, "import_conflict");
    assert!(e["message"].as_str().unwrap().contains("Desk"), "{e}");
    assert_eq!(configuration(&dst), before);

    let skipped = import(&dst, &[&file, "--on-conflict", "skip"], None).ok();
    assert_eq!(
        skipped["changesAnything"], false,
        "Desk skipped, the rest the same: {skipped}"
    );
    assert_eq!(skipped["accounts"][0]["action"], "skip");
    assert_eq!(dst.ok("account show Desk")["risk"]["maxOpenPositions"], 1);

    // Replacing loosens Desk's limit (1 → 3): 2FA is off here, so no code is needed.
    let replaced = import(&dst, &[&file, "--on-conflict", "replace"], None).ok();
    assert_eq!(replaced["applied"], true);
    assert_eq!(dst.ok("account show Desk")["risk"]["maxOpenPositions"], 3);
    // The snapshot before it is a version to roll back to.
    let history = dst.ok("config history Desk");
    let versions = history.as_array().unwrap();
    assert_eq!(versions[0]["actor"], "import", "{history}");
    assert!(
        versions
            .iter()
            .any(|v| v["config"]["risk"]["maxOpenPositions"] == 1),
        "{history}"
    );

    let dst = source();
    dst.ok("account edit Desk --max-open-positions 1");
    let file = file_in(&dst);
    let renamed = import(&dst, &[&file, "--on-conflict", "rename"], None).ok();
    let names: Vec<String> = dst
        .ok("account list")
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"Desk (imported)".to_string()),
        "{names:?} {renamed}"
    );
    assert!(names.contains(&"FX (imported)".to_string()), "{names:?}");
    assert_eq!(dst.ok("account show Desk")["risk"]["maxOpenPositions"], 1);
    assert_eq!(
        dst.ok_args(&["account", "show", "Desk (imported)"])["risk"]["maxOpenPositions"],
        3
    );
}

#[test]
fn credentials_and_loosening_need_the_step_up() {
    let src = source();
    let sealed = export_sealed(&src, "json");
    let plain = src.human("export").stdout;

    let dst = fresh();
    let (_phone, _setup, codes) = enable_2fa(&dst, PW);
    let file = write(&dst, "sealed.json", &sealed);
    let e = import(&dst, &[&file], Some(&format!("{PASSPHRASE}\n")))
        .expect_error(5, "step_up_required");
    assert!(e["message"].as_str().unwrap().contains("--totp"), "{e}");
    assert!(
        dst.ok("account list").as_array().unwrap().is_empty(),
        "a refused import changed the profile"
    );
    let done = import(
        &dst,
        &[&file, "--totp", &codes[0]],
        Some(&format!("{PASSPHRASE}\n")),
    )
    .ok();
    assert_eq!(done["applied"], true);
    assert_eq!(dst.ok("account list").as_array().unwrap().len(), 3);

    // Without credentials and loosening nothing, no code; loosening needs one.
    let dst = fresh();
    let (_phone, _setup, codes) = enable_2fa(&dst, PW);
    let file = write(&dst, "plain.json", &plain);
    import(&dst, &[&file], None).ok();
    dst.ok("account edit Desk --max-open-positions 1");
    let before = configuration(&dst);
    import(&dst, &[&file, "--on-conflict", "replace"], None).expect_error(5, "step_up_required");
    assert_eq!(configuration(&dst), before);
    import(
        &dst,
        &[&file, "--on-conflict", "replace", "--totp", &codes[1]],
        None,
    )
    .ok();
    assert_eq!(dst.ok("account show Desk")["risk"]["maxOpenPositions"], 3);

    // Exporting credentials needs it too.
    let run = dst.run_args(
        &["--json", "export", "--with-credentials"],
        Some(PW),
        Some(&format!("{PASSPHRASE}\n{PASSPHRASE}\n")),
    );
    run.expect_error(5, "step_up_required");
}
