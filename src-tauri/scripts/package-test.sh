#!/usr/bin/env bash
# The installable packages, end to end, as a user gets them:
#  1. builds the release bundles, .deb and .rpm (`tauri build --bundles deb,rpm`: the UI, a
#     release build of the app with the UI embedded, then the packages);
#  2. checks the .deb's files (binary, .desktop entry, icons) and the .rpm's (`rpm -qpl`);
#  3. installs the .deb with dpkg (sudo when not root), checks the installed .desktop entry
#     (desktop-file-validate) and icons;
#  4. starts the installed /usr/bin/brokerdesk-app under Xvfb and a private D-Bus session, on
#     a throwaway data dir and HOME, without the keychain: its window appears and is not blank,
#     SIGTERM exits 0; started with --hidden (what the start-at-login entry passes) no window
#     shows, the tray is there, and the tray's "Show Brokerdesk" shows the window;
#  5. removes the package with dpkg -r and checks every file it installed is gone.
# Exits non-zero, saying which step, on the first failure; the package is removed on the way
# out whatever happened. A Brokerdesk package installed before the test is replaced and
# removed. Writes tests/app/out/package*.png and package-app.log.
#
# Usage: src-tauri/scripts/package-test.sh [--no-build]
#   --no-build: test the bundles already in $CARGO_TARGET_DIR/release/bundle.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brokerdesk/target}"
OUT="$ROOT/tests/app/out"
BIN=/usr/bin/brokerdesk-app
PKG=brokerdesk
DESKTOP=/usr/share/applications/Brokerdesk.desktop
ICONS=(
  /usr/share/icons/hicolor/32x32/apps/brokerdesk-app.png
  /usr/share/icons/hicolor/128x128/apps/brokerdesk-app.png
  /usr/share/icons/hicolor/256x256@2/apps/brokerdesk-app.png
  /usr/share/icons/hicolor/512x512/apps/brokerdesk-app.png
  /usr/share/icons/hicolor/scalable/apps/brokerdesk-app.svg
)
WINDOW_TIMEOUT="${PACKAGE_WINDOW_TIMEOUT:-60}"
MIN_COLOURS=64

# --- inside Xvfb + a private D-Bus session: the installed app ------------------------------
if [[ "${1:-}" == "--inner" ]]; then
    set +e # every check is counted; the summary decides
    data="$2"
    home="$3"
    passed=0 failed=0 pid=""
    ok() { echo "ok   $1"; passed=$((passed + 1)); }
    fail() { echo "FAIL $1"; failed=$((failed + 1)); }
    check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
    now_ms() { echo $(($(date +%s%N) / 1000000)); }
    start_app() {
        t0=$(now_ms)
        HOME="$home" BROKERDESK_DATA_DIR="$data" BROKERDESK_NO_KEYCHAIN=1 NO_AT_BRIDGE=1 \
            "$BIN" "$@" >>"$OUT/package-app.log" 2>&1 &
        pid=$!
    }
    viewable() { # whether a window named "Brokerdesk" is mapped and viewable
        local id
        for id in $(xwininfo -root -tree 2>/dev/null | awk '/"Brokerdesk": \(/ {print $1}'); do
            [[ $(xwininfo -id "$id" 2>/dev/null | awk '/Map State:/ {print $3}') == IsViewable ]] && return 0
        done
        return 1
    }
    wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds or the app dies
        local end=$(($(date +%s) + $1))
        shift
        while [[ $(date +%s) -lt $end ]]; do
            "$@" && return 0
            kill -0 "$pid" 2>/dev/null || return 1
            sleep 0.2
        done
        return 1
    }
    tray_find() {
        local name
        for name in $(busctl --user list --no-legend 2>/dev/null | awk -v p="$pid" '$2 == p {print $1}'); do
            tray_path=$(busctl --user tree --list "$name" 2>/dev/null | grep '/Menu$') || continue
            tray_dest=$name
            return 0
        done
        return 1
    }
    tray_click() { # tray_click LABEL
        local id
        id=$(busctl --user --json=short call "$tray_dest" "$tray_path" com.canonical.dbusmenu \
            GetLayout iias -- 0 -1 0 | python3 -c '
import json, sys
for item in json.load(sys.stdin)["data"][1][2]:
    id_, props, _ = item["data"]
    if props.get("label", {}).get("data") == sys.argv[1]:
        print(id_)' "$1")
        [[ -n "$id" ]] && busctl --user call "$tray_dest" "$tray_path" com.canonical.dbusmenu \
            Event isvu "$id" clicked i 0 0 >/dev/null
    }
    screenshot() { # screenshot NAME: retries until the shot shows more than a blank page
        local colours=0
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            sleep 1
            import -window root "$OUT/$1.png" 2>/dev/null || continue
            colours=$(identify -format '%k' "$OUT/$1.png" 2>/dev/null || echo 0)
            [[ "$colours" -gt $MIN_COLOURS ]] && break
        done
        check "screenshot $OUT/$1.png is not blank ($colours colours)" "[[ $colours -gt $MIN_COLOURS ]]"
    }
    stop_app() { # stop_app WHAT: SIGTERM, exit code 0 within 10 s
        local code
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            fail "$1: still running 10 s after SIGTERM"
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        else
            wait "$pid"
            code=$?
            check "$1: SIGTERM exits with code $code (want 0)" "[[ $code -eq 0 ]]"
        fi
        pid=""
    }

    # Run 1: as from the desktop menu.
    start_app
    if wait_for "$WINDOW_TIMEOUT" viewable; then
        ok "the installed app's window \"Brokerdesk\" appeared after $(($(now_ms) - t0)) ms"
        screenshot package
    else
        fail "the installed app's window \"Brokerdesk\" did not appear within ${WINDOW_TIMEOUT} s (see $OUT/package-app.log)"
    fi
    stop_app "run 1"

    # Run 2: as the start-at-login entry starts it.
    start_app --hidden
    if wait_for "$WINDOW_TIMEOUT" tray_find; then
        ok "started with --hidden: the tray menu is on D-Bus after $(($(now_ms) - t0)) ms"
        sleep 3 # run 1's window was shown well within this
        check "started with --hidden: no window is shown" "! viewable"
        import -window root "$OUT/package-hidden.png" 2>/dev/null
        colours=$(identify -format '%k' "$OUT/package-hidden.png" 2>/dev/null || echo 0)
        check "started with --hidden: the screen is empty ($OUT/package-hidden.png: $colours colour(s))" "[[ $colours -le 2 ]]"
        tray_click "Show Brokerdesk"
        check "the tray's \"Show Brokerdesk\" shows the window" "wait_for 10 viewable"
        screenshot package-shown-from-tray
    else
        fail "started with --hidden: no tray menu on D-Bus within ${WINDOW_TIMEOUT} s"
    fi
    stop_app "run 2 (--hidden)"
    check "the app wrote nothing into HOME's autostart folder by itself" "[[ ! -e '$home/.config/autostart' ]]"
    echo "installed app: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit $?
fi

# --- outside ---------------------------------------------------------------------------------
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
step() { printf -- '--- %s\n' "$1"; }
die() {
    echo "package test FAILED: $1" >&2
    exit 1
}
installed() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "install ok installed"; }

for tool in dpkg dpkg-deb xvfb-run dbus-run-session busctl xwininfo import identify python3 desktop-file-validate; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (bash src-tauri/scripts/setup.sh installs it)"
done

if [[ "${1:-}" != "--no-build" ]]; then
    step "build the release bundles (.deb, .rpm)"
    started=$(date +%s)
    # The UI as test.sh builds it: ui/dist is replaced only when its content changed, so the
    # debug build that embeds it is not redone for fresh timestamps alone; hence no
    # beforeBuildCommand (it would rebuild ui/dist, type check included, every time).
    dist_new="$(mktemp -d)"
    chmod 755 "$dist_new"
    (cd ui && npx --no-install vite build --logLevel error --outDir "$dist_new" --emptyOutDir) || die "the UI build"
    if diff -r -q "$dist_new" ui/dist >/dev/null 2>&1; then
        rm -rf "$dist_new"
    else
        rm -rf ui/dist && mv "$dist_new" ui/dist
    fi
    (cd ui && npm run --silent tauri -- build --ci --bundles deb,rpm \
        --config '{"build": {"beforeBuildCommand": null}}') || die "tauri build"
    echo "built in $(($(date +%s) - started)) s"
fi
bundle="$CARGO_TARGET_DIR/release/bundle"
version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
deb="$bundle/deb/Brokerdesk_${version}_amd64.deb"
rpm_file="$bundle/rpm/Brokerdesk-${version}-1.x86_64.rpm"
[[ -f "$deb" ]] || die "no .deb at $deb"
[[ -f "$rpm_file" ]] || die "no .rpm at $rpm_file"
ls -l "$deb" "$rpm_file"

step "the .deb's files"
deb_files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed -E 's|^(\./)?|/|')
for f in "$BIN" "$DESKTOP" "${ICONS[@]}"; do
    grep -qx "$f" <<<"$deb_files" || die "the .deb does not contain $f"
done
echo "ok: $BIN, $DESKTOP and ${#ICONS[@]} icons"
dpkg-deb -f "$deb" Package Version Depends

step "the .rpm's files"
if command -v rpm >/dev/null; then
    rpm_files=$(rpm -qpl "$rpm_file" 2>/dev/null) || die "rpm -qpl $rpm_file"
    for f in "$BIN" "$DESKTOP" "${ICONS[@]}"; do
        grep -qx "$f" <<<"$rpm_files" || die "the .rpm does not list $f"
    done
    echo "ok: $BIN, $DESKTOP and ${#ICONS[@]} icons"
    rpm -qp --queryformat 'Name: %{NAME}\nVersion: %{VERSION}-%{RELEASE}\n' "$rpm_file" 2>/dev/null
    echo "Requires: $(rpm -qp --requires "$rpm_file" 2>/dev/null | grep -v '^rpmlib(' | paste -sd, -)"
else
    echo "skipped: rpm is not installed here (apt-get install rpm), so the .rpm's file list cannot be read"
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/brokerdesk-package.XXXXXX")"
cleanup() {
    local status=$?
    if installed; then
        echo "--- removing the package on the way out"
        $SUDO dpkg -r "$PKG" >/dev/null || echo "could not remove $PKG: remove it with 'dpkg -r $PKG'" >&2
    fi
    rm -rf "$data"
    exit $status
}
trap cleanup EXIT

if installed; then
    echo "note: a $PKG package is installed already; it is replaced and removed by this test"
fi
step "dpkg -i"
$SUDO dpkg -i "$deb" || die "dpkg -i $deb"
installed || die "dpkg says $PKG is not installed after dpkg -i"
pkg_files=$(dpkg -L "$PKG")
for f in "$BIN" "$DESKTOP" "${ICONS[@]}"; do
    [[ -f "$f" ]] || die "$f is not installed"
done
[[ -x "$BIN" ]] || die "$BIN is not executable"
echo "ok: $BIN, $DESKTOP and ${#ICONS[@]} icons are installed"
desktop-file-validate "$DESKTOP" || die "$DESKTOP does not validate"
grep -qx "Exec=brokerdesk-app" "$DESKTOP" || die "$DESKTOP does not start brokerdesk-app: $(grep '^Exec=' "$DESKTOP")"
grep -qx "Icon=brokerdesk-app" "$DESKTOP" || die "$DESKTOP does not name the installed icon: $(grep '^Icon=' "$DESKTOP")"
echo "ok: $DESKTOP validates, starts brokerdesk-app, names its icon"
cat "$DESKTOP"

step "start the installed app under Xvfb"
mkdir -p "$OUT" "$data/data" "$data/home"
rm -f "$OUT"/package*.png "$OUT/package-app.log"
set +e
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
    bash "$ROOT/src-tauri/scripts/package-test.sh" --inner "$data/data" "$data/home" \
    2> >(grep -v -e 'Failed to set fd limit' -e 'Activating service' -e 'Successfully activated' >&2) \
    | grep --line-buffered -v 'SpiRegistry daemon'
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
    [[ -f "$data/data/logs/brokerdesk.log" ]] && tail -n 30 "$data/data/logs/brokerdesk.log"
    die "the installed app (see $OUT/package-app.log)"
fi

step "dpkg -r"
$SUDO dpkg -r "$PKG" || die "dpkg -r $PKG"
! installed || die "$PKG is still installed after dpkg -r"
left=()
while read -r f; do
    [[ -n "$f" && ! -d "$f" && -e "$f" ]] && left+=("$f")
done <<<"$pkg_files"
[[ ${#left[@]} -eq 0 ]] || die "dpkg -r left files behind: ${left[*]}"
echo "ok: removed; none of its $(wc -l <<<"$pkg_files") paths is left (folders shared with other packages stay)"
echo "package test: ok"
