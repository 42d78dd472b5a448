// Browser test of the start-up checks and the safe state, against the real core
// (brokerdesk-devserver runs the same start-up checks as the app): a profile whose account row
// was edited outside Brokerdesk starts held; after the unlock the window says what failed and
// how to fix it, trading controls are off with the reason and the core refuses orders with
// `safe_mode`; removing the edited account leaves the safe state.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startBackend } from "./backend.mjs";
import { PASSWORD, shot, shotElement, shotTall, useBrowser } from "./harness.mjs";
import { unlocked } from "./scenarios.mjs";

const open = useBrowser();

/** `unlocked`, then the app stopped, FTMO's loss limit loosened in the database, the app started again (locked). */
async function editedAccount(bd) {
  const s = await unlocked(bd);
  await bd.stop({ keepData: true });
  bd.sql(`UPDATE accounts SET max_qty = '1000000' WHERE id = '${s.ftmo.id}';`);
  const again = await startBackend({ dataDir: bd.dataDir });
  again.ownDir = true; // remove the profile when the test ends
  return { ...s, bd: again };
}

describe("the safe state", () => {
  test("an edited account: the banner says what and how, trading is off and refused, removing the account leaves it", async () => {
    const { page, bd, s } = await open(editedAccount);
    // The checks that need the key run at the unlock.
    await page.getByRole("heading", { name: "Brokerdesk is locked" }).waitFor();
    await page.getByLabel("Master password").fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock" }).click();

    const banner = page.getByTestId("safe-state");
    await banner.getByRole("heading", { name: "Safe state: trading is held" }).waitFor();
    const accounts = banner.getByTestId("safe-state-accounts");
    assert.match(await accounts.textContent(), /Accounts — FTMO challenge/);
    assert.match(await accounts.textContent(), /were changed outside Brokerdesk, so it is held in paper mode and suspended \(state_tampered\)/);
    assert.match(await accounts.textContent(), /How to fix it: Open the account, check every setting and save it .*; or remove the account/);
    await shotTall(page, "safe-state");

    // The core refuses every order, on the untouched account too; nothing connects.
    await assert.rejects(
      bd.api("order_place", { accountId: s.alpaca.id, draft: { symbol: "AAPL", side: "buy", quantity: "1", orderType: "market", price: null, timeInForce: "day", stopLoss: null, takeProfit: null } }),
      (e) => e.code === "safe_mode" && /accounts/.test(e.message),
    );
    assert.deepEqual(await bd.api("connections_snapshot"), []);
    assert.equal((await bd.api("startup_report")).safeMode, true);

    // The order ticket is off, with the reason; the banner stays on every page.
    await page.goto(page.url().replace(/#.*$/, "") + `#/trade/${s.alpaca.id}`);
    const ticket = page.getByTestId("order-ticket");
    await ticket.getByTestId("ticket-held").waitFor();
    assert.equal(await ticket.getByTestId("ticket-submit").isDisabled(), true);
    await banner.waitFor();
    await shot(page, "safe-state-trade");
    await shotElement(ticket, "safe-state-ticket");

    // Checking again while nothing changed: still held, and it says so.
    await banner.getByRole("button", { name: "Check again" }).click();
    await banner.getByText(/Still failing/).waitFor();

    // The fix: the edited account removed. The core checks again by itself; the banner goes.
    await bd.api("account_remove", { id: s.ftmo.id });
    await banner.waitFor({ state: "detached" });
    assert.equal((await bd.api("startup_report")).safeMode, false);
    await page.getByTestId("ticket-held").waitFor({ state: "detached" });
    assert.equal(await ticket.getByTestId("ticket-submit").isDisabled(), false);
  });
});
