import { useEffect, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Autostart } from "../../bindings/Autostart";
import { Banner, Spinner } from "../../components/Banner";
import { Switch } from "../../components/Field";
import { asSentence } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";

/**
 * Settings → Desktop: start Brokerdesk at login, hidden in the tray. The state is the
 * operating system's (its autostart entry), read when the card opens and after each change;
 * nothing is kept in the profile. Each change is in the audit log, and turning it on is also
 * announced with a notification.
 */
export function DesktopCard() {
  const notify = useToast();
  const [state, setState] = useState<Autostart | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api
      .autostartStatus()
      .then((s) => {
        if (live) setState(s);
      })
      .catch((e: unknown) => {
        if (live) setFailure(asSentence((e as BrokerdeskError).message));
      });
    return () => {
      live = false;
    };
  }, []);

  const change = async (enabled: boolean) => {
    setBusy(true);
    setFailure(null);
    try {
      const next = await api.autostartSet(enabled);
      setState(next);
      notify(next.enabled ? "Brokerdesk will start when you log in, hidden in the tray." : "Brokerdesk no longer starts when you log in.");
    } catch (e) {
      setFailure(asSentence((e as BrokerdeskError).message));
      // Show what the OS has now, whatever happened.
      api.autostartStatus().then(setState, () => undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="set-desktop">
      <h2 className="card-title" id="set-desktop">
        Desktop
      </h2>
      {state === null && failure === null ? <Spinner /> : null}
      {state ? (
        <Switch
          id="autostart"
          label="Start Brokerdesk when I log in"
          checked={state.enabled}
          disabled={busy || !state.available}
          onChange={(on) => void change(on)}
          help={
            state.available ? (
              <>
                It starts hidden in the tray; open it with the tray&apos;s &ldquo;Show Brokerdesk&rdquo;. Each change is recorded
                in Activity. Entry: <span className="mono" data-testid="autostart-location">{state.location}</span>
              </>
            ) : (
              <>
                Not available: <span data-testid="autostart-location">{state.location}</span>
              </>
            )
          }
        />
      ) : null}
      {failure ? <Banner tone="danger">{failure}</Banner> : null}
    </section>
  );
}
