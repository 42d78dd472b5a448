//! Black-box tests of `brokerdesk account add` (checked with the broker) and `brokerdesk
//! stream`, against the OANDA simulator on 127.0.0.1.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use brokerdesk_sim::oanda;
use serde_json::Value;

use common::{Profile, Sim, PW};

fn add(p: &Profile, sim: &Sim, name: &str, token: &str, extra: &str) -> common::Run {
    let url = sim.url();
    p.json(&format!(
        "account add {extra} --name {name} --broker oanda --env practice --api-key {token} --account-id 101-004-1234567-001 --rest-url {url} --stream-url {url}"
    ))
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn assert_tick(v: &Value, instruments: &[&str]) {
    let i = v["instrument"].as_str().unwrap();
    assert!(instruments.contains(&i), "{v}");
    let (bid, ask) = (v["bid"].as_f64().unwrap(), v["ask"].as_f64().unwrap());
    assert!(bid > 0.0 && ask > bid, "{v}");
    let time = v["time"].as_str().unwrap();
    assert!(chrono_like(time), "time is not RFC 3339: {time}");
}

fn chrono_like(t: &str) -> bool {
    t.len() >= 20 && t.as_bytes()[4] == b'-' && t.as_bytes()[10] == b'T' && t.ends_with('Z')
}

#[test]
fn add_checks_with_the_broker_and_shows_the_account() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    let saved = add(&p, &sim, "Fx", oanda::DEMO_TOKEN, "").ok();
    assert_eq!(saved["name"], "Fx");
    assert_eq!(saved["check"]["status"], "verified");
    assert_eq!(saved["check"]["summary"]["accountLast4"], "-001");
    assert!(saved["check"]["summary"]["balance"].as_f64().unwrap() > 0.0);
    assert!(!saved.to_string().contains(oanda::DEMO_TOKEN));

    // A token reaching two accounts, none chosen: nothing saved, the ids listed.
    let url = sim.url();
    let r = p.json(&format!(
        "account add --name Two --broker oanda --env practice --api-key {} --rest-url {url}",
        oanda::DEMO_TOKEN
    ));
    let e = r.expect_error(3, "choose_broker_account");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("101-004-1234567-002"));

    // The broker down: saved unverified, with a warning; live stays locked (two-factor on, so
    // only the broker check is missing).
    sim.faults().go_down_for(Duration::from_secs(30));
    let r = add(&p, &sim, "Offline", oanda::DEMO_TOKEN, "");
    let saved = r.ok();
    assert_eq!(saved["check"]["status"], "unreachable");
    assert!(r.stderr.contains("could not be reached"), "{}", r.stderr);
    let (_, _, codes) = crate::phone::enable_2fa(&p, PW);
    p.json(&format!("mode Offline live --totp {}", codes[0]))
        .expect_error(3, "live_needs_verified_connection");
    let names: Vec<String> = common::names(&p.ok("account list"));
    assert_eq!(names, ["Fx", "Offline"]);
}

#[test]
fn live_needs_a_recent_check_and_an_unchecked_change_goes_back_to_paper() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    add(&p, &sim, "Fx", oanda::DEMO_TOKEN, "").ok();
    // Live needs two-factor on: refused without it, whatever else is in order.
    p.json("mode Fx live").expect_error(3, "live_needs_twofa");
    // Two-factor on, verified at add: live is allowed with a code.
    let (mut phone, _, codes) = crate::phone::enable_2fa(&p, PW);
    assert_eq!(
        p.ok(&format!("mode Fx live --totp {}", codes[0]))["mode"],
        "live"
    );
    // New credentials saved without a check: the account is back in paper mode, and live
    // is refused until a check succeeds.
    let edited = p.ok(&format!(
        "account edit Fx --no-verify --api-key another-token-0123456789ab --totp {}",
        codes[3]
    ));
    assert_eq!(edited["mode"], "paper");
    // The switch runs the missing check itself: the broker refuses the new token, so it
    // stays on paper with the broker's refusal.
    p.json(&format!("mode Fx live --totp {}", codes[2]))
        .expect_error(5, "broker_auth");
    assert_eq!(p.ok("account show Fx")["mode"], "paper");
    let audit = p.ok("audit list --event mode_switched");
    assert!(
        audit
            .to_string()
            .contains("without a successful broker check"),
        "{audit}"
    );
    // The stored (wrong) token is refused by the broker at the next check.
    p.json("account verify Fx").expect_error(5, "broker_auth");
    // Back to the right token, checked: live again (new credentials need a code of their own).
    p.ok(&format!(
        "account edit Fx --api-key {} --totp {}",
        oanda::DEMO_TOKEN,
        phone.fresh()
    ));
    assert_eq!(
        p.ok(&format!("mode Fx live --totp {}", codes[1]))["mode"],
        "live"
    );
}

#[test]
fn stream_prints_json_lines_until_count_and_reports_bad_input() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    add(&p, &sim, "Fx", oanda::DEMO_TOKEN, "").ok();

    let r = p.run_with("--json stream Fx EUR_USD GBP_USD --count 6", Some(PW), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ticks = lines(&r.stdout);
    assert_eq!(ticks.len(), 6);
    ticks
        .iter()
        .for_each(|t| assert_tick(t, &["EUR_USD", "GBP_USD"]));
    // Prices are JSON numbers written with the wire's own digits: the simulator quotes both
    // pairs to 5 decimals ("1.08230"), and the line keeps all five, trailing zeros included
    // (a float would print 1.0823, or 1.0822999999999998).
    for line in r.stdout.lines() {
        for key in ["\"bid\":", "\"ask\":"] {
            let at = line
                .find(key)
                .unwrap_or_else(|| panic!("no {key} in {line}"))
                + key.len();
            let token: String = line[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let (int, frac) = token.split_once('.').unwrap_or((&token, ""));
            assert!(
                !int.is_empty() && frac.len() == 5,
                "{key} {token} in {line}"
            );
        }
    }

    // Without --json the lines are JSON too (the contract); --text gives aligned text.
    let started = Instant::now();
    let r = p.human("stream Fx EUR_USD --seconds 1");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    let plain = lines(&r.stdout);
    assert!(plain.len() >= 2, "{}", r.stdout);
    plain.iter().for_each(|t| assert_tick(t, &["EUR_USD"]));
    let r = p.human("stream Fx EUR_USD --count 2 --text");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("EUR_USD") && r.stdout.contains("bid "),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.trim_start().starts_with('{'));

    // One bad instrument among good ones: a notice on stderr, the rest stream.
    let r = p.run_with(
        "--json stream Fx EUR_USD NOPE_XXX --count 3",
        Some(PW),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("NOPE_XXX"), "{}", r.stderr);
    lines(&r.stdout)
        .iter()
        .for_each(|t| assert_tick(t, &["EUR_USD"]));

    // Only bad instruments: a clear error.
    p.json("stream Fx NOPE_XXX --seconds 10")
        .expect_error(3, "stream_unknown_instrument");

    // The paper broker streams its simulated market.
    p.ok("account add --name Paper --broker paper --env practice");
    let r = p.json("stream Paper EUR_USD --count 1");
    assert_eq!(r.code, 0, "{}", r.stderr);
    lines(&r.stdout)
        .iter()
        .for_each(|t| assert_tick(t, &["EUR_USD"]));
    assert_eq!(lines(&r.stdout).len(), 1);
    p.json("stream Fx").expect_error(2, "usage");
}

#[test]
fn stream_with_refused_credentials_stops_with_the_reason() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    add(&p, &sim, "Wrong", "wrong-token-0123456789", "--no-verify").ok();
    let r = p.json("stream Wrong EUR_USD --seconds 20");
    let e = r.expect_error(5, "broker_auth");
    assert!(e["message"].as_str().unwrap().contains("refused"));
    assert!(!r.stdout.contains("wrong-token") && !r.stderr.contains("wrong-token"));
}

#[test]
fn stream_reconnects_by_itself_after_a_cut() {
    let sim = Sim::start();
    let p = Profile::new();
    p.init();
    add(&p, &sim, "Fx", oanda::DEMO_TOKEN, "").ok();
    let mut child = p
        .command(
            &["--json", "stream", "Fx", "EUR_USD", "--count", "12"],
            Some(PW),
        )
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut got = Vec::new();
    let mut line = String::new();
    while got.len() < 3 {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "stream ended early"
        );
        got.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    sim.faults().cut_streams();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        got.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(got.len(), 12);
    got.iter().for_each(|t| assert_tick(t, &["EUR_USD"]));
    assert!(stderr.contains("reconnecting"), "{stderr}");
}
