import { describe, expect, it } from "vitest";
import { FieldCode } from "../api/errors";
import type { FieldError } from "../bindings/FieldError";
import { errorSummary, fieldDomId, fieldErrorId, itemsWithErrors, mapFieldErrors, normalizeFieldPath } from "./fieldErrors";

describe("normalizeFieldPath", () => {
  it("passes known camelCase paths through", () => {
    expect(normalizeFieldPath("name")).toBe("name");
    expect(normalizeFieldPath("credentials.apiKey")).toBe("credentials.apiKey");
    expect(normalizeFieldPath("risk.maxLeverage")).toBe("risk.maxLeverage");
    expect(normalizeFieldPath("tradingHours.start")).toBe("tradingHours.start");
  });

  it("accepts snake_case segments", () => {
    expect(normalizeFieldPath("credentials.api_key")).toBe("credentials.apiKey");
    expect(normalizeFieldPath("credentials.api_secret")).toBe("credentials.apiSecret");
    expect(normalizeFieldPath("prop_firm.max_daily_loss_pct")).toBe("propFirm.maxDailyLossPct");
    expect(normalizeFieldPath("broker_account_id")).toBe("brokerAccountId");
  });

  it("knows the rules' clock, the account's own rule settings and the new limits", () => {
    for (const path of [
      "propFirm.resetTime",
      "propFirm.resetTimezone",
      "propFirm.dailyBase",
      "propFirm.maxLossMode",
      "propFirm.dailyBreach",
      "propFirm.initialBalance",
      "propFirm.safetyBufferPct",
      "propFirm.warnLevels",
      "risk.maxRiskPerTradePct",
      "risk.allowedInstruments",
    ]) {
      expect(normalizeFieldPath(path), path).toBe(path);
    }
    expect(normalizeFieldPath("prop_firm.warn_levels")).toBe("propFirm.warnLevels");
    expect(normalizeFieldPath("risk.allowed_instruments[3]")).toBe("risk.allowedInstruments");
  });

  it("drops array indexes in either notation", () => {
    expect(normalizeFieldPath("instruments[2]")).toBe("instruments");
    expect(normalizeFieldPath("instruments.2")).toBe("instruments");
    expect(normalizeFieldPath("timeframes[0]")).toBe("timeframes");
  });

  it("falls back to the nearest known parent, or null when nothing matches", () => {
    expect(normalizeFieldPath("tradingHours.daysOfWeek")).toBe("tradingHours");
    expect(normalizeFieldPath("risk.somethingNew")).toBe("risk");
    expect(normalizeFieldPath("notifications.orderFilled")).toBe("notifications");
    expect(normalizeFieldPath("twofa.code")).toBeNull();
    expect(normalizeFieldPath("")).toBeNull();
  });
});

describe("mapFieldErrors", () => {
  it("groups messages by form field and keeps unmatched errors apart", () => {
    const { byField, unmatched } = mapFieldErrors([
      { field: "instruments[0]", code: "invalid", message: "“EURUSD” is not valid." },
      { field: "instruments[3]", code: "invalid", message: "“XYZ” is not valid." },
      { field: "credentials.api_key", code: "required", message: "Required." },
      { field: "credentials.apiKey", code: "required", message: "Required." },
      { field: "mystery", code: "invalid", message: "Something else." },
    ]);
    expect(byField).toEqual({
      instruments: "“EURUSD” is not valid. “XYZ” is not valid.",
      "credentials.apiKey": "Required.",
    });
    expect(unmatched).toEqual([{ field: "mystery", code: "invalid", message: "Something else." }]);
  });
});

describe("errorSummary and ids", () => {
  it("lists errors in form order with labels, overridable per broker", () => {
    const entries = errorSummary(
      { "risk.maxLeverage": "Too high.", name: "Required.", "credentials.apiKey": "Too short." },
      { "credentials.apiKey": "Personal access token" },
    );
    expect(entries).toEqual([
      { field: "name", label: "Account name", message: "Required." },
      { field: "credentials.apiKey", label: "Personal access token", message: "Too short." },
      { field: "risk.maxLeverage", label: "Max leverage", message: "Too high." },
    ]);
  });

  it("derives stable DOM ids from paths", () => {
    expect(fieldDomId("credentials.apiKey")).toBe("field-credentials-apiKey");
    expect(fieldErrorId("name")).toBe("field-name-error");
  });
});

describe("itemsWithErrors", () => {
  it("returns the sent items that indexed field errors point at, once each, ignoring other paths", () => {
    const sent = ["EUR_USD", "EUR$USD", "GBP/USD"];
    const fields: FieldError[] = [
      { field: "name", code: FieldCode.Duplicate, message: "Taken." },
      { field: "instruments[2]", code: FieldCode.Invalid, message: "x" },
      { field: "instruments[1]", code: FieldCode.Invalid, message: "y" },
      { field: "instruments[1]", code: FieldCode.TooLong, message: "z" },
      { field: "instruments[9]", code: FieldCode.Invalid, message: "out of range" },
      { field: "instruments", code: FieldCode.TooMany, message: "At most 200." },
    ];
    expect(itemsWithErrors(fields, "instruments", sent)).toEqual(["GBP/USD", "EUR$USD"]);
  });
});
