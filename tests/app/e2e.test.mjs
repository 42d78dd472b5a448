// End-to-end test of the real app through WebDriver (tauri-driver + WebKitWebDriver).
// Run it with tests/app/e2e.sh, which provides Xvfb, a D-Bus session and the binary path.
//
// One session walks the first-run path a user takes: the welcome screen, a vault with a master
// password, a paper account added through the form; then the tray's Lock (clicked over D-Bus,
// as a tray host does) locks the vault and the UI must follow the `vault-status` event to its
// unlock screen; unlocking shows the account again; Settings sends a test notification (the
// D-Bus-activated dunst draws it: see out/e2e-5-notification.png); the tray's Quit exits.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "out");
const bin = process.env.BROKERDESK_APP_BIN;
const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";
const nativeDriver = process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver";
const port = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const PASSWORD = "correct horse battery staple";
const WAIT = { timeout: 20_000 };

let driver;
let browser;
let dataDir;

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
    return { items, click, enabled: (label) => items().find((i) => i.label === label)?.enabled };
  }
  throw new Error("no tray menu on the session bus");
}

async function until(what, fn, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
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
  // The app inherits this environment through tauri-driver and WebKitWebDriver.
  driver = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1), "--native-driver", nativeDriver], {
    env: { ...process.env, BROKERDESK_DATA_DIR: dataDir, BROKERDESK_NO_KEYCHAIN: "1" },
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
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
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
  await browser.$('form.account-form button[type="submit"]').click();

  const table = browser.$('table[aria-label="Accounts"]');
  await table.waitForDisplayed(WAIT);
  const row = table.$("tr*=Paper practice");
  await row.waitForDisplayed(WAIT);
  assert.equal(await table.$$("tbody tr").length, 1);
  await shot("e2e-3-accounts");

  // The tray's "Lock" (enabled now: unlocked, password-protected) locks the vault behind the
  // UI's back; only the `vault-status` event can tell the UI, which must show its unlock screen.
  const tray = trayMenu();
  assert.deepEqual(
    tray.items().map((i) => `${i.label}:${i.enabled}`),
    ["Show Brokerdesk:true", "Lock:true", "separator:true", "Quit:true"],
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
  assert.equal(probe.appVersion, "0.1.0");
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
});
