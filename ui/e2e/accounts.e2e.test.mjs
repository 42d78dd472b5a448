// Browser tests of the Accounts list and the account editor against the real core: its
// validation, its duplicate-name rule, credentials checked with the OANDA and Alpaca
// simulators before they are saved, and stored credentials that can no longer be read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shot, shotTall, useBrowser } from "./harness.mjs";
import { DEMO, inputOf, tamperSecret, unlocked } from "./scenarios.mjs";

const open = useBrowser();

describe("accounts", () => {
  test("add an OANDA account: client check, backend field errors inline, duplicate name, then checked with the broker and saved", async () => {
    const { page, s } = await open("unlocked");
    await nav(page, "Accounts");
    const table = page.getByRole("table", { name: "Accounts" });
    await table.waitFor();
    assert.equal(await table.locator("tbody tr").count(), 2);
    await shot(page, "accounts-light");

    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("heading", { name: "Add account" }).waitFor();
    await page.getByText("Choose a broker to see its connection settings.").waitFor();

    // Nothing filled in: the client catches it without calling the backend.
    await page.getByRole("button", { name: "Add account" }).click();
    const summary = page.getByTestId("error-summary");
    await summary.getByText("Account name: Give the account a name.").waitFor();
    await summary.getByText("Broker: Choose a broker.").waitFor();
    assert.equal((await calls(page, "account_add")).length, 0);

    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    await page.getByText("api-fxpractice.oanda.com").waitFor();
    await page.getByLabel(/^Account name/).fill("FTMO challenge");
    assert.equal(await summary.getByText("Account name:").count(), 0, "editing a field clears its error");
    await page.getByLabel(/^v20 account ID/).fill("101 004 7654321 001");
    await page.getByLabel(/^API access token/).fill("sim oanda token");
    await page.getByText("Advanced: endpoint overrides").click();
    assert.equal(await page.getByLabel("REST URL").getAttribute("placeholder"), "https://api-fxpractice.oanda.com");
    // The simulator stands in for OANDA (plain http is accepted towards this machine only).
    await page.getByLabel("REST URL").fill(s.oanda.url);
    await page.getByLabel("Stream URL").fill(s.oanda.url);

    // Choosing a preset fills the rules; editing one makes it custom.
    const preset = page.getByLabel("Preset");
    await preset.selectOption("ftmo");
    assert.equal(await page.getByLabel("Max daily loss").inputValue(), "5");
    assert.equal(await page.getByLabel("Max total loss").inputValue(), "10");
    await page.getByLabel("Max daily loss").fill("4");
    assert.equal(await preset.inputValue(), "custom");

    await page.getByLabel("Max leverage").fill("30");
    const instruments = page.getByRole("textbox", { name: "Instruments", exact: true });
    await instruments.fill("eur$usd, gbp_usd, GBP_USD,");
    await page.getByRole("button", { name: "Remove EUR$USD" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /^Remove GBP_USD/ }).count(), 1, "duplicates dropped");
    await page.getByRole("button", { name: "H1", exact: true }).click();
    await page.getByRole("button", { name: "M15", exact: true }).click();
    assert.equal(await page.getByRole("button", { name: "H1", exact: true }).getAttribute("aria-pressed"), "true");

    await page.getByRole("button", { name: "Add account" }).click();
    // The core's validation, every problem at once; the taken name comes inside the
    // `validation` error as one more field error.
    await summary.getByText("4 problems to fix").waitFor();
    await page.locator("#field-name-error").getByText('An account named "FTMO challenge" already exists.').waitFor();
    await page.locator("#field-brokerAccountId-error").getByText("Use letters, digits, '-', '_' or '.' only (at most 64).").waitFor();
    await page.locator("#field-credentials-apiKey-error").getByText("The API access token cannot contain spaces or control characters.").waitFor();
    await summary.getByText("v20 account ID: Use letters, digits, '-', '_' or '.' only (at most 64).").waitFor();
    // The core says `instruments[0]`; the message lands under the instruments input.
    const instrumentsError = page.locator("#field-instruments-error");
    assert.match(await instrumentsError.textContent(), /"EUR\$USD" is not a symbol/);
    assert.equal(await page.getByLabel(/^v20 account ID/).getAttribute("aria-invalid"), "true");
    await shotTall(page, "account-form-errors-light");

    const sent = (await calls(page, "account_add"))[0].input;
    assert.equal(sent.broker, "oanda");
    assert.deepEqual(sent.instruments, ["EUR$USD", "GBP_USD"]);
    assert.deepEqual(sent.timeframes, ["M15", "H1"]);
    // The firm's clock came with the preset and stays with the custom set.
    assert.deepEqual(
      { ...sent.propFirm },
      {
        preset: "custom",
        maxDailyLossPct: "4",
        maxTotalLossPct: "10",
        profitTargetPct: "10",
        initialBalance: null,
        dailyBase: "initial_balance",
        resetTime: "00:00",
        resetTimezone: "Europe/Prague",
        maxLossMode: "static",
        dailyBreach: "terminate",
        safetyBufferPct: null,
        closeOnBreach: true,
        warnLevels: [50, 80, 95],
      },
    );
    assert.equal(sent.risk.maxLeverage, "30", "decimals travel as exact strings");
    assert.equal(sent.risk.maxQty, null, "an empty limit is sent as null");

    await page.getByLabel(/^v20 account ID/).fill(DEMO.oanda.accounts[1]);
    await page.getByLabel(/^API access token/).fill(DEMO.oanda.token);
    await page.getByRole("button", { name: "Remove EUR$USD" }).click();
    await instruments.fill("EUR_USD");
    await instruments.press("Enter");

    await page.getByRole("button", { name: "Add account" }).click();
    // Now the only problem: `duplicate_name`, still shown under the name.
    await summary.getByText("1 problem to fix").waitFor();
    await page.locator("#field-name-error").getByText('An account named "FTMO challenge" already exists.').waitFor();
    await page.getByLabel(/^Account name/).fill("OANDA swing");
    await page.getByRole("button", { name: "Add account" }).click();

    // Checked with the broker before it was saved: its summary is shown.
    const result = page.getByTestId("save-result");
    await result.getByRole("heading", { name: "Verified with OANDA" }).waitFor();
    assert.equal((await calls(page, "account_add")).at(-1).check, true);
    await result.getByRole("link", { name: "Back to accounts" }).click();
    await page.getByRole("heading", { name: "Accounts" }).waitFor();
    const row = table.locator("tbody tr", { hasText: "OANDA swing" });
    await row.getByText("••••cdef").waitFor();
    await row.getByText(DEMO.oanda.accounts[1]).waitFor();
    assert.equal(await row.locator(".pill-mode-paper").textContent(), "PAPER");
    assert.equal(await row.locator(".pill-status-active").textContent(), "Active");
    assert.equal(await table.locator("tbody tr").count(), 3);
  });

  test("edit keeps stored credentials, records the status history, and changing environment needs new keys", async () => {
    const { page, bd, s } = await open("unlocked");
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Edit FTMO challenge" }).click();
    await page.getByRole("heading", { name: "FTMO challenge" }).waitFor();
    // The scenario put it in drawdown by hand; with no loss today the core's risk watcher may
    // already have made it active again ("the day's loss recovered"), a third entry.
    const history = page.getByRole("list", { name: "Status history" });
    await history.getByText("Down 4.1% on the day").waitFor();
    const token = page.getByLabel(/^API access token/);
    assert.equal(await token.getAttribute("placeholder"), "••••cdef");
    await page.getByText("Stored: ••••cdef. Leave empty to keep it.").waitFor();
    assert.equal(await page.getByRole("radio", { name: /Alpaca/ }).isDisabled(), true, "the broker cannot change");
    assert.equal(await page.getByLabel("Preset").inputValue(), "ftmo");
    await shotTall(page, "account-edit-light");

    // Switching to live asks for new credentials; the core's field error shows under the token.
    await page.getByRole("radio", { name: /^fxTrade Live/ }).check({ force: true });
    await page.getByText("New credentials needed").waitFor();
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("#field-credentials-apiKey-error").getByText("Enter the API access token for the new environment: practice and live credentials differ.").waitFor();
    await page.getByTestId("error-summary").getByText("API access token:").waitFor();
    assert.equal(await token.getAttribute("aria-invalid"), "true");
    // The form scrolled to its error summary: bring the radio out from under the sticky save bar first.
    await page.getByRole("radio", { name: /^fxTrade Practice/ }).evaluate((el) => el.scrollIntoView({ block: "center" }));
    await page.getByRole("radio", { name: /^fxTrade Practice/ }).check({ force: true });

    // The status changes through its own actions (not the form), with a reason.
    assert.equal(await page.getByRole("combobox", { name: "Status" }).count(), 0);
    const panel = page.getByTestId("status-panel");
    await panel.getByRole("button", { name: "Suspend…" }).click();
    const dialog = page.getByRole("dialog", { name: "Suspend “FTMO challenge”?" });
    await dialog.getByLabel("Reason (optional)").fill("Paused for NFP week");
    await dialog.getByRole("button", { name: "Suspend account" }).click();
    await panel.locator(".status-current .pill-status-suspended").waitFor();
    assert.deepEqual((await calls(page, "account_set_status")).at(-1), { id: s.ftmo.id, status: "suspended", reason: "Paused for NFP week" });
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved “FTMO challenge”.").waitFor();
    const update = (await calls(page, "account_update")).at(-1);
    assert.equal(update.id, s.ftmo.id);
    assert.deepEqual(update.input.credentials, { apiKey: null, apiSecret: null }, "empty means keep");
    assert.equal(update.input.status, "suspended", "a save keeps the status it was given meanwhile");
    assert.equal(update.input.statusReason, null);

    const row = page.getByRole("table", { name: "Accounts" }).locator("tbody tr", { hasText: "FTMO challenge" });
    assert.equal(await row.locator(".pill-status-suspended").textContent(), "Suspended");
    await row.getByText("••••cdef").waitFor();
    await page.getByRole("link", { name: "Edit FTMO challenge" }).click();
    await history.locator("li").first().getByText("Paused for NFP week").waitFor();
    const stored = (await bd.api("account_get", { id: s.ftmo.id })).statusHistory;
    assert.equal(await history.locator("li").count(), stored.length);
    assert.deepEqual(stored.at(-1), { ...stored.at(-1), status: "suspended", reason: "Paused for NFP week" });
  });

  test("History lists each change with what changed, and rolls back to an earlier version as a new one", async () => {
    const { page, bd, s } = await open("unlocked");
    const before = await bd.api("account_get", { id: s.ftmo.id });
    await bd.api("account_update", { id: s.ftmo.id, input: inputOf(before, { instruments: ["EUR_USD", "XAU_USD"], weekendTrading: !before.weekendTrading }), check: false });
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Edit FTMO challenge" }).click();
    const card = page.getByRole("region", { name: "History" });
    const versions = card.getByRole("list", { name: "Configuration versions" });
    await versions.getByText(`weekendTrading: ${before.weekendTrading} → ${!before.weekendTrading}`).waitFor();
    const items = versions.locator(":scope > li");
    assert.equal(await items.count(), 2, "created, then the edit");
    await items.first().getByText("Current").waitFor();
    await items.nth(1).getByText("created").waitFor();
    await shotTall(page, "account-history");

    await items.nth(1).getByRole("button", { name: "Roll back to this" }).click();
    const dialog = page.getByRole("dialog", { name: /^Roll back to version \d+\?$/ });
    await dialog.getByText("Its status, trading mode and stored credentials stay as they are.", { exact: false }).waitFor();
    await dialog.getByRole("button", { name: "Roll back" }).click();
    await page.locator(".toast-success").getByText(/^FTMO challenge is back to version \d+'s settings \(now version \d+\)\.$/).waitFor();
    await versions.locator(":scope > li").nth(2).waitFor();
    assert.equal(await versions.locator(":scope > li").count(), 3);
    const after = await bd.api("account_get", { id: s.ftmo.id });
    assert.deepEqual(after.instruments, before.instruments);
    assert.equal(after.weekendTrading, before.weekendTrading);
    assert.equal(after.mode, before.mode, "the mode stays");
    assert.equal((await calls(page, "config_rollback")).length, 1);
  });

  test("a stored credential that cannot be read is flagged in the table and the editor, and replaced by entering it again", async () => {
    const { page, bd, s } = await open(async (bd) => {
      const s = await unlocked(bd);
      // The stored key "was edited outside Brokerdesk": its seal no longer opens.
      tamperSecret(bd, s.alpaca.id, "api_key");
      return s;
    });
    await nav(page, "Accounts");
    const table = page.getByRole("table", { name: "Accounts" });
    const row = table.locator("tbody tr", { hasText: "Alpaca swing" });
    const badge = row.getByTestId("credential-unreadable");
    await badge.waitFor();
    assert.equal(await badge.getAttribute("data-code"), "ciphertext_tampered");
    const reason = `This stored API key ID cannot be read: the sealed value for account:${s.alpaca.id}:api_key has been tampered with or corrupted. Enter it again to replace it.`;
    assert.equal((await badge.textContent()).replace(/^Unreadable: /, ""), reason);
    await row.getByText("••••ijkl").waitFor();
    assert.equal(await table.getByTestId("credential-unreadable").count(), 1, "only that one credential");
    await shot(page, "accounts-unreadable-credential");

    await page.getByRole("link", { name: "Edit Alpaca swing" }).click();
    await page.getByRole("heading", { name: "Alpaca swing" }).waitFor();
    const key = page.getByLabel(/^API key ID/);
    const warning = page.locator("#field-credentials-apiKey-warning");
    assert.equal(await warning.textContent(), reason);
    assert.match(await key.getAttribute("aria-describedby"), /field-credentials-apiKey-warning/);
    await page.getByText("Stored: ••••ijkl. Leave empty to keep it.").waitFor();
    await shotTall(page, "account-edit-unreadable-credential");

    await key.fill(DEMO.alpaca.key);
    await warning.waitFor({ state: "detached" });
    // Replacing stored credentials is a rotation, and the form says so.
    await page.getByTestId("rotation-note").getByText("the old values are deleted from this computer").waitFor();
    await page.getByRole("button", { name: "Save and rotate credentials" }).click();
    // New credentials are checked with the broker before they replace the stored ones.
    await page.getByTestId("save-result").getByRole("heading", { name: "Verified with Alpaca" }).waitFor();
    await page.getByRole("link", { name: "Back to accounts" }).click();
    assert.deepEqual((await calls(page, "account_update")).at(-1).input.credentials, { apiKey: DEMO.alpaca.key, apiSecret: null });
    await row.getByText("••••89AB").waitFor();
    assert.equal(await table.getByTestId("credential-unreadable").count(), 0);
    assert.equal((await bd.api("accounts_list")).find((a) => a.id === s.alpaca.id).credentials[0].error, null);
  });

  test("remove asks for confirmation naming the account; Escape cancels", async () => {
    const { page, s } = await open("unlocked");
    await nav(page, "Accounts");
    const rows = page.getByRole("table", { name: "Accounts" }).locator("tbody tr");
    await rows.first().waitFor();

    await page.getByRole("button", { name: "Remove Alpaca swing" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove “Alpaca swing”?" });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel", "focus starts on Cancel");
    await shot(page, "remove-dialog");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await rows.count(), 2);
    assert.equal((await calls(page, "account_remove")).length, 0);

    await page.getByRole("button", { name: "Remove Alpaca swing" }).click();
    await dialog.getByRole("button", { name: "Remove account" }).click();
    await page.getByText("Removed “Alpaca swing”.").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 1);
    assert.deepEqual(await calls(page, "account_remove"), [{ id: s.alpaca.id }]);

    await page.getByRole("button", { name: "Remove FTMO challenge" }).click();
    await page.getByRole("button", { name: "Remove account" }).click();
    await page.getByRole("heading", { name: "No accounts yet" }).waitFor();
    await shot(page, "accounts-empty");
  });
});
