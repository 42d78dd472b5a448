import { useCallback, useEffect, useReducer, useRef } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import { connectionsReducer } from "../lib/connections";
import type { ConnectionsState } from "../lib/connections";

/** At most one `connections_snapshot` per this many ms while events keep coming. */
export const SNAPSHOT_THROTTLE_MS = 1000;

/**
 * Reads `connections_snapshot` when mounted, applies each `connection-event` at once and
 * refreshes the snapshot (throttled: leading and trailing) so latency, counters and uptime
 * follow. `refresh` reads the snapshot now.
 */
export function useConnections(): { state: ConnectionsState; refresh: () => void } {
  const [state, dispatch] = useReducer(connectionsReducer, { phase: "loading" });
  const live = useRef(true);
  const lastFetch = useRef(0);
  const timer = useRef<number | null>(null);

  const fetchNow = useCallback(() => {
    lastFetch.current = Date.now();
    api
      .connectionsSnapshot()
      .then((accounts) => live.current && dispatch({ type: "snapshot", accounts, at: Date.now() }))
      .catch((error: BrokerdeskError) => live.current && dispatch({ type: "error", message: error.message }));
  }, []);

  const refreshThrottled = useCallback(() => {
    if (timer.current !== null) return;
    const wait = lastFetch.current + SNAPSHOT_THROTTLE_MS - Date.now();
    if (wait <= 0) {
      fetchNow();
      return;
    }
    timer.current = window.setTimeout(() => {
      timer.current = null;
      fetchNow();
    }, wait);
  }, [fetchNow]);

  useEffect(() => {
    live.current = true;
    fetchNow();
    const stop = api.onConnectionEvent((event) => {
      dispatch({ type: "event", event });
      refreshThrottled();
    });
    return () => {
      live.current = false;
      stop();
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    };
  }, [fetchNow, refreshThrottled]);

  return { state, refresh: fetchNow };
}
