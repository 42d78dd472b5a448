// Browser tests of the UI against the in-memory fake backend (build: npm run build:e2e).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PASSWORD, calls, nav, shot, useBrowser } from "./harness.mjs";

const open = useBrowser();

describe("first run", () => {
  test("without an OS keychain: keychain option disabled, password checks, vault created", async () => {
    const page = await open("fresh-no-keychain");
    await page.getByRole("heading", { name: "Welcome to Brokerdesk" }).waitFor();
    const keychain = page.getByRole("radio", { name: "Protect with the OS keychain" });
    assert.equal(await keychain.isDisabled(), true);
    assert.equal(await page.getByRole("radio", { name: "Set a master password" }).isChecked(), true);
    await page.getByText("unable to autolaunch a dbus-daemon").waitFor();

    await page.getByLabel(/^Master password/).fill("short");
    await page.getByLabel("Confirm master password").fill("shorty");
    await page.getByRole("button", { name: "Create vault" }).click();
    await page.getByText("Use at least 8 characters.").waitFor();
    await page.getByText("The two passwords don't match.").waitFor();
    assert.equal((await calls(page, "vault_init")).length, 0, "client-side checks stop the call");

    await page.getByLabel(/^Master password/).fill(PASSWORD);
    await page.getByText("Strength:").waitFor();
    await shot(page, "first-run-password");
    await page.getByLabel("Confirm master password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create vault" }).click();

    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    assert.deepEqual(await calls(page, "vault_init"), [{ password: PASSWORD }]);
    await page.getByText("No accounts yet").waitFor();
    assert.equal(await page.getByTestId("vault-protection").textContent(), "password");
    await shot(page, "dashboard-empty");
  });

  test("with the OS keychain: Lock is unavailable until a master password is set", async () => {
    const page = await open("fresh");
    await page.getByRole("heading", { name: "Welcome to Brokerdesk" }).waitFor();
    assert.equal(await page.getByRole("radio", { name: "Protect with the OS keychain" }).isChecked(), true);
    await shot(page, "first-run-keychain");
    await page.getByRole("button", { name: "Create vault" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    assert.deepEqual(await calls(page, "vault_init"), [{ password: null }]);

    const lock = page.getByRole("button", { name: "Lock", exact: true });
    assert.equal(await lock.getAttribute("aria-disabled"), "true");
    assert.match(await page.locator(".tooltip-host").getAttribute("title"), /needs a master password/);
    await lock.click({ force: true });
    assert.equal((await calls(page, "vault_lock")).length, 0);

    await nav(page, "Security");
    await page.getByTestId("protection-title").getByText("OS keychain").waitFor();
    await page.getByLabel(/^New master password/).fill("a new passphrase");
    await page.getByLabel("Confirm new master password").fill("a new passphrase");
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByText("Master password set.").waitFor();
    assert.deepEqual(await calls(page, "vault_change_password"), [{ current: null, newPassword: "a new passphrase" }]);
    assert.equal(await page.getByTestId("vault-protection").textContent(), "password");

    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByRole("heading", { name: "Brokerdesk is locked" }).waitFor();
    await page.getByLabel("Master password").fill("a new passphrase");
    await page.getByRole("button", { name: "Unlock" }).click();
    // Unlocking returns to the page that was open.
    await page.getByRole("heading", { name: "Security" }).waitFor();
  });
});

describe("unlock", () => {
  test("a wrong password shows the backend's message; the right one opens the dashboard", async () => {
    const page = await open("locked");
    await page.getByRole("heading", { name: "Brokerdesk is locked" }).waitFor();
    await page.getByLabel("Master password").fill("not it");
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByText("That master password is not correct.").waitFor();
    assert.equal(await page.getByLabel("Master password").getAttribute("aria-invalid"), "true");
    await shot(page, "unlock-wrong-password");

    await page.getByLabel("Master password").fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByRole("region", { name: "Connections" }).getByText("Paper — no broker connection").first().waitFor();
    assert.equal(await page.getByTestId("stat-total").textContent(), "2");
    assert.equal(await page.getByTestId("stat-mode-paper").textContent(), "2");
    assert.equal(await page.getByTestId("stat-mode-live").textContent(), "0");
    assert.equal(await page.getByTestId("stat-status-active").textContent(), "1");
    assert.equal(await page.getByTestId("stat-status-in_drawdown").textContent(), "1");
    await shot(page, "dashboard");
  });

  test("the tray's Lock (vault-status event) and a `locked` error both return to the unlock screen", async () => {
    const page = await open("unlocked");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.evaluate(() => window.__brokerdeskMock.trayLock());
    await page.getByRole("heading", { name: "Brokerdesk is locked" }).waitFor();
    await page.getByLabel("Master password").fill(PASSWORD);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();

    await page.evaluate(() => window.__brokerdeskMock.lockSilently());
    await nav(page, "Accounts");
    await page.getByRole("heading", { name: "Brokerdesk is locked" }).waitFor();
    await page.getByText("The vault is locked. Unlock it to continue.").waitFor();
  });
});

describe("keychain vault that did not unlock itself", () => {
  test("explains the keychain problem and where the data is; Try again asks the keychain again", async () => {
    const page = await open("keychain-missing");
    await page.getByRole("heading", { name: "Brokerdesk could not open your vault" }).waitFor();
    await page.getByText(/^If this data folder was copied or restored from another computer/).waitFor();
    assert.equal(
      await page.getByTestId("keychain-error").textContent(),
      "The OS keychain has no Brokerdesk key for this vault (it may have been deleted, or this data directory was copied from another user or machine).",
    );
    assert.equal(await page.getByTestId("keychain-error").getAttribute("data-code"), "keychain_key_missing");
    assert.equal(await page.getByTestId("data-dir").textContent(), "/home/trader/.local/share/brokerdesk");
    assert.equal(await page.getByLabel(/password/i).count(), 0, "there is no password to ask for");
    await shot(page, "keychain-missing");

    // Still missing: the screen stays, and says it tried.
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByText(/^Tried again at .+: the vault is still locked\.$/).waitFor();
    assert.deepEqual(await calls(page, "vault_unlock"), [{ password: null }]);

    // The key is back in the keychain (e.g. the right user signed in): the vault opens.
    await page.evaluate(() => window.__brokerdeskMock.setKeychainUnlockError(null));
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    assert.equal(await page.getByTestId("stat-total").textContent(), "2");
    assert.deepEqual(await calls(page, "vault_unlock"), [{ password: null }, { password: null }]);
  });

  test("dark theme rendering of the keychain problem screen", async () => {
    const page = await open("keychain-missing", { colorScheme: "dark" });
    await page.getByRole("heading", { name: "Brokerdesk could not open your vault" }).waitFor();
    await shot(page, "keychain-missing-dark");
  });
});

describe("backend errors", () => {
  test("vault_changed reloads the page's data and says why; a tampered ciphertext is explained", async () => {
    const page = await open("unlocked");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.evaluate(() =>
      window.__brokerdeskMock.failNext("accounts_list", { code: "vault_changed", message: "The vault changed.", fields: [] }),
    );
    await nav(page, "Accounts");
    await page.getByText("The vault changed outside this window").waitFor();
    // The page was mounted again and its second read succeeded.
    await page.getByRole("table", { name: "Accounts" }).waitFor();
    await page.getByRole("button", { name: "Dismiss" }).click();
    assert.equal(await page.getByText("The vault changed outside this window").count(), 0);

    await page.evaluate(() =>
      window.__brokerdeskMock.failNext("accounts_list", { code: "ciphertext_tampered", message: "A secret failed to decrypt.", fields: [] }),
    );
    await nav(page, "Dashboard");
    await page.getByText("A secret failed to decrypt.").waitFor();
    await page.getByText("failed its integrity check").waitFor();
  });
});
