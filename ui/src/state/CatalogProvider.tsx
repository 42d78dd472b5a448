import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";

type CatalogState =
  | { phase: "loading" }
  | { phase: "error"; error: BrokerdeskError }
  | { phase: "ready"; brokers: BrokerInfo[]; presets: PropFirmPresetInfo[] };

interface CatalogContextValue {
  state: CatalogState;
  reload: () => void;
  broker: (kind: BrokerKind) => BrokerInfo | undefined;
}

const CatalogContext = createContext<CatalogContextValue | null>(null);

/** The broker catalog and prop-firm presets: static for a run, so read once. */
export function CatalogProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<CatalogState>({ phase: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    Promise.all([api.brokerCatalog(), api.propFirmPresets()])
      .then(([brokers, presets]) => live && setState({ phase: "ready", brokers, presets }))
      .catch((error: BrokerdeskError) => live && setState({ phase: "error", error }));
    return () => {
      live = false;
    };
  }, [attempt]);

  const reload = useCallback(() => {
    setState({ phase: "loading" });
    setAttempt((n) => n + 1);
  }, []);

  const broker = useCallback(
    (kind: BrokerKind) => (state.phase === "ready" ? state.brokers.find((b) => b.kind === kind) : undefined),
    [state],
  );

  const value = useMemo(() => ({ state, reload, broker }), [state, reload, broker]);
  return <CatalogContext.Provider value={value}>{children}</CatalogContext.Provider>;
}

export function useCatalog(): CatalogContextValue {
  const ctx = useContext(CatalogContext);
  if (!ctx) throw new Error("useCatalog must be used inside CatalogProvider");
  return ctx;
}
