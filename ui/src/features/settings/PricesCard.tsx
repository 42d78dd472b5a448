import { useState } from "react";
import type { FormEvent } from "react";
import type { BrokerdeskError } from "../../api/client";
import type { AppSettings } from "../../bindings/AppSettings";
import { Banner, Spinner } from "../../components/Banner";
import { TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import type { SettingsState } from "../../data/resources";
import { useToast } from "../../state/ToastProvider";

export const MIN_PRICE_RATE = 1;
export const MAX_PRICE_RATE = 120;
export const DEFAULT_PRICE_RATE = 30;

/** Validates the typed rate: a whole number from 1 to 120. */
export function parsePriceRate(text: string): { value: number } | { error: string } {
  const t = text.trim();
  if (t === "") return { error: `Enter a number from ${MIN_PRICE_RATE} to ${MAX_PRICE_RATE}.` };
  const n = Number(t);
  if (!Number.isFinite(n) || !Number.isInteger(n)) return { error: "Enter a whole number of updates per second." };
  if (n < MIN_PRICE_RATE || n > MAX_PRICE_RATE) return { error: `Use ${MIN_PRICE_RATE} to ${MAX_PRICE_RATE} updates per second.` };
  return { value: n };
}

interface Props {
  state: SettingsState;
  save: (patch: Partial<AppSettings>) => Promise<AppSettings>;
}

/** Settings → Live prices: how many price updates per instrument per second reach the UI. */
export function PricesCard({ state, save }: Props) {
  if (state.phase === "loading") {
    return (
      <section className="card" aria-labelledby="set-prices">
        <h2 className="card-title" id="set-prices">
          Live prices
        </h2>
        <Spinner />
      </section>
    );
  }
  if (state.phase === "error") {
    return (
      <section className="card" aria-labelledby="set-prices">
        <h2 className="card-title" id="set-prices">
          Live prices
        </h2>
        <Banner tone="danger">{state.error.message}</Banner>
      </section>
    );
  }
  // Keyed on the saved value, so the draft starts over from what the backend saved.
  return <PricesForm key={state.settings.priceUpdatesPerSecond} saved={state.settings.priceUpdatesPerSecond} save={save} />;
}

function PricesForm({ saved, save }: { saved: number; save: Props["save"] }) {
  const notify = useToast();
  const [draft, setDraft] = useState(String(saved));
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const parsed = parsePriceRate(draft);
  const dirty = !("value" in parsed) || parsed.value !== saved;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      const next = await save({ priceUpdatesPerSecond: parsed.value });
      notify(`Prices now update up to ${next.priceUpdatesPerSecond} times a second per instrument.`);
    } catch (err) {
      const be = err as BrokerdeskError;
      const field = be.fields?.find((f) => f.field === "priceUpdatesPerSecond");
      if (field) setError(field.message);
      else setFailure(be.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="set-prices">
      <h2 className="card-title" id="set-prices">
        Live prices
      </h2>
      <form className="settings-inline-form" onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          id="price-rate"
          className="field-narrow"
          label="Price updates per second"
          value={draft}
          onChange={(v) => {
            setDraft(v);
            setError(null);
          }}
          inputMode="numeric"
          suffix="/ s"
          error={error ?? undefined}
          help={`Per instrument, from ${MIN_PRICE_RATE} to ${MAX_PRICE_RATE} (default ${DEFAULT_PRICE_RATE}). Faster brokers are thinned to this rate; the latest price always wins. Lower it if the watchlists make this computer busy.`}
          autoComplete="off"
        />
        <div className="settings-inline-actions">
          <button type="submit" className="button button-secondary" disabled={busy || !dirty}>
            {busy ? "Saving…" : "Save"}
          </button>
          {saved !== DEFAULT_PRICE_RATE ? (
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setDraft(String(DEFAULT_PRICE_RATE));
                setError(null);
              }}
            >
              <Icon name="refresh" size={14} />
              Use the default ({DEFAULT_PRICE_RATE})
            </button>
          ) : null}
        </div>
      </form>
      {failure ? <Banner tone="danger">{failure}</Banner> : null}
    </section>
  );
}
