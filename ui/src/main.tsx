import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { applyTheme, loadThemePreference, resolveTheme, systemPrefersDark } from "./lib/theme";
import "./styles/index.css";

async function start() {
  // Browser tests only: an in-memory backend behind Tauri's IPC mock. Vite replaces the
  // condition at build time, so normal builds contain none of this code.
  if (import.meta.env.VITE_E2E_MOCK === "1") {
    const { installMockBackend } = await import("./e2e/installMock");
    installMockBackend();
  }
  // Apply the theme before the first paint so the window does not flash.
  applyTheme(resolveTheme(loadThemePreference(), systemPrefersDark()));
  const root = document.getElementById("root");
  if (!root) throw new Error("#root is missing from index.html");
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

void start();
