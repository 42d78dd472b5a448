#!/usr/bin/env bash
# Smoke test of the real desktop app under Xvfb and a private D-Bus session, fresh data dir:
#  - the "Brokerdesk" window appears and the screenshot of it is not blank;
#  - the tray menu (read over D-Bus, as a desktop's tray host does) is Show / Lock /
#    Kill switch / Quit, with Lock disabled (no vault yet);
#  - closing the window hides it and the app keeps running; the tray's "Show Brokerdesk"
#    brings it back;
#  - SIGTERM: exit code 0 within 10 s and "shutdown complete" in the log;
#  - a second run: the tray's "Quit" exits 0 the same way.
#
# Builds nothing. Usage:
#   tests/app/smoke.sh [BINARY]
# BINARY defaults to $CARGO_TARGET_DIR/debug/brokerdesk-app (or target/debug/brokerdesk-app);
# build it as test.sh does, so it embeds ui/dist:
# `cargo build --workspace --features brokerdesk-app/custom-protocol --bins --tests`.
# Needs xvfb-run, dbus-run-session, busctl, xwininfo (x11-utils), ImageMagick and python3.
# Writes tests/app/out/smoke.png and smoke-app.log. Exit status 0 = all passed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
WINDOW_TIMEOUT="${SMOKE_WINDOW_TIMEOUT:-60}"
EXIT_TIMEOUT=10
MIN_COLOURS=64

# --- inside Xvfb + a private D-Bus session -------------------------------------------------
if [[ "${1:-}" == "--inner" ]]; then
    bin="$2" data="$3"
    log="$data/logs/brokerdesk.log"
    passed=0 failed=0
    ok() { echo "ok   $1"; passed=$((passed + 1)); }
    fail() { echo "FAIL $1"; failed=$((failed + 1)); }
    check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
    finish() {
        [[ -n "${pid:-}" ]] && kill -KILL "$pid" 2>/dev/null
        echo "$passed passed, $failed failed"
        [[ $failed -eq 0 ]]
        exit $?
    }
    now_ms() { echo $(($(date +%s%N) / 1000000)); }

    start_app() {
        t0=$(now_ms)
        BROKERDESK_DATA_DIR="$data" BROKERDESK_NO_KEYCHAIN=1 NO_AT_BRIDGE=1 \
            "$bin" >>"$OUT/smoke-app.log" 2>&1 &
        pid=$!
    }
    window_id() { xwininfo -root -tree 2>/dev/null | awk '/"Brokerdesk": \(/ {print $1; exit}'; }
    map_state() { xwininfo -id "$1" 2>/dev/null | awk '/Map State:/ {print $3}'; }
    wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds or the app dies
        local end=$(($(date +%s) + $1))
        shift
        while [[ $(date +%s) -lt $end ]]; do
            "$@" && return 0
            kill -0 "$pid" 2>/dev/null || return 1
            sleep 0.1
        done
        return 1
    }
    # The tray menu as a tray host sees it: libayatana-appindicator exports it over D-Bus
    # (com.canonical.dbusmenu) on the app's connection.
    tray_find() {
        local name
        for name in $(busctl --user list --no-legend 2>/dev/null | awk -v p="$pid" '$2 == p {print $1}'); do
            tray_path=$(busctl --user tree --list "$name" 2>/dev/null | grep '/Menu$') || continue
            tray_dest=$name
            return 0
        done
        return 1
    }
    tray_layout() {
        busctl --user --json=short call "$tray_dest" "$tray_path" com.canonical.dbusmenu \
            GetLayout iias -- 0 -1 0 | python3 -c '
import json, sys
for item in json.load(sys.stdin)["data"][1][2]:
    id_, props, _ = item["data"]
    label = props.get("label", {}).get("data") or props.get("type", {}).get("data")
    enabled = props.get("enabled", {}).get("data", True)
    print(id_, label, "on" if enabled else "off", sep="\t")'
    }
    tray_click() { # tray_click LABEL
        local id
        id=$(tray_layout | awk -F'\t' -v l="$1" '$2 == l {print $1}')
        [[ -n "$id" ]] && busctl --user call "$tray_dest" "$tray_path" com.canonical.dbusmenu \
            Event isvu "$id" clicked i 0 0
    }
    stop_within() { # stop_within WHAT: waits for the app to exit, checks code 0 and the log
        local t code ms
        t=$(now_ms)
        while kill -0 "$pid" 2>/dev/null && [[ $(($(now_ms) - t)) -lt $((EXIT_TIMEOUT * 1000)) ]]; do
            sleep 0.05
        done
        if kill -0 "$pid" 2>/dev/null; then
            fail "$1: still running ${EXIT_TIMEOUT} s later"
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        else
            wait "$pid"
            code=$?
            ms=$(($(now_ms) - t))
            check "$1: exit code $code (want 0), ${ms} ms" "[[ $code -eq 0 ]]"
        fi
        pid=""
        check "$1: \"shutdown complete\" in the log" \
            "[[ \$(grep -c 'shutdown complete' '$log' 2>/dev/null) -ge $2 ]]"
    }

    # Run 1: window, screenshot, tray, close-to-tray, SIGTERM.
    start_app
    if wait_for "$WINDOW_TIMEOUT" bash -c 'xwininfo -root -tree 2>/dev/null | grep -q "\"Brokerdesk\": ("'; then
        ok "window \"Brokerdesk\" appeared after $(($(now_ms) - t0)) ms"
    else
        fail "window \"Brokerdesk\" did not appear within ${WINDOW_TIMEOUT} s (see $OUT/smoke-app.log)"
        finish
    fi
    win=$(window_id)

    # The window maps before the page has painted: retry until the shot shows more than a
    # blank page.
    colours=0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        sleep 1
        import -window root "$OUT/smoke.png" 2>/dev/null || continue
        colours=$(identify -format '%k' "$OUT/smoke.png" 2>/dev/null || echo 0)
        [[ "$colours" -gt $MIN_COLOURS ]] && break
    done
    check "screenshot $OUT/smoke.png is not blank ($colours colours)" "[[ $colours -gt $MIN_COLOURS ]]"

    if wait_for 10 tray_find; then
        menu=$(tray_layout | cut -f2,3 | tr '\t\n' ' ;')
        check "tray menu is Show / Lock (disabled) / Kill switch / Quit: $menu" \
            "[[ '$menu' == 'Show Brokerdesk on;Lock off;separator on;Kill switch — stop all trading on;separator on;Quit on;' ]]"
    else
        fail "no tray menu on D-Bus"
    fi

    python3 "$HERE/wm_close.py" "$win"
    check "closing the window hides it" "wait_for 5 bash -c '[[ \$(xwininfo -id $win 2>/dev/null | grep -c IsUnMapped) -eq 1 ]]'"
    sleep 0.5
    check "the app keeps running with its window closed" "kill -0 $pid 2>/dev/null"
    if [[ -n "${tray_dest:-}" ]]; then
        tray_click "Show Brokerdesk" >/dev/null
        check "tray \"Show Brokerdesk\" shows it again" "wait_for 5 bash -c '[[ \$(xwininfo -id $win 2>/dev/null | grep -c IsViewable) -eq 1 ]]'"
    fi

    kill -TERM "$pid"
    stop_within "SIGTERM" 1

    # Run 2: the tray's Quit.
    start_app
    if wait_for "$WINDOW_TIMEOUT" tray_find; then
        tray_click "Quit" >/dev/null
        stop_within "tray Quit" 2
    else
        fail "run 2: no tray menu on D-Bus"
    fi
    finish
fi

# --- outside: check the tools, prepare, and re-run this script inside Xvfb ---------------------
bin="${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/brokerdesk-app}"
if [[ ! -x "$bin" ]]; then
    echo "no app binary at $bin; build it with: cargo build --workspace --features brokerdesk-app/custom-protocol --bins --tests" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in xvfb-run dbus-run-session busctl xwininfo import identify python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "missing tool: $tool (apt-get install xvfb dbus systemd x11-utils imagemagick python3)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

mkdir -p "$OUT"
rm -f "$OUT/smoke.png" "$OUT/smoke-app.log"
data="$(mktemp -d "${TMPDIR:-/tmp}/brokerdesk-smoke.XXXXXX")"
trap 'rm -rf "$data"' EXIT

echo "smoke: $bin"
# The filters drop the D-Bus daemon's and the accessibility registry's chatter.
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$HERE/smoke.sh" --inner "$bin" "$data" \
    2> >(grep -v -e 'Failed to set fd limit' -e 'Activating service' -e 'Successfully activated' >&2) \
    | grep --line-buffered -v 'SpiRegistry daemon'
status=${PIPESTATUS[0]}
if [[ $status -ne 0 && -f "$data/logs/brokerdesk.log" ]]; then
    echo "--- $data/logs/brokerdesk.log"
    tail -n 30 "$data/logs/brokerdesk.log"
fi
exit $status
