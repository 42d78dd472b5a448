// Browser tests of the audit log (Activity) and auto-lock (Settings) against the fake backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PASSWORD, calls, nav, shot, useBrowser } from "./harness.mjs";

const open = useBrowser();

const rows = (page) => page.getByRole("table", { name: "Audit log" }).locator("tbody tr");
const lastAuditFilter = async (page) => (await calls(page, "audit_list")).at(-1).filter;

describe("activity", () => {
  test("lists the audit log with names, times and the chain status; filters, searches and exports", async () => {
    const page = await open("unlocked");
    await nav(page, "Activity");
    await page.getByTestId("chain-status").getByText("Audit log intact — 11 entries verified").waitFor();
    assert.equal(await rows(page).count(), 11);
    assert.equal(await page.getByTestId("audit-count").textContent(), "11 entries, newest first");
    const newest = rows(page).first();
    await newest.getByText("Vault unlocked").waitFor();
    await newest.getByText("with the master password").waitFor();
    assert.equal(await newest.locator("time").getAttribute("title"), "2026-11-20 08:30:09 UTC");
    assert.equal(await newest.locator(".event-pill").getAttribute("class"), "event-pill cat-vault");
    // Account names where the account still exists; a short id (and a CLI actor) where it was removed.
    const removed = page.locator("tr[data-entry-id='7']");
    await removed.getByText("Account removed").waitFor();
    assert.equal(await removed.locator(".audit-account").textContent(), "9c1e4f2a");
    assert.equal(await removed.locator(".actor").textContent(), "CLI");
    assert.equal(await page.locator("tr[data-entry-id='8'] .audit-account").textContent(), "FTMO challenge");
    await shot(page, "activity-light");

    // Events by category: the picker sums up the choice.
    await page.getByRole("button", { name: /^Events/ }).click();
    await page.getByRole("checkbox", { name: "Accounts" }).check();
    await page.getByRole("checkbox", { name: "Broker sign-in failed" }).check();
    await shot(page, "activity-event-picker");
    await page.getByRole("checkbox", { name: "Broker sign-in failed" }).uncheck();
    await page.keyboard.press("Escape");
    assert.equal(await page.getByRole("button", { name: /^Events/ }).textContent(), "Accounts");
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 5);
    assert.deepEqual((await lastAuditFilter(page)).events, ["account_created", "account_edited", "account_removed", "mode_switched"]);

    // The search waits until typing pauses.
    const before = (await calls(page, "audit_list")).length;
    await page.getByLabel("Search").pressSequentially("ftmo", { delay: 40 });
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 2);
    const searches = (await calls(page, "audit_list")).slice(before).map((c) => c.filter.search);
    assert.deepEqual(searches, ["ftmo"], "one query for the whole word");

    await page.getByLabel("Search").fill("");
    await page.getByLabel("Account", { exact: true }).selectOption({ label: "Alpaca swing" });
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 1);
    assert.equal((await lastAuditFilter(page)).accountId, "acc_alpaca");

    // A date range in the future: nothing; reversed: flagged and not sent.
    await page.getByLabel("From", { exact: true }).fill("2099-01-01");
    await page.getByRole("heading", { name: "No matching entries" }).waitFor();
    const filter = await lastAuditFilter(page);
    assert.equal(filter.since, await page.evaluate(() => new Date(2099, 0, 1).toISOString()));
    await page.getByLabel("To", { exact: true }).fill("2098-12-31");
    await page.getByText("The start date is after the end date.").waitFor();

    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 11);
    await page.getByLabel("Search").fill("cli");
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 2);
    await page.getByRole("button", { name: "Export CSV" }).click();
    const toast = page.locator(".toast-success");
    await toast.getByText(/^Saved to \/home\/trader\/Downloads\/brokerdesk-audit-\d{8}-\d{6}\.csv$/).waitFor();
    const exported = await calls(page, "audit_export_csv");
    assert.deepEqual(exported, [{ filter: { events: [], accountId: null, since: null, until: null, search: "cli", limit: 10000 } }]);
    const csv = await page.evaluate(() => window.__brokerdeskMock.lastExport().csv);
    assert.equal(csv.split("\r\n").length, 4, "header, two entries, final line break");
  });

  test("tampering with an entry turns the chain banner red and marks the entry; operations append entries", async () => {
    const page = await open("unlocked", { colorScheme: "dark" });
    await nav(page, "Settings");
    await page.getByLabel("Auto-lock").selectOption({ label: "15 minutes" });
    await page.getByText("Brokerdesk now locks after 15 minutes without activity.").waitFor();
    await nav(page, "Activity");
    const newest = rows(page).first();
    await newest.getByText("Settings changed").waitFor();
    await newest.getByText("auto-lock after 15 idle minutes").waitFor();
    await page.getByTestId("chain-status").getByText("Audit log intact — 12 entries verified").waitFor();
    await shot(page, "activity-dark");

    await page.evaluate(() => window.__brokerdeskMock.tamperAudit(4, "Alpaca swing (alpaca live)"));
    await page.getByRole("button", { name: "Check again" }).click();
    const banner = page.getByTestId("chain-status");
    await banner.getByText("Tampered at entry #4").waitFor();
    await banner.getByText("The audit log was tampered with at entry 4: its contents were changed after it was written.").waitFor();
    assert.equal(await banner.getAttribute("data-ok"), "false");
    // The broken row is marked.
    await page.getByLabel("Search").fill("alpaca");
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 3);
    await page.locator("tr[data-entry-id='4']").getByText("Chain broken here").waitFor();
    await page.locator("tr[data-entry-id='4']").getByText("Alpaca swing (alpaca live)").waitFor();
    await shot(page, "activity-tampered-dark");
  });
});

describe("auto-lock", () => {
  test("the setting is saved and kept; user activity is reported at most every 30 s; idle long enough locks", async () => {
    const page = await open("unlocked");
    await nav(page, "Settings");
    const select = page.getByLabel("Auto-lock");
    assert.equal(await select.inputValue(), "off");
    assert.deepEqual(await select.locator("option").allTextContents(), ["Off", "1 minute", "5 minutes", "15 minutes", "30 minutes", "60 minutes", "4 hours"]);
    await select.selectOption("15");
    await page.getByText("Brokerdesk now locks after 15 minutes without activity.").waitFor();
    assert.deepEqual(await calls(page, "settings_update"), [{ settings: { autoLockMinutes: 15, priceUpdatesPerSecond: 30 } }]);
    await shot(page, "settings-auto-lock");
    await page.reload();
    await page.getByLabel("Auto-lock").waitFor();
    assert.equal(await page.getByLabel("Auto-lock").inputValue(), "15");

    // Clicks and keys count as activity, reported once per 30 s however many there are.
    await page.keyboard.press("Tab");
    await page.mouse.click(900, 700);
    await page.mouse.wheel(0, 100);
    await page.keyboard.press("Tab");
    assert.equal((await calls(page, "app_activity")).length, 1);

    // Idle past the limit: the shell locks and tells the UI.
    await page.evaluate(() => window.__brokerdeskMock.advanceClock(16 * 60));
    await page.getByLabel(/^Master password/).waitFor();
    await page.getByLabel(/^Master password/).fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
  });

  test("a keychain vault cannot auto-lock: the setting is disabled and says why", async () => {
    const page = await open("keychain");
    await nav(page, "Settings");
    const select = page.getByLabel("Auto-lock");
    await select.waitFor();
    assert.equal(await select.isDisabled(), true);
    await page.getByText("Auto-lock needs a master password").waitFor();
  });
});
