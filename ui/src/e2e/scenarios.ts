import type { Account } from "../bindings/Account";
import type { ApiError } from "../bindings/ApiError";
import type { FakeState, Scenario } from "./mockBackend";
import { MOCK_PASSWORD } from "./mockBackend";

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
    propFirm: { preset: "ftmo", maxDailyLossPct: 5, maxTotalLossPct: 10, profitTargetPct: 10 },
    risk: { ...NO_RISK, maxOpenPositions: 3, maxLeverage: 30, requireStopLoss: true },
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
    risk: { ...NO_RISK, maxPositionSizePct: 10 },
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
  };
  switch (scenario) {
    case "fresh":
      return fresh;
    case "fresh-no-keychain":
      return { ...fresh, keychainAvailable: false, keychainError: "Secret Service: unable to autolaunch a dbus-daemon" };
    case "keychain":
      return { ...fresh, initialized: true, protection: "keychain", keyGeneration: 1, accounts: seedAccounts() };
    case "keychain-missing":
      // The key was deleted from the keychain (or the folder copied from elsewhere): locked at start.
      return {
        ...fresh,
        initialized: true,
        locked: true,
        protection: "keychain",
        keyGeneration: 1,
        accounts: seedAccounts(),
        keychainUnlockError: KEYCHAIN_KEY_MISSING,
        autoUnlockError: KEYCHAIN_KEY_MISSING,
      };
    case "locked":
    case "unlocked":
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
      };
  }
}

export const SCENARIOS: readonly Scenario[] = ["fresh", "fresh-no-keychain", "locked", "unlocked", "keychain", "keychain-missing"];
