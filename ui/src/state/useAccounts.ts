import { useCallback, useEffect, useState } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { Account } from "../bindings/Account";

export type AccountsState =
  | { phase: "loading" }
  | { phase: "error"; error: BrokerdeskError }
  | { phase: "ready"; accounts: Account[] };

/** Reads the account list when mounted; `reload` reads it again. */
export function useAccounts(): { state: AccountsState; reload: () => void } {
  const [state, setState] = useState<AccountsState>({ phase: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    api
      .accountsList()
      .then((accounts) => live && setState({ phase: "ready", accounts }))
      .catch((error: BrokerdeskError) => live && setState({ phase: "error", error }));
    return () => {
      live = false;
    };
  }, [attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { state, reload };
}
