// Shared setup for the browser tests: Debian's Chromium through playwright-core, the static
// server, and a page per test that records errors and every request it makes.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, afterEach, before } from "node:test";
import { chromium } from "playwright-core";
import { serveStatic } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, "..", "dist-e2e");
export const OUT = join(here, "out");

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

export async function startHarness() {
  if (!existsSync(join(DIST, "index.html"))) throw new Error("dist-e2e is missing: run `npm run build:e2e` first");
  mkdirSync(OUT, { recursive: true });
  const server = await serveStatic(DIST);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    server,
    browser,
    /**
     * Opens the app on a fresh profile with the fake backend in `scenario` (`query` adds to the
     * URL, e.g. `prices=off`). Motion is reduced unless a test asks for `reducedMotion: "no-preference"`.
     */
    async open(scenario, { colorScheme = "light", reducedMotion = "reduce", query = "" } = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme, reducedMotion });
      context.setDefaultTimeout(5000);
      const page = await context.newPage();
      const problems = [];
      const foreign = [];
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console: ${m.text()}`);
      });
      page.on("request", (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) foreign.push(r.url());
      });
      await page.goto(`${server.url}/?scenario=${scenario}${query ? `&${query}` : ""}`);
      return { context, page, problems, foreign };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
}

export async function shotFull(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

/** Screenshots the whole scrolling main area by growing the window to fit it. */
export async function shotTall(page, name) {
  const size = page.viewportSize();
  const height = await page.evaluate(() => {
    const main = document.querySelector("main");
    return Math.max(main ? main.scrollHeight : 0, document.documentElement.scrollHeight);
  });
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 6000) });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await page.screenshot({ path: join(OUT, `${name}.png`) });
  await page.setViewportSize(size);
}

export const PASSWORD = "correct horse battery"; // MOCK_PASSWORD in src/e2e/mockBackend.ts

/**
 * Registers the suite's hooks (one Chromium per test file, a fresh profile per test) and
 * returns `open(scenario, options)`. After each test it asserts the page logged no errors and
 * requested nothing outside the app.
 */
export function useBrowser() {
  let harness;
  let current;
  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(async () => {
    if (!current) return;
    const { context, problems, foreign } = current;
    current = undefined;
    await context.close();
    assert.deepEqual(problems, [], "the page logged errors");
    assert.deepEqual(foreign, [], "the page requested something outside the app");
  });
  return async (scenario, options) => {
    current = await harness.open(scenario, options);
    return current.page;
  };
}

export const nav = (page, name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
export const theme = (page) => page.evaluate(() => document.documentElement.dataset.theme);
/** The arguments of every call of `command` the fake backend received. */
export const calls = (page, command) =>
  page.evaluate((c) => window.__brokerdeskMock.calls.filter((x) => x.command === c).map((x) => x.args), command);
