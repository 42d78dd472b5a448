/**
 * Live prices, kept outside React: `price-update` batches (up to the configured updates per
 * instrument per second, for every instrument of every account) are folded in here, and
 * components read one account at a time with `useSyncExternalStore`. Listeners are told at most
 * once per animation frame, and only for the accounts that changed, so a busy feed costs one
 * render of each visible watchlist per frame; unchanged rows keep their identity (memoised).
 */
import { useCallback, useEffect, useSyncExternalStore } from "react";
import * as api from "../api/client";
import type { FeedNotice } from "../bindings/FeedNotice";
import type { Tick } from "../bindings/Tick";
import { compareDecimal, subDecimal } from "../lib/decimal";
import { RingBuffer, SPARK_POINTS, SPARK_SAMPLE_MS, mergeTick, midOf, percentChange, recordMid, tickDecimals } from "../lib/prices";

/** One instrument of one account. A new object on every change, except `history` (a ring, see `historyVersion`). */
export interface InstrumentPrices {
  instrument: string;
  /** Every field merged from the ticks seen so far. */
  tick: Tick;
  /** The most decimals its prices were sent with. */
  decimals: number;
  /** Exact decimal text, like every price (see `lib/decimal`). */
  mid: string | null;
  /** The first mid price seen this session: the change is counted from it. */
  firstMid: string | null;
  /** mid − firstMid, exactly. */
  change: string | null;
  /** The change in percent: a ratio, so a number. */
  changePct: number | null;
  /** Which way the mid price last moved. */
  direction: "up" | "down" | null;
  /** How many times the mid price moved (restarts the flash animation). */
  moves: number;
  /** When the last price arrived (ms since the epoch). */
  updatedAt: number;
  /** The mid prices of the last minutes, one point per second (numbers: for drawing only). */
  history: RingBuffer;
  historyVersion: number;
}

export interface AccountPrices {
  accountId: string;
  rows: ReadonlyMap<string, InstrumentPrices>;
  /** The broker notices by instrument (e.g. `unknown_instrument`) not dismissed yet. */
  notices: ReadonlyMap<string, FeedNotice>;
  /** Notices about the whole feed (no instrument). */
  feedNotices: readonly FeedNotice[];
  /** When the account's last price arrived (ms), null before the first. */
  lastUpdateAt: number | null;
}

type Listener = () => void;
type Schedule = (flush: () => void) => void;

const frame: Schedule = (flush) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
};

const emptyAccount = (accountId: string): AccountPrices => ({
  accountId,
  rows: new Map(),
  notices: new Map(),
  feedNotices: [],
  lastUpdateAt: null,
});

export interface PriceStoreOptions {
  /** How listeners are batched (default: once per animation frame; tests pass a synchronous one). */
  schedule?: Schedule;
  historyPoints?: number;
  sampleMs?: number;
}

export class PriceStore {
  private readonly accounts = new Map<string, AccountPrices>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private readonly schedule: Schedule;
  private readonly historyPoints: number;
  private readonly sampleMs: number;

  constructor(options: PriceStoreOptions = {}) {
    this.schedule = options.schedule ?? frame;
    this.historyPoints = options.historyPoints ?? SPARK_POINTS;
    this.sampleMs = options.sampleMs ?? SPARK_SAMPLE_MS;
  }

  /** The account's prices; the same object until something of that account changes. */
  get(accountId: string): AccountPrices {
    let account = this.accounts.get(accountId);
    if (!account) {
      account = emptyAccount(accountId);
      this.accounts.set(accountId, account);
    }
    return account;
  }

  subscribe(accountId: string, listener: Listener): () => void {
    let set = this.listeners.get(accountId);
    if (!set) {
      set = new Set();
      this.listeners.set(accountId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(accountId);
    };
  }

  /**
   * Folds ticks in. `live` false (a snapshot) merges prices without counting them as moves, so
   * rows do not flash when a watchlist opens.
   */
  applyTicks(accountId: string, ticks: readonly Tick[], options: { now?: number; live?: boolean } = {}): void {
    if (ticks.length === 0) return;
    const live = options.live ?? true;
    const account = this.get(accountId);
    const rows = new Map(account.rows);
    let lastUpdateAt = account.lastUpdateAt;
    for (const tick of ticks) {
      const received = Date.parse(tick.receivedAt);
      const at = Number.isNaN(received) ? (options.now ?? Date.now()) : received;
      const prev = rows.get(tick.instrument);
      // A snapshot read while live prices arrived must not take them back.
      if (!live && prev && at <= prev.updatedAt) continue;
      rows.set(tick.instrument, this.nextRow(prev, tick, at, live));
      if (lastUpdateAt === null || at > lastUpdateAt) lastUpdateAt = at;
    }
    this.replace(accountId, { ...account, rows, lastUpdateAt });
  }

  private nextRow(prev: InstrumentPrices | undefined, incoming: Tick, at: number, live: boolean): InstrumentPrices {
    const tick = mergeTick(prev?.tick, incoming);
    const mid = midOf(tick);
    const decimals = Math.max(prev?.decimals ?? 0, tickDecimals(incoming));
    const firstMid = prev?.firstMid ?? mid;
    const history = prev?.history ?? new RingBuffer(this.historyPoints);
    if (mid !== null) recordMid(history, at, Number(mid), this.sampleMs);
    let direction = prev?.direction ?? null;
    let moves = prev?.moves ?? 0;
    const prevMid = prev?.mid ?? null;
    const moved = prevMid !== null && mid !== null ? compareDecimal(mid, prevMid) : 0;
    if (live && moved !== 0) {
      direction = moved > 0 ? "up" : "down";
      moves += 1;
    }
    const change = mid !== null && firstMid !== null ? subDecimal(mid, firstMid) : null;
    return {
      instrument: tick.instrument,
      tick,
      decimals,
      mid,
      firstMid,
      change,
      changePct: percentChange(change, firstMid),
      direction,
      moves,
      updatedAt: Math.max(prev?.updatedAt ?? 0, at),
      history,
      historyVersion: (prev?.historyVersion ?? 0) + (mid !== null ? 1 : 0),
    };
  }

  applyNotice(notice: FeedNotice): void {
    const account = this.get(notice.accountId);
    if (notice.instrument === null) {
      this.replace(notice.accountId, { ...account, feedNotices: [...account.feedNotices, notice].slice(-5) });
      return;
    }
    const notices = new Map(account.notices);
    notices.set(notice.instrument, notice);
    this.replace(notice.accountId, { ...account, notices });
  }

  /** Dismisses the notice of an instrument (null: the feed's notices). */
  dismissNotice(accountId: string, instrument: string | null): void {
    const account = this.get(accountId);
    if (instrument === null) {
      if (account.feedNotices.length > 0) this.replace(accountId, { ...account, feedNotices: [] });
      return;
    }
    if (!account.notices.has(instrument)) return;
    const notices = new Map(account.notices);
    notices.delete(instrument);
    this.replace(accountId, { ...account, notices });
  }

  /** Forgets the instruments no longer on the account's watchlist (and their notices). */
  retain(accountId: string, instruments: readonly string[]): void {
    const account = this.accounts.get(accountId);
    if (!account) return;
    const keep = new Set(instruments);
    const rows = new Map([...account.rows].filter(([k]) => keep.has(k)));
    const notices = new Map([...account.notices].filter(([k]) => keep.has(k)));
    if (rows.size === account.rows.size && notices.size === account.notices.size) return;
    this.replace(accountId, { ...account, rows, notices });
  }

  /** Forgets everything (the session ended: the vault was locked). */
  clear(): void {
    for (const id of this.accounts.keys()) this.dirty.add(id);
    this.accounts.clear();
    this.flushSoon();
  }

  private replace(accountId: string, next: AccountPrices): void {
    this.accounts.set(accountId, next);
    this.dirty.add(accountId);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Tells the listeners of every account that changed since the last flush. */
  flush(): void {
    this.scheduled = false;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      for (const listener of [...(this.listeners.get(id) ?? [])]) listener();
    }
  }
}

/** The app's price store. */
export const priceStore = new PriceStore();

let feedUsers = 0;
let stopFeed: (() => void) | null = null;

/**
 * Feeds `price-update` and `price-notice` into the store while at least one caller holds it
 * (the unlocked shell); when the last one lets go, the session's prices are forgotten.
 */
export function holdPriceFeed(store: PriceStore = priceStore): () => void {
  feedUsers += 1;
  if (feedUsers === 1) {
    const stopUpdates = api.onPriceUpdate((u) => store.applyTicks(u.accountId, u.ticks));
    const stopNotices = api.onPriceNotice((n) => store.applyNotice(n));
    stopFeed = () => {
      stopUpdates();
      stopNotices();
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    feedUsers -= 1;
    if (feedUsers === 0) {
      stopFeed?.();
      stopFeed = null;
      store.clear();
    }
  };
}

/** Keeps the price events flowing into the store while mounted. */
export function usePriceFeed(): void {
  useEffect(() => holdPriceFeed(), []);
}

/** One account's live prices; re-renders at most once per frame while they change. */
export function useAccountPrices(accountId: string, store: PriceStore = priceStore): AccountPrices {
  const subscribe = useCallback((onChange: () => void) => store.subscribe(accountId, onChange), [store, accountId]);
  const snapshot = useCallback(() => store.get(accountId), [store, accountId]);
  return useSyncExternalStore(subscribe, snapshot);
}
