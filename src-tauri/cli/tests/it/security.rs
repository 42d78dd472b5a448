//! Black-box tests of the security commands: two-factor setup and step-up, backup codes,
//! the persisted lockout, the audit log (filters, hash chain, tampering), the credential
//! purge and settings. The authenticator app is played by an independent RFC 6238
//! implementation below (HMAC-SHA-1 from the `hmac` and `sha1` crates), fed the secret decoded
//! from the otpauth URI the CLI prints, never anything from core.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::path::Path;

use serde_json::Value;

use crate::phone::{base32_decode, enable_2fa, hotp, ok_pw, strings, Phone, STEP};
use common::{contains, files_under, masks, Profile, Run, PROFILE_NAME, PW};

#[test]
fn hotp_matches_the_rfc_test_vectors() {
    // RFC 4226 Appendix D (6 digits), and RFC 6238 Appendix B's SHA-1 secret.
    let secret = b"12345678901234567890";
    for (counter, code) in [(0, "755224"), (1, "287082"), (9, "520489")] {
        assert_eq!(hotp(secret, counter), code);
    }
    // RFC 6238 at T = 59 s is 94287082 in 8 digits: the last 6 are the 6-digit code.
    assert_eq!(hotp(secret, 59 / STEP), "287082");
    assert_eq!(
        base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        secret.to_vec()
    );
}

// ---- helpers ----

/// An extra environment variable for one run.
type Env<'a> = Option<(&'a str, &'a str)>;

fn events(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn decode_qr(path: &Path) -> String {
    let file = std::fs::File::open(path).expect("open PNG");
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the PNG");
    grids[0].decode().expect("QR decodes").1
}

// ---- tests ----

#[test]
fn setup_qr_enable_replay_backup_codes_and_the_audit_log() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Paper --broker paper --env practice");
    let off = p.run_with("--json twofa status", None, None).ok();
    assert_eq!(
        (&off["enabled"], &off["pending"]),
        (&Value::Bool(false), &Value::Bool(false))
    );
    p.json("twofa enable 123456")
        .expect_error(3, "twofa_not_set_up");
    p.json("twofa verify 123456")
        .expect_error(3, "twofa_not_enabled");

    // Setup prints the URI and the secret (human), and with --qr-png writes a QR of the URI.
    let human = p.human("twofa setup");
    assert_eq!(human.code, 0, "{}", human.stderr);
    let prefix = format!("otpauth://totp/Brokerdesk:{PROFILE_NAME}?secret=");
    assert!(human.stdout.contains(&prefix), "{}", human.stdout);
    let out_dir = tempfile::tempdir().unwrap();
    let png_path = out_dir.path().join("qr.png");
    let setup = p.ok_args(&["twofa", "setup", "--qr-png", png_path.to_str().unwrap()]);
    let uri = setup["otpauthUri"].as_str().unwrap();
    let secret = setup["secret"].as_str().unwrap();
    assert!(
        uri.starts_with(&prefix) && uri.ends_with("&issuer=Brokerdesk"),
        "{uri}"
    );
    assert_eq!(uri, format!("{prefix}{secret}&issuer=Brokerdesk"));
    assert_eq!(base32_decode(secret).len(), 20, "a 160-bit secret");
    assert_eq!(
        Path::new(setup["qrPng"].as_str().unwrap()),
        png_path.canonicalize().unwrap()
    );
    assert_eq!(decode_qr(&png_path), uri);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&png_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the QR code holds the key");
    }
    let pending = p.ok("twofa status");
    assert_eq!(
        (&pending["enabled"], &pending["pending"]),
        (&Value::Bool(false), &Value::Bool(true))
    );

    // Enable: a wrong code is refused, the right one prints 10 backup codes.
    let mut phone = Phone::from_uri(uri);
    let r = p.json(&format!("twofa enable {}", phone.wrong()));
    r.expect_error(5, "wrong_code");
    let enable_code = phone.fresh();
    let enabled = p.run_with(&format!("twofa enable {enable_code}"), Some(PW), None);
    assert_eq!(enabled.code, 0, "{}", enabled.stderr);
    let codes: Vec<String> = enabled
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.len() == 11 && l.as_bytes()[5] == b'-')
        .map(String::from)
        .collect();
    assert_eq!(codes.len(), 10, "{}", enabled.stdout);
    assert!(
        enabled.stdout.contains("not shown again"),
        "{}",
        enabled.stdout
    );
    let s = p.ok("twofa status");
    assert_eq!(s["enabled"], true);
    assert_eq!(s["backupCodesRemaining"], 10);
    assert!(
        s["stepUpUntil"].is_null(),
        "the window of the process that enabled it died with it: {s}"
    );
    p.json("twofa setup")
        .expect_error(3, "twofa_already_enabled");
    p.json(&format!("twofa enable {}", phone.wrong()))
        .expect_error(3, "twofa_already_enabled");

    // A code cannot be used twice.
    p.json(&format!("twofa verify {enable_code}"))
        .expect_error(5, "code_replayed");

    // A backup code works once (in any case, with or without its dash).
    let v = p.ok(&format!("twofa verify {}", codes[0]));
    assert_eq!(v["backupCodesRemaining"], 9);
    p.json(&format!("twofa verify {}", codes[0]))
        .expect_error(5, "wrong_code");
    // ... and may come from stdin, after the password line.
    let shouted = codes[1].to_uppercase().replace('-', "");
    let stdin = format!("{PW}\n{shouted}\n");
    let r = p.run_with("--json --password-stdin twofa verify -", None, Some(&stdin));
    assert_eq!(r.ok()["backupCodesRemaining"], 8);
    let human = p.human(&format!("twofa verify {}", phone.fresh()));
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.starts_with("Code accepted"),
        "{}",
        human.stdout
    );

    // The audit log: every event, recorded as the CLI.
    let all = p.ok("audit list");
    let evs = events(&all);
    for e in [
        "vault_created",
        "vault_unlocked",
        "account_created",
        "twofa_setup_started",
        "twofa_enabled",
        "twofa_failed",
        "twofa_verified",
        "backup_code_used",
    ] {
        assert!(evs.iter().any(|x| x == e), "no {e} in {evs:?}");
    }
    for e in all.as_array().unwrap() {
        assert_eq!(e["actor"], "cli", "{e}");
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    }
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let created = p.ok("audit list --event account_created");
    assert_eq!(events(&created), ["account_created"]);
    assert!(created[0]["detail"].as_str().unwrap().contains("Paper"));
    let account_id = created[0]["accountId"].as_str().unwrap().to_string();
    let failures = p.ok("audit list --event twofa_failed --event backup_code_used");
    let evs = events(&failures);
    assert_eq!(
        (
            evs.iter().filter(|e| *e == "twofa_failed").count(),
            evs.iter().filter(|e| *e == "backup_code_used").count(),
            evs.len()
        ),
        (3, 2, 5),
        "{evs:?}"
    );
    let by_account = p.ok("audit list --account Paper");
    assert_eq!(events(&by_account), ["account_created"]);
    assert_eq!(by_account[0]["accountId"], account_id.as_str());
    let found = p.ok("audit list --search REPLAYED");
    assert_eq!(events(&found), ["twofa_failed"]);
    assert_eq!(found[0]["detail"], "a code was replayed");
    assert_eq!(p.ok("audit list --limit 2").as_array().unwrap().len(), 2);
    assert_eq!(
        p.ok("audit list --since 2999-01-01T00:00:00Z"),
        Value::Array(vec![])
    );
    p.json("audit list --since yesterday")
        .expect_error(3, "validation");
    p.json("audit list --event no_such_event")
        .expect_error(2, "usage");

    let table = p.human("audit list --event account_created");
    let mut lines = table.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("TIME (UTC)") && header.contains("EVENT") && header.ends_with("DETAIL"),
        "{header}"
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains("account_created") && row.contains(" cli ") && row.contains(&account_id[..8]),
        "{row}"
    );
    let csv = p.human("audit list --csv --event account_created");
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let csv_lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(csv_lines[0], "id,at,event,actor,account_id,detail,hash");
    assert_eq!(csv_lines.len(), 2, "{}", csv.stdout);
    p.json("audit list --csv").expect_error(2, "usage");

    // The chain is intact...
    let human = p.human("audit verify");
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.starts_with("intact: "), "{}", human.stdout);
    let v = p.ok("audit verify");
    assert_eq!(
        (&v["ok"], &v["firstBrokenId"]),
        (&Value::Bool(true), &Value::Null)
    );

    // ... until someone with the file and a sqlite3 shell edits an entry.
    p.sqlite("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'x' WHERE id = 3;");
    let r = p.json("audit verify");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let doc = r.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["firstBrokenId"], 3);
    assert_eq!(doc["entries"], 2, "entries before the broken one");
    assert_eq!(doc["error"]["code"], "audit_tampered");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("entry 3"));
    let human = p.human("audit verify");
    assert_eq!(human.code, 1);
    assert!(human.stdout.is_empty());
    assert!(
        human.stderr.starts_with("error: ") && human.stderr.contains("entry 3"),
        "{}",
        human.stderr
    );
}

#[test]
fn every_step_up_command_needs_a_fresh_code_and_no_secret_is_logged() {
    let master = "MASTER-pw-1c2d3e4f5a6b7c8d";
    let new_master = "NEW-MASTER-pw-9e8d7c6b5a4f";
    let fx_key = "SECRET-oanda-key-11112222333344";
    let al_key = "SECRET-alpaca-key-5555666677";
    let al_secret = "SECRET-alpaca-secret-88889999";
    let fx2_key = "SECRET-oanda-key2-aaaabbbbcccc";
    let fx_new_key = "SECRET-oanda-rotated-ddddeeee";
    let api_secrets = [fx_key, al_key, al_secret, fx2_key, fx_new_key];

    let p = Profile::new();
    let mut pw = master;
    // Every run but those that print secrets by design (setup, enable, backup-codes).
    let mut outputs: Vec<(String, Run)> = Vec::new();
    // Runs `--json` + a whitespace-separated command line with the master password `pw`.
    let mut run = |pw: &str, cmd: &str, env: Env| -> Run {
        let cmd = format!("--json {cmd}");
        let mut c = p.command(&cmd.split_whitespace().collect::<Vec<_>>(), Some(pw));
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let r = Run::from(c.output().expect("run brokerdesk"));
        outputs.push((cmd, r.clone()));
        r
    };

    run(pw, "init", None).ok();
    run(
        pw,
        "account add --name Paper --broker paper --env practice",
        None,
    )
    .ok();
    let fx = run(
        pw,
        &format!(
            "account add --no-verify --name FX --broker oanda --env practice --api-key {fx_key}"
        ),
        None,
    )
    .ok();
    let al = format!(
        "account add --no-verify --name AL --broker alpaca --env practice \
         --api-key {al_key} --api-secret {al_secret}"
    );
    run(pw, &al, None).ok();
    let before = run(pw, "account list", None).ok();

    let (mut phone, setup, codes) = enable_2fa(&p, pw);
    let totp_secret = setup["secret"].as_str().unwrap().to_string();

    // Refused without a code, and nothing changes.
    let add_fx2 = format!(
        "account add --no-verify --name FX2 --broker oanda --env practice --api-key {fx2_key}"
    );
    let edit_fx = format!("account edit --no-verify FX --api-key {fx_new_key}");
    let new_pw_env = Some(("BROKERDESK_NEW_PASSWORD", new_master));
    let refused: [(&str, Env); 6] = [
        (&add_fx2, None),
        (&edit_fx, None),
        ("account remove Paper", None),
        ("vault change-password", new_pw_env),
        ("twofa backup-codes", None),
        ("twofa disable", None),
    ];
    for (cmd, env) in refused {
        let err = run(pw, cmd, env).expect_error(5, "step_up_required");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains("pass --totp CODE"), "{cmd}: {err}");
    }
    let human = p.run_with("account remove Paper", Some(pw), None);
    assert_eq!(human.code, 5);
    assert!(human.stderr.contains("--totp CODE"), "{}", human.stderr);
    let after = run(pw, "account list", None).ok();
    assert_eq!(
        after, before,
        "nothing changed (and the password still works)"
    );
    let s = run(pw, "twofa status", None).ok();
    assert_eq!(
        (&s["enabled"], &s["backupCodesRemaining"], &s["stepUpUntil"]),
        (&Value::Bool(true), &Value::from(10), &Value::Null)
    );

    // Each succeeds with --totp (a backup code, or an app code of a step not used yet): a
    // new process starts with no window, so each needs its own.
    let fx2 = run(pw, &format!("{add_fx2} --totp {}", codes[0]), None).ok();
    assert_eq!(masks(&fx2), ["••••cccc"]);
    let edited = run(pw, &format!("{edit_fx} --totp {}", phone.fresh()), None).ok();
    assert_eq!(edited["id"], fx["id"]);
    assert_eq!(masks(&edited), ["••••eeee"]);
    let removed = run(
        pw,
        &format!("account remove Paper --totp {}", codes[1]),
        None,
    )
    .ok();
    assert_eq!(removed["removed"]["name"], "Paper");
    let change = format!("vault change-password --totp {}", codes[2]);
    run(pw, &change, new_pw_env).ok();
    run(pw, "account list", None).expect_error(5, "wrong_password");
    pw = new_master;
    // The purge is an emergency action: no code.
    let report = run(pw, "credentials purge", None).ok();
    assert_eq!(
        report,
        serde_json::json!({"accounts": 3, "credentialsDeleted": 4})
    );
    let list = run(pw, "account list", None).ok();
    assert_eq!(list.as_array().unwrap().len(), 3, "accounts remain");
    for a in list.as_array().unwrap() {
        assert!(masks(a).is_empty(), "credentials gone: {a}");
        assert_eq!(a["mode"], "paper");
    }
    let new_codes = ok_pw(&p, pw, &["twofa", "backup-codes", "--totp", &codes[4]]);
    let new_codes = strings(&new_codes["codes"]);
    assert_eq!(new_codes.len(), 10);
    run(pw, &format!("twofa verify {}", codes[5]), None).expect_error(5, "wrong_code");
    let off = run(pw, &format!("twofa disable --totp {}", new_codes[0]), None).ok();
    assert_eq!(off["enabled"], false);
    // With 2FA off nothing needs a code.
    run(pw, "account remove FX2", None).ok();

    let audit = run(pw, "audit list", None).ok();
    let evs = events(&audit);
    for e in [
        "credentials_stored",
        "credentials_rotated",
        "account_removed",
        "master_password_changed",
        "credentials_purged",
        "backup_codes_regenerated",
        "twofa_disabled",
    ] {
        assert!(evs.iter().any(|x| x == e), "no {e} in {evs:?}");
    }
    run(pw, "audit verify", None).ok();

    // No secret in any output (but setup's and the codes' own), the audit log, or any file.
    let totp_raw = base32_decode(&totp_secret);
    let mut needles: Vec<Vec<u8>> = api_secrets
        .iter()
        .chain(&[master, new_master, totp_secret.as_str()])
        .map(|s| s.as_bytes().to_vec())
        .collect();
    for c in codes.iter().chain(&new_codes) {
        needles.push(c.as_bytes().to_vec());
        needles.push(c.replace('-', "").into_bytes());
    }
    let mut leaks = Vec::new();
    for (cmd, r) in &outputs {
        for n in &needles {
            if contains(r.stdout.as_bytes(), n) || contains(r.stderr.as_bytes(), n) {
                let n = String::from_utf8_lossy(n);
                leaks.push(format!("output of `{cmd}` contains {n}"));
            }
        }
    }
    let files = files_under(p.dir.path());
    assert!(files.iter().any(|f| f.ends_with("brokerdesk.db")));
    assert!(files.iter().any(|f| f.ends_with("brokerdesk.log")));
    for f in &files {
        let bytes = std::fs::read(f).expect("read data file");
        for n in needles.iter().chain([&totp_raw]) {
            if contains(&bytes, n) {
                let n = String::from_utf8_lossy(n);
                leaks.push(format!("{} contains {n}", f.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}

#[test]
fn five_wrong_codes_lock_out_and_the_lockout_outlives_the_process() {
    let p = Profile::new();
    p.init();
    p.ok("account add --name Paper --broker paper --env practice");
    let (mut phone, _, codes) = enable_2fa(&p, PW);
    for left in (1..=4).rev() {
        let err = p
            .json(&format!("twofa verify {}", phone.wrong()))
            .expect_error(5, "wrong_code");
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempts left")),
            "{err}"
        );
    }
    let err = p
        .json(&format!("twofa verify {}", phone.wrong()))
        .expect_error(5, "twofa_locked_out");
    assert!(
        err["message"].as_str().unwrap().contains("try again after"),
        "{err}"
    );

    // Every later process refuses even a right code (app or backup) until the lockout ends,
    // and a step-up command with --totp changes nothing.
    p.json(&format!("twofa verify {}", phone.fresh()))
        .expect_error(5, "twofa_locked_out");
    p.json(&format!("twofa verify {}", codes[0]))
        .expect_error(5, "twofa_locked_out");
    let stdin = format!("{}\n", codes[1]);
    p.run_with(
        "--json account remove Paper --totp -",
        Some(PW),
        Some(&stdin),
    )
    .expect_error(5, "twofa_locked_out");
    assert_eq!(p.ok("account list").as_array().unwrap().len(), 1);
    let s = p.run_with("--json twofa status", None, None).ok();
    assert!(s["lockedUntil"].is_string(), "{s}");
    assert_eq!(s["backupCodesRemaining"], 10, "no backup code was spent");
    let human = p.run_with("twofa status", None, None);
    assert!(human.stdout.contains("locked out"), "{}", human.stdout);
    let audit = p.ok("audit list --event twofa_locked_out");
    assert_eq!(events(&audit), ["twofa_locked_out"]);
}

#[test]
fn settings_and_totp_without_two_factor() {
    let p = Profile::new();
    p.run_with("--json settings show", None, None)
        .expect_error(4, "not_initialized");
    p.init();
    let s = p.run_with("--json settings show", None, None).ok();
    assert_eq!(
        s,
        serde_json::json!({"autoLockMinutes": null, "priceUpdatesPerSecond": 30})
    );
    assert_eq!(p.ok("settings auto-lock 15")["autoLockMinutes"], 15);
    let human = p.run_with("settings show", None, None);
    assert!(
        human.stdout.contains("after 15 idle minutes"),
        "{}",
        human.stdout
    );
    let r = p.json("settings auto-lock 0");
    r.expect_error(3, "validation");
    assert_eq!(r.field_paths(), ["autoLockMinutes"]);
    p.json("settings auto-lock soon").expect_error(2, "usage");
    assert_eq!(
        p.ok("settings auto-lock off")["autoLockMinutes"],
        Value::Null
    );
    let audit = p.ok("audit list --event settings_changed");
    assert_eq!(
        audit.as_array().unwrap().len(),
        2,
        "the refused change is not recorded"
    );

    // With 2FA off, --totp is not needed: it is ignored, with a warning.
    let r = p.json("account add --name P --broker paper --env practice --totp 123456");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("--totp is not needed"), "{}", r.stderr);
    p.json("twofa disable --totp 123456")
        .expect_error(3, "twofa_not_enabled");
    p.json("twofa backup-codes")
        .expect_error(3, "twofa_not_enabled");
    // An unwritable --qr-png fails before setup changes anything.
    let missing = p.dir.path().join("no-such-dir").join("qr.png");
    let r = p.run_args(
        &[
            "--json",
            "twofa",
            "setup",
            "--qr-png",
            missing.to_str().unwrap(),
        ],
        Some(PW),
        None,
    );
    r.expect_error(1, "io");
    assert!(!r.stdout.contains("otpauth://"), "{}", r.stdout);
    let s = p.run_with("--json twofa status", None, None).ok();
    assert_eq!(
        (&s["enabled"], &s["pending"]),
        (&Value::Bool(false), &Value::Bool(false))
    );
}
