import { describe, expect, it } from "vitest";
import { THEME_STORAGE_KEY, applyTheme, loadThemePreference, resolveTheme, saveThemePreference } from "./theme";

describe("theme preference", () => {
  it("defaults to system and ignores junk in storage", () => {
    expect(loadThemePreference()).toBe("system");
    localStorage.setItem(THEME_STORAGE_KEY, "purple");
    expect(loadThemePreference()).toBe("system");
  });

  it("persists light and dark, and system removes the key", () => {
    saveThemePreference("dark");
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe("dark");
    expect(loadThemePreference()).toBe("dark");
    saveThemePreference("light");
    expect(loadThemePreference()).toBe("light");
    saveThemePreference("system");
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
  });

  it("survives storage that throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("full");
      },
      removeItem: () => {
        throw new Error("denied");
      },
    };
    expect(loadThemePreference(broken)).toBe("system");
    expect(() => saveThemePreference("dark", broken)).not.toThrow();
  });

  it("resolves system from the OS and applies the result to the root element", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
    const root = document.createElement("html");
    applyTheme("dark", root);
    expect(root.dataset.theme).toBe("dark");
    expect(root.style.colorScheme).toBe("dark");
  });
});
