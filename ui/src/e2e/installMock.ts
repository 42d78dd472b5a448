/**
 * Wires the fake backend behind Tauri's IPC mock. Loaded only by the browser-test build
 * (`VITE_E2E_MOCK=1`); the scenario comes from `?scenario=` and the state lives in
 * sessionStorage, so a reload keeps it like a real backend would.
 */
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ApiError } from "../bindings/ApiError";
import { FakeBackend, MockApiError } from "./mockBackend";
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

  mockIPC(
    (command, args) => {
      calls.push({ command, args: args ?? null });
      try {
        return backend.handle(command, (args ?? {}) as Record<string, unknown>);
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
  };
}
