//! The fuzzing that runs with every test: each seed of `src-tauri/fuzz/seeds/<target>/`
//! (committed), and each file of `src-tauri/fuzz/corpus/<target>/` when there is one (the
//! default corpus of a plain `cargo fuzz run <target>`; not committed), goes through the
//! same entry point its cargo-fuzz target calls (`brokerdesk_core::fuzz`), and none may
//! panic. The coverage-guided search itself is `bash src-tauri/scripts/fuzz.sh [SECONDS]`.

use std::path::{Path, PathBuf};

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
