import type { Account } from "../../bindings/Account";
import { Icon } from "../../components/Icon";
import type { AuditFilterForm } from "../../lib/audit";
import { EventPicker } from "./EventPicker";

interface Props {
  form: AuditFilterForm;
  /** What is typed in the search box (applied to `form` after a pause). */
  search: string;
  onSearch: (text: string) => void;
  onChange: (patch: Partial<AuditFilterForm>) => void;
  onClear: () => void;
  accounts: Account[];
  /** Ids seen in the log that are not in the account list (removed accounts). */
  otherAccountIds: string[];
  rangeError: string | null;
}

export function AuditFilters({ form, search, onSearch, onChange, onClear, accounts, otherAccountIds, rangeError }: Props) {
  const active = form.events.length > 0 || form.accountId !== "" || form.since !== "" || form.until !== "" || search.trim() !== "";
  return (
    <div className="filter-bar" role="search" aria-label="Filter the audit log">
      <EventPicker value={form.events} onChange={(events) => onChange({ events })} />
      <div className="filter-field">
        <label className="field-label" htmlFor="audit-account">
          Account
        </label>
        <div className="select-wrap">
          <select id="audit-account" className="input select" value={form.accountId} onChange={(e) => onChange({ accountId: e.target.value })}>
            <option value="">All accounts</option>
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
            {otherAccountIds.map((id) => (
              <option key={id} value={id}>
                Removed account {id.slice(0, 8)}
              </option>
            ))}
          </select>
          <Icon name="chevronDown" size={16} className="select-chevron" />
        </div>
      </div>
      <div className="filter-field">
        <label className="field-label" htmlFor="audit-since">
          From
        </label>
        <input
          id="audit-since"
          className="input"
          type="date"
          value={form.since}
          max={form.until || undefined}
          onChange={(e) => onChange({ since: e.target.value })}
          aria-invalid={rangeError ? true : undefined}
          aria-describedby={rangeError ? "audit-range-error" : undefined}
        />
      </div>
      <div className="filter-field">
        <label className="field-label" htmlFor="audit-until">
          To
        </label>
        <input
          id="audit-until"
          className="input"
          type="date"
          value={form.until}
          min={form.since || undefined}
          onChange={(e) => onChange({ until: e.target.value })}
          aria-invalid={rangeError ? true : undefined}
          aria-describedby={rangeError ? "audit-range-error" : undefined}
        />
      </div>
      <div className="filter-field filter-search">
        <label className="field-label" htmlFor="audit-search">
          Search
        </label>
        <div className="input-wrap">
          <Icon name="search" size={16} className="input-icon" />
          <input
            id="audit-search"
            className="input has-icon"
            type="search"
            value={search}
            placeholder="Detail, event, account id…"
            onChange={(e) => onSearch(e.target.value)}
            spellCheck={false}
            autoComplete="off"
          />
        </div>
      </div>
      {active ? (
        <button type="button" className="link-button filter-clear" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
      {rangeError ? (
        <p className="field-error filter-error" id="audit-range-error">
          <Icon name="alert" size={14} />
          <span>{rangeError}</span>
        </p>
      ) : null}
    </div>
  );
}
