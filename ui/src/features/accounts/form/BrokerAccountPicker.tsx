import type { BrokerdeskError } from "../../../api/client";
import type { BrokerAccountRef } from "../../../bindings/BrokerAccountRef";
import { Icon } from "../../../components/Icon";
import { brokerReason, refusalTitle } from "../../../lib/accountCheck";

export type PickerState =
  | { phase: "idle" }
  | { phase: "loading" }
  /** The accounts `token` reaches (results for another token are not shown). */
  | { phase: "ready"; token: string; accounts: BrokerAccountRef[] }
  | { phase: "error"; error: BrokerdeskError };

interface Props {
  broker: string;
  state: PickerState;
  /** The token typed in the form now. */
  token: string;
  /** The account id in the form now. */
  selected: string;
  onFind: () => void;
  onChoose: (accountId: string) => void;
  disabled: boolean;
}

/** OANDA: lists the accounts a token reaches and fills in the chosen one's id. */
export function BrokerAccountPicker({ broker, state, token, selected, onFind, onChoose, disabled }: Props) {
  const current = state.phase === "ready" && state.token === token ? state : null;
  const canFind = token !== "" && !disabled && state.phase !== "loading";

  return (
    <div className="account-picker" data-testid="account-picker">
      <div className="account-picker-bar">
        <button type="button" className="button button-secondary" onClick={onFind} disabled={!canFind}>
          <Icon name="search" size={16} />
          Find accounts
        </button>
        <span className="field-help" aria-live="polite">
          {state.phase === "loading"
            ? `Asking ${broker} which accounts this token reaches…`
            : token === ""
              ? "Enter the token to list the accounts it reaches."
              : "Lists the accounts this token reaches, to pick the one to add."}
        </span>
      </div>
      {state.phase === "error" ? (
        <p className="field-error" role="alert">
          <Icon name="alert" size={14} />
          <span>
            {refusalTitle(state.error.code, broker)}: {brokerReason(state.error.message)}
          </span>
        </p>
      ) : null}
      {current && current.accounts.length === 0 ? <p className="muted">This token reaches no accounts.</p> : null}
      {current && current.accounts.length === 1 ? (
        <p className="account-picker-one" role="status">
          <Icon name="check" size={14} />
          <span>
            This token reaches one account: <span className="mono">{current.accounts[0]!.accountId}</span>
            {selected === current.accounts[0]!.accountId ? " (filled in)." : "."}
          </span>
          {selected !== current.accounts[0]!.accountId ? (
            <button type="button" className="link-button" onClick={() => onChoose(current.accounts[0]!.accountId)}>
              Use it
            </button>
          ) : null}
        </p>
      ) : null}
      {current && current.accounts.length > 1 ? (
        <fieldset className="account-picker-list">
          <legend className="field-label">This token reaches {current.accounts.length} accounts: choose one</legend>
          {current.accounts.map((a) => (
            <label key={a.accountId} className={`account-choice${selected === a.accountId ? " is-selected" : ""}`}>
              <input type="radio" name="broker-account" value={a.accountId} checked={selected === a.accountId} onChange={() => onChoose(a.accountId)} />
              <span className="account-choice-text">
                <span className="mono account-choice-id">{a.accountId}</span>{" "}
                <span className="account-choice-label">{a.label ?? "No name at the broker"}</span>
              </span>
            </label>
          ))}
        </fieldset>
      ) : null}
    </div>
  );
}
