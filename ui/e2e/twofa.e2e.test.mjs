// Browser tests of two-factor step-up against the real core: codes are computed in Node from
// the secret the wizard shows (RFC 6238, as an authenticator app would), the lockout and the
// 15-minute window are the core's. "Later, once the window has closed" is reproduced the way
// the core closes it: locking the vault ends a fresh verification.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shot, useBrowser } from "./harness.mjs";
import { DEMO, addAlpaca, addFtmo, closeStepUp, enableTwofa, until } from "./scenarios.mjs";
import { PASSWORD } from "./backend.mjs";
import { codeFor } from "./totp.mjs";

const open = useBrowser();

/** Starts removing an account from the Accounts page; returns the step-up dialog. */
async function removeAccount(page, name) {
  await nav(page, "Accounts");
  await page.getByRole("button", { name: `Remove ${name}` }).click();
  await page.getByRole("dialog", { name: `Remove “${name}”?` }).getByRole("button", { name: "Remove account" }).click();
  const stepUp = page.getByRole("dialog", { name: "Confirm with two-factor authentication" });
  await stepUp.waitFor();
  return stepUp;
}

async function enterCode(dialog, code) {
  await dialog.getByLabel(/^(6-digit code|Backup code)/).fill(code);
  await dialog.getByRole("button", { name: "Confirm" }).click();
}

/** Closes the step-up window (lock and unlock, as after a break) and waits for the window to be back. */
async function later(page, bd) {
  await closeStepUp(bd);
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

describe("two-factor authentication", () => {
  test("turn it on end to end; then removing an account asks for a code, a wrong one says how many attempts are left", async () => {
    const { page, bd, s } = await open("unlocked");
    await nav(page, "Security");
    const card = page.getByRole("region", { name: "Two-factor authentication" });
    await card.getByTestId("twofa-state").getByText("Off").waitFor();
    await card.getByRole("button", { name: "Turn on" }).click();

    // Step 1: the QR code as an image (decoded, not markup), and the secret to type by hand.
    const wizard = page.getByRole("dialog", { name: "Turn on two-factor authentication" });
    const qr = wizard.getByRole("img", { name: "QR code to add Brokerdesk to an authenticator app" });
    await qr.waitFor();
    assert.match(await qr.getAttribute("src"), /^data:image\/svg\+xml;base64,/);
    await page.waitForFunction(() => document.querySelector(".qr-image")?.naturalWidth > 0);
    assert.equal(await wizard.locator("svg:not(.icon)").count(), 0, "the QR is an image, not SVG markup in the page");
    const grouped = await wizard.getByTestId("twofa-secret").textContent();
    assert.match(grouped, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    await wizard.getByText("Google Authenticator, Authy, 1Password").waitFor();
    await wizard.getByRole("button", { name: "Copy key" }).click();
    await wizard.getByText("Copied. The clipboard is cleared in 30 s.").waitFor();
    assert.equal(await bd.clipboardHolds(grouped.replaceAll(" ", "")), true, "the app put the secret on the clipboard");
    await shot(page, "twofa-setup-qr");

    // Closed half-way, setup stays pending; "Continue setup" goes straight to the code (the
    // secret cannot be shown again, but a new one can be made).
    await wizard.getByRole("button", { name: "Cancel" }).click();
    await card.getByTestId("twofa-state").getByText("Setup not finished").waitFor();
    await card.getByRole("button", { name: "Continue setup" }).click();
    await wizard.getByText("Step 2 of 3 · Enter the code your app shows").waitFor();
    await wizard.getByRole("button", { name: "Show a new QR code" }).click();
    await qr.waitFor();
    const fresh = await wizard.getByTestId("twofa-secret").textContent();
    assert.notEqual(fresh, grouped, "a new secret");
    const secret = fresh.replaceAll(" ", "");

    // Step 2: the code the app shows.
    await wizard.getByRole("button", { name: "Next" }).click();
    await wizard.getByText("Step 2 of 3 · Enter the code your app shows").waitFor();
    await wizard.getByLabel("6-digit code").fill("000000");
    await wizard.getByRole("button", { name: "Turn on" }).click();
    await wizard.getByText("Wrong two-factor code (4 attempts left before a lockout).").waitFor();
    await wizard.getByLabel("6-digit code").fill(await codeFor(secret));
    await wizard.getByRole("button", { name: "Turn on" }).click();

    // Step 3: ten backup codes, shown once; Done needs the tick, Escape does not close.
    const list = wizard.getByRole("list", { name: "Backup codes" });
    await list.waitFor();
    const codes = await list.locator(".code").allTextContents();
    assert.equal(codes.length, 10);
    codes.forEach((c) => assert.match(c, /^[2-9a-z]{5}-[2-9a-z]{5}$/));
    assert.equal(await wizard.getByRole("button", { name: "Done" }).isDisabled(), true);
    await wizard.getByRole("button", { name: "Copy" }).click();
    await wizard.getByText("Copied. The clipboard is cleared in 30 s.").waitFor();
    assert.equal(await bd.clipboardHolds(codes.join("\n")), true);
    await page.evaluate(() => {
      window.printed = 0;
      window.print = () => (window.printed += 1);
    });
    await wizard.getByRole("button", { name: "Print" }).click();
    assert.equal(await page.evaluate(() => window.printed), 1);
    await shot(page, "twofa-backup-codes");
    await page.emulateMedia({ media: "print" });
    await shot(page, "twofa-backup-codes-print");
    await page.emulateMedia({ media: "screen" });
    await page.keyboard.press("Escape");
    await wizard.getByRole("list", { name: "Backup codes" }).waitFor();
    await wizard.getByLabel("I saved these codes").check();
    await wizard.getByRole("button", { name: "Done" }).click();
    await wizard.waitFor({ state: "detached" });
    assert.equal(await page.getByText(codes[0]).count(), 0, "the codes are gone once Done");
    await card.getByTestId("twofa-state").getByText("On").waitFor();
    assert.equal(await card.getByTestId("backup-codes-remaining").textContent(), "10 of 10 left");
    // Enabling verified a code, so the step-up window is open.
    await page.getByTestId("step-up-indicator").getByText("Verified · 15 min left").waitFor();
    await card.scrollIntoViewIfNeeded();
    await shot(page, "security-twofa-on");
    const enables = await calls(page, "twofa_enable");
    assert.equal(enables.length, 2);
    assert.match(enables[1].code, /^\d{6}$/);

    // Later the window has closed: removing an account asks for a code.
    await later(page, bd);
    const stepUp = await removeAccount(page, "Alpaca swing");
    const input = stepUp.getByLabel("6-digit code");
    assert.equal(await input.getAttribute("autocomplete"), "one-time-code");
    assert.equal(await input.getAttribute("inputmode"), "numeric");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "step-up-code");
    await shot(page, "step-up-modal");
    await enterCode(stepUp, "000000");
    await stepUp.getByText("Wrong two-factor code (4 attempts left before a lockout).").waitFor();
    await shot(page, "step-up-wrong-code");
    await enterCode(stepUp, await codeFor(secret));
    await page.getByText("Removed “Alpaca swing”.").waitFor();
    await stepUp.waitFor({ state: "detached" });
    assert.deepEqual(await calls(page, "account_remove"), [{ id: s.alpaca.id }, { id: s.alpaca.id }], "retried after the code");
    // The list is read again after the removal (an accounts-changed event): one row left.
    await page.getByRole("table", { name: "Accounts" }).locator("tbody tr").nth(1).waitFor({ state: "detached" });
    assert.equal(await page.getByRole("table", { name: "Accounts" }).locator("tbody tr").count(), 1);
    await page.getByTestId("step-up-indicator").getByText("Verified · 15 min left").waitFor();
  });

  test("five wrong codes lock verification out with a countdown; a backup code works once", async () => {
    const { page, bd, s } = await open("unlocked-2fa");
    let stepUp = await removeAccount(page, "FTMO challenge");
    for (const left of [4, 3, 2, 1]) {
      await enterCode(stepUp, "000000");
      await stepUp.getByText(`Wrong two-factor code (${left} attempts left before a lockout).`).waitFor();
    }
    await enterCode(stepUp, "000000");
    const countdown = stepUp.getByTestId("lockout-countdown");
    await countdown.waitFor();
    assert.match(await countdown.textContent(), /Codes are refused for (1:00|0:5\d)/);
    assert.equal(await stepUp.getByRole("button", { name: "Confirm" }).isDisabled(), true);
    await shot(page, "step-up-locked-out");
    await stepUp.getByRole("button", { name: "Cancel" }).click();
    await page.getByText("Nothing was changed: the two-factor check was cancelled.").waitFor();
    assert.equal(await page.getByRole("table", { name: "Accounts" }).locator("tbody tr").count(), 2);
    // The desktop was told (the lockout is a security event).
    assert.ok((await bd.notifications()).some((n) => n.body === "Two-factor locked: too many wrong codes"));

    // After the lockout (the core's first one lasts a minute, in real time here), a backup
    // code works instead of the app's code…
    await until(() => bd.api("twofa_status"), (st) => st.lockedUntil === null, { ms: 75_000, every: 1000, what: "the end of the lockout" });
    stepUp = await removeAccount(page, "FTMO challenge");
    assert.equal(await stepUp.getByTestId("lockout-countdown").count(), 0);
    await stepUp.getByRole("button", { name: "Use a backup code" }).click();
    assert.equal(await stepUp.getByLabel("Backup code").getAttribute("autocomplete"), "off");
    await enterCode(stepUp, s.backupCodes[0].toUpperCase());
    await page.getByText("Removed “FTMO challenge”.").waitFor();

    // …but only once.
    await later(page, bd);
    stepUp = await removeAccount(page, "Alpaca swing");
    await stepUp.getByRole("button", { name: "Use a backup code" }).click();
    await enterCode(stepUp, s.backupCodes[0]);
    await stepUp.getByText("Wrong two-factor code (4 attempts left before a lockout).").waitFor();
    await stepUp.getByRole("button", { name: "Use the code from your app instead" }).click();
    await enterCode(stepUp, await codeFor(s.secret));
    await page.getByText("Removed “Alpaca swing”.").waitFor();
    await nav(page, "Security");
    assert.equal(await page.getByTestId("backup-codes-remaining").textContent(), "9 of 10 left");
  });

  test("regenerating backup codes and turning 2FA off need a code of their own; purge needs PURGE typed and no code", async () => {
    const { page, bd, s } = await open("unlocked-2fa");
    await nav(page, "Security");
    const card = page.getByRole("region", { name: "Two-factor authentication" });
    await card.getByRole("button", { name: "Regenerate backup codes…" }).click();
    await page.getByRole("dialog", { name: "Regenerate backup codes?" }).getByRole("button", { name: "Regenerate" }).click();
    await enterCode(page.getByRole("dialog", { name: "Confirm with two-factor authentication" }), await codeFor(s.secret));
    const fresh = page.getByRole("dialog", { name: "New backup codes" });
    await fresh.getByRole("list", { name: "Backup codes" }).waitFor();
    assert.equal(await fresh.getByRole("list", { name: "Backup codes" }).locator("li").count(), 10);
    assert.equal(await fresh.getByText(s.backupCodes[0]).count(), 0);
    await fresh.getByLabel("I saved these codes").check();
    await fresh.getByRole("button", { name: "Done" }).click();

    await page.getByTestId("step-up-indicator").getByText("Verified · 15 min left").waitFor();

    // Later (the window has closed): purge needs the word typed, and no code — an emergency
    // action never waits for one (not even during a lockout).
    await later(page, bd);
    await nav(page, "Dashboard");
    await nav(page, "Security");
    await page.getByTestId("step-up-indicator").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Purge credentials…" }).click();
    const purge = page.getByRole("dialog", { name: "Purge all stored credentials?" });
    const button = purge.getByRole("button", { name: "Purge credentials" });
    await purge.getByText("Every account is switched to paper mode").waitFor();
    await purge.getByLabel("Type PURGE to confirm").fill("purge");
    assert.equal(await button.isDisabled(), true);
    await purge.getByLabel("Type PURGE to confirm").fill("PURGE");
    assert.equal(await button.isDisabled(), false);
    await shot(page, "purge-dialog");
    await button.click();
    const done = page.getByRole("dialog", { name: "Credentials purged" });
    await done.getByText("3 credentials deleted").waitFor();
    assert.equal(await done.getByTestId("purge-report").textContent(), "All 2 accounts are now in paper mode, with their settings kept.");
    await shot(page, "purge-done");
    await done.getByRole("button", { name: "Close" }).click();
    await nav(page, "Accounts");
    await page.getByRole("table", { name: "Accounts" }).waitFor();
    // The table follows the core's accounts-changed event (the purge re-sealed the vault).
    await page.locator(".cred-list li").first().waitFor({ state: "detached" });
    assert.equal(await page.locator(".cred-list li").count(), 0, "no stored credentials left");
    assert.deepEqual((await bd.api("accounts_list")).map((a) => a.credentials.length), [0, 0]);

    assert.equal((await calls(page, "twofa_verify")).length, 1, "the purge asked for no code");

    // Turning 2FA off needs a code entered for it, whatever the window.
    await nav(page, "Security");
    await card.getByRole("button", { name: "Turn off…" }).click();
    await page.getByRole("dialog", { name: "Turn off two-factor authentication?" }).getByRole("button", { name: "Turn off" }).click();
    const stepUp = page.getByRole("dialog", { name: "Confirm with two-factor authentication" });
    await enterCode(stepUp, await codeFor(s.secret));
    await page.getByText("Two-factor authentication is off.").waitFor();
    await card.getByTestId("twofa-state").getByText("Off").waitFor();
    assert.equal(await page.getByTestId("step-up-indicator").count(), 0);
  });

  test("entering new credentials is a rotation: the editor says so, and saving asks for a code", async () => {
    // The stored OANDA token was revoked at the broker (saved unchecked); the new one is good.
    const { page, s } = await open(async (bd) => {
      await bd.api("vault_init", { password: PASSWORD });
      const oanda = await bd.sim("oanda");
      const ftmo = await addFtmo(bd, oanda, { check: false, token: "revoked-oanda-token-0123-9f3a" });
      await addAlpaca(bd, await bd.sim("alpaca"));
      return { ftmo, ...(await enableTwofa(bd)) };
    });
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Edit FTMO challenge" }).click();
    await page.getByLabel(/^API access token/).fill(DEMO.oanda.token);
    await page.getByText("Replaces the stored ••••9f3a when you save.").waitFor();
    const note = page.getByTestId("rotation-note");
    await note.getByText("You will be asked for a two-factor code.").waitFor();
    await page.getByRole("button", { name: "Save and rotate credentials" }).click();
    await enterCode(page.getByRole("dialog", { name: "Confirm with two-factor authentication" }), await codeFor(s.secret));
    await page.getByTestId("save-result").getByRole("heading", { name: "Verified with OANDA" }).waitFor();
    await page.getByRole("link", { name: "Back to accounts" }).click();
    await page.getByRole("table", { name: "Accounts" }).getByText("••••cdef").waitFor();
    assert.equal((await calls(page, "account_update")).length, 2, "refused, then retried after the code");
    await nav(page, "Activity");
    await page.getByRole("table", { name: "Audit log" }).locator("tbody tr").first().getByText("Credentials rotated").waitFor();
  });

  test("the Security page's two-factor card follows changes made elsewhere: a lockout, 2FA turned off from the CLI", async () => {
    const { page, bd, s } = await open("unlocked-2fa");
    await nav(page, "Security");
    const card = page.getByRole("region", { name: "Two-factor authentication" });
    await card.getByTestId("twofa-state").getByText("On").waitFor();
    assert.equal(await card.getByTestId("lockout-countdown").count(), 0);

    // Five wrong codes somewhere else (another window, a script): the card shows the lockout at
    // once, without being reopened (the core's twofa-status event).
    for (let i = 0; i < 5; i++) await bd.api("twofa_verify", { code: "000000" }).catch(() => {});
    await card.getByTestId("lockout-countdown").waitFor();
    assert.match(await card.getByTestId("lockout-countdown").textContent(), /^Codes are refused for (1:00|0:5\d)/);
    await shot(page, "security-twofa-locked-out");
    await until(() => bd.api("twofa_status"), (st) => st.lockedUntil === null, { ms: 75_000, every: 1000, what: "the end of the lockout" });

    // Turned off from the command line (another process on the same profile): the card follows.
    const off = bd.cli(["twofa", "disable", "--totp", await codeFor(s.secret)]);
    assert.equal(off.status, 0, off.stdout + off.stderr);
    await card.getByTestId("twofa-state").getByText("Off").waitFor();
    await card.getByRole("button", { name: "Turn on" }).waitFor();
    assert.equal((await calls(page, "twofa_status")).length, 1, "followed through events, not by reading again");
  });
});
