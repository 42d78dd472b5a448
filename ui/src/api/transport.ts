/**
 * How the UI reaches the backend. Inside the desktop app: Tauri's IPC (`invoke`, `listen`).
 * In a plain browser (the browser tests, UI development): the development server's HTTP API
 * (`POST /api/<command>`) and its event socket (`/events`), served by `brokerdesk-devserver`
 * from the same origin. Both carry the same commands, arguments, results, errors and events
 * (the core's IPC contract). This is the only module that imports `@tauri-apps/*`.
 */
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

export interface Transport {
  /** Runs a command; rejects with the backend's `{code, message, fields}` (or what the transport failed with). */
  invoke(command: string, args: Record<string, unknown>): Promise<unknown>;
  /** Subscribes to an event; returns a function that unsubscribes. */
  listen(event: string, callback: (payload: unknown) => void): () => void;
}

/** Tauri's IPC. */
export const tauriTransport: Transport = {
  invoke: (command, args) => invoke(command, args),
  listen(event, callback) {
    let disposed = false;
    let unlisten: (() => void) | null = null;
    listen(event, (e) => callback(e.payload))
      .then((fn) => {
        if (disposed) fn();
        else unlisten = fn;
      })
      .catch(() => {
        // No event bridge: the UI still works, it just is not told.
      });
    return () => {
      disposed = true;
      unlisten?.();
    };
  },
};

type Listener = (payload: unknown) => void;

/**
 * The development server: commands over `fetch`, events over one shared WebSocket that
 * reconnects by itself (after a reconnect the UI is told nothing it missed; it re-reads on
 * the next event, as after a lagged Tauri event).
 */
export function httpTransport(base: string = ""): Transport {
  const listeners = new Map<string, Set<Listener>>();
  let socket: WebSocket | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const open = () => {
    if (socket || typeof WebSocket === "undefined") return;
    const url = new URL(`${base}/events`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = (m) => {
      try {
        const { event, payload } = JSON.parse(String(m.data)) as { event: string; payload: unknown };
        listeners.get(event)?.forEach((cb) => cb(payload));
      } catch {
        // A frame that is not an event: ignore it.
      }
    };
    ws.onclose = () => {
      socket = null;
      if (listeners.size > 0 && !retry) {
        retry = setTimeout(() => {
          retry = null;
          open();
        }, 500);
      }
    };
  };

  return {
    async invoke(command, args) {
      let response: Response;
      try {
        response = await fetch(`${base}/api/${command}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(args),
        });
      } catch (e) {
        throw `the development server cannot be reached: ${e instanceof Error ? e.message : String(e)}`;
      }
      const body: unknown = await response.json().catch(() => null);
      if (!response.ok) throw body ?? `HTTP ${response.status}`;
      return body;
    },
    listen(event, callback) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(callback);
      open();
      return () => {
        set.delete(callback);
        if (set.size === 0) listeners.delete(event);
      };
    },
  };
}

/** Whether the UI runs inside the desktop app (Tauri injects its IPC bridge). */
export function insideTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

let chosen: Transport | null = null;

/** Returns the transport for this window, chosen once (at the first call). */
export function transport(): Transport {
  chosen ??= insideTauri() ? tauriTransport : httpTransport();
  return chosen;
}

/** Replaces the transport (tests). */
export function setTransport(t: Transport | null): void {
  chosen = t;
}
