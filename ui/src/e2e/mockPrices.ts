/**
 * The fake backend's price feed (browser tests only): an instrument universe per broker, a
 * random walk of bid/ask for the instruments an account streams, the latest-quote book that
 * `prices_snapshot` reads, and `unknown_instrument` notices for symbols the broker does not offer,
 * like the OANDA stream sends them.
 */
import type { BrokerKind } from "../bindings/BrokerKind";
import type { FeedNotice } from "../bindings/FeedNotice";
import type { InstrumentInfo } from "../bindings/InstrumentInfo";
import type { Tick } from "../bindings/Tick";

interface Spec {
  symbol: string;
  name: string;
  kind: string;
  price: number;
  decimals: number;
  /** The spread in price units. */
  spread: number;
}

const fx = (symbol: string, name: string, price: number, decimals = 5, spread = 0.00012): Spec => ({ symbol, name, kind: "currency", price, decimals, spread });
const stock = (symbol: string, name: string, price: number): Spec => ({ symbol, name, kind: "equity", price, decimals: 2, spread: 0.02 });

const OANDA: Spec[] = [
  fx("EUR_USD", "EUR/USD", 1.08412),
  fx("GBP_USD", "GBP/USD", 1.26478),
  fx("USD_JPY", "USD/JPY", 151.235, 3, 0.012),
  fx("AUD_USD", "AUD/USD", 0.65921),
  fx("USD_CHF", "USD/CHF", 0.88214),
  fx("USD_CAD", "USD/CAD", 1.36052),
  fx("NZD_USD", "NZD/USD", 0.59873),
  fx("EUR_GBP", "EUR/GBP", 0.85716),
  fx("EUR_JPY", "EUR/JPY", 163.957, 3, 0.018),
  fx("GBP_JPY", "GBP/JPY", 191.284, 3, 0.025),
  { symbol: "XAU_USD", name: "Gold", kind: "metal", price: 2650.45, decimals: 2, spread: 0.35 },
  { symbol: "XAG_USD", name: "Silver", kind: "metal", price: 31.2145, decimals: 4, spread: 0.025 },
  { symbol: "SPX500_USD", name: "US SPX 500", kind: "cfd", price: 5967.3, decimals: 1, spread: 0.5 },
  { symbol: "NAS100_USD", name: "US Nas 100", kind: "cfd", price: 20861.8, decimals: 1, spread: 1.0 },
  { symbol: "BCO_USD", name: "Brent Crude Oil", kind: "cfd", price: 73.412, decimals: 3, spread: 0.03 },
];

const US_STOCKS: Spec[] = [
  stock("AAPL", "Apple Inc", 229.87),
  stock("MSFT", "Microsoft Corporation", 415.49),
  stock("NVDA", "NVIDIA Corporation", 141.95),
  stock("AMZN", "Amazon.com Inc", 197.12),
  stock("TSLA", "Tesla Inc", 338.74),
  stock("SPY", "SPDR S&P 500 ETF Trust", 595.51),
  stock("QQQ", "Invesco QQQ Trust", 509.33),
  stock("IWM", "iShares Russell 2000 ETF", 236.08),
];

const UNIVERSE: Record<BrokerKind, Spec[]> = {
  paper: [],
  oanda: OANDA,
  alpaca: US_STOCKS,
  tradier: US_STOCKS,
  tastytrade: US_STOCKS,
  ibkr: US_STOCKS,
};

/** Only OANDA's connector searches (the others answer `search_unsupported`). */
export const SEARCHABLE: ReadonlySet<BrokerKind> = new Set(["oanda"]);

const info = (s: Spec): InstrumentInfo => ({ symbol: s.symbol, name: s.name, kind: s.kind });

/** Like core's `filter_instruments`: symbol prefix matches first, then symbol or name contains; at most 20. */
export function searchInstruments(broker: BrokerKind, query: string): InstrumentInfo[] {
  const q = query.trim().toLowerCase();
  const norm = (s: string) => s.toLowerCase().replace(/[_/.-]/g, "");
  const qn = norm(q);
  const prefix: InstrumentInfo[] = [];
  const contains: InstrumentInfo[] = [];
  for (const spec of UNIVERSE[broker]) {
    const sym = norm(spec.symbol);
    if (q === "" || sym.startsWith(qn)) prefix.push(info(spec));
    else if (sym.includes(qn) || spec.name.toLowerCase().includes(q)) contains.push(info(spec));
  }
  return [...prefix, ...contains].slice(0, 20);
}

/** A price as the backend sends it: exact decimal text with the instrument's decimals. */
const round = (v: number, decimals: number) => v.toFixed(decimals);

export interface StepResult {
  ticks: Tick[];
  notices: FeedNotice[];
}

/** Prices of every account: a latest-quote book, moved by `step` or set by `push`. */
export class MockPrices {
  private readonly book = new Map<string, Map<string, Tick>>();
  private readonly mids = new Map<string, number>();
  private readonly noticed = new Set<string>();

  constructor(private readonly random: () => number = Math.random) {}

  private spec(broker: BrokerKind, symbol: string): Spec | undefined {
    return UNIVERSE[broker].find((s) => s.symbol === symbol);
  }

  private quotes(accountId: string): Map<string, Tick> {
    let q = this.book.get(accountId);
    if (!q) {
      q = new Map();
      this.book.set(accountId, q);
    }
    return q;
  }

  /**
   * One batch of the feed for an account: a random move of some of its known instruments (every
   * one of them the first time), and one notice per instrument the broker does not offer.
   */
  step(accountId: string, broker: BrokerKind, instruments: readonly string[], receivedAt: string): StepResult {
    this.retain(accountId, instruments);
    const quotes = this.quotes(accountId);
    const ticks: Tick[] = [];
    const notices: FeedNotice[] = [];
    for (const symbol of instruments) {
      const spec = this.spec(broker, symbol);
      if (!spec) {
        const key = `${accountId}\u0000${symbol}`;
        if (!this.noticed.has(key)) {
          this.noticed.add(key);
          notices.push({
            accountId,
            instrument: symbol,
            code: "unknown_instrument",
            message: broker === "oanda" ? `OANDA does not offer ${symbol} on this account` : `The broker does not know the instrument ${symbol}`,
            at: receivedAt,
          });
        }
        continue;
      }
      const key = `${accountId}\u0000${symbol}`;
      const known = this.mids.get(key);
      if (known !== undefined && this.random() < 0.4) continue;
      // A small random walk: about a tenth of the spread per step, and mean-reverting.
      const mid0 = known ?? spec.price;
      const drift = (spec.price - mid0) * 0.02;
      const mid = mid0 + drift + (this.random() - 0.5) * spec.spread * 1.6;
      this.mids.set(key, mid);
      const halfSpread = (spec.spread * (0.8 + this.random() * 0.4)) / 2;
      const tick: Tick = {
        instrument: symbol,
        bid: round(mid - halfSpread, spec.decimals),
        ask: round(mid + halfSpread, spec.decimals),
        last: null,
        bidSize: String(spec.kind === "equity" ? 100 * Math.ceil(this.random() * 9) : 1_000_000),
        askSize: String(spec.kind === "equity" ? 100 * Math.ceil(this.random() * 9) : 1_000_000),
        lastSize: null,
        exchangeTime: receivedAt,
        receivedAt,
      };
      quotes.set(symbol, tick);
      ticks.push(tick);
    }
    return { ticks, notices };
  }

  /** Sets prices as given (fields left out are not sent, like a partial update). Returns the wire ticks. */
  push(accountId: string, partial: (Partial<Tick> & { instrument: string })[], receivedAt: string): Tick[] {
    const quotes = this.quotes(accountId);
    return partial.map((p) => {
      const wire: Tick = {
        instrument: p.instrument,
        bid: p.bid ?? null,
        ask: p.ask ?? null,
        last: p.last ?? null,
        bidSize: p.bidSize ?? null,
        askSize: p.askSize ?? null,
        lastSize: p.lastSize ?? null,
        exchangeTime: p.exchangeTime ?? null,
        receivedAt: p.receivedAt ?? receivedAt,
      };
      const prev = quotes.get(p.instrument);
      const merged: Tick = prev
        ? Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, v ?? prev[k as keyof Tick]])) as Tick
        : wire;
      quotes.set(p.instrument, merged);
      // The random walk's own state is a number; what goes on the wire is decimal text.
      if (merged.bid !== null && merged.ask !== null) this.mids.set(`${accountId}\u0000${p.instrument}`, (Number(merged.bid) + Number(merged.ask)) / 2);
      return wire;
    });
  }

  /** The latest quote of each instrument still streamed, sorted like the real book. */
  snapshot(accountId: string, instruments: readonly string[]): Tick[] {
    const quotes = this.book.get(accountId);
    if (!quotes) return [];
    return [...quotes.values()].filter((t) => instruments.includes(t.instrument)).sort((a, b) => a.instrument.localeCompare(b.instrument));
  }

  /** Forgets what is no longer streamed (a symbol added again is noticed again). */
  retain(accountId: string, instruments: readonly string[]): void {
    const quotes = this.book.get(accountId);
    if (quotes) for (const k of [...quotes.keys()]) if (!instruments.includes(k)) quotes.delete(k);
    const prefix = `${accountId}\u0000`;
    for (const key of [...this.noticed]) {
      if (key.startsWith(prefix) && !instruments.includes(key.slice(prefix.length))) this.noticed.delete(key);
    }
  }
}
