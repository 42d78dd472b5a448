/**
 * Wires the fake backend behind Tauri's IPC mock. Loaded only by the browser-test build
 * (`VITE_E2E_MOCK=1`); the scenario comes from `?scenario=` and the state lives in
 * sessionStorage, so a reload keeps it like a real backend would.
 */
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ApiError } from "../bindings/ApiError";
import type { Channel } from "../bindings/Channel";
import { FakeBackend, MockApiError } from "./mockBackend";
import type { WireConnState, WireConnectionEvent } from "./mockConnections";
import type { FakeState, Scenario } from "./mockBackend";
import { SCENARIOS, scenarioState } from "./scenarios";

const STORAGE_KEY = "brokerdesk.mock.state";

export interface MockControls {
  /** What the tray's "Lock" does: lock, then emit `vault-status`. */
  trayLock: () => Promise<void>;
  /** Locks without telling the UI, so its next command fails with `locked`. */
  lockSilently: () => void;
  failNext: (command: string, error: ApiError) => void;
  /** What unlocking from the OS keychain fails with from now on; null puts the key back. */
  setKeychainUnlockError: (error: ApiError | null) => void;
  calls: { command: string; args: unknown }[];
  /** The code an authenticator app shows now for the current (or pending) two-factor secret. */
  totpNow: () => Promise<string>;
  /** Moves the backend's clock forward (step-up window, lockout, TOTP steps, auto-lock). */
  advanceClock: (seconds: number) => Promise<void>;
  /** Edits an audit entry's detail behind the chain's back (what a sqlite3 shell could do). */
  tamperAudit: (id: number, detail: string) => void;
  /** The unused backup codes. */
  backupCodes: () => string[];
  /** The last text given to `clipboard_write_secret`. */
  clipboard: () => string | null;
  /** The last CSV export: its path and content. */
  lastExport: () => { path: string; csv: string } | null;
  /** Changes a connection's state like the connection manager and emits `connection-event`. */
  pushConnectionEvent: (accountId: string, channel: Channel, state: WireConnState) => Promise<WireConnectionEvent>;
}

declare global {
  interface Window {
    __brokerdeskMock?: MockControls;
  }
}

function initialState(): FakeState {
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (saved) return JSON.parse(saved) as FakeState;
  const requested = new URLSearchParams(window.location.search).get("scenario") as Scenario | null;
  return scenarioState(requested && SCENARIOS.includes(requested) ? requested : "fresh");
}

export function installMockBackend(): void {
  const backend = new FakeBackend(initialState());
  const save = () => sessionStorage.setItem(STORAGE_KEY, JSON.stringify(backend.state));
  const calls: MockControls["calls"] = [];
  backend.onConnectionEvent = (event) => void emit("connection-event", event);

  mockIPC(
    async (command, args) => {
      calls.push({ command, args: args ?? null });
      try {
        return await backend.handle(command, (args ?? {}) as Record<string, unknown>);
      } catch (e) {
        // Tauri rejects invoke with the command's serialized error: the ApiError object.
        throw e instanceof MockApiError ? e.body : { code: "internal", message: String(e), fields: [] };
      } finally {
        save();
      }
    },
    { shouldMockEvents: true },
  );

  window.__brokerdeskMock = {
    trayLock: async () => {
      const status = backend.lock();
      save();
      await emit("vault-status", status);
    },
    lockSilently: () => {
      backend.state.locked = true;
      save();
    },
    failNext: (command, error) => backend.failNext(command, error),
    setKeychainUnlockError: (error) => {
      backend.state.keychainUnlockError = error;
      save();
    },
    calls,
    totpNow: () => backend.twofa.codeNow(),
    advanceClock: async (seconds) => {
      const locked = backend.advanceClock(seconds);
      save();
      // The shell's auto-lock tells the UI, like the tray's "Lock".
      if (locked) await emit("vault-status", backend.status());
    },
    tamperAudit: (id, detail) => {
      const row = backend.state.audit.find((r) => r.id === id);
      if (!row) throw new Error(`no audit entry ${id}`);
      row.detail = detail;
      save();
    },
    backupCodes: () => backend.state.twofa.backupCodes.filter((c) => !c.used).map((c) => c.code),
    clipboard: () => backend.clipboard,
    lastExport: () => backend.lastExport,
    pushConnectionEvent: async (accountId, channel, state) => {
      const event = backend.connections.push(accountId, channel, state);
      save();
      return event;
    },
  };
}
