import { describe, expect, it, vi } from "vitest";
import { ALL_EVENTS, dateRangeError, emptyAuditFilter, eventsIn, eventsSummary, shortId, toAuditFilter } from "./audit";
import { AUTO_LOCK_CHOICES, autoLockLabel, autoLockOptions, parseAutoLock, throttle } from "./autoLock";
import { formatCountdown, groupSecret, minutesLeft, msUntil, svgDataUri } from "./twofa";

describe("audit filter → AuditFilter", () => {
  it("sends nulls and no events for an empty filter bar", () => {
    expect(toAuditFilter(emptyAuditFilter())).toEqual({ events: [], accountId: null, since: null, until: null, search: null, limit: 500 });
  });

  it("turns local dates into the day's RFC 3339 bounds, trims the search and keeps the limit in range", () => {
    const filter = toAuditFilter({
      events: ["twofa_failed", "account_removed"],
      accountId: "acc_ftmo",
      since: "2026-11-20",
      until: "2026-11-21",
      search: "  ftmo ",
      limit: 20_000,
    });
    expect(filter).toEqual({
      // In the catalogue's order, whatever order they were picked in.
      events: ["twofa_failed", "account_removed"],
      accountId: "acc_ftmo",
      since: new Date(2026, 10, 20, 0, 0, 0, 0).toISOString(),
      until: new Date(2026, 10, 21, 23, 59, 59, 999).toISOString(),
      search: "ftmo",
      limit: 10_000,
    });
    expect(filter.since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(toAuditFilter({ ...emptyAuditFilter(), search: "   ", limit: 0 })).toMatchObject({ search: null, limit: 1 });
  });

  it("treats every event picked like none, and orders events as the catalogue does", () => {
    expect(toAuditFilter({ ...emptyAuditFilter(), events: [...ALL_EVENTS].reverse() }).events).toEqual([]);
    expect(toAuditFilter({ ...emptyAuditFilter(), events: ["settings_changed", "vault_created"] }).events).toEqual(["vault_created", "settings_changed"]);
  });

  it("flags a reversed date range and ignores unparsable dates", () => {
    expect(dateRangeError({ ...emptyAuditFilter(), since: "2026-11-21", until: "2026-11-20" })).toBe("The start date is after the end date.");
    expect(dateRangeError({ ...emptyAuditFilter(), since: "2026-11-20", until: "2026-11-20" })).toBeNull();
    expect(toAuditFilter({ ...emptyAuditFilter(), since: "20.11.2026" }).since).toBeNull();
  });

  it("sums up the event choice by category when it can", () => {
    expect(eventsSummary([])).toBe("All events");
    expect(eventsSummary(eventsIn("twofa"))).toBe("Two-factor");
    expect(eventsSummary([...eventsIn("vault"), ...eventsIn("settings")])).toBe("Vault, Settings");
    expect(eventsSummary(["account_removed"])).toBe("Account removed");
    expect(eventsSummary(["account_removed", "twofa_failed"])).toBe("2 events");
    expect(shortId("9c1e4f2a-7b3d-4e15-a6f0-2d8c5b9e1a47")).toBe("9c1e4f2a");
    expect(shortId("acc_ftmo")).toBe("acc_ftmo");
  });
});

describe("auto-lock options", () => {
  it("offers Off, 1, 5, 15, 30 and 60 minutes and 4 hours", () => {
    expect(autoLockOptions(null)).toEqual([
      { value: "off", label: "Off" },
      { value: "1", label: "1 minute" },
      { value: "5", label: "5 minutes" },
      { value: "15", label: "15 minutes" },
      { value: "30", label: "30 minutes" },
      { value: "60", label: "60 minutes" },
      { value: "240", label: "4 hours" },
    ]);
    expect(AUTO_LOCK_CHOICES.map(autoLockLabel)).toContain("4 hours");
  });

  it("adds a value set elsewhere (e.g. the CLI) in order, and parses the select's value back", () => {
    expect(autoLockOptions(45).map((o) => o.label)).toEqual(["Off", "1 minute", "5 minutes", "15 minutes", "30 minutes", "45 minutes", "60 minutes", "4 hours"]);
    expect(autoLockOptions(120).at(-2)).toEqual({ value: "120", label: "2 hours" });
    expect(parseAutoLock("off")).toBeNull();
    expect(parseAutoLock("240")).toBe(240);
  });

  it("reports activity at most once per interval", () => {
    let t = 0;
    const fn = vi.fn();
    const report = throttle(fn, 30_000, () => t);
    report();
    t = 10_000;
    report();
    t = 29_999;
    report();
    expect(fn).toHaveBeenCalledTimes(1);
    t = 30_000;
    report();
    t = 45_000;
    report();
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe("two-factor helpers", () => {
  it("encodes the QR SVG as a base64 data: URI (UTF-8 safe)", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><title>Brokerdesk · main</title></svg>';
    const uri = svgDataUri(svg);
    expect(uri.startsWith("data:image/svg+xml;base64,")).toBe(true);
    const decoded = Uint8Array.from(atob(uri.split(",")[1] as string), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(decoded)).toBe(svg);
  });

  it("groups the secret, counts down and rounds minutes up", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    const now = Date.parse("2026-11-21T10:00:00Z");
    expect(msUntil("2026-11-21T10:01:00Z", now)).toBe(60_000);
    expect(msUntil("2026-11-21T09:59:00Z", now)).toBe(0);
    expect(msUntil(null, now)).toBe(0);
    expect(formatCountdown(60_000)).toBe("1:00");
    expect(formatCountdown(59_001)).toBe("1:00");
    expect(formatCountdown(3_723_000)).toBe("1:02:03");
    expect(minutesLeft(15 * 60_000)).toBe(15);
    expect(minutesLeft(14 * 60_000 + 1)).toBe(15);
    expect(minutesLeft(20_000)).toBe(1);
  });
});
