import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { applyTheme, loadThemePreference, resolveTheme, systemPrefersDark } from "./lib/theme";
import "./styles/index.css";

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
