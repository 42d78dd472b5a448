/**
 * Wires the fake backend behind Tauri's IPC mock. Loaded only by the browser-test build
 * (`VITE_E2E_MOCK=1`); the scenario comes from `?scenario=` and the state lives in
 * sessionStorage, so a reload keeps it like a real backend would.
 */
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ApiError } from "../bindings/ApiError";
import type { Channel } from "../bindings/Channel";
import type { PriceUpdate } from "../bindings/PriceUpdate";
import type { Tick } from "../bindings/Tick";
import { FakeBackend, MockApiError } from "./mockBackend";
import type { WireChannelStatus, WireConnState, WireConnectionEvent } from "./mockConnections";
import type { FakeState, Scenario } from "./mockBackend";
import { SCENARIOS, scenarioState } from "./scenarios";

const STORAGE_KEY = "brokerdesk.mock.state";
/** How often the fake feed sends a round of prices (ms). */
const PRICE_INTERVAL_MS = 200;
/** Commands that talk to the broker take this long by default, so "Checking with…" can be seen. */
const DEFAULT_BROKER_DELAY_MS = 300;

export interface MockPriceControls {
  /** Stops the random feed (explicit `push`es still go out). */
  pause: () => void;
  resume: () => void;
  /** Sends one round of the random feed now. */
  step: () => Promise<void>;
  /** Sets prices as given and emits them as one `price-update` (fields left out are not sent). */
  push: (accountId: string, ticks: (Partial<Tick> & { instrument: string })[]) => Promise<PriceUpdate>;
  /** Emits a `price-notice`. */
  notice: (accountId: string, instrument: string | null, code: string, message: string) => Promise<void>;
}

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
  /** Changes what a channel reports without an event (latency, drops, session expiry…), like the backend's metrics. */
  patchChannel: (accountId: string, channel: Channel, patch: Partial<Omit<WireChannelStatus, "channel" | "state" | "history">>) => void;
  /** The fake price feed (it streams for accounts whose price channel is connected). */
  prices: MockPriceControls;
  /** How long broker checks, account discovery and instrument search take (ms). */
  setBrokerDelay: (ms: number) => void;
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
  let brokerDelayMs = DEFAULT_BROKER_DELAY_MS;
  let pricesPaused = new URLSearchParams(window.location.search).get("prices") === "off";

  /** Whether a command reaches the (fake) broker, and so takes its time. */
  const reachesBroker = (command: string, args: Record<string, unknown>) => {
    const input = args.input as { broker?: string } | undefined;
    switch (command) {
      case "account_add":
      case "account_update":
        return args.check !== false && input?.broker !== "paper";
      case "account_check":
      case "account_verify":
      case "broker_accounts":
      case "instruments_search":
        return true;
      default:
        return false;
    }
  };

  const emitRound = async () => {
    const { updates, notices } = backend.priceStep();
    for (const update of updates) await emit("price-update", update);
    for (const notice of notices) await emit("price-notice", notice);
  };
  window.setInterval(() => {
    if (!pricesPaused && !backend.state.locked) void emitRound();
  }, PRICE_INTERVAL_MS);

  mockIPC(
    async (command, args) => {
      calls.push({ command, args: args ?? null });
      try {
        const a = (args ?? {}) as Record<string, unknown>;
        if (reachesBroker(command, a) && brokerDelayMs > 0) await new Promise((ok) => window.setTimeout(ok, brokerDelayMs));
        return await backend.handle(command, a);
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
    patchChannel: (accountId, channel, patch) => {
      backend.connections.patch(accountId, channel, patch);
      save();
    },
    prices: {
      pause: () => {
        pricesPaused = true;
      },
      resume: () => {
        pricesPaused = false;
      },
      step: emitRound,
      push: async (accountId, ticks) => {
        const update = backend.pushPrices(accountId, ticks);
        await emit("price-update", update);
        return update;
      },
      notice: async (accountId, instrument, code, message) => {
        await emit("price-notice", { accountId, instrument, code, message, at: new Date().toISOString() });
      },
    },
    setBrokerDelay: (ms) => {
      brokerDelayMs = ms;
    },
  };
}
