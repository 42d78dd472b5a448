// Browser tests of an account's risk on its page against the real core: an FTMO preset with
// the firm's summary, source and clock, the loss budgets in money (`risk_report`), the status
// actions (suspend, reactivate with the app's two-factor prompt, terminate after typing the
// name; `account_set_status` and the core's status machine), and a loosening edit that the
// core lets through only with a fresh code.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shot, shotTall, useBrowser } from "./harness.mjs";
import { inputOf, unlocked, until } from "./scenarios.mjs";
import { codeFor } from "./totp.mjs";

const usd = (amount) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(Number(amount));

const open = useBrowser();

/** Opens an account's page from the Accounts list. */
async function openAccount(page, name) {
  await nav(page, "Accounts");
  await page.getByRole("link", { name: `Edit ${name}` }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  return page.getByTestId("status-panel");
}

async function enterCode(page, code) {
  const stepUp = page.getByRole("dialog", { name: "Confirm with two-factor authentication" });
  await stepUp.getByLabel(/^6-digit code/).fill(code);
  await stepUp.getByRole("button", { name: "Confirm" }).click();
  await stepUp.waitFor({ state: "detached" });
}

describe("account risk", () => {
  test("an FTMO preset account shows the firm's summary, source and clock, and its budgets in money", async () => {
    // FTMO's rules on an initial balance above today's 100,000 (so some of the max loss is
    // used), acting at 90% of each limit: a safety buffer, not the firm's rule.
    const { page, bd, s } = await open(async (bd) => {
      const s = await unlocked(bd);
      const a = await bd.api("account_get", { id: s.ftmo.id });
      const propFirm = { ...a.propFirm, initialBalance: "105000", safetyBufferPct: "90" };
      await bd.api("account_update", { id: a.id, check: false, input: inputOf(a, { propFirm }) });
      return s;
    });
    await openAccount(page, "FTMO challenge");
    assert.equal(await page.getByLabel("Preset").inputValue(), "ftmo");
    const summary = page.getByTestId("preset-summary");
    await summary.getByText(/^Max daily loss: equity may not fall more than 5% of the initial balance/).waitFor();
    assert.equal(await summary.getByRole("link", { name: "academy.ftmo.com" }).getAttribute("href"), "https://academy.ftmo.com/lesson/maximum-daily-loss");
    // The preset's clock, as the core filled it in.
    assert.equal(await page.getByLabel("Daily reset time").inputValue(), "00:00");
    assert.equal(await page.getByLabel("Reset time zone", { exact: true }).inputValue(), "Europe/Prague");
    assert.equal(await page.getByLabel("When the daily limit is reached").inputValue(), "terminate");
    await page.getByText(/^Between open positions, 0 to 1\. Not enforced:/).waitFor();

    // What the rules mean in money today: the core's own report for this account.
    const report = await until(() => bd.api("risk_report", { accountId: s.ftmo.id }), (r) => r.total !== null, { what: "the measured budgets" });
    assert.equal(report.initialBalanceSource, "configured");
    const card = page.getByTestId("risk-money");
    await card.getByTestId("budget-daily-headline").getByText(`You may lose ${usd(report.daily.remaining)} more today`).waitFor();
    await card.getByTestId("budget-total-headline").getByText(`You may lose ${usd(report.total.remaining)} more in total`).waitFor();
    assert.ok(Number(report.total.used) > 0, "the balance is below the initial balance");
    assert.equal(await card.getByTestId("budget-total").locator(".budget-meter-mark").count(), 1, "the safety buffer is marked");
    await card.getByTestId("risk-next-reset").getByText(/on the firm's clock \(Europe\/Prague\)/).waitFor();
    await card.getByTestId("risk-initial-balance").getByText("$105,000.00 (as set)").waitFor();
    await shotTall(page, "account-risk-ftmo");

    // Editing the firm's clock makes the set custom, and the form says whose rules were left.
    await page.getByLabel("Daily reset time").fill("01:00");
    assert.equal(await page.getByLabel("Preset").inputValue(), "custom");
    await page.getByTestId("preset-custom-note").getByText(/You changed FTMO 2-Step's rules/).waitFor();
    await page.getByTestId("loosen-note").getByText(/^Saving loosens the loss rules' clock or base\./).waitFor();
  });

  test("the account page in the dark theme", async () => {
    const { page } = await open("unlocked", { colorScheme: "dark" });
    await openAccount(page, "FTMO challenge");
    await page.getByTestId("risk-money").getByTestId("budget-total").waitFor();
    await page.getByTestId("status-panel").getByRole("button", { name: "Suspend…" }).click();
    await page.getByRole("dialog", { name: "Suspend “FTMO challenge”?" }).getByRole("button", { name: "Suspend account" }).click();
    await page.getByTestId("status-panel").locator(".status-current .pill-status-suspended").waitFor();
    await shotTall(page, "account-risk-dark");
  });

  test("suspend with a reason, then reactivate with a two-factor code in the app's prompt", async () => {
    const { page, bd, s } = await open("unlocked-2fa");
    const panel = await openAccount(page, "Alpaca swing");
    await panel.getByTestId("status-meaning").getByText(/^Trading normally/).waitFor();

    await panel.getByRole("button", { name: "Suspend…" }).click();
    const suspend = page.getByRole("dialog", { name: "Suspend “Alpaca swing”?" });
    await suspend.getByText(/Reactivating it later needs a two-factor code/).waitFor();
    await suspend.getByLabel("Reason (optional)").fill("Earnings week");
    await shot(page, "account-status-suspend-dialog");
    await suspend.getByRole("button", { name: "Suspend account" }).click();
    await panel.locator(".status-current .pill-status-suspended").waitFor();
    await panel.getByTestId("status-meaning").getByText("No new positions. Orders that reduce or close a position are still allowed.").waitFor();
    await panel.getByRole("list", { name: "Status history" }).getByText("Earnings week").waitFor();
    assert.equal((await bd.api("account_get", { id: s.alpaca.id })).status, "suspended");

    await panel.getByRole("button", { name: "Reactivate…" }).click();
    const reactivate = page.getByRole("dialog", { name: "Reactivate “Alpaca swing”?" });
    await reactivate.getByText("You will be asked for a two-factor code.").waitFor();
    await reactivate.getByRole("button", { name: "Reactivate" }).click();
    await enterCode(page, await codeFor(s.secret));
    await panel.locator(".status-current .pill-status-active").waitFor();
    await reactivate.waitFor({ state: "detached" });
    assert.deepEqual(
      (await calls(page, "account_set_status")).map((c) => c.status),
      ["suspended", "active", "active"],
      "refused without a code, then retried after it",
    );
    const history = await bd.api("account_get", { id: s.alpaca.id }).then((a) => a.statusHistory.map((h) => h.status));
    assert.deepEqual(history, ["active", "suspended", "active"]);
    await shotTall(page, "account-status-reactivated");
  });

  test("terminating asks for the account's name, says it is final, and leaves no way back", async () => {
    const { page, bd, s } = await open("unlocked");
    const panel = await openAccount(page, "Alpaca swing");
    await panel.getByRole("button", { name: "Terminate…" }).click();
    const dialog = page.getByRole("dialog", { name: "Terminate “Alpaca swing”?" });
    await dialog.getByText(/^Terminating is final\./).waitFor();
    const confirm = dialog.getByRole("button", { name: "Terminate account" });
    assert.equal(await confirm.isDisabled(), true);
    const name = dialog.getByLabel(/^Type the account name/);
    await name.fill("Alpaca");
    assert.equal(await confirm.isDisabled(), true);
    await name.press("Enter");
    assert.equal((await calls(page, "account_set_status")).length, 0, "Enter does not go around the name");
    await name.fill("Alpaca swing");
    await dialog.getByLabel("Reason (optional)").fill("Challenge failed");
    await shot(page, "account-status-terminate-dialog");
    await confirm.click();
    await panel.locator(".status-current .pill-status-terminated").waitFor();
    await panel.getByTestId("status-meaning").getByText(/^No orders at all, not even closing ones\. Terminated is final/).waitFor();
    assert.equal(await panel.getByRole("button", { name: /…$/ }).count(), 0, "no actions on a terminated account");
    await shotTall(page, "account-status-terminated");

    // The core agrees: terminated is final.
    await assert.rejects(bd.api("account_set_status", { id: s.alpaca.id, status: "active", reason: null }), (e) => e.code === "illegal_status_transition");
    await nav(page, "Accounts");
    await page.getByRole("table", { name: "Accounts" }).locator("tbody tr", { hasText: "Alpaca swing" }).locator(".pill-status-terminated").waitFor();
  });

  test("loosening a rule says so before saving, and the save asks for a two-factor code", async () => {
    const { page, bd, s } = await open("unlocked-2fa");
    await openAccount(page, "FTMO challenge");
    await page.getByLabel("Max daily loss").fill("6");
    await page.getByTestId("loosen-note").getByText("Saving loosens max daily loss. You will be asked for a two-factor code.").waitFor();
    await page.getByRole("button", { name: "Save changes" }).click();
    await enterCode(page, await codeFor(s.secret));
    await page.getByText("Saved “FTMO challenge”.").waitFor();
    assert.equal((await calls(page, "account_update")).length, 2, "refused without a code, then retried after it");
    const saved = await bd.api("account_get", { id: s.ftmo.id });
    assert.equal(saved.propFirm.preset, "custom");
    assert.equal(saved.propFirm.maxDailyLossPct, "6");
  });
});
