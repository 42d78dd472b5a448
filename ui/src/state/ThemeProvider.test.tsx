import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { THEME_STORAGE_KEY } from "../lib/theme";
import { ThemeProvider, useTheme } from "./ThemeProvider";

let osDark = false;
const listeners = new Set<() => void>();

beforeEach(() => {
  osDark = false;
  vi.stubGlobal("matchMedia", (query: string) => ({
    get matches() {
      return query.includes("dark") && osDark;
    },
    media: query,
    addEventListener: (_: string, fn: () => void) => listeners.add(fn),
    removeEventListener: (_: string, fn: () => void) => listeners.delete(fn),
  }));
});

afterEach(() => {
  vi.unstubAllGlobals();
  listeners.clear();
});

function Probe() {
  const { preference, resolved, toggle, setPreference } = useTheme();
  return (
    <div>
      <span data-testid="pref">{preference}</span>
      <span data-testid="resolved">{resolved}</span>
      <button onClick={toggle}>toggle</button>
      <button onClick={() => setPreference("system")}>system</button>
    </div>
  );
}

describe("ThemeProvider", () => {
  it("follows the OS until the user toggles, then persists the explicit choice", () => {
    osDark = true;
    const { unmount } = render(
      <ThemeProvider>
        <Probe />
      </ThemeProvider>,
    );
    expect(screen.getByTestId("resolved").textContent).toBe("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");

    fireEvent.click(screen.getByText("toggle"));
    expect(screen.getByTestId("pref").textContent).toBe("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe("light");
    unmount();

    // A new session reads the saved choice, whatever the OS says.
    render(
      <ThemeProvider>
        <Probe />
      </ThemeProvider>,
    );
    expect(screen.getByTestId("resolved").textContent).toBe("light");
  });

  it("reacts to OS changes while the preference is system", () => {
    render(
      <ThemeProvider>
        <Probe />
      </ThemeProvider>,
    );
    expect(screen.getByTestId("resolved").textContent).toBe("light");
    act(() => {
      osDark = true;
      listeners.forEach((fn) => fn());
    });
    expect(screen.getByTestId("resolved").textContent).toBe("dark");
    fireEvent.click(screen.getByText("toggle"));
    fireEvent.click(screen.getByText("system"));
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
    expect(screen.getByTestId("resolved").textContent).toBe("dark");
  });
});
