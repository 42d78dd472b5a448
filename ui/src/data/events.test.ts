import { afterEach, describe, expect, it, vi } from "vitest";
import { setTransport } from "../api/transport";
import type { Transport } from "../api/transport";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { ChannelStats } from "../bindings/ChannelStats";
import type { TwoFactorStatus } from "../bindings/TwoFactorStatus";
import type { VaultStatus } from "../bindings/VaultStatus";
import type { RiskReport } from "../bindings/RiskReport";
import { connectionsFixture } from "../test/fixtures";
import { ALPACA_RISK, FTMO_RISK } from "../test/risk";
import { connectCacheToEvents } from "./events";
import { keys } from "./keys";
import { createQueryClient } from "./queryClient";

/** A transport whose events the test sends, and whose commands answer from `answers`. */
function fakeTransport(answers: Record<string, () => unknown> = {}) {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const invoked: string[] = [];
  const transport: Transport = {
    invoke: async (command) => {
      invoked.push(command);
      const answer = answers[command];
      if (!answer) throw { code: "internal", message: `no answer for ${command}`, fields: [] };
      return answer();
    },
    listen: (event, cb) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(cb);
      return () => set.delete(cb);
    },
  };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((cb) => cb(payload));
  return { transport, emit, invoked };
}

const T0 = Date.parse("2026-11-21T12:00:00Z");
const settle = () => new Promise((ok) => setTimeout(ok, 0));

afterEach(() => {
  setTransport(null);
  vi.useRealTimers();
});

describe("the resource cache follows the backend's events", () => {
  it("two-factor, settings and vault events carry the new value", async () => {
    const fake = fakeTransport();
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);
    const twofa: TwoFactorStatus = { enabled: true, pending: false, backupCodesRemaining: 10, stepUpUntil: null, lockedUntil: "2026-11-21T12:01:00Z", failedAttempts: 5 };
    fake.emit("twofa-status", twofa);
    expect(qc.getQueryData(keys.twofa)).toEqual(twofa);
    fake.emit("settings-changed", { autoLockMinutes: 5, priceUpdatesPerSecond: 30 });
    expect(qc.getQueryData(keys.settings)).toEqual({ autoLockMinutes: 5, priceUpdatesPerSecond: 30 });

    // Locking forgets the profile's data; it is read again after the next unlock.
    qc.setQueryData(keys.accountList, []);
    qc.setQueryData(keys.connections, []);
    qc.setQueryData(keys.risk, [FTMO_RISK]);
    qc.setQueryData(keys.riskOf(FTMO_RISK.accountId), FTMO_RISK);
    const locked = { locked: true, initialized: true } as VaultStatus;
    fake.emit("vault-status", locked);
    expect(qc.getQueryData(keys.vault)).toEqual(locked);
    expect(qc.getQueryData(keys.accountList)).toBeUndefined();
    expect(qc.getQueryData(keys.connections)).toBeUndefined();
    expect(qc.getQueryData(keys.twofa)).toBeUndefined();
    expect(qc.getQueryData(keys.risk)).toBeUndefined();
    expect(qc.getQueryData(keys.riskOf(FTMO_RISK.accountId))).toBeUndefined();
    expect(qc.getQueryData(keys.settings)).toEqual({ autoLockMinutes: 5, priceUpdatesPerSecond: 30 });
    stop();
  });

  it("accounts-changed re-reads the accounts it names, or all of them", async () => {
    const fake = fakeTransport({ connections_snapshot: () => [] });
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);
    for (const key of [keys.accountList, keys.account("a"), keys.account("b")]) qc.setQueryData(key, []);
    fake.emit("accounts-changed", { accountIds: ["a"] });
    expect(qc.getQueryState(keys.accountList)?.isInvalidated).toBe(true);
    expect(qc.getQueryState(keys.account("a"))?.isInvalidated).toBe(true);
    expect(qc.getQueryState(keys.account("b"))?.isInvalidated).toBe(false);
    fake.emit("accounts-changed", { accountIds: [] });
    expect(qc.getQueryState(keys.account("b"))?.isInvalidated).toBe(true);
    stop();
  });

  it("the connections snapshot is read again on connections-changed, not on every account change", async () => {
    const fake = fakeTransport({ connections_snapshot: () => [] });
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);
    await qc.fetchQuery({ queryKey: keys.connections, queryFn: () => fake.transport.invoke("connections_snapshot", {}) });
    fake.emit("accounts-changed", { accountIds: [] });
    await settle();
    expect(qc.getQueryState(keys.connections)?.isInvalidated).toBe(false);
    fake.emit("connections-changed", { accountIds: ["a"] });
    await settle();
    expect(qc.getQueryState(keys.connections)?.isInvalidated).toBe(true);
    stop();
  });

  it("connection-stats bring the live facts every second; something unknown re-reads the snapshot", async () => {
    const snapshot = connectionsFixture(T0);
    const fake = fakeTransport({ connections_snapshot: () => snapshot });
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);
    await qc.fetchQuery({ queryKey: keys.connections, queryFn: () => fake.transport.invoke("connections_snapshot", {}) });
    const stat: ChannelStats = {
      accountId: "acc_ftmo",
      channel: "price",
      lastMessageAt: new Date(T0 + 5_000).toISOString(),
      lastHeartbeatAt: null,
      latencyMs: 9,
      uptimeMs: 3_727_000,
      messages: 18_300,
      dropsLastHour: 0,
      quality: "good",
      sessionExpiresAt: null,
    };
    fake.emit("connection-stats", [stat]);
    const price = qc.getQueryData<AccountConnections[]>(keys.connections)![0]!.channels[1]!;
    expect(price).toMatchObject({ lastMessageAt: stat.lastMessageAt, latencyMs: 9, messages: 18_300 });
    expect(fake.invoked.filter((c) => c === "connections_snapshot")).toHaveLength(1);

    fake.emit("connection-stats", [{ ...stat, accountId: "acc_new" }]);
    await settle();
    expect(qc.getQueryState(keys.connections)?.isInvalidated).toBe(true);
    stop();
  });

  it("risk-update writes the report into the account's query and replaces its entry in the list", async () => {
    const fake = fakeTransport({ risk_reports: () => [FTMO_RISK, ALPACA_RISK] });
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);

    // Nobody read the list yet: the account's own query gets it, no one-account list is made up.
    const first: RiskReport = { ...FTMO_RISK, equity: "97500.00", at: "2026-11-21T12:00:01Z" };
    fake.emit("risk-update", first);
    expect(qc.getQueryData(keys.riskOf("acc_ftmo"))).toEqual(first);
    expect(qc.getQueryData(keys.risk)).toBeUndefined();

    await qc.fetchQuery({ queryKey: keys.risk, queryFn: () => fake.transport.invoke("risk_reports", {}) });
    const next: RiskReport = { ...FTMO_RISK, equity: "97000.00", at: "2026-11-21T12:00:02Z" };
    fake.emit("risk-update", next);
    const list = qc.getQueryData<RiskReport[]>(keys.risk)!;
    expect(list.map((r) => r.accountId)).toEqual(["acc_ftmo", "acc_alpaca"]);
    expect(list[0]).toEqual(next);
    expect(list[1]).toBe(ALPACA_RISK);
    expect(qc.getQueryData(keys.riskOf("acc_ftmo"))).toEqual(next);
    expect(qc.getQueryState(keys.risk)?.isInvalidated).toBe(false);

    // A report older than the one held (a read overtaken by an event) changes nothing.
    fake.emit("risk-update", { ...FTMO_RISK, equity: "99999.00", at: "2026-11-21T12:00:01.500Z" });
    expect(qc.getQueryData<RiskReport[]>(keys.risk)![0]).toEqual(next);
    expect(qc.getQueryData(keys.riskOf("acc_ftmo"))).toEqual(next);

    // An account the list does not hold (just added): the list is read again, in the core's order.
    fake.emit("risk-update", { ...ALPACA_RISK, accountId: "acc_new", name: "New", at: "2026-11-21T12:00:03Z" });
    expect(qc.getQueryState(keys.risk)?.isInvalidated).toBe(true);
    expect(qc.getQueryData(keys.riskOf("acc_new"))).toMatchObject({ name: "New" });
    stop();
  });

  it("accounts-changed re-reads the risk reports of the accounts it names, or all of them", async () => {
    const fake = fakeTransport();
    setTransport(fake.transport);
    const qc = createQueryClient();
    const stop = connectCacheToEvents(qc);
    qc.setQueryData(keys.risk, [FTMO_RISK, ALPACA_RISK]);
    qc.setQueryData(keys.riskOf("acc_ftmo"), FTMO_RISK);
    qc.setQueryData(keys.riskOf("acc_alpaca"), ALPACA_RISK);
    fake.emit("accounts-changed", { accountIds: ["acc_ftmo"] });
    expect(qc.getQueryState(keys.risk)?.isInvalidated).toBe(true);
    expect(qc.getQueryState(keys.riskOf("acc_ftmo"))?.isInvalidated).toBe(true);
    expect(qc.getQueryState(keys.riskOf("acc_alpaca"))?.isInvalidated).toBe(false);
    fake.emit("accounts-changed", { accountIds: [] });
    expect(qc.getQueryState(keys.riskOf("acc_alpaca"))?.isInvalidated).toBe(true);
    stop();
  });
});
