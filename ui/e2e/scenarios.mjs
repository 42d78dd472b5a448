// Starting states for the browser tests, built through the real API of a fresh devserver (the
// commands the window and the CLI call), with the protocol simulators as brokers. Every
// scenario returns what the tests need to refer to: account ids, simulators, the two-factor
// secret and backup codes.
import { PASSWORD } from "./backend.mjs";
import { codeFor } from "./totp.mjs";

/** The simulators' demo credentials (src-tauri/sim/src/<broker>/mod.rs). */
export const DEMO = {
  oanda: { token: "sim-oanda-token-0123456789abcdef", accounts: ["101-004-1234567-001", "101-004-1234567-002"] },
  alpaca: { key: "PKSIMKEY0123456789AB", secret: "sim-alpaca-secret-0123456789abcdefghijkl" },
  tradier: { token: "sim-tradier-token-0123456789abcdef", account: "VA00000042" },
  tastytrade: { refreshToken: "sim-tt-refresh-0123456789abcdef", clientSecret: "sim-tt-client-secret-abcdef0123456789", account: "5WT00001" },
};

const NOTIFY = { connectionLost: true, connectionRestored: true, authFailure: true, orderFilled: false, riskBreach: true };
const NO_RISK = { maxPositionSizePct: null, maxOpenPositions: null, maxQty: null, maxLeverage: null, requireStopLoss: false, maxCorrelation: null };
const NO_PROP = { preset: "none", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null };

/** An `AccountInput` with the defaults of a new account, `fields` on top. */
export function accountInput(fields) {
  return {
    brokerAccountId: null,
    restUrl: null,
    streamUrl: null,
    credentials: { apiKey: null, apiSecret: null },
    propFirm: NO_PROP,
    risk: NO_RISK,
    instruments: [],
    timeframes: [],
    tradingHours: null,
    weekendTrading: true,
    notifications: NOTIFY,
    status: "active",
    statusReason: null,
    environment: "practice",
    ...fields,
  };
}

/** The input that gives back `account` as it is (credentials kept), `fields` on top. */
export function inputOf(account, fields = {}) {
  const rest = { ...account };
  for (const key of ["id", "credentials", "statusHistory", "mode", "createdAt", "updatedAt"]) delete rest[key];
  return { ...rest, credentials: { apiKey: null, apiSecret: null }, statusReason: null, ...fields };
}

/** "FTMO challenge": OANDA practice on the simulator, FTMO rules, in drawdown. */
export async function addFtmo(bd, oanda, { check = true, token = DEMO.oanda.token, instruments = ["EUR_USD", "GBP_USD", "USD_JPY"] } = {}) {
  const { account } = await bd.api("account_add", {
    check,
    input: accountInput({
      name: "FTMO challenge",
      broker: "oanda",
      brokerAccountId: DEMO.oanda.accounts[0],
      restUrl: oanda.url,
      streamUrl: oanda.url,
      credentials: { apiKey: token, apiSecret: null },
      // The preset alone: the core fills in FTMO's numbers and clock (sending the numbers
      // without the clock would be a custom set on UTC midnight).
      propFirm: { preset: "ftmo", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
      risk: { ...NO_RISK, maxOpenPositions: 3, maxLeverage: 30, requireStopLoss: true },
      instruments,
      timeframes: ["M15", "H1", "H4"],
    }),
  });
  // A second status with its reason, so the history has two entries.
  return bd.api("account_update", { id: account.id, check: false, input: inputOf(account, { status: "in_drawdown", statusReason: "Down 4.1% on the day" }) }).then((r) => r.account);
}

/** "Alpaca swing": Alpaca paper on the simulator, US trading hours. */
export async function addAlpaca(bd, alpaca, { instruments = ["AAPL", "SPY"] } = {}) {
  const { account } = await bd.api("account_add", {
    input: accountInput({
      name: "Alpaca swing",
      broker: "alpaca",
      restUrl: alpaca.url,
      streamUrl: alpaca.url,
      credentials: { apiKey: DEMO.alpaca.key, apiSecret: DEMO.alpaca.secret },
      risk: { ...NO_RISK, maxPositionSizePct: 10 },
      instruments,
      timeframes: ["D1"],
      tradingHours: { start: "09:30", end: "16:00", timezone: "America/New_York" },
    }),
  });
  return account;
}

/** A vault with a master password, unlocked, and no accounts. */
export async function emptyVault(bd) {
  await bd.api("vault_init", { password: PASSWORD });
  return {};
}

/** `unlocked`: a password vault with "FTMO challenge" (OANDA) and "Alpaca swing" (Alpaca). */
export async function unlocked(bd, options = {}) {
  if (!options.skipInit) await bd.api("vault_init", { password: PASSWORD });
  const oanda = await bd.sim("oanda");
  const alpacaSim = await bd.sim("alpaca");
  const ftmo = await addFtmo(bd, oanda, options.ftmo);
  const alpaca = await addAlpaca(bd, alpacaSim, options.alpaca);
  return { oanda, alpacaSim, ftmo, alpaca };
}

/** `locked`: `unlocked`, then locked (as at the next start of the app). */
export async function locked(bd) {
  const s = await unlocked(bd);
  await bd.api("vault_lock");
  return s;
}

/**
 * Turns two-factor authentication on through the API (setup, then a code computed from the
 * secret like an authenticator app would) and closes the step-up window the way the core
 * does it: locking ends a fresh verification. Returns the secret and the backup codes.
 */
export async function enableTwofa(bd) {
  const { secret } = await bd.api("twofa_setup");
  const { codes } = await bd.api("twofa_enable", { code: await codeFor(secret) });
  await closeStepUp(bd);
  return { secret, backupCodes: codes };
}

/** Ends the step-up window: lock and unlock again (what "16 minutes later" would do). */
export async function closeStepUp(bd) {
  await bd.api("vault_lock");
  await bd.api("vault_unlock", { password: PASSWORD });
}

/** `unlocked-2fa`: `unlocked` with two-factor authentication on and its window closed. */
export async function unlocked2fa(bd) {
  const s = await unlocked(bd);
  return { ...s, ...(await enableTwofa(bd)) };
}

/**
 * `connections`: four accounts with live connections to simulators — "FTMO challenge"
 * (OANDA: orders and prices), "Alpaca swing" (Alpaca), "Tradier income" (Tradier, saved
 * without a check with a token the broker refuses: its connection fails on auth) and "Tasty
 * options" (Tastytrade: an OAuth session with a 15-minute access token). FTMO, Alpaca and
 * Tasty are live (checked with the broker when added; 2FA is off, so no code is asked).
 */
export async function connections(bd, options = {}) {
  const s = await unlocked(bd, options);
  const tradierSim = await bd.sim("tradier");
  const tastySim = await bd.sim("tastytrade");
  const { account: tradier } = await bd.api("account_add", {
    check: false,
    input: accountInput({
      name: "Tradier income",
      broker: "tradier",
      brokerAccountId: DEMO.tradier.account,
      restUrl: `${tradierSim.url}/v1`,
      streamUrl: `${tradierSim.url.replace(/^http/, "ws")}/v1/markets/events`,
      credentials: { apiKey: "revoked-tradier-token-77c1", apiSecret: null },
      instruments: ["SPY", "QQQ"],
    }),
  });
  const { account: tasty } = await bd.api("account_add", {
    input: accountInput({
      name: "Tasty options",
      broker: "tastytrade",
      environment: "live",
      brokerAccountId: DEMO.tastytrade.account,
      restUrl: tastySim.url,
      streamUrl: `${tastySim.url.replace(/^http/, "ws")}/dxlink`,
      credentials: { apiKey: DEMO.tastytrade.refreshToken, apiSecret: DEMO.tastytrade.clientSecret },
      instruments: ["SPY", "QQQ"],
    }),
  });
  await goLive(bd, [s.ftmo, s.alpaca, tasty]);
  return { ...s, tradierSim, tastySim, tradier, tasty };
}

/**
 * Moves accounts to live mode the way the core allows it: two-factor on and a fresh code
 * (enabling verifies one), credentials the broker accepted in the last minutes (the accounts
 * were checked when added). Two-factor is then turned off again (while the code is fresh),
 * so the tests start from live accounts without a code to type.
 */
export async function goLive(bd, accounts, { keepTwofa = false } = {}) {
  const { secret } = await bd.api("twofa_setup");
  const { codes } = await bd.api("twofa_enable", { code: await codeFor(secret) });
  for (const a of accounts) {
    // Only an active account may go live: one in drawdown goes live first, then back in drawdown.
    const { account } = await bd.api("account_get", { id: a.id }).then((account) => ({ account }));
    if (account.status !== "active") await bd.api("account_update", { id: a.id, check: false, input: inputOf(account, { status: "active" }) });
    await bd.api("account_set_mode", { id: a.id, mode: "live" });
    if (account.status !== "active") {
      const last = account.statusHistory.at(-1);
      await bd.api("account_update", { id: a.id, check: false, input: inputOf(account, { status: account.status, statusReason: last?.reason ?? null }) });
    }
  }
  if (!keepTwofa) await bd.api("twofa_disable");
  // A live account runs an order channel too: wait until the runtime has re-synced them, so
  // a window opened next starts from the settled set of channels.
  await until(
    () => bd.api("connections_snapshot"),
    (snap) => accounts.every((a) => snap.find((x) => x.accountId === a.id)?.channels.some((c) => c.channel === "order")),
    { what: "the live accounts' order channels" },
  );
  return { secret, backupCodes: codes };
}

/** Waits until `predicate(await read())` holds (polling), up to `ms`. */
export async function until(read, predicate, { ms = 10_000, every = 100, what = "the condition" } = {}) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await read();
    if (predicate(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((ok) => setTimeout(ok, every));
  }
}

/** The channel `channel` of account `id` in a connections snapshot. */
export const channelOf = (snapshot, id, channel) => snapshot.find((a) => a.accountId === id)?.channels.find((c) => c.channel === channel);

/** Waits until every listed account's channels are connected. */
export async function connected(bd, ids, ms = 15_000) {
  return until(
    () => bd.api("connections_snapshot"),
    (snap) => ids.every((id) => {
      const a = snap.find((x) => x.accountId === id);
      return a && a.channels.length > 0 && a.channels.every((c) => c.state.state === "connected");
    }),
    { ms, what: `connected channels of ${ids.join(", ")}` },
  );
}

/** Flips the last byte (part of the AEAD tag) of a stored secret, as an edit of the file would. */
export function tamperSecret(bd, accountId, field) {
  bd.sql(
    `UPDATE account_secrets SET sealed = CAST(substr(sealed, 1, length(sealed) - 1) || CASE WHEN substr(sealed, -1) = X'00' THEN X'01' ELSE X'00' END AS BLOB) ` +
      `WHERE account_id = '${accountId}' AND field = '${field}';`,
  );
}

/**
 * `activity`: `unlocked`, then what fills an audit log in real use — an account added and
 * removed from the command line (actor CLI), a broker refusing Alpaca's stored key when it was
 * verified, a lock, a wrong master password and the unlock.
 */
export async function activity(bd) {
  const s = await unlocked(bd);
  const tradier = await bd.sim("tradier");
  const added = bd.cli([
    "account", "add", "--name", "Tradier test", "--broker", "tradier", "--env", "practice", "--account-id", DEMO.tradier.account,
    "--api-key", DEMO.tradier.token, "--rest-url", `${tradier.url}/v1`, "--stream-url", `${tradier.url.replace(/^http/, "ws")}/v1/markets/events`,
  ]);
  if (added.status !== 0) throw new Error(`brokerdesk account add: ${added.stdout} ${added.stderr}`);
  const removedId = added.json.id;
  const removed = bd.cli(["account", "remove", removedId]);
  if (removed.status !== 0) throw new Error(`brokerdesk account remove: ${removed.stdout} ${removed.stderr}`);
  await s.alpacaSim.fault("refuse_auth");
  await bd.api("account_verify", { id: s.alpaca.id }).then(
    () => Promise.reject(new Error("the refused verification went through")),
    () => {},
  );
  await s.alpacaSim.fault(null);
  await bd.api("vault_lock");
  await bd.api("vault_unlock", { password: "not the password" }).catch(() => {});
  await bd.api("vault_unlock", { password: PASSWORD });
  return { ...s, removedId };
}
