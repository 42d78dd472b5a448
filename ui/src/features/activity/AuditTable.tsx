import type { AuditEntry } from "../../bindings/AuditEntry";
import { Icon } from "../../components/Icon";
import { EVENT_INFO, entryId, shortId } from "../../lib/audit";

const utc = (at: string) => {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : `${d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "")} UTC`;
};

const local = (at: string) => {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
};

interface Props {
  entries: AuditEntry[];
  /** Account names by id (accounts that still exist). */
  accountNames: ReadonlyMap<string, string>;
  /** The entry where the hash chain breaks, if it does. */
  brokenId: number | null;
}

export function AuditTable({ entries, accountNames, brokenId }: Props) {
  return (
    <div className="table-card">
      <table className="table audit-table" aria-label="Audit log">
        <thead>
          <tr>
            <th scope="col" className="audit-id">
              #
            </th>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">By</th>
            <th scope="col">Account</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const id = entryId(entry);
            const info = EVENT_INFO[entry.event] ?? { label: entry.event, category: "settings" };
            const name = entry.accountId ? accountNames.get(entry.accountId) : undefined;
            const broken = brokenId === id;
            return (
              <tr key={id} data-entry-id={id} className={broken ? "is-broken" : undefined}>
                <td className="audit-id">{id}</td>
                <td className="audit-time">
                  <time dateTime={entry.at} title={utc(entry.at)}>
                    {local(entry.at)}
                  </time>
                </td>
                <td>
                  <span className={`event-pill cat-${info.category}`} title={entry.event}>
                    {info.failure ? <Icon name="alert" size={12} /> : <span className="cat-dot" aria-hidden="true" />}
                    {info.label}
                  </span>
                  {broken ? (
                    <span className="pill pill-xs pill-status-in_drawdown broken-pill">
                      Chain broken here
                    </span>
                  ) : null}
                </td>
                <td>
                  <span className={`actor actor-${entry.actor}`}>{entry.actor === "cli" ? "CLI" : entry.actor === "app" ? "App" : entry.actor}</span>
                </td>
                <td className="audit-account">
                  {entry.accountId === null ? (
                    <span className="muted">—</span>
                  ) : name ? (
                    name
                  ) : (
                    <span className="mono muted" title={`${entry.accountId} (no longer in this vault)`}>
                      {shortId(entry.accountId)}
                    </span>
                  )}
                </td>
                <td className="audit-detail">{entry.detail || <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
