// Browser tests of the UI against the in-memory fake backend (build: npm run build:e2e).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shot, shotTall, theme, useBrowser } from "./harness.mjs";

const open = useBrowser();

describe("theme and navigation", () => {
  test("follows the OS preference, the toggle persists across a reload, Settings can go back to System", async () => {
    const page = await open("unlocked", { colorScheme: "dark" });
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    assert.equal(await theme(page), "dark");
    await shot(page, "dashboard-dark");
    await nav(page, "Accounts");
    await page.getByRole("table", { name: "Accounts" }).waitFor();
    await shot(page, "accounts-dark");
    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    await page.getByRole("button", { name: "Add account" }).click();
    await page.getByTestId("error-summary").waitFor();
    await shotTall(page, "account-form-dark");

    await page.getByRole("button", { name: "Switch to light theme" }).click();
    assert.equal(await theme(page), "light");
    assert.equal(await page.evaluate(() => localStorage.getItem("brokerdesk.theme")), "light");
    await page.reload();
    await page.getByRole("heading", { name: "Add account" }).waitFor();
    assert.equal(await theme(page), "light", "the choice survives a reload");
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    await shotTall(page, "account-form-light");

    await nav(page, "Settings");
    await page.getByRole("radio", { name: "System" }).check({ force: true });
    assert.equal(await theme(page), "dark");
    assert.equal(await page.evaluate(() => localStorage.getItem("brokerdesk.theme")), null);
  });

  test("Security changes the password and rotates the key; Settings shows the data folder and version", async () => {
    const page = await open("unlocked");
    await nav(page, "Activity");
    await page.getByRole("table", { name: "Audit log" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Activity" }).getAttribute("aria-current"), "page");

    await nav(page, "Security");
    await page.getByTestId("twofa-state").getByText("Off").waitFor();
    await page.getByTestId("protection-title").getByText("Master password").waitFor();
    assert.equal(await page.getByTestId("key-generation").textContent(), "3");
    await page.getByLabel(/^Current master password/).fill("wrong one");
    await page.getByLabel(/^New master password/).fill("another long passphrase");
    await page.getByLabel(/^Confirm new master password/).fill("another long passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("The current master password is not correct.").waitFor();
    await page.getByRole("button", { name: "Rotate data key…" }).click();
    await page.getByRole("dialog", { name: "Rotate the data key?" }).getByRole("button", { name: "Rotate key" }).click();
    await page.getByText("Data key rotated. Now on generation 4.").waitFor();
    assert.equal(await page.getByTestId("key-generation").textContent(), "4");
    await shot(page, "security");

    await nav(page, "Settings");
    assert.equal(await page.getByTestId("data-dir").textContent(), "/home/trader/.local/share/brokerdesk");
    assert.equal(await page.getByTestId("version").textContent(), "0.1.0");
    await shot(page, "settings");
    await nav(page, "Dashboard");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  });

  test("Settings sends a test notification and reports the result", async () => {
    const page = await open("unlocked");
    await nav(page, "Settings");
    const notifications = page.getByRole("region", { name: "Notifications" });
    await notifications.getByText("native desktop notifications for connection and order events").waitFor();
    const button = notifications.getByRole("button", { name: "Send a test notification" });
    await button.click();
    await page.locator(".toast-success").getByText("Test notification sent").waitFor();
    assert.deepEqual(await calls(page, "notify_test"), [{}], "no arguments");
    await shot(page, "settings-notifications");

    await page.evaluate(() =>
      window.__brokerdeskMock.failNext("notify_test", { code: "notification_failed", message: "the notification service refused it", fields: [] }),
    );
    await button.click();
    await page.locator(".toast-danger").getByText("The test notification could not be sent: the notification service refused it").waitFor();
    assert.equal((await calls(page, "notify_test")).length, 2);
  });
});
