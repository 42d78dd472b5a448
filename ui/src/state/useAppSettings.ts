import { useCallback, useEffect, useRef, useState } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { AppSettings } from "../bindings/AppSettings";

export type SettingsState = { phase: "loading" } | { phase: "error"; error: BrokerdeskError } | { phase: "ready"; settings: AppSettings };

/**
 * The app settings for the Settings page's cards. `save` sends the latest settings with the
 * patch applied (the command replaces them all), so two cards never overwrite each other's
 * change with a stale copy; it resolves with what the backend saved and rejects with its error.
 */
export function useAppSettings(): { state: SettingsState; save: (patch: Partial<AppSettings>) => Promise<AppSettings> } {
  const [state, setState] = useState<SettingsState>({ phase: "loading" });
  const latest = useRef<AppSettings | null>(null);

  useEffect(() => {
    let live = true;
    api
      .settingsGet()
      .then((settings) => {
        if (!live) return;
        latest.current = settings;
        setState({ phase: "ready", settings });
      })
      .catch((error: BrokerdeskError) => live && setState({ phase: "error", error }));
    return () => {
      live = false;
    };
  }, []);

  const save = useCallback(async (patch: Partial<AppSettings>) => {
    const base = latest.current;
    if (!base) throw new Error("the settings are not loaded yet");
    const saved = await api.settingsUpdate({ ...base, ...patch });
    latest.current = saved;
    setState({ phase: "ready", settings: saved });
    return saved;
  }, []);

  return { state, save };
}
