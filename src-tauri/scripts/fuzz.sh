#!/usr/bin/env bash
# Runs every cargo-fuzz target (every stream parser) for a while each: the coverage-guided
# search, for longer runs by hand. (The test command does not fuzz; it replays every seed
# in src-tauri/fuzz/seeds/ through the same entry points, see core/tests/it/fuzz_seeds.rs.)
#   src-tauri/scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20)
# Installs cargo-fuzz when it is missing. The machine has one stable toolchain; cargo fuzz
# needs nightly flags, which RUSTC_BOOTSTRAP=1 allows.
# Findings land in src-tauri/fuzz/artifacts/<target>/ and fail the run; add a finding to
# seeds/<target>/ once fixed, so the test command replays it from then on.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECS="${1:-20}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/brokerdesk/target}-fuzz}"
cd "$ROOT"
if ! command -v cargo-fuzz >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
FUZZ_DIR=src-tauri/fuzz
targets=$(cargo fuzz list --fuzz-dir "$FUZZ_DIR")
for t in $targets; do
    corpus="$(mktemp -d)"
    seeds="$FUZZ_DIR/seeds/$t"
    [[ -d "$seeds" ]] || seeds=""
    echo "== fuzz $t for ${SECS}s"
    cargo fuzz run --fuzz-dir "$FUZZ_DIR" --sanitizer none "$t" "$corpus" $seeds -- \
        -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
        | grep -E '^(==|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE|.*(panicked|ERROR|crash|deadly))' || true
    rm -rf "$corpus"
    if compgen -G "$FUZZ_DIR/artifacts/$t/*" >/dev/null; then
        echo "fuzz target $t found a crash: see src-tauri/fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
echo "fuzz: all targets ran ${SECS}s without a crash"
