import { useEffect, useId, useState } from "react";
import type { KeyboardEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { InstrumentInfo } from "../../bindings/InstrumentInfo";
import { Icon } from "../../components/Icon";

/** How long typing must pause before the broker is searched. */
export const SEARCH_DEBOUNCE_MS = 250;

type Search =
  | { phase: "idle" }
  | { phase: "loading"; query: string }
  | { phase: "results"; query: string; results: InstrumentInfo[] }
  /** No search at this broker (or it failed): what is typed is added as is. */
  | { phase: "free"; query: string; reason: string };

type Option = { kind: "instrument"; info: InstrumentInfo; added: boolean } | { kind: "typed"; symbol: string; added: boolean };

/** A symbol as typed, the way brokers write them (`eur_usd` → `EUR_USD`). */
export const normalizeSymbol = (text: string) => text.trim().toUpperCase();

interface Props {
  accountId: string;
  accountName: string;
  /** The watchlist now (offered options already on it are marked). */
  existing: readonly string[];
  onAdd: (symbol: string) => void;
  disabled?: boolean;
}

/**
 * "Add instrument": a combobox searching the account's broker as you type (debounced),
 * navigable with the arrow keys, Enter to add, Escape to close. Where the broker has no search
 * (`search_unsupported`) or it fails, the typed symbol is offered as is.
 */
export function InstrumentSearch({ accountId, accountName, existing, onAdd, disabled }: Props) {
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState<Search>({ phase: "idle" });
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  /** Once the broker said it has no search, stop asking it for this account. */
  const [unsupported, setUnsupported] = useState(false);
  const listId = useId();
  const inputId = useId();

  const trimmed = query.trim();
  useEffect(() => {
    if (trimmed === "") return;
    if (unsupported) return;
    let live = true;
    const timer = window.setTimeout(() => {
      setSearch({ phase: "loading", query: trimmed });
      api
        .instrumentsSearch(accountId, trimmed)
        .then((results) => live && setSearch({ phase: "results", query: trimmed, results }))
        .catch((e: BrokerdeskError) => {
          if (!live) return;
          if (e.code === Code.SearchUnsupported) setUnsupported(true);
          setSearch({ phase: "free", query: trimmed, reason: e.code === Code.SearchUnsupported ? "No instrument search at this broker" : `Search failed: ${e.message}` });
        });
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [accountId, trimmed, unsupported]);

  const symbol = normalizeSymbol(query);
  const freeText = unsupported || (search.phase === "free" && search.query === trimmed);
  const options: Option[] = [];
  if (trimmed !== "") {
    if (freeText) options.push({ kind: "typed", symbol, added: existing.includes(symbol) });
    else if (search.phase === "results" && search.query === trimmed) {
      for (const info of search.results) options.push({ kind: "instrument", info, added: existing.includes(info.symbol) });
    }
  }
  const activeIndex = Math.min(active, Math.max(options.length - 1, 0));
  const loading = trimmed !== "" && !freeText && !(search.phase === "results" && search.query === trimmed);
  const expanded = open && trimmed !== "";
  const optionId = (i: number) => `${listId}-opt-${i}`;

  const choose = (option: Option | undefined) => {
    if (!option || option.added) return;
    onAdd(option.kind === "typed" ? option.symbol : option.info.symbol);
    setQuery("");
    setActive(0);
    setOpen(false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        setOpen(true);
        if (options.length > 0) setActive((activeIndex + 1) % options.length);
        break;
      case "ArrowUp":
        e.preventDefault();
        setOpen(true);
        if (options.length > 0) setActive((activeIndex - 1 + options.length) % options.length);
        break;
      case "Enter":
        e.preventDefault();
        if (expanded) choose(options[activeIndex]);
        break;
      case "Escape":
        if (expanded) {
          e.preventDefault();
          setOpen(false);
        } else if (query !== "") {
          e.preventDefault();
          setQuery("");
        }
        break;
    }
  };

  const reason = search.phase === "free" && search.query === trimmed ? search.reason : unsupported ? "No instrument search at this broker" : null;

  return (
    <div className="wl-search">
      <label className="sr-only" htmlFor={inputId}>
        Add instrument to {accountName}
      </label>
      <Icon name="search" size={14} className="wl-search-icon" />
      <input
        id={inputId}
        className="input wl-search-input"
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && options.length > 0 ? optionId(activeIndex) : undefined}
        placeholder="Add instrument…"
        value={query}
        disabled={disabled}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <div className="wl-search-popup" hidden={!expanded}>
        <ul id={listId} role="listbox" aria-label={`Instruments to add to ${accountName}`} className="wl-search-list">
          {options.map((o, i) => {
            const label = o.kind === "typed" ? o.symbol : o.info.symbol;
            return (
              <li
                key={`${o.kind}-${label}`}
                id={optionId(i)}
                role="option"
                aria-selected={i === activeIndex}
                aria-disabled={o.added || undefined}
                className={`wl-search-option${i === activeIndex ? " is-active" : ""}${o.added ? " is-added" : ""}`}
                // Keep the focus in the input: a click must not blur it before it lands.
                onMouseDown={(e) => e.preventDefault()}
                onMouseEnter={() => setActive(i)}
                onClick={() => choose(o)}
              >
                {o.kind === "typed" ? (
                  <>
                    <span className="wl-search-symbol mono">{o.symbol}</span>
                    <span className="wl-search-name">{o.added ? "Already on the watchlist" : "Add as typed"}</span>
                  </>
                ) : (
                  <>
                    <span className="wl-search-symbol mono">{o.info.symbol}</span>
                    <span className="wl-search-name">{o.info.name ?? ""}</span>
                    {o.added ? <span className="wl-search-kind">added</span> : o.info.kind ? <span className="wl-search-kind">{o.info.kind}</span> : null}
                  </>
                )}
              </li>
            );
          })}
        </ul>
        {loading ? (
          <p className="wl-search-note" role="status">
            <span className="spinner spinner-sm" aria-hidden="true" /> Searching…
          </p>
        ) : null}
        {!loading && !freeText && options.length === 0 && trimmed !== "" ? <p className="wl-search-note">No instruments match “{trimmed}”.</p> : null}
        {reason && trimmed !== "" ? <p className="wl-search-note">{reason}: press Enter to add the symbol as typed.</p> : null}
      </div>
    </div>
  );
}
