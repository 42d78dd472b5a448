import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
// The app-wide styles first: the features' own styles (imported by their components) come
// after them, and print.css last, so its print-only overrides win.
import "./styles/index.css";
import { App } from "./App";
import { applyTheme, loadThemePreference, resolveTheme, systemPrefersDark } from "./lib/theme";
import "./styles/print.css";

function start() {
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

start();
