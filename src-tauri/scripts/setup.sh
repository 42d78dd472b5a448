#!/usr/bin/env bash
# Installs everything Brokerdesk needs to build, run and test on Debian/Ubuntu:
# system packages (WebKitGTK, tray, Xvfb, keyring, Chromium for browser tests, rpm and
# desktop-file-utils to check the packages), the Rust
# toolchain check, and the UI's npm packages. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APP_PKGS=(libwebkit2gtk-4.1-dev build-essential curl wget file libssl-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev pkg-config)
TEST_PKGS=(xvfb xauth dbus-x11 dbus dbus-user-session gnome-keyring libsecret-tools dunst libnotify-bin
  chromium chromium-driver webkit2gtk-driver imagemagick x11-utils at-spi2-core sqlite3 systemd python3
  rpm desktop-file-utils)

want=("${APP_PKGS[@]}")
if [ "${1:-}" != "--app-only" ]; then want+=("${TEST_PKGS[@]}"); fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing system packages (${missing[*]}) and no apt-get here; install them with your package manager" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "setup: '$tool' is required (Rust via rustup, Node.js 20+ with npm)" >&2; exit 1; }
done

npm_install() {  # $1: a folder with package-lock.json
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    echo "setup: installing npm packages in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install ui
if [ "${1:-}" != "--app-only" ]; then
  npm_install tests/app
  # WebDriver bridge for the real-app tests (tauri-driver -> WebKitWebDriver).
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    echo "setup: installing tauri-driver"
    cargo install tauri-driver --locked --quiet
  fi
fi
echo "setup: ok"
