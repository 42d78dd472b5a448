import type { Account } from "../bindings/Account";
import type { ApiError } from "../bindings/ApiError";
import type { AuditEvent } from "../bindings/AuditEvent";
import type { FakeState, Scenario } from "./mockBackend";
import { MOCK_PASSWORD } from "./mockBackend";
import { appendAudit } from "./mockAudit";
import type { AuditRow } from "./mockAudit";
import { seedConnections } from "./mockConnections";
import { TWOFA_OFF } from "./mockTwofa";
import type { TwofaState } from "./mockTwofa";

const NOTIFY = { connectionLost: true, connectionRestored: true, authFailure: true, orderFilled: false, riskBreach: true };
const NO_RISK = { maxPositionSizePct: null, maxOpenPositions: null, maxQty: null, maxLeverage: null, requireStopLoss: false, maxCorrelation: null };

/** The vault's errors, worded as the backend words them. */
export const KEYCHAIN_KEY_MISSING: ApiError = {
  code: "keychain_key_missing",
  message:
    "the OS keychain has no Brokerdesk key for this vault (it may have been deleted, or this data directory was copied from another user or machine)",
  fields: [],
};

export const TAMPERED_ALPACA_KEY: ApiError = {
  code: "ciphertext_tampered",
  message: "the sealed value for account:acc_alpaca:api_key has been tampered with or corrupted",
  fields: [],
};

function seedAccounts(): FakeState["accounts"] {
  const t = "2026-11-02T09:15:00Z";
  const base = {
    restUrl: null,
    streamUrl: null,
    tradingHours: null,
    weekendTrading: false,
    notifications: NOTIFY,
    mode: "paper",
    createdAt: t,
    updatedAt: t,
  } as const;
  const ftmo: Account = {
    ...base,
    id: "acc_ftmo",
    name: "FTMO challenge",
    broker: "oanda",
    environment: "practice",
    brokerAccountId: "101-004-2718281-001",
    credentials: [{ field: "api_key", label: "Personal access token", masked: "••••9f3a", error: null }],
    propFirm: { preset: "ftmo", maxDailyLossPct: "5", maxTotalLossPct: "10", profitTargetPct: "10" },
    risk: { ...NO_RISK, maxOpenPositions: 3, maxLeverage: "30", requireStopLoss: true },
    instruments: ["EUR_USD", "GBP_USD", "XAU_USD"],
    timeframes: ["M15", "H1", "H4"],
    status: "in_drawdown",
    statusHistory: [
      { status: "active", reason: null, changedAt: t },
      { status: "in_drawdown", reason: "Down 4.1% on the day", changedAt: "2026-11-14T16:40:00Z" },
    ],
  };
  const alpaca: Account = {
    ...base,
    id: "acc_alpaca",
    name: "Alpaca swing",
    broker: "alpaca",
    environment: "practice",
    brokerAccountId: null,
    credentials: [
      // Its stored key "was edited outside Brokerdesk": the backend cannot open it.
      { field: "api_key", label: "API key ID", masked: "unreadable", error: TAMPERED_ALPACA_KEY },
      { field: "api_secret", label: "Secret key", masked: "••••k2Lw", error: null },
    ],
    propFirm: { preset: "none", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
    risk: { ...NO_RISK, maxPositionSizePct: "10" },
    instruments: ["AAPL", "SPY"],
    timeframes: ["D1"],
    tradingHours: { start: "09:30", end: "16:00", timezone: "America/New_York" },
    status: "active",
    statusHistory: [{ status: "active", reason: null, changedAt: t }],
  };
  return [
    { account: ftmo, secrets: { apiKey: "0123456789abcdef-9f3a", apiSecret: null } },
    { account: alpaca, secrets: { apiKey: "AKXXXXXXXXQ7RZ", apiSecret: "secretk2Lw" }, unreadable: { apiKey: TAMPERED_ALPACA_KEY } },
  ];
}

/** The `unlocked-2fa` scenario's TOTP secret (base32) and backup codes (all unused). */
export const MOCK_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
export const MOCK_BACKUP_CODES = [
  "k7m2p-x9qrt", "a3b4c-d5e6f", "h8j9k-m2n3p", "q4r5s-t6u7v", "w8x9y-z2a3b",
  "c4d5e-f6g7h", "j8k9m-n2p3q", "r4s5t-u6v7w", "x8y9z-a2b3c", "d4e5f-g6h7j",
];
/** An account removed from the command line before the seeded history starts. */
export const REMOVED_ACCOUNT_ID = "9c1e4f2a-7b3d-4e15-a6f0-2d8c5b9e1a47";

type Seed = [at: string, event: AuditEvent, accountId: string | null, detail: string, actor?: string];

function seedAudit(protection: "password" | "keychain", twofa: boolean): AuditRow[] {
  const seeds: Seed[] = [
    ["2026-11-02T09:00:00.000Z", "vault_created", null, `protected by the ${protection === "password" ? "master password" : "OS keychain"}`],
    ["2026-11-02T09:15:00.000Z", "account_created", "acc_ftmo", "FTMO challenge (oanda practice)"],
    ["2026-11-02T09:15:00.000Z", "credentials_stored", "acc_ftmo", "fields: api_key"],
    ["2026-11-02T09:16:30.000Z", "account_created", "acc_alpaca", "Alpaca swing (alpaca practice)"],
    ["2026-11-02T09:16:30.000Z", "credentials_stored", "acc_alpaca", "fields: api_key, api_secret"],
    ["2026-11-10T18:02:11.000Z", "account_created", REMOVED_ACCOUNT_ID, "Tradier test (tradier practice)", "cli"],
    ["2026-11-12T07:45:09.000Z", "account_removed", REMOVED_ACCOUNT_ID, "Tradier test (tradier practice)", "cli"],
    ["2026-11-14T16:41:00.000Z", "account_edited", "acc_ftmo", "FTMO challenge"],
    ["2026-11-18T22:10:40.000Z", "connection_auth_failed", "acc_alpaca", "401 Unauthorized from paper-api.alpaca.markets"],
  ];
  if (protection === "password") {
    seeds.push(["2026-11-20T08:30:02.000Z", "vault_unlock_failed", null, "wrong_password"]);
    seeds.push(["2026-11-20T08:30:09.000Z", "vault_unlocked", null, "with the master password"]);
  }
  if (twofa) {
    seeds.push(["2026-11-20T08:40:00.000Z", "twofa_setup_started", null, ""]);
    seeds.push(["2026-11-20T08:40:31.000Z", "twofa_verified", null, ""]);
    seeds.push(["2026-11-20T08:40:31.000Z", "twofa_enabled", null, "10 backup codes issued"]);
  }
  const rows: AuditRow[] = [];
  for (const [at, event, accountId, detail, actor = "app"] of seeds) appendAudit(rows, { at, event, actor, accountId, detail });
  return rows;
}

const TWOFA_ON: TwofaState = {
  ...TWOFA_OFF,
  state: "enabled",
  secret: MOCK_TOTP_SECRET,
  backupCodes: MOCK_BACKUP_CODES.map((code) => ({ code, used: false })),
};

export function scenarioState(scenario: Scenario): FakeState {
  const fresh: FakeState = {
    initialized: false,
    locked: false,
    protection: null,
    password: null,
    keychainAvailable: true,
    keychainError: null,
    keychainUnlockError: null,
    autoUnlockError: null,
    keyGeneration: 0,
    accounts: [],
    nextId: 1,
    twofa: structuredClone(TWOFA_OFF),
    audit: [],
    settings: { autoLockMinutes: null, priceUpdatesPerSecond: 30 },
    clockOffsetMs: 0,
    lastActivityMs: 0,
  };
  switch (scenario) {
    case "fresh":
      return fresh;
    case "fresh-no-keychain":
      return { ...fresh, keychainAvailable: false, keychainError: "Secret Service: unable to autolaunch a dbus-daemon" };
    case "keychain":
      return { ...fresh, initialized: true, protection: "keychain", keyGeneration: 1, accounts: seedAccounts(), audit: seedAudit("keychain", false) };
    case "keychain-missing":
      // The key was deleted from the keychain (or the folder copied from elsewhere): locked at start.
      return {
        ...fresh,
        initialized: true,
        locked: true,
        protection: "keychain",
        keyGeneration: 1,
        accounts: seedAccounts(),
        audit: seedAudit("keychain", false),
        keychainUnlockError: KEYCHAIN_KEY_MISSING,
        autoUnlockError: KEYCHAIN_KEY_MISSING,
      };
    case "connections": {
      // Four live accounts with connections: OANDA (orders + prices), Alpaca (orders, a drop in the last
      // hour), Tradier (failed on auth), Tastytrade (orders + prices, a 15-minute access token).
      const base = scenarioState("unlocked");
      const accounts = base.accounts.map((a) => ({ ...a, account: { ...a.account, mode: "live" } as Account }));
      const tradier: Account = {
        ...accounts[accounts.length - 1]!.account,
        id: "acc_tradier",
        name: "Tradier income",
        broker: "tradier",
        credentials: [{ field: "api_key", label: "Access token", masked: "••••77c1", error: null }],
        instruments: ["SPY", "QQQ"],
      };
      accounts.push({ account: tradier, secrets: { apiKey: "tradier-token-77c1", apiSecret: null } });
      const tasty: Account = {
        ...tradier,
        id: "acc_tasty",
        name: "Tasty options",
        broker: "tastytrade",
        environment: "live",
        brokerAccountId: "5WT00001",
        credentials: [
          { field: "api_key", label: "Client secret", masked: "••••c0de", error: null },
          { field: "api_secret", label: "Refresh token", masked: "••••91ab", error: null },
        ],
        instruments: ["SPY", "QQQ"],
        tradingHours: null,
        statusHistory: [{ status: "active", reason: null, changedAt: "2026-11-02T09:15:00Z" }],
      };
      accounts.push({ account: tasty, secrets: { apiKey: "tasty-client-secret-c0de", apiSecret: "tasty-refresh-91ab" } });
      return { ...base, accounts, connections: seedConnections() };
    }
    case "locked":
    case "unlocked":
    case "unlocked-2fa":
      return {
        ...fresh,
        initialized: true,
        locked: scenario === "locked",
        protection: "password",
        password: MOCK_PASSWORD,
        keychainAvailable: false,
        keychainError: "Secret Service: unable to autolaunch a dbus-daemon",
        keyGeneration: 3,
        accounts: seedAccounts(),
        audit: seedAudit("password", scenario === "unlocked-2fa"),
        twofa: structuredClone(scenario === "unlocked-2fa" ? TWOFA_ON : TWOFA_OFF),
      };
  }
}

export const SCENARIOS: readonly Scenario[] = ["fresh", "fresh-no-keychain", "locked", "unlocked", "unlocked-2fa", "keychain", "keychain-missing", "connections"];
