import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";
import * as api from "../../api/client";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { useTwofaStatus } from "../../data/resources";
import { StepUpDialog } from "./StepUpDialog";
import "./security.css";

interface TwoFactorContextValue {
  /** The two-factor state (null until first read). */
  status: TwoFactorStatus | null;
  /** Reads the state again (after enabling, disabling, regenerating). */
  refresh: () => Promise<void>;
  setStatus: (status: TwoFactorStatus) => void;
}

const TwoFactorContext = createContext<TwoFactorContextValue | null>(null);

/**
 * The one place that handles `step_up_required`: it registers with the client, which calls it
 * when a command needs a fresh two-factor code. It shows the prompt, and the client retries
 * the command once the code is verified (or rejects with the original error on Cancel).
 * Requests that arrive while the prompt is open share it. It also hands out the two-factor
 * status (the resource cache's, kept current by `twofa-status` events: a change from the CLI,
 * a lockout) for the sidebar's "Verified" indicator and the Security page.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const { status, refresh, setStatus } = useTwofaStatus();
  const [prompting, setPrompting] = useState(false);
  const waiting = useRef<((verified: boolean) => void)[]>([]);

  useEffect(() => {
    const stop = api.onStepUpRequired(
      () =>
        new Promise<boolean>((resolve) => {
          waiting.current.push(resolve);
          setPrompting(true);
          // The backend says the window is closed; stop showing "Verified".
          void refresh();
        }),
    );
    return () => {
      stop();
      // Unmounting (e.g. the vault locked) cancels whatever was waiting.
      const pending = waiting.current;
      waiting.current = [];
      pending.forEach((resolve) => resolve(false));
    };
  }, [refresh]);

  const settle = useCallback((verified: boolean) => {
    const pending = waiting.current;
    waiting.current = [];
    setPrompting(false);
    pending.forEach((resolve) => resolve(verified));
  }, []);

  const value = useMemo(() => ({ status, refresh, setStatus }), [status, refresh, setStatus]);
  return (
    <TwoFactorContext.Provider value={value}>
      {children}
      {prompting ? (
        <StepUpDialog
          onVerified={(next) => {
            setStatus(next);
            settle(true);
          }}
          onCancel={() => {
            settle(false);
            void refresh();
          }}
        />
      ) : null}
    </TwoFactorContext.Provider>
  );
}

/** The two-factor state and its refresh; outside a StepUpProvider (isolated tests) the status is null. */
export function useTwoFactor(): TwoFactorContextValue {
  return useContext(TwoFactorContext) ?? NO_PROVIDER;
}

const NO_PROVIDER: TwoFactorContextValue = { status: null, refresh: async () => {}, setStatus: () => {} };
