// Shared setup for the browser tests: Debian's Chromium through playwright-core, and for each
// test a real backend (`brokerdesk-devserver` on a fresh profile, see backend.mjs) serving the
// UI's production build. A page per test records errors, every request it makes and every
// command it sends.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, afterEach, before } from "node:test";
import { chromium } from "playwright-core";
import { PASSWORD, UI_DIST, startBackend, startKeyring } from "./backend.mjs";
import * as scenarios from "./scenarios.mjs";

/** `E2E_TRACE=1`: print every command the page sends and every event it receives (prices and stats aside), with times. */
const TRACE = process.env.E2E_TRACE === "1";

export { PASSWORD };
const here = dirname(fileURLToPath(import.meta.url));
export const OUT = join(here, "out");
/** Screenshots the README shows; rewritten when UPDATE_DOCS_SCREENSHOTS=1. */
const DOCS = join(here, "..", "docs", "screenshots");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SCENARIOS = {
  fresh: async () => ({}),
  empty: scenarios.emptyVault,
  unlocked: scenarios.unlocked,
  locked: scenarios.locked,
  "unlocked-2fa": scenarios.unlocked2fa,
  connections: scenarios.connections,
};

/** The commands a page sent, by page: `[{ command, args }]`. */
const sent = new WeakMap();

/**
 * Opens the app on a real backend in a fresh profile. `scenario` names a starting state of
 * scenarios.mjs (or is a function `(bd) => context` of its own); `keychain: true` gives the
 * backend a private OS keychain; `keepaliveMs` shortens the order connections' keepalive. Resolves `{ page, bd, s }`: the page, the backend handle and
 * what the scenario returned (ids, simulators, the 2FA secret…). Motion is reduced unless a
 * test asks for `reducedMotion: "no-preference"`.
 */
async function openApp(browser, scenario, { colorScheme = "light", reducedMotion = "reduce", keychain = false, keepaliveMs = null } = {}) {
  const keyring = keychain ? await startKeyring() : null;
  let bd = await startBackend({ keyring, keepaliveMs });
  const setup = typeof scenario === "function" ? scenario : SCENARIOS[scenario];
  if (!setup) throw new Error(`no scenario named ${scenario}`);
  let s;
  try {
    s = (await (typeof scenario === "function" ? setup(bd, keyring ?? undefined) : setup(bd))) ?? {};
    // A scenario that restarted the backend (a new start of the app) hands over the new one.
    if (s.bd) bd = s.bd;
  } catch (e) {
    await bd.stop();
    await keyring?.stop();
    throw new Error(`setting up ${typeof scenario === "function" ? "the scenario" : scenario} failed: ${e.message}\n${bd.stderr()}`, { cause: e });
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme, reducedMotion });
  context.setDefaultTimeout(5000);
  // The window's event socket goes through here, so a test can make the window miss events
  // (as a window that was asleep or lagging would): `events.hold()` drops them until `release()`.
  const events = { held: false, hold: () => (events.held = true), release: () => (events.held = false) };
  await context.routeWebSocket(/\/events$/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((m) => {
      if (TRACE && !/"event":"(price-update|connection-stats)"/.test(String(m))) console.error("EV", Date.now(), String(m).slice(0, 300));
      if (!events.held) ws.send(m);
    });
    ws.onMessage((m) => server.send(m));
  });
  const page = await context.newPage();
  const problems = [];
  const foreign = [];
  const commands = [];
  sent.set(page, commands);
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // A command the core refused answers HTTP 400 with its {code, message, fields}: that is
    // the contract, not a problem, though Chromium logs every non-2xx fetch.
    if (/status of 400 \(Bad Request\)/.test(m.text()) && (m.location()?.url ?? "").startsWith(`${bd.url}/api/`)) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on("request", (r) => {
    const url = r.url();
    if (url.startsWith(`${bd.url}/api/`)) {
      const command = url.slice(`${bd.url}/api/`.length);
      let args;
      try {
        args = JSON.parse(r.postData() ?? "null");
      } catch {
        args = r.postData();
      }
      commands.push({ command, args });
      if (TRACE) console.error("CALL", Date.now(), command);
    } else if (!url.startsWith(bd.url) && !url.startsWith("data:")) foreign.push(url);
  });
  await page.goto(bd.url);
  return { context, page, bd, s, keyring, events, problems, foreign };
}

/**
 * Registers the suite's hooks (one Chromium per test file, a fresh backend per test) and
 * returns `open(scenario, options)` (see `openApp`). After each test it closes the page, stops
 * the backend and its simulators, and asserts the page logged no errors and requested
 * nothing outside the app.
 */
export function useBrowser() {
  let browser;
  const opened = [];
  before(async () => {
    if (!existsSync(join(UI_DIST, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    const all = opened.splice(0);
    const problems = [];
    const foreign = [];
    for (const o of all) {
      // The last state of the page, for a test that failed (overwritten by the next test).
      await o.page.screenshot({ path: join(OUT, "_last.png") }).catch(() => {});
      await o.context.close().catch(() => {});
      await o.bd.stop();
      await o.keyring?.stop();
      problems.push(...o.problems);
      foreign.push(...o.foreign);
    }
    assert.deepEqual(problems, [], "the page logged errors");
    assert.deepEqual(foreign, [], "the page requested something outside the app");
  });
  return async (scenario, options) => {
    const o = await openApp(browser, scenario, options);
    opened.push(o);
    return { page: o.page, bd: o.bd, s: o.s, keyring: o.keyring, events: o.events };
  };
}

export async function shot(page, name, { docs } = {}) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
  keepForDocs(name, docs);
}

/** Screenshots one element (a card), the window grown to show all of it. */
export async function shotElement(locator, name, { docs } = {}) {
  const page = locator.page();
  const size = page.viewportSize();
  const height = await page.evaluate(() => {
    const main = document.querySelector("main");
    // The header above the page takes its share of the window.
    return Math.max(main ? main.scrollHeight + main.getBoundingClientRect().top : 0, document.documentElement.scrollHeight);
  });
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 6000) });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await locator.screenshot({ path: join(OUT, `${name}.png`) });
  await page.setViewportSize(size);
  keepForDocs(name, docs);
}

export async function shotFull(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

/** Screenshots the whole scrolling main area by growing the window to fit it. */
export async function shotTall(page, name, { docs } = {}) {
  const size = page.viewportSize();
  const height = await page.evaluate(() => {
    const main = document.querySelector("main");
    // The header above the page takes its share of the window.
    return Math.max(main ? main.scrollHeight + main.getBoundingClientRect().top : 0, document.documentElement.scrollHeight);
  });
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 6000) });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await page.screenshot({ path: join(OUT, `${name}.png`) });
  await page.setViewportSize(size);
  keepForDocs(name, docs);
}

/** Copies a screenshot the README shows to ui/docs/screenshots (UPDATE_DOCS_SCREENSHOTS=1). */
function keepForDocs(name, docs) {
  if (docs && process.env.UPDATE_DOCS_SCREENSHOTS === "1") copyFileSync(join(OUT, `${name}.png`), join(DOCS, `${docs}.png`));
}

export const nav = (page, name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
export const theme = (page) => page.evaluate(() => document.documentElement.dataset.theme);

/** The arguments of every call of `command` the page sent to the backend, oldest first. */
export const calls = async (page, command) => (sent.get(page) ?? []).filter((c) => c.command === command).map((c) => c.args);

/** Waits for the text of `selector` to satisfy `re` (a RegExp) in the page. */
export const waitText = (page, selector, re, options) =>
  page.waitForFunction(([sel, src, flags]) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ""), [selector, re.source, re.flags], options);
