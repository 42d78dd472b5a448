#!/usr/bin/env bash
# The stream benchmarks with their peers: builds the release CLI, makes a Python venv with
# Alpaca's official SDK (alpaca-py), then runs `cargo bench --bench stream`, which prints
# every figure and ratio (see src-tauri/core/benches/stream.rs).
#   bash src-tauri/scripts/bench-stream.sh              # everything (~15 min with memory)
#   BENCH_MEMORY_MINUTES=0 bash src-tauri/scripts/bench-stream.sh   # skip the 10-minute run
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brokerdesk/target}"
VENV="${BENCH_VENV:-$HOME/.cache/brokerdesk/bench-venv}"
ALPACA_PY_VERSION="${ALPACA_PY_VERSION:-0.44.0}"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import alpaca" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "alpaca-py==$ALPACA_PY_VERSION"
fi
echo "peer: alpaca-py $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("alpaca-py"))')"
cargo build --release --locked -p brokerdesk-cli
export BENCH_PYTHON="$VENV/bin/python"
export BROKERDESK_CLI="$CARGO_TARGET_DIR/release/brokerdesk"
exec cargo bench --locked -p brokerdesk-core --bench stream
