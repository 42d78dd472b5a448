import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { AccountConnections } from "../../bindings/AccountConnections";
import { ALPACA, BROKERS, FTMO, LIVE_ACCOUNTS, PRESETS, connectionsFixture } from "../../test/fixtures";
import type { ConnectionsState } from "../../lib/connections";
import { TestData } from "../../test/render";
import { ToastProvider } from "../../state/ToastProvider";
import { ConnectionsSection, idleReason } from "./ConnectionsSection";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  brokerCatalog: vi.fn(),
  propFirmPresets: vi.fn(),
  clipboardCopy: vi.fn(),
  connectionReconnect: vi.fn(),
}));

const api = await import("../../api/client");

const T0 = Date.parse("2026-11-21T12:00:00Z");
const accounts = LIVE_ACCOUNTS;
/** The fake backend's connections (OANDA good, Alpaca fair after a drop, Tradier failed, Tastytrade with a session 12:34 from now). */
const seeded = (now = Date.now()): AccountConnections[] => connectionsFixture(now);

function section(connections: AccountConnections[]) {
  const state: ConnectionsState = { phase: "ready", accounts: connections, receivedAt: Date.now() };
  return (
    <ToastProvider>
      <TestData>
        <ConnectionsSection accounts={accounts} state={state} />
      </TestData>
    </ToastProvider>
  );
}

function renderSection(connections = seeded()) {
  const view = render(section(connections));
  /** What the resource cache does with each second's `connection-stats`: the section gets the folded list. */
  const update = (next: AccountConnections[]) => view.rerender(section(next));
  return { ...view, update };
}

const widget = (name: string) => screen.getByRole("article", { name: `${name} connections` });
const channelOf = (name: string, channel: "order" | "price") => within(widget(name)).getByTestId(`channel-${channel}`);

beforeEach(() => {
  vi.mocked(api.brokerCatalog).mockResolvedValue(BROKERS);
  vi.mocked(api.propFirmPresets).mockResolvedValue(PRESETS);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("link quality", () => {
  it("shows bars and a word per channel, and a tooltip with the reason and the rule on hover or focus", async () => {
    renderSection();
    const good = within(channelOf("FTMO challenge", "order")).getByTestId("conn-quality");
    expect(good.textContent).toBe("Good");
    expect(good.getAttribute("aria-label")).toBe("Link quality: Good");
    expect(good.dataset.quality).toBe("good");
    expect(within(channelOf("Alpaca swing", "order")).getByTestId("conn-quality").dataset.quality).toBe("fair");
    expect(within(channelOf("Tradier income", "order")).getByTestId("conn-quality").dataset.quality).toBe("down");
    expect(screen.queryByRole("tooltip")).toBeNull();

    const fair = within(channelOf("Alpaca swing", "order")).getByRole("button", { name: "Link quality: Fair" });
    fireEvent.mouseEnter(fair.parentElement!);
    const tip = screen.getByRole("tooltip");
    expect(tip.textContent).toContain("Fair: 1 drop in the last hour.");
    expect(tip.textContent).toContain("Good — connected, quick (300 ms or less) and stable (no drop in the last hour)");
    expect(tip.textContent).toContain("Fair — connected, but over 300 ms latency or a drop in the last hour");
    expect(tip.textContent).toContain("Poor — reconnecting, over 1 s latency, or 3 or more drops in the last hour");
    expect(tip.textContent).toContain("Down — failed or stopped");
    expect(tip.querySelector(".is-current")?.textContent).toContain("Fair");
    fireEvent.mouseLeave(fair.parentElement!);
    expect(screen.queryByRole("tooltip")).toBeNull();

    // Keyboard: focus shows it (and describes the button), Escape hides it.
    const down = within(channelOf("Tradier income", "order")).getByRole("button", { name: "Link quality: Down" });
    fireEvent.focus(down);
    expect(screen.getByRole("tooltip").textContent).toContain("Down: the connection failed.");
    expect(down.getAttribute("aria-describedby")).toBe(screen.getByRole("tooltip").id);
    fireEvent.keyDown(down, { key: "Escape" });
    expect(screen.queryByRole("tooltip")).toBeNull();
  });
});

describe("session countdown", () => {
  it("counts down every second; a renewed expiry (from the stats) restarts it; none says expired", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "Date"] });
    vi.setSystemTime(T0);
    const { update } = renderSection();
    await act(async () => {});
    const session = () => within(channelOf("Tasty options", "order")).getByTestId("conn-session").textContent;
    expect(session()).toBe("Session expires in 12:34");
    expect(within(channelOf("FTMO challenge", "order")).queryByTestId("conn-session")).toBeNull();

    act(() => vi.advanceTimersByTime(1_000));
    expect(session()).toBe("Session expires in 12:33");
    act(() => vi.advanceTimersByTime(60_000));
    expect(session()).toBe("Session expires in 11:33");

    // At the expiry the connector is renewing it; until the stats bring the new expiry, it says so.
    act(() => vi.advanceTimersByTime(693_000));
    expect(session()).toBe("Session renewing…");
    act(() => update(seeded(Date.now() - 754_000 + 900_000)));
    expect(session()).toBe("Session expires in 15:00");
    // No new expiry came: it says so.
    act(() => update(seeded(Date.now() - 754_000 - 31_000)));
    expect(session()).toBe("Session expired 31 s ago");
  });
});

describe("diagnostics", () => {
  it("opens per widget with the account, its endpoints and every channel's facts, which follow the stats", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "Date"] });
    vi.setSystemTime(T0);
    const withoutTasty = (now: number) => seeded(now).filter((a) => a.accountId !== "acc_tasty");
    const { update } = renderSection(withoutTasty(T0));
    await act(async () => {});
    const ftmo = widget("FTMO challenge");
    const toggle = within(ftmo).getByRole("button", { name: "Diagnostics" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(within(ftmo).queryByTestId("diagnostics")).toBeNull();

    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(ftmo.className).toContain("is-expanded");
    const panel = within(ftmo).getByRole("region", { name: "Diagnostics for FTMO challenge" });
    expect(toggle.getAttribute("aria-controls")).toBe(panel.id);
    const account = (key: string) => within(panel).getByTestId(`diag-account-${key}`).querySelector("dd")?.textContent;
    expect(account("broker")).toBe("OANDA (oanda)");
    expect(account("environment")).toBe("fxTrade Practice (practice)");
    expect(account("brokerAccount")).toBe("101-004-2718281-001");
    expect(account("rest")).toBe("https://api-fxpractice.oanda.combroker default");
    expect(account("stream")).toBe("https://stream-fxpractice.oanda.combroker default");
    expect(account("credentials")).toBe("API access token: stored");

    const cell = (channel: string, key: string) => within(panel).getByTestId(`diag-${channel}-${key}`).textContent;
    expect(within(panel).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Detail", "Orders", "Prices"]);
    expect(cell("order", "state")).toBe("Connected");
    expect(cell("order", "latency")).toBe("38 ms");
    expect(cell("order", "messages")).toBe("412");
    expect(cell("price", "messages")).toBe("18,204");
    expect(cell("order", "lastMessage")).toBe("2 s ago");
    expect(cell("order", "lastHeartbeat")).toBe("2 s ago");
    expect(cell("order", "uptime")).toBe("1 h 02 min");
    expect(cell("order", "drops")).toBe("0");
    expect(cell("order", "quality")).toBe("Good — latency 38 ms, no drop in the last hour");
    expect(cell("order", "session")).toBe("—");
    expect(cell("order", "connectedSince")).not.toBe("—");
    expect(within(panel).getByRole("list", { name: "Orders full history" }).querySelectorAll("li")).toHaveLength(2);

    // Ages tick with the clock; the stats of each second bring new facts.
    act(() => vi.advanceTimersByTime(5_000));
    expect(cell("order", "lastMessage")).toBe("7 s ago");
    const next = withoutTasty(T0);
    const order = next[0]!.channels[0]!;
    next[0]!.channels[0] = { ...order, lastMessageAt: new Date(Date.now() - 500).toISOString(), messages: 420, latencyMs: 1450, quality: "poor" };
    act(() => update(next));
    expect(cell("order", "lastMessage")).toBe("just now");
    expect(cell("order", "messages")).toBe("420");
    expect(cell("order", "quality")).toBe("Poor — latency 1.5 s");

    // A failed channel: its code and reason, the quality down.
    const tradier = widget("Tradier income");
    fireEvent.click(within(tradier).getByRole("button", { name: "Diagnostics" }));
    const failed = within(tradier).getByTestId("diagnostics");
    expect(within(failed).getByTestId("diag-order-state").textContent).toBe(
      "Failed (broker_auth): the broker refused the credentials: Invalid Access Token",
    );
    expect(within(failed).getByTestId("diag-order-state").className).toBe("is-bad");
    expect(within(failed).getByTestId("diag-order-quality").textContent).toBe("Down — the connection failed");
    expect(within(failed).getByTestId("diag-order-lastMessage").textContent).toBe("never");

    fireEvent.click(within(ftmo).getByRole("button", { name: "Diagnostics" }));
    fireEvent.click(within(tradier).getByRole("button", { name: "Diagnostics" }));
    expect(screen.queryByTestId("diagnostics")).toBeNull();
  });

  it("asks the core to copy the account's report, and says when it cannot", async () => {
    vi.mocked(api.clipboardCopy).mockResolvedValue(null);
    renderSection();
    const tasty = widget("Tasty options");
    fireEvent.click(await within(tasty).findByRole("button", { name: "Diagnostics" }));
    fireEvent.click(within(tasty).getByRole("button", { name: "Copy diagnostics" }));
    expect(await within(tasty).findByText("Copied. The clipboard is cleared in 30 s.")).toBeTruthy();
    // A reference, never text: the core writes the report.
    expect(vi.mocked(api.clipboardCopy).mock.calls).toEqual([[{ kind: "diagnostics", accountId: "acc_tasty" }]]);

    vi.mocked(api.clipboardCopy).mockRejectedValue(new BrokerdeskError("internal", "no clipboard"));
    fireEvent.click(within(tasty).getByRole("button", { name: "Copy diagnostics" }));
    expect(await within(tasty).findByText("The diagnostics could not be copied: no clipboard")).toBeTruthy();
  });
});

describe("accounts without a connection", () => {
  it("say why: the paper broker needs none, unreadable or missing credentials keep one from starting", () => {
    expect(idleReason({ ...FTMO, broker: "paper", credentials: [] })).toBe("Built-in paper broker — no connection needed");
    expect(idleReason(ALPACA)).toBe("Not connected — its stored credentials cannot be read");
    expect(idleReason({ ...FTMO, credentials: [] })).toBe("Not connected — no stored credentials");
    expect(idleReason(FTMO)).toBe("Not connected");
  });
});
