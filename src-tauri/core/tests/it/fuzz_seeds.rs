//! The fuzzing that runs with every test: each seed of `src-tauri/fuzz/seeds/<target>/`
//! (committed), and each file of `src-tauri/fuzz/corpus/<target>/` when there is one (the
//! default corpus of a plain `cargo fuzz run <target>`; not committed), goes through the
//! same entry point its cargo-fuzz target calls (`brokerdesk_core::fuzz`), and none may
//! panic. The coverage-guided search itself is `bash src-tauri/scripts/fuzz.sh [SECONDS]`.

use std::path::{Path, PathBuf};

use brokerdesk_core::brokers::alpaca::{parse_trade_message, TradeMessage};
use brokerdesk_core::brokers::ibkr::events::sor_updates;
use brokerdesk_core::brokers::oanda::{parse_transaction, TransactionLine};
use brokerdesk_core::brokers::tastytrade::events::Message as AccountMessage;
use brokerdesk_core::brokers::tradier::parse_account_frame;
use brokerdesk_core::brokers::OrderUpdate;
use brokerdesk_core::fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Sorted names of the entries of `dir` (empty when it does not exist).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut all: Vec<PathBuf> = read.map(|e| e.unwrap().path()).collect();
    all.sort();
    all
}

fn stems(paths: &[PathBuf], ext: &str) -> Vec<String> {
    let mut names: Vec<String> = paths
        .iter()
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_fuzz_target_has_an_entry_point_and_seeds() {
    let targets = stems(&entries(&fuzz_dir().join("fuzz_targets")), "rs");
    let mut known: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    known.sort();
    assert_eq!(
        targets, known,
        "every fuzz target calls brokerdesk_core::fuzz and is listed in fuzz::TARGETS"
    );
    for (name, _) in TARGETS {
        let seeds = entries(&fuzz_dir().join("seeds").join(name));
        assert!(!seeds.is_empty(), "no seeds for fuzz target {name}");
    }
}

#[test]
fn every_seed_and_corpus_file_parses_without_a_panic() {
    let mut replayed = 0;
    let mut panics = Vec::new();
    for (name, entry) in TARGETS {
        for kind in ["seeds", "corpus"] {
            for file in entries(&fuzz_dir().join(kind).join(name)) {
                if !file.is_file() {
                    continue;
                }
                let data = std::fs::read(&file).unwrap();
                if std::panic::catch_unwind(|| entry(&data)).is_err() {
                    panics.push(file.display().to_string());
                }
                replayed += 1;
            }
        }
    }
    assert!(panics.is_empty(), "parser panics on: {panics:#?}");
    assert!(replayed >= TARGETS.len(), "replayed {replayed} files");
}

/// The updates the first seed of an order-event target yields, through the parser the target
/// fuzzes.
fn event_seed_updates(target: &str) -> Vec<OrderUpdate> {
    let data = std::fs::read(fuzz_dir().join("seeds").join(target).join("seed1")).unwrap();
    let text = String::from_utf8(data.clone()).unwrap();
    let mut out = Vec::new();
    match target {
        "alpaca_trade_updates" => match parse_trade_message(&data) {
            Some(TradeMessage::Update { update, .. }) => out.push(*update),
            other => panic!("{other:?}"),
        },
        "ibkr_sor" => sor_updates(&data, &mut out),
        "oanda_transactions" => {
            for line in text.lines() {
                if let Some(TransactionLine::Transaction { updates, .. }) = parse_transaction(line)
                {
                    out.extend(updates);
                }
            }
        }
        "tastytrade_account" => {
            let m = AccountMessage::parse(&data).unwrap();
            out.push(m.order_update().unwrap().unwrap());
        }
        "tradier_account_events" => parse_account_frame(&text, "VA11112222", &mut out).unwrap(),
        other => panic!("{other}"),
    }
    out
}

#[test]
fn the_order_event_seeds_are_frames_that_name_an_order() {
    for (target, whole) in [
        ("alpaca_trade_updates", true),
        ("ibkr_sor", true),
        ("oanda_transactions", false),
        ("tastytrade_account", true),
        ("tradier_account_events", false),
    ] {
        let updates = event_seed_updates(target);
        assert!(!updates.is_empty(), "{target}: no update");
        for u in &updates {
            assert!(!u.broker_order_id.is_empty(), "{target}: {u:?}");
            assert!(u.client_order_id.is_some(), "{target}: {u:?}");
            assert_eq!(u.state.is_some(), whole, "{target}: {u:?}");
        }
    }
}
