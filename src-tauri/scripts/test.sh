#!/usr/bin/env bash
# Runs every check and test Brokerdesk has, from a clean clone on a fresh machine:
# formatting, lints, type checks, Rust unit + integration tests (vault, store, accounts,
# CLI black-box; one integration-test binary per crate), a replay of every fuzz seed through
# the stream parsers, the real OS keychain under a private D-Bus session, TypeScript binding
# drift, UI unit tests (Vitest), UI browser tests (Chromium against
# the real core through brokerdesk-devserver), the real app under Xvfb
# (smoke run, WebDriver), and the installable packages (.deb installed and started, .rpm
# listed). Exits non-zero on the first failure. Longer, coverage-guided
# fuzzing is src-tauri/scripts/fuzz.sh; measurements are `cargo bench` (README).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brokerdesk/target}"
export CARGO_TERM_COLOR=never
export BROKERDESK_NO_KEYCHAIN=1   # tests never touch the user's keychain unless they say so

stages=0
stage() {
  stages=$((stages + 1))
  printf '\n=== [%d] %s (%s)\n' "$stages" "$1" "$(date +%T)"
}

stage "setup: system packages, npm packages"
bash src-tauri/scripts/setup.sh

# One package selection and one feature set for every cargo call below (clippy, build,
# test), so each crate compiles once per profile: features are unified over the selected
# packages, so `-p` or a different `--features` would build a second variant of tokio,
# tauri and everything above them. Each call includes test targets, so dev-dependency
# features (tokio's test-util) are the same in all of them too. The app embeds the UI
# (custom-protocol): the binary the app tests run is the one built here.
CARGO_ARGS=(--workspace --locked --features brokerdesk-app/custom-protocol)

stage "UI: lint, type check, unit tests (Vitest), production build"
# First: the app crate embeds ui/dist at compile time, so even clippy needs it. `vite build`,
# not `npm run build`, which would run the type check a second time; into a scratch
# directory, and ui/dist is replaced only when the output differs: fresh timestamps alone
# would make cargo re-check, rebuild and relink the app (three times: lib, binary, tests).
(cd ui && npm run --silent lint && npm run --silent typecheck && npm test --silent)
dist_new="$(mktemp -d)"
chmod 755 "$dist_new"
(cd ui && npx --no-install vite build --outDir "$dist_new" --emptyOutDir)
if diff -r -q "$dist_new" ui/dist >/dev/null 2>&1; then
  rm -rf "$dist_new"
else
  rm -rf ui/dist && mv "$dist_new" ui/dist
fi

stage "Rust: format and lints"
cargo fmt --all -- --check
cargo clippy "${CARGO_ARGS[@]}" --all-targets -- -D warnings

stage "build the app (UI embedded), the CLI, the simulators, the development server and the test binaries"
# The app tests drive the CLI and the simulators, the browser tests brokerdesk-devserver;
# building the tests in the same call keeps one feature set (see CARGO_ARGS).
cargo build "${CARGO_ARGS[@]}" --bins --tests

stage "Rust tests: core (one binary, plus the log capture), CLI black-box, app; fuzz seed replay"
cargo test "${CARGO_ARGS[@]}"

stage "TypeScript bindings match the Rust types"
if ! git diff --exit-code --stat -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
  echo "ui/src/bindings differ from the Rust types: run 'cargo test -p brokerdesk-core export_bindings' and commit" >&2
  exit 1
fi

stage "real OS keychain (Secret Service in a private D-Bus session)"
# The keychain test is #[ignore]d in the ordinary run (it fails without a Secret Service);
# here it runs explicitly, against a throwaway keyring (never the user's login keyring),
# and the stage fails unless it ran and passed. Every test binary starts and only this test
# matches: selecting fewer (`-p brokerdesk-core`, or `--test it`, which leaves out the
# packages without such a target) would resolve features over fewer packages and compile
# a second variant of the core and its dependencies.
keyring_home="$(mktemp -d)"
keychain_test=os_keychain::keychain_protected_vault_survives_a_restart
XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash -c '
  echo -n ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  BROKERDESK_NO_KEYCHAIN= cargo test "$@"
' bash "${CARGO_ARGS[@]}" --tests -- --ignored --exact "$keychain_test" 2>&1 \
  | grep -v "Failed to set fd limit" | tee "$keyring_home/test.log"
if ! grep -q "^test $keychain_test ... ok$" "$keyring_home/test.log"; then
  echo "the OS keychain test did not run and pass" >&2
  exit 1
fi
rm -rf "$keyring_home"

stage "UI browser tests (Chromium; the real core through brokerdesk-devserver, brokers simulated)"
# Each test starts brokerdesk-devserver on a fresh profile ($CARGO_TARGET_DIR/debug, built
# above) serving ui/dist, and sets its scenario up through the same API the window uses.
(cd ui && npm run --silent test:e2e)

stage "the real app under Xvfb: smoke run (window, tray menu, hide to tray, clean exit)"
bash tests/app/smoke.sh "$CARGO_TARGET_DIR/debug/brokerdesk-app"

stage "the real app through WebDriver (tauri-driver + WebKitWebDriver)"
bash tests/app/e2e.sh "$CARGO_TARGET_DIR/debug/brokerdesk-app"

stage "installable packages: release .deb and .rpm; the .deb installed, started under Xvfb, removed"
# A release build of the app (its own profile: nothing above is reused but the UI), the
# bundles, then dpkg -i, the installed binary's window and tray, dpkg -r (README → Installing).
bash src-tauri/scripts/package-test.sh

printf '\nstages: %d passed, 0 failed\n' "$stages"
