#!/usr/bin/env bash
# WebDriver test of the real app (tests/app/e2e.test.mjs) under Xvfb and a private D-Bus session.
#
# Builds nothing. Usage:
#   tests/app/e2e.sh [BINARY]
# BINARY defaults to $CARGO_TARGET_DIR/debug/brokerdesk-app (or target/debug/brokerdesk-app),
# built as test.sh builds it, next to the CLI and the broker simulator that the tray test also
# needs: `cargo build --workspace --features brokerdesk-app/custom-protocol --bins --tests`
# (or set BROKERDESK_CLI_BIN / BROKERDESK_SIM_BIN); its simulator listens on 127.0.0.1:18100-18199.
# Needs: tauri-driver (`cargo install tauri-driver --locked`), /usr/bin/WebKitWebDriver
# (webkit2gtk-driver), xvfb-run, dbus-run-session, dbus-monitor, busctl, sqlite3, python3
# (x_clipboard.py reads the X clipboard), ImageMagick, and `npm ci` in tests/app.
# Screenshots land in tests/app/out/e2e-*.png (the tray test's: e2e-tray-*.png).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/brokerdesk-app}"
bin="$(realpath "$bin" 2>/dev/null || echo "$bin")"

fail() {
    echo "$1" >&2
    echo "0 passed, 1 failed"
    exit 1
}
[[ -x "$bin" ]] || fail "no app binary at $bin; build it with: cargo build --workspace --features brokerdesk-app/custom-protocol --bins --tests"
driver="${TAURI_DRIVER:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}"
[[ -x "$driver" ]] || fail "no tauri-driver; install it with: cargo install tauri-driver --locked"
[[ -x "${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}" ]] || fail "no WebKitWebDriver (apt-get install webkit2gtk-driver)"
[[ -d "$HERE/node_modules/webdriverio" ]] || fail "run npm ci in $HERE first"

mkdir -p "$HERE/out"
cd "$HERE" || exit 1
# NO_AT_BRIDGE: no accessibility bridge in the app (only noise here). The filters drop the D-Bus
# daemon's, the accessibility registry's and dunst's chatter at session end.
BROKERDESK_APP_BIN="$bin" TAURI_DRIVER="$driver" NO_AT_BRIDGE=1 \
    xvfb-run -a -s "-screen 0 1280x800x24" \
    dbus-run-session -- node --test --test-reporter=spec e2e.test.mjs \
    2> >(grep -v -e 'Failed to set fd limit' -e 'Activating service' -e 'Successfully activated' \
        -e 'Cannot connect to DBus' -e 'stale element' -e 'became a monitor' -e 'Monitoring connection' >&2) \
    | grep --line-buffered -v -e 'SpiRegistry daemon' -e 'stale element'
exit "${PIPESTATUS[0]}"
