#!/usr/bin/env bash
# Regenerates the README's screenshots from the REAL app (not the mocked UI): a keychain
# vault (gnome-keyring in a private D-Bus session) filled through the CLI, the app under
# Xvfb, navigation by mouse clicks (xdotool). Writes ui/docs/screenshots/app-*.png.
# Usage: tests/app/screenshots.sh [APP_BINARY] [CLI_BINARY]   (debug builds by default)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
T="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
APP="$(realpath "${1:-$T/brokerdesk-app}")"
CLI="$(realpath "${2:-$T/brokerdesk}")"
OUT="$ROOT/ui/docs/screenshots"
command -v xdotool >/dev/null || { echo "needs xdotool (apt-get install xdotool)" >&2; exit 1; }
mkdir -p "$OUT"

if [[ "${INNER:-}" != 1 ]]; then
    INNER=1 exec xvfb-run -a -s "-screen 0 1280x860x24" dbus-run-session -- "$0" "$APP" "$CLI"
fi

DATA="$(mktemp -d)"
pid=""
trap 'kill $pid 2>/dev/null; rm -rf "$DATA"' EXIT
# A throwaway keyring (never the user's own login keyring).
export XDG_DATA_HOME="$DATA/xdg"
echo -n demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export BROKERDESK_NO_KEYCHAIN="" 
export BROKERDESK_DATA_DIR="$DATA/profile"
"$CLI" init >/dev/null
# Every broker account points at a local simulator: nothing here leaves 127.0.0.1.
SIM="$(dirname "$CLI")/brokerdesk-sim"
"$SIM" oanda --port 18081 >/dev/null 2>&1 & sims="$!"
"$SIM" alpaca --port 18082 >/dev/null 2>&1 & sims="$sims $!"
"$SIM" tradier --port 18083 >/dev/null 2>&1 & sims="$sims $!"
"$SIM" tastytrade --port 18084 >/dev/null 2>&1 & sims="$sims $!"
trap 'kill $pid $sims 2>/dev/null; rm -rf "$DATA"' EXIT
sleep 1
"$CLI" account add --name "FTMO challenge" --broker oanda --env practice \
    --api-key sim-oanda-token-0123456789abcdef --account-id 101-004-1234567-001 \
    --rest-url http://127.0.0.1:18081 --stream-url http://127.0.0.1:18081 \
    --prop-firm ftmo --pairs EUR_USD,GBP_USD,USD_JPY --timeframes M15,H1 --max-leverage 30 --require-stop-loss >/dev/null
"$CLI" account add --name "Alpaca swing" --broker alpaca --env paper --api-key PKSIMKEY0123456789AB \
    --api-secret sim-alpaca-secret-0123456789abcdefghijkl --rest-url http://127.0.0.1:18082 \
    --stream-url ws://127.0.0.1:18082/v2/iex --pairs AAPL,MSFT,SPY >/dev/null
"$CLI" account add --name "Tasty options" --broker tastytrade --env practice \
    --api-key sim-tt-refresh-0123456789abcdef --api-secret sim-tt-client-secret-abcdef0123456789 \
    --rest-url http://127.0.0.1:18084 --pairs SPY,AAPL >/dev/null
# Refused by the broker: saved without the check, so the Dashboard shows the refusal.
"$CLI" account add --no-verify --name "Options income" --broker tradier --env live --api-key not-the-right-token-0000 \
    --account-id VA00000042 --rest-url http://127.0.0.1:18083/v1 --status suspended \
    --status-reason "paused for earnings" >/dev/null
"$CLI" account add --name "Strategy sandbox" --broker paper --env practice >/dev/null

NO_AT_BRIDGE=1 "$APP" >"$DATA/app.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    win=$(xdotool search --name '^Brokerdesk$' 2>/dev/null | head -1) && [[ -n "$win" ]] && break
    sleep 0.1
done
[[ -n "${win:-}" ]] || { echo "no window" >&2; cat "$DATA/app.out" >&2; exit 1; }
xdotool windowmove "$win" 0 0
sleep 2
shot() { import -window "$win" "$OUT/$1"; echo "wrote $OUT/$1"; }
click() { xdotool mousemove --window "$win" "$1" "$2" click 1; sleep 1; }
sleep 12   # let the "credentials refused" notification for the Tradier account pass
shot app-dashboard.png
click 80 129   # Accounts
shot app-accounts.png
click 1090 70  # Add account
shot app-add-account.png
click 80 207   # Activity
sleep 1
shot app-activity.png
click 80 168   # Security
shot app-security.png
