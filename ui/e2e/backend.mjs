// The real backend of the browser tests: `brokerdesk-devserver` on a fresh profile in a temp
// dir, serving the UI's production build, the IPC contract over HTTP (`POST /api/<command>`),
// the window events over a WebSocket, and `/dev/...` test controls (protocol simulators with
// their fault switches, recorded notifications and clipboard). Scenarios are set up through
// that API, as the app's window or the CLI would; nothing here fakes a backend answer.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
export const UI_DIST = join(here, "..", "dist");
const TARGET = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "brokerdesk", "target");
export const DEVSERVER_BIN = process.env.BROKERDESK_DEVSERVER_BIN ?? join(TARGET, "debug", "brokerdesk-devserver");
export const CLI_BIN = process.env.BROKERDESK_CLI_BIN ?? join(TARGET, "debug", "brokerdesk");

/** The master password the scenarios create their vaults with. */
export const PASSWORD = "correct horse battery";

/** An error the API answered with (`{code, message, fields}`). */
export class ApiError extends Error {
  constructor(command, body) {
    super(`${command}: ${body?.code}: ${body?.message}`);
    this.code = body?.code;
    this.fields = body?.fields ?? [];
    this.body = body;
  }
}

/** Waits for `child` to exit, up to `ms`; returns whether it did. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      ok(true);
    });
  });
}

/** Stops a child we started: SIGTERM, then SIGKILL if it does not go within 5 s. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await exited(child, 5000))) {
    child.kill("SIGKILL");
    await exited(child, 2000);
  }
}

/**
 * A private Secret Service for tests that need the OS keychain: its own D-Bus session bus and
 * a gnome-keyring daemon on it, with a throwaway keyring (never the user's). The devserver
 * started with `keyring` talks to it; `secretTool` reads and edits its entries.
 */
export async function startKeyring() {
  const home = mkdtempSync(join(tmpdir(), "bd-keyring-"));
  const bus = spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1"], { stdio: ["ignore", "pipe", "inherit"] });
  const address = await new Promise((ok, fail) => {
    const lines = createInterface({ input: bus.stdout });
    lines.once("line", (l) => ok(l.trim()));
    bus.once("exit", (code) => fail(new Error(`dbus-daemon exited (${code})`)));
  });
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: home, XDG_RUNTIME_DIR: home };
  const daemon = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], { env, stdio: ["pipe", "ignore", "ignore"] });
  daemon.stdin.end("ci"); // the throwaway keyring's password
  const secretTool = (args, input) => {
    const r = spawnSync("secret-tool", args, { env, input, encoding: "utf8", timeout: 10_000 });
    if (r.status !== 0 && !(args[0] === "search" && r.status === 1)) throw new Error(`secret-tool ${args[0]} failed: ${r.stderr}`);
    // `search` prints the secret on stdout and the item's path and attributes on stderr.
    return args[0] === "search" ? `${r.stdout}\n${r.stderr}` : r.stdout;
  };
  // Wait until the daemon owns its bus name. (Asking secret-tool first would make the bus
  // start a second daemon by activation, one without the unlocked "login" collection.)
  for (let i = 0; ; i++) {
    const r = spawnSync(
      "dbus-send",
      ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"],
      { env, encoding: "utf8", timeout: 5000 },
    );
    if (/boolean true/.test(r.stdout)) break;
    if (i > 100) throw new Error(`the test keyring did not start: ${r.stderr}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    env: { DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: home, XDG_RUNTIME_DIR: home },
    secretTool,
    /** Every Brokerdesk entry: `[{ attributes, secret }]` (the vault's key, base64). */
    entries() {
      const out = secretTool(["search", "--all", "--unlock", "service", "dev.brokerdesk.vault"]);
      const items = [];
      let item = null;
      for (const line of out.split("\n")) {
        if (line.startsWith("[")) items.push((item = { attributes: {}, secret: null }));
        else if (item && line.startsWith("secret = ")) item.secret = line.slice("secret = ".length);
        else if (item && line.startsWith("attribute.")) {
          const [k, v] = line.slice("attribute.".length).split(" = ");
          item.attributes[k] = v;
        }
      }
      return items;
    },
    /** Deletes every Brokerdesk entry (what a user deleting it in Seahorse does). */
    clear() {
      secretTool(["clear", "service", "dev.brokerdesk.vault"]);
    },
    /** Puts entries back, as read by `entries()`. */
    restore(items) {
      for (const { attributes, secret } of items) {
        secretTool(["store", "--label=Brokerdesk", ...Object.entries(attributes).flat()], secret);
      }
    },
    async stop() {
      await stopChild(daemon);
      await stopChild(bus);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `brokerdesk-devserver` on `dataDir` (a fresh temp dir by default) and returns its
 * handle. `keyring` (from `startKeyring`) gives it an OS keychain; without it the keychain is
 * off (`BROKERDESK_NO_KEYCHAIN=1`), as on a headless machine. `keepaliveMs` checks order
 * connections that often instead of every 30 s (a test of latency need not wait).
 */
export async function startBackend({ dataDir, keyring = null, keepaliveMs = null } = {}) {
  const ownDir = !dataDir;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "bd-e2e-"));
  const env = { ...process.env, ...(keyring ? keyring.env : {}), BROKERDESK_NO_KEYCHAIN: keyring ? "0" : "1" };
  delete env.BROKERDESK_DATA_DIR;
  const args = ["--data-dir", dir, "--ui", UI_DIST, "--test-controls", ...(keepaliveMs ? ["--keepalive-ms", String(keepaliveMs)] : [])];
  const child = spawn(DEVSERVER_BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const url = await new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (l) => {
      try {
        ok(JSON.parse(l).url);
      } catch {
        fail(new Error(`unexpected first line from the devserver: ${l}`));
      }
    });
    child.once("error", (e) => fail(new Error(`cannot start ${DEVSERVER_BIN}: ${e.message} (build it: cargo build -p brokerdesk-devserver)`)));
    child.once("exit", (code) => fail(new Error(`the devserver exited (${code}) before listening:\n${stderr}`)));
  });
  return new Backend({ url, dataDir: dir, child, ownDir, keyring, stderr: () => stderr });
}

export class Backend {
  constructor({ url, dataDir, child, ownDir, keyring, stderr }) {
    this.url = url;
    this.dataDir = dataDir;
    this.keyring = keyring;
    this.child = child;
    this.ownDir = ownDir;
    this.stderr = stderr;
    this.sims = [];
  }

  async #post(path, body) {
    const r = await fetch(`${this.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    return { ok: r.ok, status: r.status, json };
  }

  /** Runs a command of the IPC contract; rejects with `ApiError` when the core refuses. */
  async api(command, args = {}) {
    const { ok, json } = await this.#post(`/api/${command}`, args);
    if (!ok) throw new ApiError(command, json);
    return json;
  }

  /** A `/dev/...` test control. */
  async dev(path, body) {
    const { ok, status, json } = await this.#post(`/dev${path}`, body);
    if (!ok) throw new Error(`/dev${path}: HTTP ${status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Starts a protocol simulator of `broker` in the devserver; returns its handle. */
  async sim(broker, options = {}) {
    const { id, url } = await this.dev("/sims", { broker, ...options });
    const control = (action, body) => this.dev(`/sims/${id}/${action}`, body);
    const sim = {
      id,
      url,
      /** `refuse_auth`, `rate_limit`, `server_error`, `garbage`, or null to clear. */
      fault: (fault, extra = {}) => control("fault", { fault, ...extra }),
      delay: (ms) => control("delay", { ms }),
      down: (ms) => control("down", { ms }),
      cut: () => control("cut"),
      halfOpen: (on = true) => control("half_open", { on }),
      expire: () => control("expire"),
      stop: () => control("stop"),
      requests: async () => (await (await fetch(`${this.url}/dev/sims/${id}`)).json()).requests,
    };
    this.sims.push(sim);
    return sim;
  }

  /** Every native notification the app was asked to show. */
  async notifications() {
    return (await fetch(`${this.url}/dev/notifications`)).json();
  }

  /** Makes the desktop's notification service refuse notifications (`null`: accept again). */
  refuseNotifications(reason) {
    return this.dev("/notifications/refuse", { reason });
  }

  /** Whether the app's clipboard holds exactly `text` (the secret itself never comes back). */
  async clipboardHolds(text) {
    return (await this.dev("/clipboard", { text })).holds;
  }

  /** Whether the app's clipboard holds text containing every one of `parts`. */
  async clipboardContains(...parts) {
    return (await this.dev("/clipboard", { contains: parts })).holds;
  }

  /** Runs the `brokerdesk` CLI on this profile (another process, like a user's terminal). */
  cli(args, { password = PASSWORD, env = {} } = {}) {
    const r = spawnSync(CLI_BIN, ["--data-dir", this.dataDir, "--json", ...args], {
      env: { ...process.env, ...(this.keyring ? this.keyring.env : {}), BROKERDESK_NO_KEYCHAIN: this.keyring ? "0" : "1", BROKERDESK_PASSWORD: password ?? "", ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    if (r.error) throw new Error(`cannot run ${CLI_BIN}: ${r.error.message} (build it: cargo build -p brokerdesk-cli)`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: r.stdout.trim() ? JSON.parse(r.stdout) : null };
  }

  /**
   * Runs SQL on the profile's database with the sqlite3 shell, as someone with file access
   * could (tampering tests). Returns its output.
   */
  sql(statement) {
    const r = spawnSync("sqlite3", ["-cmd", ".timeout 5000", join(this.dataDir, "brokerdesk.db"), statement], { encoding: "utf8", timeout: 10_000 });
    if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Stops the devserver (and its simulators); `keepData` keeps the profile for a restart. */
  async stop({ keepData = false } = {}) {
    await stopChild(this.child);
    if (this.ownDir && !keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
