import { describe, expect, it } from "vitest";
import type { Account } from "../bindings/Account";
import {
  addInstruments,
  clearChangedErrors,
  emptyForm,
  formFromAccount,
  parseInstruments,
  parseOptionalNumber,
  toAccountInput,
} from "./accountForm";
import type { AccountFormState } from "./accountForm";
import { emptyPropFirm } from "./propFirm";

const filled = (patch: Partial<AccountFormState> = {}): AccountFormState => ({
  ...emptyForm(),
  name: "  OANDA swing  ",
  broker: "oanda",
  brokerAccountId: " 101-004-1234567-001 ",
  credentials: { apiKey: " token with spaces ", apiSecret: "" },
  ...patch,
});

describe("parseInstruments / addInstruments", () => {
  it("splits on commas, semicolons and whitespace, trims and upper-cases", () => {
    expect(parseInstruments(" eur_usd, gbp_usd;xau_usd\n spy  ")).toEqual(["EUR_USD", "GBP_USD", "XAU_USD", "SPY"]);
    expect(parseInstruments(" , ,, ")).toEqual([]);
  });

  it("adds new symbols after the existing ones and drops duplicates", () => {
    expect(addInstruments(["EUR_USD"], "eur_usd, usd_jpy, USD_JPY")).toEqual(["EUR_USD", "USD_JPY"]);
  });
});

describe("parseOptionalNumber", () => {
  it("maps empty input to null (no limit)", () => {
    expect(parseOptionalNumber("")).toEqual({ value: null });
    expect(parseOptionalNumber("   ")).toEqual({ value: null });
  });

  it("parses numbers and rejects text and non-integers where integers are needed", () => {
    expect(parseOptionalNumber(" 2.5 ")).toEqual({ value: 2.5 });
    expect(parseOptionalNumber("0")).toEqual({ value: 0 });
    expect(parseOptionalNumber("abc").error).toMatch(/number/);
    expect(parseOptionalNumber("Infinity").error).toMatch(/number/);
    expect(parseOptionalNumber("2.5", true).error).toMatch(/whole/);
    expect(parseOptionalNumber("3", true)).toEqual({ value: 3 });
  });
});

describe("toAccountInput", () => {
  it("converts a filled form: trims text, empty optional text and numbers become null", () => {
    const result = toAccountInput(
      filled({
        risk: {
          ...emptyForm().risk,
          maxLeverage: "30",
          maxOpenPositions: "3",
          requireStopLoss: true,
          maxRiskPerTradePct: " 0.5 ",
          allowedInstruments: ["EUR_USD"],
          allowedDraft: "gbp_usd",
        },
        propFirm: {
          ...emptyPropFirm(),
          preset: "ftmo",
          maxDailyLossPct: "5",
          maxTotalLossPct: "10",
          profitTargetPct: "",
          initialBalance: " 100000 ",
          resetTime: "00:00",
          resetTimezone: " Europe/Prague ",
          dailyBreach: "terminate",
          safetyBufferPct: "90",
          closeOnBreach: false,
          warnLevels: "95, 50,80, 50",
          customFrom: null,
        },
        instruments: ["EUR_USD"],
        instrumentDraft: "gbp_usd, eur_usd",
        timeframes: ["H1", "M15"],
        statusReason: "   ",
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const input = result.input;
    expect(input.name).toBe("OANDA swing");
    expect(input.brokerAccountId).toBe("101-004-1234567-001");
    expect(input.restUrl).toBeNull();
    expect(input.streamUrl).toBeNull();
    // Secrets are not trimmed: a key is sent exactly as pasted; empty means none / keep.
    expect(input.credentials).toEqual({ apiKey: " token with spaces ", apiSecret: null });
    // Decimals are sent as the exact text typed (trimmed); the count of positions as a number.
    // Allowed instruments: the tags and what was typed after them, upper-cased.
    expect(input.risk).toEqual({
      maxPositionSizePct: null,
      maxOpenPositions: 3,
      maxQty: null,
      maxLeverage: "30",
      requireStopLoss: true,
      maxCorrelation: null,
      maxRiskPerTradePct: "0.5",
      allowedInstruments: ["EUR_USD", "GBP_USD"],
    });
    // Every rule travels (the form-only customFrom does not); warning levels sorted, without repeats.
    expect(input.propFirm).toEqual({
      preset: "ftmo",
      maxDailyLossPct: "5",
      maxTotalLossPct: "10",
      profitTargetPct: null,
      initialBalance: "100000",
      dailyBase: "initial_balance",
      resetTime: "00:00",
      resetTimezone: "Europe/Prague",
      maxLossMode: "static",
      dailyBreach: "terminate",
      safetyBufferPct: "90",
      closeOnBreach: false,
      warnLevels: [50, 80, 95],
    });
    expect(input.instruments).toEqual(["EUR_USD", "GBP_USD"]);
    expect(input.timeframes).toEqual(["H1", "M15"]);
    expect(input.tradingHours).toBeNull();
    expect(input.statusReason).toBeNull();
    expect(input.status).toBe("active");
  });

  it("includes trading hours only when enabled", () => {
    const result = toAccountInput(filled({ hours: { enabled: true, start: "08:00", end: "17:00", timezone: " Europe/London " } }));
    expect(result.ok && result.input.tradingHours).toEqual({ start: "08:00", end: "17:00", timezone: "Europe/London" });
  });

  it("reports client-side problems by field path without building an input", () => {
    const result = toAccountInput({ ...emptyForm(), name: " ", risk: { ...emptyForm().risk, maxLeverage: "lots", maxOpenPositions: "1.5" } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(["broker", "name", "risk.maxLeverage", "risk.maxOpenPositions"]);
  });

  it("reports bad rule values by their own paths", () => {
    const result = toAccountInput(
      filled({ propFirm: { ...emptyPropFirm(), initialBalance: "100k", safetyBufferPct: "ninety", warnLevels: "50, 120" } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors["propFirm.initialBalance"]).toMatch(/leave empty for the first balance seen/);
    expect(result.errors["propFirm.safetyBufferPct"]).toMatch(/Enter a number/);
    expect(result.errors["propFirm.warnLevels"]).toMatch(/between 1 and 99/);
  });

  it("starts a new account with weekend trading on, no rules and the core's default warnings", () => {
    const form = emptyForm();
    expect(form.weekendTrading).toBe(true);
    const result = toAccountInput(filled());
    expect(result.ok && result.input.weekendTrading).toBe(true);
    expect(result.ok && result.input.propFirm).toEqual({
      preset: "none",
      maxDailyLossPct: null,
      maxTotalLossPct: null,
      profitTargetPct: null,
      initialBalance: null,
      dailyBase: "initial_balance",
      resetTime: "00:00",
      resetTimezone: "UTC",
      maxLossMode: "static",
      dailyBreach: "pause",
      safetyBufferPct: null,
      closeOnBreach: true,
      warnLevels: [50, 80, 95],
    });
    expect(result.ok && result.input.risk.allowedInstruments).toEqual([]);
  });

  it("sends a new account's first status and reason; an edit sends the stored status back, without a reason", () => {
    const created = toAccountInput(filled({ status: "suspended", statusReason: " Testing " }));
    expect(created.ok && [created.input.status, created.input.statusReason]).toEqual(["suspended", "Testing"]);
    // The account was suspended (by hand or by a rule) while the form was open: saving keeps it so.
    const edited = toAccountInput(filled({ status: "active", statusReason: "typed" }), "suspended");
    expect(edited.ok && [edited.input.status, edited.input.statusReason]).toEqual(["suspended", null]);
  });

  it("sends decimal limits as the exact text typed, and refuses what the backend would not read", () => {
    const exact = toAccountInput(filled({ risk: { ...emptyForm().risk, maxCorrelation: " 0.123456789012345678 ", maxQty: "1000.50" } }));
    expect(exact.ok && exact.input.risk.maxCorrelation).toBe("0.123456789012345678");
    expect(exact.ok && exact.input.risk.maxQty).toBe("1000.50");
    for (const [text, message] of [
      ["1e3", /Enter a number/],
      ["Infinity", /Enter a number/],
      ["1_000", /Enter a number/],
      ["0.12345678901234567890123456789", /at most 28 digits/],
    ] as const) {
      const r = toAccountInput(filled({ risk: { ...emptyForm().risk, maxQty: text } }));
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.errors["risk.maxQty"], text).toMatch(message);
    }
  });
});

describe("formFromAccount", () => {
  const account: Account = {
    id: "acc_1",
    name: "FTMO",
    broker: "oanda",
    environment: "live",
    brokerAccountId: null,
    restUrl: "http://127.0.0.1:9000",
    streamUrl: null,
    credentials: [{ field: "api_key", label: "Token", masked: "••••1234", error: null }],
    propFirm: {
      preset: "custom",
      maxDailyLossPct: "4",
      maxTotalLossPct: "10",
      profitTargetPct: null,
      initialBalance: "50000",
      dailyBase: "higher_of_equity_and_balance",
      resetTime: "17:00",
      resetTimezone: "America/New_York",
      maxLossMode: "trailing_then_locked",
      dailyBreach: "pause",
      safetyBufferPct: "85.5",
      closeOnBreach: false,
      warnLevels: [70],
    },
    risk: {
      maxPositionSizePct: null,
      maxOpenPositions: 2,
      maxQty: null,
      maxLeverage: "20",
      requireStopLoss: true,
      maxCorrelation: "0.7",
      maxRiskPerTradePct: "1",
      allowedInstruments: ["EUR_USD", "XAU_USD"],
    },
    instruments: ["EUR_USD"],
    timeframes: ["H4"],
    tradingHours: { start: "07:00", end: "21:00", timezone: "UTC" },
    weekendTrading: true,
    notifications: { connectionLost: true, connectionRestored: false, authFailure: true, orderFilled: false, riskBreach: true },
    status: "suspended",
    statusHistory: [],
    mode: "paper",
    tlsPin: null,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
  };

  it("round-trips through toAccountInput with credentials left empty (= keep)", () => {
    const form = formFromAccount(account);
    expect(form.credentials).toEqual({ apiKey: "", apiSecret: "" });
    expect(form.hours).toEqual({ enabled: true, start: "07:00", end: "21:00", timezone: "UTC" });
    expect(form.propFirm.warnLevels).toBe("70");
    const result = toAccountInput(form, account.status);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.input).toMatchObject({
      name: "FTMO",
      environment: "live",
      brokerAccountId: null,
      restUrl: "http://127.0.0.1:9000",
      credentials: { apiKey: null, apiSecret: null },
      propFirm: account.propFirm,
      risk: account.risk,
      tradingHours: account.tradingHours,
      weekendTrading: true,
      notifications: account.notifications,
      status: "suspended",
    });
  });
});

describe("clearChangedErrors", () => {
  it("drops errors only for fields whose value changed", () => {
    const before = filled();
    const after = { ...before, credentials: { ...before.credentials, apiKey: "new" }, instrumentDraft: "EUR_USD" };
    const errors = { name: "Taken.", "credentials.apiKey": "Too short.", instruments: "Bad.", "risk.maxQty": "Too big." };
    expect(clearChangedErrors(errors, before, after)).toEqual({ name: "Taken.", "risk.maxQty": "Too big." });
    // The allowed instruments' error clears when their tags or what is typed after them change.
    const typed = { ...before, risk: { ...before.risk, allowedDraft: "EUR" } };
    expect(clearChangedErrors({ "risk.allowedInstruments": "Too many." }, before, typed)).toEqual({});
    const warned = { ...before, propFirm: { ...before.propFirm, warnLevels: "60" } };
    expect(clearChangedErrors({ "propFirm.warnLevels": "Bad." }, before, warned)).toEqual({});
    expect(clearChangedErrors(errors, before, { ...before })).toBe(errors);
  });
});
