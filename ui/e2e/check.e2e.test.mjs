// Browser tests of checking credentials with the broker in the account editor (fake backend:
// a key containing "wrong" is refused, a REST URL containing "offline" is unreachable, an OANDA
// token containing "multi" reaches two accounts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shotTall, useBrowser } from "./harness.mjs";

const open = useBrowser();

const GOOD_TOKEN = "tok-0123456789-abcd-7f2e";
const setBrokerDelay = (page, ms) => page.evaluate((d) => window.__brokerdeskMock.setBrokerDelay(d), ms);
/** How many accounts the fake backend stores. */
const storedAccounts = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("brokerdesk.mock.state")).accounts.length);

async function newOandaAccount(page, { name = "OANDA swing", token = GOOD_TOKEN, accountId = "101-004-7654321-001" } = {}) {
  await nav(page, "Accounts");
  await page.getByRole("link", { name: "Add account" }).click();
  await page.getByRole("heading", { name: "Add account" }).waitFor();
  await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
  await page.getByLabel(/^Account name/).fill(name);
  if (accountId) await page.getByLabel(/^v20 account ID/).fill(accountId);
  await page.getByLabel(/^Personal access token/).fill(token);
}

describe("checking with the broker", () => {
  test("add: 'Checking with OANDA…' while the broker answers, then the verified account's summary", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const page = await open("unlocked", { colorScheme });
      await newOandaAccount(page);
      await setBrokerDelay(page, 1500);
      await page.getByRole("button", { name: "Add account" }).click();
      await page.getByRole("button", { name: "Checking with OANDA…" }).waitFor();
      await page.getByTestId("check-progress").getByText("Checking with OANDA… Nothing is saved until it answers.").waitFor();

      const result = page.getByTestId("save-result");
      await result.getByRole("heading", { name: "Verified with OANDA" }).waitFor();
      assert.equal(await result.getAttribute("data-status"), "verified");
      const field = (id) => result.getByTestId(`summary-${id}`).textContent();
      assert.equal(await field("account"), "••••-001");
      assert.equal(await field("type"), "Margin");
      assert.equal(await field("currency"), "USD");
      assert.equal(await field("balance"), "$100,000.00");
      assert.equal(await field("equity"), "$100,412.57");
      assert.equal(await field("buying-power"), "$97,240.18");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "save-result-title", "focus moves to the result");
      await shotTall(page, `account-verified-${colorScheme}`);

      await result.getByRole("link", { name: "Back to accounts" }).click();
      const row = page.getByRole("table", { name: "Accounts" }).locator("tbody tr", { hasText: "OANDA swing" });
      await row.getByText("101-004-7654321-001").waitFor();
      await page.context().close();
    }
  });

  test("a wrong key: the broker's reason inline, nothing saved, the form kept; Test connection; unreachable → Save without checking", async () => {
    const page = await open("unlocked");
    await newOandaAccount(page, { token: "wrong-token-0123456789" });
    await page.getByRole("button", { name: "Add account" }).click();

    const result = page.getByTestId("check-result");
    await result.getByText("OANDA refused the credentials").waitFor();
    assert.equal(await result.getAttribute("data-status"), "refused");
    assert.equal(await result.getByTestId("check-reason").textContent(), "HTTP 401: Insufficient authorization to perform request.");
    await result.getByText("Nothing was saved. Check the credentials (and that they are for this environment), then try again.").waitFor();
    await page.getByTestId("error-summary").getByText(/^OANDA refused the credentials: .* Nothing was saved\.$/).waitFor();
    assert.equal(await page.getByLabel(/^Personal access token/).inputValue(), "wrong-token-0123456789", "the form stays filled");
    assert.equal(await page.getByLabel(/^Account name/).inputValue(), "OANDA swing");
    assert.equal(await storedAccounts(page), 2, "nothing was saved");
    await result.scrollIntoViewIfNeeded();
    await shotTall(page, "account-refused-light");

    // Test connection with the right key: verified, and still nothing saved.
    await page.getByLabel(/^Personal access token/).fill(GOOD_TOKEN);
    assert.equal(await page.getByTestId("check-result").count(), 0, "a new key clears the old verdict");
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByTestId("check-result").getByText("OANDA accepted the credentials").waitFor();
    await page.getByTestId("check-result").getByTestId("summary-balance").getByText("$100,000.00").waitFor();
    assert.equal(await storedAccounts(page), 2);
    assert.equal((await calls(page, "account_check")).at(-1).id, null);

    // The broker cannot be reached: offered to save without checking.
    await page.getByText("Advanced: endpoint overrides").click();
    await page.getByLabel("REST URL").fill("https://offline.invalid");
    await page.getByRole("button", { name: "Test connection" }).click();
    const unreachable = page.getByTestId("check-result");
    await unreachable.getByText("OANDA could not be reached").waitFor();
    await unreachable.getByText("Network error: could not connect to offline.invalid (connection refused).").waitFor();
    await unreachable.getByRole("button", { name: "Save without checking" }).click();
    await page.getByText("Added “OANDA swing”.").waitFor();
    assert.equal((await calls(page, "account_add")).at(-1).check, false);
    assert.equal(await storedAccounts(page), 3);
  });

  test("saving while the broker is unreachable stores the account unverified and says live trading stays locked", async () => {
    const page = await open("unlocked");
    await newOandaAccount(page, { name: "Travel laptop" });
    await page.getByText("Advanced: endpoint overrides").click();
    await page.getByLabel("REST URL").fill("https://offline.invalid");
    await page.getByRole("button", { name: "Add account" }).click();
    const result = page.getByTestId("save-result");
    await result.getByRole("heading", { name: "Saved without verification" }).waitFor();
    assert.equal(await result.getByTestId("unreachable-reason").textContent(), "Network error: could not connect to offline.invalid (connection refused).");
    await result.getByText(/live trading stays locked until a check with OANDA succeeds/).waitFor();
    await shotTall(page, "account-unverified-light");
    assert.equal(await storedAccounts(page), 3);
  });

  test("OANDA: a token reaching several accounts opens the picker; the chosen one is added", async () => {
    const page = await open("unlocked");
    await newOandaAccount(page, { name: "Multi", token: "multi-token-0123456789", accountId: "" });
    await page.getByRole("button", { name: "Add account" }).click();

    const picker = page.getByTestId("account-picker");
    await picker.getByText("This token reaches 2 accounts: choose one").waitFor();
    await page.locator("#field-brokerAccountId-error").getByText("This token reaches several accounts: choose one below, under “Find accounts”.").waitFor();
    assert.equal(await picker.getByRole("radio").count(), 2);
    await picker.getByRole("radio", { name: /101-004-5550100-001 Primary \(USD\)/ }).waitFor();
    assert.equal(await storedAccounts(page), 2, "nothing was saved");
    await picker.scrollIntoViewIfNeeded();
    await shotTall(page, "account-picker-light");

    await picker.getByRole("radio", { name: /101-004-5550100-002/ }).check({ force: true });
    assert.equal(await page.getByLabel(/^v20 account ID/).inputValue(), "101-004-5550100-002");
    assert.equal(await page.locator("#field-brokerAccountId-error").count(), 0, "choosing clears the error");
    await page.getByRole("button", { name: "Add account" }).click();
    await page.getByTestId("save-result").getByRole("heading", { name: "Verified with OANDA" }).waitFor();
    assert.equal(await page.getByTestId("summary-account").textContent(), "••••-002");
    assert.equal((await calls(page, "account_add")).at(-1).input.brokerAccountId, "101-004-5550100-002");

    // "Find accounts" on another draft: a single-account token fills the id at once.
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    const find = page.getByRole("button", { name: "Find accounts" });
    assert.equal(await find.isDisabled(), true, "needs a token first");
    await page.getByLabel(/^Personal access token/).fill(GOOD_TOKEN);
    await find.click();
    await page.getByTestId("account-picker").getByText(/This token reaches one account: .* \(filled in\)\./).waitFor();
    assert.match(await page.getByLabel(/^v20 account ID/).inputValue(), /^101-004-\d+-001$/);
  });
});
