import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { act, render, screen } from "@testing-library/react";
import { memo } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Tick } from "../bindings/Tick";
import { PriceStore, holdPriceFeed, useAccountPrices } from "./priceStore";

const at = (s: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + s * 1000).toISOString();
const tick = (instrument: string, s: number, patch: Partial<Tick>): Tick => ({
  instrument,
  bid: null,
  ask: null,
  last: null,
  bidSize: null,
  askSize: null,
  lastSize: null,
  exchangeTime: null,
  receivedAt: at(s),
  ...patch,
});

/** A store whose listeners are told synchronously, after each change. */
const syncStore = (options = {}) => new PriceStore({ schedule: (flush) => flush(), ...options });

afterEach(() => clearMocks());

describe("PriceStore", () => {
  it("merges ticks field by field and counts the change from the first mid of the session", () => {
    const store = syncStore();
    store.applyTicks("acc", [tick("EUR_USD", 0, { bid: "1.084", ask: "1.0842" })]);
    store.applyTicks("acc", [tick("EUR_USD", 1, { ask: "1.08445" })]);
    const row = store.get("acc").rows.get("EUR_USD")!;
    expect(row.tick).toMatchObject({ bid: "1.084", ask: "1.08445" });
    expect(row.decimals).toBe(5);
    // Exact decimals, where floats would give 1.0841 ± 2e-16.
    expect(row.firstMid).toBe("1.0841");
    expect(row.change).toBe("0.000125");
    expect(row.changePct).toBeCloseTo((0.000125 / 1.0841) * 100, 8);
    expect(row.direction).toBe("up");
    expect(row.moves).toBe(1);

    store.applyTicks("acc", [tick("EUR_USD", 2, { bid: "1.0835" })]);
    const down = store.get("acc").rows.get("EUR_USD")!;
    expect(down.direction).toBe("down");
    expect(down.moves).toBe(2);
    expect(Number(down.change)).toBeLessThan(0);
    expect(store.get("acc").lastUpdateAt).toBe(Date.parse(at(2)));
  });

  it("keeps the most decimals seen (a broker may drop trailing zeros)", () => {
    const store = syncStore();
    store.applyTicks("acc", [tick("EUR_USD", 0, { bid: "1.08412", ask: "1.08425" })]);
    store.applyTicks("acc", [tick("EUR_USD", 1, { bid: "1.0841", ask: "1.0842" })]);
    expect(store.get("acc").rows.get("EUR_USD")!.decimals).toBe(5);
  });

  it("does not count a snapshot as a move, and keeps unchanged rows and accounts identical", () => {
    const store = syncStore();
    store.applyTicks("acc", [tick("EUR_USD", 0, { bid: "1", ask: "2" }), tick("GBP_USD", 0, { bid: "3", ask: "4" })], { live: false });
    const before = store.get("acc");
    expect(before.rows.get("EUR_USD")!.moves).toBe(0);
    store.applyTicks("acc", [tick("EUR_USD", 1, { bid: "0.5", ask: "2" })], { live: false });
    const after = store.get("acc");
    expect(after).not.toBe(before);
    expect(after.rows.get("EUR_USD")!.direction).toBeNull();
    expect(after.rows.get("GBP_USD")).toBe(before.rows.get("GBP_USD"));
    expect(store.get("other")).toBe(store.get("other"));
    // An older snapshot never takes back a newer price.
    store.applyTicks("acc", [tick("GBP_USD", 5, { bid: "3.5" })]);
    store.applyTicks("acc", [tick("GBP_USD", 2, { bid: "1" })], { live: false });
    expect(store.get("acc").rows.get("GBP_USD")!.tick.bid).toBe("3.5");
  });

  it("bounds the sparkline history", () => {
    const store = syncStore({ historyPoints: 5, sampleMs: 1000 });
    for (let s = 0; s < 20; s++) store.applyTicks("acc", [tick("EUR_USD", s, { bid: String(s), ask: String(s + 1) })]);
    // Two ticks in the same second move the newest point rather than adding one.
    store.applyTicks("acc", [tick("EUR_USD", 19.5, { bid: "100", ask: "101" })]);
    const row = store.get("acc").rows.get("EUR_USD")!;
    expect(row.history.length).toBe(5);
    expect(row.history.toValues()).toEqual([15.5, 16.5, 17.5, 18.5, 100.5]);
    expect(row.historyVersion).toBe(21);
  });

  it("tracks notices per instrument until dismissed, and forgets instruments off the watchlist", () => {
    const store = syncStore();
    store.applyTicks("acc", [tick("EUR_USD", 0, { bid: "1", ask: "2" })]);
    store.applyNotice({ accountId: "acc", instrument: "FOO_BAR", code: "unknown_instrument", brokerCode: null, message: "OANDA does not offer FOO_BAR on this account", at: at(0) });
    store.applyNotice({ accountId: "acc", instrument: null, code: "symbol_limit", brokerCode: "405", message: "Too many instruments", at: at(0) });
    expect(store.get("acc").notices.get("FOO_BAR")?.code).toBe("unknown_instrument");
    expect(store.get("acc").feedNotices).toHaveLength(1);
    store.dismissNotice("acc", "FOO_BAR");
    store.dismissNotice("acc", null);
    expect(store.get("acc").notices.size).toBe(0);
    expect(store.get("acc").feedNotices).toHaveLength(0);

    store.applyNotice({ accountId: "acc", instrument: "GBP_USD", code: "broker", brokerCode: null, message: "y", at: at(0) });
    store.retain("acc", ["XAU_USD"]);
    expect(store.get("acc").rows.size).toBe(0);
    expect(store.get("acc").notices.size).toBe(0);
  });

  it("tells each account's listeners once per flush, only when that account changed", () => {
    const flushes: (() => void)[] = [];
    const store = new PriceStore({ schedule: (f) => flushes.push(f) });
    const a = vi.fn();
    const b = vi.fn();
    const stop = store.subscribe("a", a);
    store.subscribe("b", b);
    for (let i = 0; i < 30; i++) store.applyTicks("a", [tick("EUR_USD", i, { bid: String(i), ask: String(i + 1) })]);
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
    stop();
    store.applyTicks("a", [tick("EUR_USD", 40, { bid: "1", ask: "2" })]);
    flushes.shift()!();
    expect(a).toHaveBeenCalledTimes(1);
  });
});

describe("price feed and hook", () => {
  it("feeds price-update and price-notice into the store while held, and clears it when released", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const store = syncStore();
    const release = holdPriceFeed(store);
    await vi.waitFor(async () => {
      await emit("price-update", { accountId: "acc", ticks: [tick("EUR_USD", 0, { bid: "1", ask: "2" })] });
      expect(store.get("acc").rows.size).toBe(1);
    });
    await emit("price-notice", { accountId: "acc", instrument: "FOO", code: "unknown_instrument", message: "no", at: at(0) });
    expect(store.get("acc").notices.get("FOO")?.message).toBe("no");
    release();
    release(); // idempotent
    expect(store.get("acc").rows.size).toBe(0);
    await emit("price-update", { accountId: "acc", ticks: [tick("EUR_USD", 1, { bid: "1", ask: "2" })] });
    expect(store.get("acc").rows.size).toBe(0);
  });

  it("re-renders a reader when its account changes; memoised rows that did not change do not render again", () => {
    const store = syncStore();
    store.applyTicks("acc", [tick("EUR_USD", 0, { bid: "1", ask: "2" }), tick("GBP_USD", 0, { bid: "3", ask: "4" })]);
    const renders: string[] = [];
    const Row = memo(function Row({ instrument, bid }: { instrument: string; bid: string | null }) {
      renders.push(instrument);
      return <li>{`${instrument} ${bid}`}</li>;
    });
    function List() {
      const prices = useAccountPrices("acc", store);
      return (
        <ul>
          {[...prices.rows.values()].map((r) => (
            <Row key={r.instrument} instrument={r.instrument} bid={r.tick.bid} />
          ))}
        </ul>
      );
    }
    render(<List />);
    expect(screen.getByText("EUR_USD 1")).toBeTruthy();
    renders.length = 0;
    act(() => store.applyTicks("acc", [tick("EUR_USD", 1, { bid: "1.5" })]));
    expect(screen.getByText("EUR_USD 1.5")).toBeTruthy();
    expect(renders).toEqual(["EUR_USD"]);
  });
});
