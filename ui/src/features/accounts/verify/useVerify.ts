import { useCallback, useEffect, useRef, useState } from "react";
import * as api from "../../../api/client";
import type { BrokerdeskError } from "../../../api/client";
import type { VerifyState } from "../../../lib/verify";

/**
 * "Verify with broker" for one saved account: `verify()` calls `account_verify` and the state
 * follows it (checking → verified with the broker's summary, or failed with the error's code and
 * message). A second call while one is under way is ignored.
 */
export function useVerify(accountId: string): { state: VerifyState; verify: () => Promise<void> } {
  const [state, setState] = useState<VerifyState>({ phase: "idle" });
  const live = useRef(true);
  const running = useRef(false);

  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  const verify = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    setState({ phase: "checking" });
    try {
      const summary = await api.accountVerify(accountId);
      if (live.current) setState({ phase: "verified", summary, at: Date.now() });
    } catch (e) {
      const error = e as BrokerdeskError;
      if (live.current) setState({ phase: "failed", code: error.code, message: error.message });
    } finally {
      running.current = false;
    }
  }, [accountId]);

  return { state, verify };
}
