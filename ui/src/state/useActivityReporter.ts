import { useEffect } from "react";
import * as api from "../api/client";
import { throttle } from "../lib/autoLock";

/** How often at most the UI tells the shell the user is active. */
export const ACTIVITY_REPORT_MS = 30_000;

/**
 * Reports keyboard, pointer and wheel activity to the shell (at most once per 30 s), which
 * locks the vault after the idle minutes set in Settings.
 */
export function useActivityReporter(): void {
  useEffect(() => {
    const report = throttle(() => {
      api.appActivity().catch(() => {
        // Best effort: a missed report at worst locks a little early.
      });
    }, ACTIVITY_REPORT_MS);
    const events = ["keydown", "pointerdown", "wheel"] as const;
    events.forEach((name) => window.addEventListener(name, report, { passive: true, capture: true }));
    return () => events.forEach((name) => window.removeEventListener(name, report, { capture: true }));
  }, []);
}
