import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import { parsePriceRate } from "../settings/PricesCard";
import { InstrumentSearch, normalizeSymbol } from "./InstrumentSearch";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  instrumentsSearch: vi.fn(),
}));

const api = await import("../../api/client");

const JPY = [
  { symbol: "USD_JPY", name: "USD/JPY", kind: "currency" },
  { symbol: "EUR_JPY", name: "EUR/JPY", kind: "currency" },
  { symbol: "GBP_JPY", name: "GBP/JPY", kind: "currency" },
];

function renderSearch(existing: string[] = []) {
  const onAdd = vi.fn();
  render(<InstrumentSearch accountId="acc_1" accountName="Swing" existing={existing} onAdd={onAdd} />);
  return { onAdd, box: screen.getByRole("combobox", { name: "Add instrument to Swing" }) };
}

beforeEach(() => {
  vi.mocked(api.instrumentsSearch).mockResolvedValue(JPY);
});

describe("InstrumentSearch", () => {
  it("searches once typing pauses, moves with the arrow keys, adds with Enter", async () => {
    const { onAdd, box } = renderSearch(["GBP_JPY"]);
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "j" } });
    fireEvent.change(box, { target: { value: "jp" } });
    fireEvent.change(box, { target: { value: "jpy" } });
    await screen.findByRole("option", { name: /USD_JPY/ });
    expect(vi.mocked(api.instrumentsSearch).mock.calls).toEqual([["acc_1", "jpy"]]);
    expect(box.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByRole("option", { name: /GBP_JPY/ }).getAttribute("aria-disabled")).toBe("true");

    fireEvent.keyDown(box, { key: "ArrowDown" });
    const active = screen.getByRole("option", { selected: true });
    expect(active.textContent).toContain("EUR_JPY");
    expect(box.getAttribute("aria-activedescendant")).toBe(active.id);
    fireEvent.keyDown(box, { key: "ArrowUp" });
    fireEvent.keyDown(box, { key: "ArrowUp" });
    expect(screen.getByRole("option", { selected: true }).textContent).toContain("GBP_JPY");
    // Already on the watchlist: Enter does nothing.
    fireEvent.keyDown(box, { key: "Enter" });
    expect(onAdd).not.toHaveBeenCalled();
    fireEvent.keyDown(box, { key: "ArrowDown" });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(onAdd).toHaveBeenCalledWith("USD_JPY");
    expect((box as HTMLInputElement).value).toBe("");
  });

  it("falls back to the symbol as typed where the broker has no search, and stops asking it", async () => {
    vi.mocked(api.instrumentsSearch).mockRejectedValue(new BrokerdeskError("search_unsupported", "Swing's broker offers no instrument search; type the symbol"));
    const { onAdd, box } = renderSearch();
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "nvda" } });
    await screen.findByText("No instrument search at this broker: press Enter to add the symbol as typed.");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(onAdd).toHaveBeenCalledWith("NVDA");
    fireEvent.change(box, { target: { value: "aapl" } });
    expect(screen.getByRole("option", { name: /AAPL/ })).toBeTruthy();
    await new Promise((ok) => setTimeout(ok, 300));
    expect(api.instrumentsSearch).toHaveBeenCalledTimes(1);
  });

  it("Escape closes the list, then clears the text", async () => {
    const { box } = renderSearch();
    fireEvent.focus(box);
    fireEvent.change(box, { target: { value: "jpy" } });
    await waitFor(() => expect(box.getAttribute("aria-expanded")).toBe("true"));
    fireEvent.keyDown(box, { key: "Escape" });
    expect(box.getAttribute("aria-expanded")).toBe("false");
    fireEvent.keyDown(box, { key: "Escape" });
    expect((box as HTMLInputElement).value).toBe("");
  });

  it("normalizes typed symbols and validates the price rate", () => {
    expect(normalizeSymbol(" eur_usd ")).toBe("EUR_USD");
    expect(parsePriceRate("30")).toEqual({ value: 30 });
    expect(parsePriceRate(" 120 ")).toEqual({ value: 120 });
    expect(parsePriceRate("0")).toEqual({ error: "Use 1 to 120 updates per second." });
    expect(parsePriceRate("121")).toEqual({ error: "Use 1 to 120 updates per second." });
    expect(parsePriceRate("2.5")).toEqual({ error: "Enter a whole number of updates per second." });
    expect(parsePriceRate("")).toEqual({ error: "Enter a number from 1 to 120." });
  });
});
