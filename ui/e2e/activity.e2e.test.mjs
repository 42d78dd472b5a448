// Browser tests of the audit log (Activity) and auto-lock (Settings) against the real core:
// the log is what the scenario did through the app and the CLI; tampering edits the database
// file with the sqlite3 shell; auto-lock waits for the core's idle timer in real time.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { PASSWORD, calls, nav, shot, useBrowser } from "./harness.mjs";
import { activity } from "./scenarios.mjs";

const open = useBrowser();

const rows = (page) => page.getByRole("table", { name: "Audit log" }).locator("tbody tr");
const lastAuditFilter = async (page) => (await calls(page, "audit_list")).at(-1).filter;
const rowCount = (page, n) => page.waitForFunction((k) => document.querySelectorAll("table tbody tr").length === k, n);

describe("activity", () => {
  test("lists the audit log with names, times and the chain status; filters, searches and exports", async () => {
    const { page, bd, s } = await open(activity);
    await nav(page, "Activity");
    await page.getByTestId("chain-status").getByText("Audit log intact — 16 entries verified").waitFor();
    await rowCount(page, 16);
    assert.equal(await page.getByTestId("audit-count").textContent(), "16 entries, newest first");
    const newest = rows(page).first();
    await newest.getByText("Vault unlocked").waitFor();
    await newest.getByText("with the master password").waitFor();
    assert.match(await newest.locator("time").getAttribute("title"), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.equal(await newest.locator(".event-pill").getAttribute("class"), "event-pill cat-vault");
    // Account names where the account still exists; a short id (and the CLI actor) where it was removed.
    const removed = page.locator("tr[data-entry-id='12']");
    await removed.getByText("Account removed").waitFor();
    assert.equal(await removed.locator(".audit-account").textContent(), s.removedId.slice(0, 8));
    assert.equal(await removed.locator(".actor").textContent(), "CLI");
    assert.equal(await page.locator("tr[data-entry-id='4'] .audit-account").textContent(), "FTMO challenge");
    await page.locator("tr[data-entry-id='13']").getByText("Broker sign-in failed").waitFor();
    await shot(page, "activity-light");

    // Events by category: the picker sums up the choice.
    await page.getByRole("button", { name: /^Events/ }).click();
    await page.getByRole("checkbox", { name: "Accounts" }).check();
    await page.getByRole("checkbox", { name: "Broker sign-in failed" }).check();
    await shot(page, "activity-event-picker");
    await page.getByRole("checkbox", { name: "Broker sign-in failed" }).uncheck();
    await page.keyboard.press("Escape");
    assert.equal(await page.getByRole("button", { name: /^Events/ }).textContent(), "Accounts");
    await rowCount(page, 5); // FTMO and Alpaca created, FTMO edited, Tradier test created and removed
    // The category was asked for as its events (the window reads each filter once: back to
    // "Accounts" only, the list it already read is shown again).
    const accountEvents = ["account_created", "account_edited", "account_removed", "mode_switched"];
    assert.ok((await calls(page, "audit_list")).some((c) => JSON.stringify(c.filter.events) === JSON.stringify(accountEvents)));

    // The search waits until typing pauses.
    const before = (await calls(page, "audit_list")).length;
    await page.getByLabel("Search").pressSequentially("ftmo", { delay: 40 });
    await rowCount(page, 2);
    const searches = (await calls(page, "audit_list")).slice(before).map((c) => c.filter.search);
    assert.deepEqual(searches, ["ftmo"], "one query for the whole word");

    await page.getByLabel("Search").fill("");
    await page.getByLabel("Account", { exact: true }).selectOption({ label: "Alpaca swing" });
    await rowCount(page, 1); // of the Accounts events, only its creation
    assert.equal((await lastAuditFilter(page)).accountId, s.alpaca.id);

    // A date range in the future: nothing; reversed: flagged and not sent.
    await page.getByLabel("From", { exact: true }).fill("2099-01-01");
    await page.getByRole("heading", { name: "No matching entries" }).waitFor();
    const filter = await lastAuditFilter(page);
    assert.equal(filter.since, await page.evaluate(() => new Date(2099, 0, 1).toISOString()));
    await page.getByLabel("To", { exact: true }).fill("2098-12-31");
    await page.getByText("The start date is after the end date.").waitFor();

    await page.getByRole("button", { name: "Clear filters" }).click();
    await rowCount(page, 16);
    await page.getByLabel("Search").fill("tradier test");
    await rowCount(page, 2); // added and removed from the CLI
    await page.getByRole("button", { name: "Export CSV" }).click();
    // The devserver has no Downloads folder: exports go to the profile's exports/ folder.
    const toast = page.locator(".toast-success");
    const saved = new RegExp(`^Saved to ${bd.dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/exports/brokerdesk-audit-\\d{8}-\\d{6}\\.csv$`);
    await toast.getByText(saved).waitFor();
    const exported = await calls(page, "audit_export_csv");
    assert.deepEqual(exported, [{ filter: { events: [], accountId: null, since: null, until: null, search: "tradier test", limit: 10000 } }]);
    const path = (await toast.getByText(saved).textContent()).replace(/^Saved to /, "");
    const csv = readFileSync(path, "utf8");
    assert.equal(csv.split("\r\n").length, 4, "header, two entries, final line break");
    assert.match(csv, /Tradier test \(tradier practice\)/);
  });

  test("tampering with an entry turns the chain banner red and marks the entry; operations append entries", async () => {
    const { page, bd } = await open(activity, { colorScheme: "dark" });
    await nav(page, "Settings");
    await page.getByLabel("Auto-lock").selectOption({ label: "15 minutes" });
    await page.getByText("Brokerdesk now locks after 15 minutes without activity.").waitFor();
    await nav(page, "Activity");
    const newest = rows(page).first();
    await newest.getByText("Settings changed").waitFor();
    await newest.getByText("auto-lock after 15 idle minutes").waitFor();
    await page.getByTestId("chain-status").getByText("Audit log intact — 17 entries verified").waitFor();
    await shot(page, "activity-dark");

    // Someone with the database file and a sqlite3 shell rewrites history: the audit log's
    // append-only triggers do not stop them (they can be dropped), the hash chain shows it.
    bd.sql(
      "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'Alpaca swing (alpaca live)' WHERE id = 6; " +
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    );
    await page.getByRole("button", { name: "Check again" }).click();
    const banner = page.getByTestId("chain-status");
    await banner.getByText("Tampered at entry #6").waitFor();
    await banner.getByText(/^The audit log was tampered with at entry 6/).waitFor();
    assert.equal(await banner.getAttribute("data-ok"), "false");
    // The broken row is marked.
    await page.getByLabel("Search").fill("alpaca");
    await page.locator("tr[data-entry-id='6']").getByText("Chain broken here").waitFor();
    await page.locator("tr[data-entry-id='6']").getByText("Alpaca swing (alpaca live)").waitFor();
    await shot(page, "activity-tampered-dark");
  });
});

describe("auto-lock", () => {
  test("the setting is saved and kept; user activity is reported at most every 30 s; idle long enough locks", async () => {
    const { page } = await open("unlocked");
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
    const before = (await calls(page, "app_activity")).length;
    await page.keyboard.press("Tab");
    await page.mouse.click(900, 700);
    await page.mouse.wheel(0, 100);
    await page.keyboard.press("Tab");
    await page.waitForTimeout(300);
    assert.equal((await calls(page, "app_activity")).length - before, 1);

    // Idle past the limit: the core locks and tells the window. The shortest limit, a minute,
    // waited for in real time (the core looks every 15 s).
    await page.getByLabel("Auto-lock").selectOption("1");
    await page.getByText("Brokerdesk now locks after 1 minute without activity.").waitFor();
    await page.getByLabel(/^Master password/).waitFor({ timeout: 90_000 });
    await page.getByLabel(/^Master password/).fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Settings" }).waitFor();
  });

  test("a keychain vault cannot auto-lock: the setting is disabled and says why", async () => {
    const { page } = await open(async (bd) => bd.api("vault_init", { password: null }).then(() => ({})), { keychain: true });
    await nav(page, "Settings");
    const select = page.getByLabel("Auto-lock");
    await select.waitFor();
    assert.equal(await select.isDisabled(), true);
    await page.getByText("Auto-lock needs a master password").waitFor();
  });
});
