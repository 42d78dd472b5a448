// Browser tests of the app's shell (theme, navigation, Security, Settings) against the real
// core (brokerdesk-devserver on a fresh profile).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readFileSync, writeFileSync } from "node:fs";
import { calls, nav, shot, shotTall, theme, useBrowser } from "./harness.mjs";
import { DEMO } from "./scenarios.mjs";

const open = useBrowser();

describe("theme and navigation", () => {
  test("follows the OS preference, the toggle persists across a reload, Settings can go back to System", async () => {
    const { page } = await open("unlocked", { colorScheme: "dark" });
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
    await shotTall(page, "account-form-dark", { docs: "form-dark" });

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
    const { page, bd } = await open("unlocked");
    await nav(page, "Activity");
    await page.getByRole("table", { name: "Audit log" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Activity" }).getAttribute("aria-current"), "page");

    await nav(page, "Security");
    await page.getByTestId("twofa-state").getByText("Off").waitFor();
    await page.getByTestId("protection-title").getByText("Master password").waitFor();
    assert.equal(await page.getByTestId("key-generation").textContent(), "1");
    await page.getByLabel(/^Current master password/).fill("wrong one");
    await page.getByLabel(/^New master password/).fill("another long passphrase");
    await page.getByLabel(/^Confirm new master password/).fill("another long passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Wrong master password.").waitFor();
    await page.getByRole("button", { name: "Rotate data key…" }).click();
    await page.getByRole("dialog", { name: "Rotate the data key?" }).getByRole("button", { name: "Rotate key" }).click();
    await page.getByText("Data key rotated. Now on generation 2.").waitFor();
    assert.equal(await page.getByTestId("key-generation").textContent(), "2");
    // Every stored credential was re-sealed under the new key and still opens.
    const masked = (await bd.api("accounts_list")).flatMap((a) => a.credentials.map((c) => c.masked));
    assert.deepEqual(masked.sort(), ["••••89AB", "••••cdef", "••••ijkl"]);
    await shot(page, "security");

    await nav(page, "Settings");
    assert.equal(await page.getByTestId("data-dir").textContent(), bd.dataDir);
    assert.equal(await page.getByTestId("version").textContent(), "0.1.0");
    await shot(page, "settings");
    await nav(page, "Dashboard");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  });

  test("Settings sends a test notification and reports the result", async () => {
    const { page, bd } = await open("unlocked");
    await nav(page, "Settings");
    const notifications = page.getByRole("region", { name: "Notifications" });
    await notifications.getByText("native desktop notifications for connection and order events").waitFor();
    const button = notifications.getByRole("button", { name: "Send a test notification" });
    await button.click();
    await page.locator(".toast-success").getByText("Test notification sent").waitFor();
    assert.deepEqual(await calls(page, "notify_test"), [{}], "no arguments");
    assert.deepEqual(await bd.notifications(), [{ title: "Brokerdesk", body: "Brokerdesk notifications work" }], "the desktop was asked to show it");
    await shot(page, "settings-notifications");

    // The desktop's notification service refuses (no daemon, notifications blocked).
    await bd.refuseNotifications("the notification service refused it");
    await button.click();
    await page.locator(".toast-danger").getByText("Could not send the notification: the notification service refused it.").waitFor();
    assert.equal((await calls(page, "notify_test")).length, 2);
  });

  test("Settings → Desktop: start at login is off by default, turned on and off only by the switch, audited, announced", async () => {
    const { page, bd } = await open("unlocked");
    await nav(page, "Settings");
    const desktop = page.getByRole("region", { name: "Desktop" });
    const sw = desktop.getByRole("switch", { name: "Start Brokerdesk when I log in" });
    await sw.waitFor();
    assert.equal(await sw.isChecked(), false, "off by default");
    await desktop.getByText("It starts hidden in the tray").waitFor();
    // The development server registers nothing with the OS and says so.
    assert.equal(await desktop.getByTestId("autostart-location").textContent(), "development server: kept in memory, nothing is registered with the OS");
    assert.deepEqual(await calls(page, "autostart_set"), [], "opening Settings changes nothing");
    assert.equal((await calls(page, "autostart_status")).length, 1, "the OS's state is read");

    await sw.click({ force: true });
    await page.locator(".toast-success").getByText("Brokerdesk will start when you log in, hidden in the tray.").waitFor();
    assert.equal(await sw.isChecked(), true);
    assert.deepEqual(await calls(page, "autostart_set"), [{ enabled: true }]);
    assert.deepEqual((await bd.api("autostart_status")).enabled, true, "the host has it on");
    const notices = await bd.notifications();
    assert.equal(notices.length, 1, "turning it on is announced");
    assert.match(notices[0].body, /^Brokerdesk will start when you log in, hidden in the tray\. Turn it off in Settings → Desktop\.$/);
    await shot(page, "settings-desktop");

    await sw.click({ force: true });
    await page.locator(".toast-success").getByText("Brokerdesk no longer starts when you log in.").waitFor();
    assert.equal(await sw.isChecked(), false);
    assert.equal((await bd.api("autostart_status")).enabled, false);
    assert.equal((await bd.notifications()).length, 1, "turning it off sends nothing");
    const audit = await bd.api("audit_list", { filter: { events: ["autostart_changed"] } });
    assert.deepEqual(
      audit.map((e) => e.detail),
      [
        "start at login turned off (development server: kept in memory, nothing is registered with the OS)",
        "start at login turned on (development server: kept in memory, nothing is registered with the OS)",
      ],
    );
  });

  test("Settings exports the configuration as JSON or YAML, without a credential", async () => {
    const { page, bd } = await open("unlocked");
    await nav(page, "Settings");
    const data = page.getByRole("region", { name: "Data" });
    await data.getByText("Credentials are not exported unless you include them").waitFor();
    await data.getByRole("button", { name: "Export configuration" }).click();
    // The devserver has no Downloads folder: exports go to the profile's exports/ folder.
    const dir = bd.dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const saved = new RegExp(`^Saved to (${dir}/exports/brokerdesk-config-\\d{8}-\\d{6}\\.json)\\. No credentials are included\\.$`);
    const result = data.getByTestId("export-result");
    await result.getByText(saved).waitFor();
    assert.deepEqual(await calls(page, "config_export"), [{ format: "json", accounts: [], passphrase: null }]);
    const path = (await result.textContent()).match(saved)[1];
    const doc = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(doc.schemaVersion, 1);
    assert.deepEqual(doc.accounts.map((a) => a.name).sort(), ["Alpaca swing", "FTMO challenge"]);
    const ftmo = doc.accounts.find((a) => a.name === "FTMO challenge");
    assert.deepEqual(ftmo.credentials, { api_key: "not exported" });
    const text = readFileSync(path, "utf8");
    for (const secret of [DEMO.oanda.token, DEMO.alpaca.secret, DEMO.alpaca.key]) assert.ok(!text.includes(secret), "no credential in the export");
    await shot(page, "settings-data");

    await data.getByRole("radio", { name: "YAML" }).check({ force: true });
    await data.getByRole("button", { name: "Export configuration" }).click();
    await result.getByText(/brokerdesk-config-\d{8}-\d{6}(-2)?\.yaml\. No credentials/).waitFor();
    assert.deepEqual((await calls(page, "config_export")).at(-1), { format: "yaml", accounts: [], passphrase: null });
  });

  test("Settings imports a configuration after showing what it would change", async () => {
    const { page, bd } = await open("unlocked");
    // A file made elsewhere: this profile's export with one account renamed (a new one) and
    // the other's watchlist grown (a conflict).
    const doc = JSON.parse(await bd.api("config_export", { format: "json", accounts: [] }).then((p) => readFileSync(p, "utf8")));
    const alpaca = doc.accounts.find((a) => a.name === "Alpaca swing");
    alpaca.name = "Alpaca copy";
    const ftmo = doc.accounts.find((a) => a.name === "FTMO challenge");
    ftmo.instruments = [...ftmo.instruments, "AUD_USD"];
    const file = `${bd.dataDir}/made-elsewhere.json`;
    writeFileSync(file, JSON.stringify(doc, null, 2));

    await nav(page, "Settings");
    await page.getByRole("region", { name: "Data" }).getByRole("button", { name: "Import configuration…" }).click();
    const dialog = page.getByRole("dialog", { name: "Import a configuration" });
    await dialog.locator("#import-file").setInputFiles(file);
    const preview = dialog.getByTestId("import-preview");
    await preview.getByRole("region", { name: "Alpaca copy" }).getByText("New account, in paper mode", { exact: false }).waitFor();
    await preview.getByRole("region", { name: "FTMO challenge" }).getByText("An account has this name", { exact: false }).waitFor();
    assert.ok(await dialog.getByRole("button", { name: "Apply import" }).isDisabled(), "a conflict needs a choice first");
    await shotTall(page, "settings-import-preview");
    // Nothing changed by looking.
    assert.deepEqual((await bd.api("accounts_list")).map((a) => a.name).sort(), ["Alpaca swing", "FTMO challenge"]);

    await dialog.getByRole("radio", { name: /Replace/ }).check();
    await preview.getByRole("region", { name: "FTMO challenge" }).getByText("Replaced", { exact: false }).waitFor();
    await preview.getByText("AUD_USD", { exact: false }).first().waitFor();
    await dialog.getByRole("button", { name: "Apply import" }).click();
    await dialog.getByTestId("import-done").waitFor();
    const accounts = await bd.api("accounts_list");
    assert.deepEqual(accounts.map((a) => a.name).sort(), ["Alpaca copy", "Alpaca swing", "FTMO challenge"]);
    assert.ok(accounts.find((a) => a.name === "FTMO challenge").instruments.includes("AUD_USD"));
    const copy = accounts.find((a) => a.name === "Alpaca copy");
    assert.equal(copy.mode, "paper");
    assert.deepEqual(copy.credentials, [], "imported without credentials");
    // The accounts list says what it lacks, and leads to the editor.
    await dialog.getByRole("button", { name: "Close" }).click();
    await nav(page, "Accounts");
    await page.locator(`tr[data-account-id="${copy.id}"]`).getByRole("link", { name: "Missing — enter them" }).waitFor();
  });

  test("Settings sets a backup passphrase, backs up, lists and verifies the backup", async () => {
    const { page, bd } = await open("unlocked");
    await nav(page, "Settings");
    const card = page.getByRole("region", { name: "Backups" });
    await card.getByText("Without this passphrase no one").waitFor();
    const passphrase = "my long backup passphrase";
    await card.getByLabel("Backup passphrase").fill(passphrase);
    await card.getByLabel("Repeat it").fill("something else entirely");
    await card.getByText("The two entries differ.").waitFor();
    assert.ok(await card.getByRole("button", { name: "Set backup passphrase" }).isDisabled());
    await card.getByLabel("Repeat it").fill(passphrase);
    await card.getByRole("button", { name: "Set backup passphrase" }).click();
    await card.getByText("Backup passphrase set. Keep it safe, apart from the backups.").waitFor();
    await card.getByTestId("backup-last").getByText("None yet").waitFor();
    await card.getByTestId("backup-list-empty").waitFor();

    await card.getByRole("button", { name: "Back up now" }).click();
    const dir = bd.dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const written = new RegExp(`^Backup written to (${dir}/backups/brokerdesk-\\d{8}-\\d{6}Z\\.bdbackup) \\(`);
    await card.getByTestId("backup-message").getByText(written).waitFor();
    const path = (await card.getByTestId("backup-message").textContent()).match(written)[1];
    const bytes = readFileSync(path);
    for (const secret of [DEMO.oanda.token, DEMO.alpaca.secret, passphrase, "SQLite format 3"]) assert.ok(!bytes.includes(secret), `${secret} in the backup`);
    const list = card.getByTestId("backup-list");
    await list.getByText(/by hand/).waitFor();
    await list.getByRole("button", { name: "Verify" }).click();
    await list.getByTestId("backup-verified").getByText("intact: 2 account(s)", { exact: false }).waitFor();
    assert.deepEqual((await calls(page, "backup_verify")).length, 1);

    await card.getByLabel("Keep daily").fill("0");
    await card.getByRole("button", { name: "Save backup settings" }).click();
    await card.getByText("Keep between 1 and 365 daily backups", { exact: false }).waitFor();
    await card.getByLabel("Keep daily").fill("14");
    await card.getByRole("button", { name: "Save backup settings" }).click();
    await card.getByText("Backup settings saved.").waitFor();
    assert.equal((await bd.api("backup_status")).config.keepDaily, 14);
    await shotTall(page, "settings-backups");
  });

  test("Settings checks the profile's health, and with the brokers signs in at each", async () => {
    const { page } = await open("unlocked");
    await nav(page, "Settings");
    const health = page.getByRole("region", { name: "Health" });
    await health.getByRole("button", { name: "Check now" }).click();
    const report = health.getByTestId("health-report");
    await report.getByText("Healthy, with warnings below.").waitFor();
    await report.getByTestId("health-database").getByText("the database passes SQLite's quick check").waitFor();
    await report.getByTestId("health-audit_log").getByText(/^all \d+ entries are intact$/).waitFor();
    await report.getByTestId("health-accounts").getByText("2 account(s); every stored state verifies and every credential opens").waitFor();
    await report.getByTestId("health-backups").getByText("backups are not set up: no backup passphrase").waitFor();
    assert.equal(await report.getByTestId("health-broker").count(), 0, "no broker asked without the deep check");
    assert.deepEqual(await calls(page, "health"), [{ deep: false }]);

    await health.getByRole("button", { name: "Check brokers too" }).click();
    await report.getByText("FTMO challenge").waitFor();
    assert.equal(await report.getByTestId("health-broker").count(), 2);
    for (const row of await report.getByTestId("health-broker").all()) assert.match(await row.textContent(), /^OK.*signed in; broker account …/);
    assert.deepEqual((await calls(page, "health")).at(-1), { deep: true });
    await shotTall(page, "settings-health");
  });
});
