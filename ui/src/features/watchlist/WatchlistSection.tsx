import { memo, useCallback, useEffect, useRef, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { ChannelStatus } from "../../bindings/ChannelStatus";
import type { FeedNotice } from "../../bindings/FeedNotice";
import type { NoticeCode } from "../../bindings/NoticeCode";
import { BrokerBadge } from "../../components/Badges";
import { Icon } from "../../components/Icon";
import type { ConnectionsState } from "../../lib/connections";
import { changeTone, feedState, formatPercent, formatPrice, formatSigned, lastUpdateText, spreadOf } from "../../lib/prices";
import type { FeedState } from "../../lib/prices";
import { useCatalog } from "../../data/resources";
import { priceStore, useAccountPrices } from "../../data/priceStore";
import type { InstrumentPrices } from "../../data/priceStore";
import { useNow } from "../../state/useNow";
import { routeHref } from "../../state/router";
import { InstrumentSearch } from "./InstrumentSearch";
import { Sparkline } from "./Sparkline";
import "./watchlist.css";

/** Accounts that can stream prices: a real broker, with stored credentials. */
export const hasWatchlist = (a: Account) => a.broker !== "paper" && a.credentials.length > 0;

/** The Dashboard's watchlists: live prices of the instruments of each broker account. */
export function WatchlistSection({ accounts, connections }: { accounts: readonly Account[]; connections: ConnectionsState }) {
  const eligible = accounts.filter(hasWatchlist);
  if (eligible.length === 0) return null;
  const known = connections.phase === "ready";
  const priceChannel = (id: string): ChannelStatus | undefined =>
    connections.phase === "ready" ? connections.accounts.find((a) => a.accountId === id)?.channels.find((c) => c.channel === "price") : undefined;

  return (
    <section className="wl-section" aria-labelledby="wl-title" data-testid="watchlists">
      <div className="conn-section-header">
        <h2 className="conn-section-title" id="wl-title">
          Watchlists
        </h2>
      </div>
      {eligible.map((a) => (
        <WatchlistCard key={a.id} account={a} feed={feedState(priceChannel(a.id), known)} />
      ))}
    </section>
  );
}

const NOTICE_TITLES: Record<NoticeCode, string> = {
  unknown_instrument: "Unknown instrument",
  invalid_symbol: "Invalid symbol",
  symbol_limit: "Symbol limit",
  subscription_refused: "Subscription refused",
  notification: "Broker notice",
  broker: "Broker",
};
const noticeTitle = (code: NoticeCode) => NOTICE_TITLES[code];

const STALE_HINTS: Record<Extract<FeedState, { kind: "stale" }>["state"], string> = {
  connecting: "connecting…",
  reconnecting: "reconnecting…",
  disconnected: "price feed stopped",
  failed: "price feed failed",
};

function WatchlistCard({ account, feed }: { account: Account; feed: FeedState }) {
  const catalog = useCatalog();
  const prices = useAccountPrices(account.id);
  const [instruments, setInstrumentsState] = useState<string[]>(account.instruments);
  /** The same list, for the stable callbacks the memoised rows get. */
  const instrumentsRef = useRef<string[]>(account.instruments);
  const setInstruments = useCallback((list: string[]) => {
    instrumentsRef.current = list;
    setInstrumentsState(list);
  }, []);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  /** The list the backend last confirmed, to go back to when a change fails. */
  const confirmed = useRef<string[]>(account.instruments);
  /** Changes are sent one after another; only the latest one's answer is shown. */
  const queue = useRef<Promise<void>>(Promise.resolve());
  const latest = useRef(0);
  const brokerLabel = catalog.broker(account.broker)?.label ?? account.broker;
  const live = feed.kind === "live";
  const stale = feed.kind === "stale";

  // The latest prices the backend holds: when the card opens and whenever the feed comes back.
  useEffect(() => {
    let current = true;
    api
      .pricesSnapshot(account.id)
      .then((ticks) => current && priceStore.applyTicks(account.id, ticks, { live: false }))
      .catch(() => {
        // No snapshot: the live updates fill the rows.
      });
    return () => {
      current = false;
    };
  }, [account.id, live]);

  const persist = useCallback(
    (next: string[]) => {
      const request = ++latest.current;
      setInstruments(next);
      setError(null);
      setSaving(true);
      queue.current = queue.current.then(async () => {
        try {
          const saved = await api.watchlistSet(account.id, next);
          confirmed.current = saved.instruments;
          priceStore.retain(account.id, saved.instruments);
          if (request === latest.current) setInstruments(saved.instruments);
        } catch (e) {
          const be = e as BrokerdeskError;
          if (request === latest.current) {
            setInstruments(confirmed.current);
            setError(be.fields.length > 0 ? be.fields.map((f) => f.message).join(" ") : be.message);
          }
        } finally {
          if (request === latest.current) setSaving(false);
        }
      });
    },
    [account.id, setInstruments],
  );

  const add = (symbol: string) => {
    if (!instrumentsRef.current.includes(symbol)) persist([...instrumentsRef.current, symbol]);
  };
  const remove = useCallback((symbol: string) => persist(instrumentsRef.current.filter((s) => s !== symbol)), [persist]);
  const dismiss = useCallback((instrument: string | null) => priceStore.dismissNotice(account.id, instrument), [account.id]);

  return (
    <article
      className={`card wl-card${stale ? " is-stale" : ""}`}
      aria-label={`${account.name} watchlist`}
      data-testid={`wl-${account.id}`}
      data-feed={feed.kind}
    >
      <header className="wl-card-header">
        <div className="wl-card-title">
          <h3 className="card-title">{account.name}</h3>
          <BrokerBadge broker={account.broker} label={brokerLabel} />
          <FeedBadge feed={feed} lastUpdateAt={prices.lastUpdateAt} />
        </div>
        <InstrumentSearch accountId={account.id} accountName={account.name} existing={instruments} onAdd={add} />
      </header>
      {error ? (
        <p className="field-error wl-error" role="alert">
          <Icon name="alert" size={14} />
          <span>The watchlist was not changed: {error}</span>
        </p>
      ) : null}
      {prices.feedNotices.map((n, i) => (
        <div key={`${n.at}-${i}`} className="wl-notice wl-feed-notice" role="status">
          <Icon name="alert" size={14} />
          <span>
            <strong>{noticeTitle(n.code)}:</strong> {n.message}
          </span>
          <button type="button" className="link-button" onClick={() => dismiss(null)}>
            Dismiss
          </button>
        </div>
      ))}
      {feed.kind === "none" ? (
        <p className="muted wl-none">
          No price stream: Brokerdesk is not connected to {brokerLabel} for this account{instruments.length === 0 ? " (add an instrument to start one)" : ""}.
        </p>
      ) : null}
      <div className="wl-table-wrap">
        <table className="wl-table" aria-label={`${account.name} prices`} aria-busy={saving || undefined}>
          <colgroup>
            <col className="wl-col-symbol" />
            <col className="wl-col-price" />
            <col className="wl-col-price" />
            <col className="wl-col-spread" />
            <col className="wl-col-change" />
            <col className="wl-col-spark" />
            <col className="wl-col-actions" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col" className="wl-num">
                Bid
              </th>
              <th scope="col" className="wl-num">
                Ask
              </th>
              <th scope="col" className="wl-num">
                Spread
              </th>
              <th scope="col" className="wl-num">
                Change
              </th>
              <th scope="col" className="wl-spark-col">
                5 min
              </th>
              <th scope="col" className="wl-actions">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {instruments.length === 0 ? (
              <tr>
                <td colSpan={7} className="wl-empty">
                  No instruments yet. Search for one above to stream its prices.
                </td>
              </tr>
            ) : (
              instruments.map((symbol) => (
                <WatchlistRow
                  key={symbol}
                  accountName={account.name}
                  accountId={account.id}
                  symbol={symbol}
                  row={prices.rows.get(symbol)}
                  notice={prices.notices.get(symbol)}
                  stale={stale}
                  streaming={feed.kind !== "none"}
                  onRemove={remove}
                  onDismiss={dismiss}
                />
              ))
            )}
          </tbody>
        </table>
      </div>
    </article>
  );
}

/** Streaming, stale (with the age of the last price, ticking), or not streaming. ("Live" is kept for real-money trading.) */
function FeedBadge({ feed, lastUpdateAt }: { feed: FeedState; lastUpdateAt: number | null }) {
  switch (feed.kind) {
    case "live":
      return (
        <span className="pill conn-pill conn-ok" data-testid="wl-feed">
          <span className="conn-dot wl-live-dot" aria-hidden="true" />
          Streaming
        </span>
      );
    case "stale":
      return <StaleBadge feed={feed} lastUpdateAt={lastUpdateAt} />;
    case "none":
      return (
        <span className="pill conn-pill conn-off" data-testid="wl-feed">
          <span className="conn-dot" aria-hidden="true" />
          Not streaming
        </span>
      );
    case "unknown":
      return null;
  }
}

function StaleBadge({ feed, lastUpdateAt }: { feed: Extract<FeedState, { kind: "stale" }>; lastUpdateAt: number | null }) {
  // Only this re-renders every second.
  const now = useNow(1000);
  const clock = Math.max(now, lastUpdateAt ?? 0);
  return (
    <span className="wl-stale" data-testid="wl-stale">
      <span className={`pill conn-pill ${feed.state === "failed" ? "conn-bad" : "conn-warn"}`} data-testid="wl-feed">
        <span className="conn-dot" aria-hidden="true" />
        Stale
      </span>
      <span className="wl-stale-text">
        <span data-testid="wl-age">{lastUpdateText(lastUpdateAt, clock)}</span>
        {" · "}
        <span data-testid="wl-hint" title={feed.detail ?? undefined}>
          {STALE_HINTS[feed.state]}
        </span>
      </span>
    </span>
  );
}

interface RowProps {
  accountName: string;
  symbol: string;
  row: InstrumentPrices | undefined;
  notice: FeedNotice | undefined;
  stale: boolean;
  /** False when the account has no price stream at all. */
  streaming: boolean;
  onRemove: (symbol: string) => void;
  onDismiss: (instrument: string) => void;
  accountId: string;
}

/** One instrument. Memoised: it renders again only when its own prices, notice or staleness change. */
const WatchlistRow = memo(function WatchlistRow({ accountName, accountId, symbol, row, notice, stale, streaming, onRemove, onDismiss }: RowProps) {
  const d = row?.decimals ?? 2;
  const tone = changeTone(row?.change ?? null, d);
  const dir = row?.direction ?? null;
  // Two identical animations, alternated, so every move restarts the flash.
  const flash = row && dir && row.moves > 0 && !stale ? ` wl-flash-${dir}-${row.moves % 2}` : "";
  const price = (v: string | null | undefined) => formatPrice(v ?? null, d);
  const empty = (v: string | null | undefined) => (v === null || v === undefined ? " is-empty" : "");
  return (
    <>
      <tr
        className={`wl-row${notice ? " has-notice" : ""}`}
        data-testid={`wl-row-${symbol}`}
        data-tick={dir ?? undefined}
        data-moves={row?.moves ?? 0}
      >
        <th scope="row" className="wl-symbol mono">
          {symbol}
        </th>
        <td className={`wl-num wl-price${dir ? ` is-${dir}` : ""}${flash}${empty(row?.tick.bid)}`} data-testid="wl-bid">
          {price(row?.tick.bid)}
        </td>
        <td className={`wl-num wl-price${dir ? ` is-${dir}` : ""}${flash}${empty(row?.tick.ask)}`} data-testid="wl-ask">
          {price(row?.tick.ask)}
        </td>
        <td className={`wl-num wl-spread${row ? "" : " is-empty"}`} data-testid="wl-spread">
          {row ? formatPrice(spreadOf(row.tick), d) : "—"}
        </td>
        <td className={`wl-num wl-change is-${tone}${row && row.change !== null ? "" : " is-empty"}`} data-testid="wl-change">
          {row && row.change !== null ? (
            <>
              <span>{formatSigned(row.change, d)}</span>
              <span className="wl-change-pct">{formatPercent(row.changePct)}</span>
            </>
          ) : (
            "—"
          )}
        </td>
        <td className="wl-spark-col">
          {row ? (
            <Sparkline
              history={row.history}
              version={row.historyVersion}
              tone={tone}
              label={`${symbol}, last ${Math.max(1, Math.round(row.history.length / 60))} min: ${changeLabel(row, d)}`}
            />
          ) : (
            <span className="wl-waiting">{!streaming ? "—" : stale ? "no price" : "waiting…"}</span>
          )}
        </td>
        <td className="wl-actions">
          <a className="button button-secondary button-sm wl-trade" href={routeHref({ page: "trade", id: accountId, symbol })} aria-label={`Trade ${symbol} on ${accountName}`}>
            Trade
          </a>
          <button type="button" className="icon-button wl-remove" aria-label={`Remove ${symbol} from ${accountName}`} onClick={() => onRemove(symbol)}>
            <Icon name="close" size={14} />
          </button>
        </td>
      </tr>
      {notice ? (
        <tr className="wl-notice-row" data-testid={`wl-notice-${symbol}`}>
          <td colSpan={7}>
            <div className="wl-notice" role="status">
              <Icon name="alert" size={14} />
              <span>
                <strong>{noticeTitle(notice.code)}:</strong> {notice.message}
              </span>
              <button type="button" className="link-button" aria-label={`Dismiss the notice about ${symbol}`} onClick={() => onDismiss(symbol)}>
                Dismiss
              </button>
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
});

const changeLabel = (row: InstrumentPrices, decimals: number) =>
  row.change === null ? "no change yet" : `${formatSigned(row.change, decimals)} (${formatPercent(row.changePct)}) since the first price`;
