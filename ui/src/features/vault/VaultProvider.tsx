import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { VaultStatus } from "../../bindings/VaultStatus";
import { setVaultStatus } from "../../data/events";
import { keys } from "../../data/keys";

type VaultState =
  | { phase: "loading" }
  | { phase: "error"; error: BrokerdeskError }
  | { phase: "ready"; status: VaultStatus };

interface VaultContextValue {
  state: VaultState;
  /** Re-reads the vault status from the backend. */
  refresh: () => Promise<void>;
  /** Stores a status a command just returned (init, unlock, lock, …). */
  setStatus: (status: VaultStatus) => void;
  /** A one-off message for the next screen (e.g. why the app locked itself). */
  notice: string | null;
  clearNotice: () => void;
  /** Bumped when the vault changed underneath the UI; pages keyed on it read their data again. */
  epoch: number;
}

const VaultContext = createContext<VaultContextValue | null>(null);

/** How long a `locked` error waits for the `vault-status` event before it tells the user. */
export const LOCKED_NOTICE_AFTER_MS = 1000;

export function VaultProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  // The vault's state lives in the resource cache: `vault-status` events (the tray's Lock,
  // auto-lock, the CLI) write it there, and so do the commands that return it (`setStatus`).
  const query = useQuery({ queryKey: keys.vault, queryFn: api.vaultStatus });
  const [notice, setNotice] = useState<string | null>(null);
  const [epoch, setEpoch] = useState(0);
  const { refetch } = query;

  const refresh = useCallback(async () => {
    await refetch();
  }, [refetch]);

  const setStatus = useCallback((status: VaultStatus) => setVaultStatus(qc, status), [qc]);
  /** When the last `vault-status` event saying "locked" arrived. */
  const lockedEventAt = useRef(0);

  useEffect(() => {
    const stopEvents = api.onVaultStatus((status) => {
      if (status.locked) lockedEventAt.current = Date.now();
    });
    const stopErrors = api.onSessionError((error) => {
      if (error.code === Code.VaultChanged) {
        setNotice("The vault changed outside this window (for example from the command line). Its state was reloaded.");
        setEpoch((n) => n + 1);
        // Whatever the window read may be stale: read it again.
        void qc.invalidateQueries();
      } else if (error.code === Code.Locked && !qc.getQueryData<VaultStatus>(keys.vault)?.locked) {
        // Only news when the window was not told: a read already on its way when the vault
        // locked fails with `locked` too, and its answer can come a moment before the
        // `vault-status` event does. Say it only if no such event followed within a second
        // (a window that missed the event, asleep or lagging).
        const at = Date.now();
        setTimeout(() => {
          if (lockedEventAt.current < at) setNotice("The vault is locked. Unlock it to continue.");
        }, LOCKED_NOTICE_AFTER_MS);
      }
      void refetch();
    });
    return () => {
      stopEvents();
      stopErrors();
    };
  }, [qc, refetch]);

  const { data, error } = query;
  const state = useMemo<VaultState>(() => {
    if (data !== undefined) return { phase: "ready", status: data };
    if (error) return { phase: "error", error: error as BrokerdeskError };
    return { phase: "loading" };
  }, [data, error]);

  const clearNotice = useCallback(() => setNotice(null), []);
  const value = useMemo(
    () => ({ state, refresh, setStatus, notice, clearNotice, epoch }),
    [state, refresh, setStatus, notice, clearNotice, epoch],
  );
  return <VaultContext.Provider value={value}>{children}</VaultContext.Provider>;
}

export function useVault(): VaultContextValue {
  const ctx = useContext(VaultContext);
  if (!ctx) throw new Error("useVault must be used inside VaultProvider");
  return ctx;
}

/** The vault status when known (and inside a VaultProvider), else null: for nice-to-have details such as the app's version. */
export function useOptionalVaultStatus(): VaultStatus | null {
  const ctx = useContext(VaultContext);
  return ctx?.state.phase === "ready" ? ctx.state.status : null;
}

/** Returns the vault status; only for screens shown once the status is known. */
export function useVaultStatus(): VaultStatus {
  const { state } = useVault();
  if (state.phase !== "ready") throw new Error("useVaultStatus used before the vault status is known");
  return state.status;
}
