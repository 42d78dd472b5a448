#!/usr/bin/env bash
# Sets up a fresh machine (system + npm packages), builds the UI and the app, and starts
# Brokerdesk. Extra arguments go to the app. Data lives in ~/.local/share/brokerdesk (or
# $BROKERDESK_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brokerdesk/target}"

bash src-tauri/scripts/setup.sh --app-only
(cd ui && npm run build --silent)
# custom-protocol embeds ui/dist into the binary (a plain build would wait for a dev server).
cargo build --release -p brokerdesk-app --features custom-protocol
cargo build --release -p brokerdesk-cli
echo "run: starting Brokerdesk (the CLI is at $CARGO_TARGET_DIR/release/brokerdesk)"
exec "$CARGO_TARGET_DIR/release/brokerdesk-app" "$@"
