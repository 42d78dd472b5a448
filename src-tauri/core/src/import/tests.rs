#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use super::*;

fn minimal(accounts: &str) -> String {
    format!(
        r#"{{"schemaVersion": 1, "appVersion": "0.1.0", "exportedAt": "2026-03-07T09:05:02Z",
  "lineage": "L1", "serial": 1,
  "settings": {{"autoLockMinutes": null, "priceUpdatesPerSecond": 30}},
  "accounts": [{accounts}]}}"#
    )
}

fn paper(name: &str) -> String {
    let input = AccountInput::new(
        name,
        crate::accounts::model::BrokerKind::Paper,
        crate::accounts::model::Environment::Practice,
    );
    let a = preview_account(&input, None);
    serde_json::to_string(&ExportedAccount::of(&a)).unwrap()
}

fn code(r: Result<Checked, ImportError>) -> Code {
    r.map(|_| ()).unwrap_err().code()
}

#[test]
fn a_minimal_document_reads_in_json_and_yaml() {
    let json = minimal(&paper("P"));
    let c = check_text(&json).expect("valid");
    assert_eq!(c.format, ExportFormat::Json);
    assert_eq!(c.inputs[0].name, "P");
    let yaml = serde_norway::to_string(&c.doc).unwrap();
    let y = check_text(&yaml).expect("valid yaml");
    assert_eq!(y.format, ExportFormat::Yaml);
    assert_eq!(y.doc, c.doc);
}

#[test]
fn hostile_text_is_refused_with_its_code() {
    assert_eq!(
        code(check_bytes(&vec![b' '; 6 * 1024 * 1024])),
        Code::ImportTooLarge
    );
    assert_eq!(
        code(check_bytes(b"{\"a\": \"\xff\"}")),
        Code::ImportUnreadable
    );
    assert_eq!(code(check_text("")), Code::ImportUnreadable);
    let json = minimal(&paper("P"));
    assert_eq!(
        code(check_text(&json[..json.len() / 2])),
        Code::ImportUnreadable
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let e = check_text(&deep).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("deeper than 16"), "{e}");
    // A billion laughs: nine times nine times … a few lines.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 9].join(", ")
        ));
    }
    let e = check_text(&bomb).map(|_| ()).unwrap_err();
    assert_eq!(e.code(), Code::ImportUnreadable);
    assert!(e.to_string().contains("repetition limit"), "{e}");
    // Few aliases of one large anchor pass the YAML reader's own repetition limit: the
    // value budget stops them.
    let big = format!("big: &big [{}]\n", vec!["1"; 5_000].join(", "));
    let many = format!("{big}copies: [{}]\n", vec!["*big"; 100].join(", "));
    let e = check_text(&many).map(|_| ()).unwrap_err();
    assert_eq!(e.code(), Code::ImportUnreadable);
    assert!(e.to_string().contains("more than 200000 values"), "{e}");
    assert_eq!(
        code(check_text("{\"a\": 1, \"a\": 2}")),
        Code::ImportUnreadable
    );
}

#[test]
fn versions_newer_unknown_or_missing_are_refused_and_older_ones_migrate_step_by_step() {
    let newer = minimal("").replace("\"schemaVersion\": 1", "\"schemaVersion\": 2");
    let e = check_text(&newer).map(|_| ()).unwrap_err();
    assert_eq!(e.code(), Code::ImportUnsupportedVersion);
    assert!(e.to_string().contains("newer Brokerdesk"), "{e}");
    let zero = minimal("").replace("\"schemaVersion\": 1", "\"schemaVersion\": 0");
    assert_eq!(code(check_text(&zero)), Code::ImportUnsupportedVersion);
    let missing = minimal("").replace("\"schemaVersion\": 1,", "");
    assert_eq!(code(check_text(&missing)), Code::ImportInvalid);

    // Two steps: version 1 → 2 renames a field, 2 → 3 adds one; a version-1 document goes
    // through both, a version-2 one through the second only.
    fn one_to_two(mut v: Value) -> Result<Value, String> {
        let o = v.as_object_mut().ok_or("not a map")?;
        let old = o.remove("old").unwrap_or(Value::Null);
        o.insert("renamed".into(), old);
        Ok(v)
    }
    fn two_to_three(mut v: Value) -> Result<Value, String> {
        v.as_object_mut()
            .ok_or("not a map")?
            .insert("added".into(), Value::Bool(true));
        Ok(v)
    }
    let steps: &[Step] = &[one_to_two, two_to_three];
    let v1 = serde_json::json!({"schemaVersion": 1, "old": 5});
    assert_eq!(
        migrate_with(v1, steps).unwrap(),
        serde_json::json!({"schemaVersion": 3, "renamed": 5, "added": true})
    );
    let v2 = serde_json::json!({"schemaVersion": 2, "renamed": 7});
    assert_eq!(
        migrate_with(v2, steps).unwrap(),
        serde_json::json!({"schemaVersion": 3, "renamed": 7, "added": true})
    );
    assert_eq!(
        migrate_with(serde_json::json!({"schemaVersion": 4}), steps)
            .unwrap_err()
            .code(),
        Code::ImportUnsupportedVersion
    );
}

#[test]
fn every_problem_is_reported_by_its_path() {
    let mut bad: Value = serde_json::from_str(&paper("P")).unwrap();
    bad["risk"]["maxQty"] = Value::String("-5".into());
    bad["risk"]["surprise"] = Value::Bool(true);
    let mut wrong_type: Value = serde_json::from_str(&paper("Q")).unwrap();
    wrong_type["weekendTrading"] = Value::String("yes".into());
    let mut plain_secret: Value = serde_json::from_str(&paper("R")).unwrap();
    plain_secret["broker"] = Value::String("oanda".into());
    plain_secret["credentials"] = serde_json::json!({"api_key": "tok-PLAINTEXT-0123456789"});
    let doc = minimal(&format!(
        "{bad}, {wrong_type}, {plain_secret}, {}",
        paper("p")
    ))
    .replace(
        "\"priceUpdatesPerSecond\": 30",
        "\"priceUpdatesPerSecond\": 0, \"extra\": 1",
    );
    let e = check_text(&doc).map(|_| ()).unwrap_err();
    assert_eq!(e.code(), Code::ImportInvalid);
    let paths: Vec<String> = e.fields().into_iter().map(|f| f.field).collect();
    for want in [
        "accounts[0].risk.surprise",
        "accounts[0].risk.maxQty",
        "accounts[1].weekendTrading",
        "accounts[2].credentials.api_key",
        "accounts[3].name",
        "settings.extra",
        "settings.priceUpdatesPerSecond",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "{want} missing in {paths:?}"
        );
    }
    assert!(
        !e.to_string().contains("PLAINTEXT"),
        "a credential was echoed: {e}"
    );
    assert!(!format!("{:?}", e.fields()).contains("PLAINTEXT"));
}

#[test]
fn renamed_copies_get_a_free_name_within_the_length_limit() {
    let taken: HashSet<String> = ["main".to_string(), "main (imported)".to_string()].into();
    assert_eq!(unique_name("Main", &taken), "Main (imported 2)");
    let long = "x".repeat(64);
    let n = unique_name(&long, &HashSet::new());
    assert!(
        n.chars().count() <= MAX_NAME_CHARS && n.ends_with(" (imported)"),
        "{n}"
    );
}
