import { useCallback, useEffect, useMemo, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { useAccounts, useAuditChain, useAuditList } from "../../data/resources";
import type { AuditEntry } from "../../bindings/AuditEntry";
import type { AuditVerification } from "../../bindings/AuditVerification";
import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { Icon } from "../../components/Icon";
import { EmptyState, PageHeader } from "../../components/PageHeader";
import { MAX_LIMIT, PAGE_SIZE, dateRangeError, emptyAuditFilter, toAuditFilter } from "../../lib/audit";
import type { AuditFilterForm } from "../../lib/audit";
import { asSentence } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";
import { AuditFilters } from "./AuditFilters";
import { AuditTable } from "./AuditTable";
import "./activity.css";

const SEARCH_DELAY_MS = 300;

type Loaded = { entries: AuditEntry[] } | { error: BrokerdeskError };

/**
 * The audit log. Its queries are the resource cache's: whatever writes the log (an account
 * changed, the vault, two-factor, settings — from this window, another one or the CLI) makes
 * the cache read them again, so the page follows without being reopened.
 */
export function ActivityPage() {
  const notify = useToast();
  const [form, setForm] = useState<AuditFilterForm>(emptyAuditFilter);
  const [search, setSearch] = useState("");
  const [exporting, setExporting] = useState(false);
  const rangeError = dateRangeError(form);
  const filter = useMemo(() => toAuditFilter(form), [form]);
  const list = useAuditList(filter, !rangeError);
  const chainQuery = useAuditChain();
  const accountsQuery = useAccounts();
  // Names are a nicety: without them the table shows short ids, so a failed read is not reported.
  const accounts = useMemo(() => (accountsQuery.state.phase === "ready" ? accountsQuery.state.accounts : []), [accountsQuery.state]);
  const loaded: Loaded | null = list.data ? { entries: list.data } : list.error ? { error: list.error as BrokerdeskError } : null;
  const chain: AuditVerification | BrokerdeskError | null = chainQuery.data ?? ((chainQuery.error as BrokerdeskError | null) || null);
  const { refetch: checkAgain } = chainQuery;

  // The search applies once typing pauses; a new search starts from the first page again.
  useEffect(() => {
    const timer = window.setTimeout(() => setForm((f) => (f.search === search ? f : { ...f, search, limit: PAGE_SIZE })), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [search]);

  const update = useCallback((patch: Partial<AuditFilterForm>) => setForm((f) => ({ ...f, ...patch, limit: PAGE_SIZE })), []);
  const clear = () => {
    setSearch("");
    setForm(emptyAuditFilter());
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      // Every matching entry, not only the page on screen.
      const path = await api.auditExportCsv({ ...filter, limit: MAX_LIMIT });
      notify(`Saved to ${path}`);
    } catch (e) {
      notify(`The audit log could not be exported: ${(e as BrokerdeskError).message}`, "danger");
    } finally {
      setExporting(false);
    }
  };

  const names = useMemo(() => new Map(accounts.map((a) => [a.id, a.name])), [accounts]);
  const entries = loaded && "entries" in loaded ? loaded.entries : null;
  // Removed accounts still appear in the log: offer them too (and keep the one picked).
  const otherIds = useMemo(() => {
    const ids = (entries ?? []).map((e) => e.accountId).concat(form.accountId || null);
    return [...new Set(ids.filter((id): id is string => id !== null && !names.has(id)))];
  }, [entries, names, form.accountId]);
  // The entries on screen are the previous filter's while the new one is read.
  const stale = list.isPlaceholderData;
  const brokenId = chain && "ok" in chain && !chain.ok && chain.firstBrokenId !== null ? Number(chain.firstBrokenId) : null;

  return (
    <div className="page page-wide">
      <PageHeader
        title="Activity"
        description="A tamper-evident record of what happened in this vault: each entry is chained to the one before it."
        actions={
          <button type="button" className="button button-secondary" onClick={() => void exportCsv()} disabled={exporting} title="Saves every entry matching the filters (up to 10,000) as a CSV file in your Downloads folder.">
            <Icon name="download" size={16} />
            {exporting ? "Exporting…" : "Export CSV"}
          </button>
        }
      />
      <ChainBanner chain={chain} onCheck={() => void checkAgain()} />
      <AuditFilters
        form={form}
        search={search}
        onSearch={setSearch}
        onChange={update}
        onClear={clear}
        accounts={accounts}
        otherAccountIds={otherIds}
        rangeError={rangeError}
      />
      {loaded === null ? <Spinner label="Reading the audit log…" /> : null}
      {loaded && "error" in loaded ? (
        <Banner tone="danger" title="The audit log could not be read">
          <ErrorText error={loaded.error} />
        </Banner>
      ) : null}
      {entries && entries.length === 0 ? (
        <EmptyState title="No matching entries">Try other filters, or clear them to see everything.</EmptyState>
      ) : null}
      {entries && entries.length > 0 ? (
        <div className={`audit-results${stale ? " is-stale" : ""}`} aria-busy={stale || undefined}>
          <AuditTable entries={entries} accountNames={names} brokenId={brokenId} />
          <div className="table-footer">
            <span className="muted" data-testid="audit-count">
              {entries.length === 1 ? "1 entry" : `${entries.length} entries`}, newest first
            </span>
            {entries.length >= form.limit && form.limit < MAX_LIMIT ? (
              <button type="button" className="button button-secondary button-sm" onClick={() => setForm((f) => ({ ...f, limit: Math.min(f.limit + PAGE_SIZE, MAX_LIMIT) }))}>
                Load more
              </button>
            ) : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}

function ChainBanner({ chain, onCheck }: { chain: AuditVerification | BrokerdeskError | null; onCheck: () => void }) {
  const again = (
    <button type="button" className="link-button" onClick={onCheck}>
      Check again
    </button>
  );
  if (chain === null) return <Spinner label="Checking the audit log's chain…" />;
  if (!("ok" in chain)) {
    return (
      <Banner tone="warning" title="The chain could not be checked">
        {chain.message} {again}
      </Banner>
    );
  }
  return (
    <div data-testid="chain-status" data-ok={chain.ok}>
      {chain.ok ? (
        <Banner tone="success" title={`Audit log intact — ${chain.entries} ${chain.entries === 1 ? "entry" : "entries"} verified`}>
          Every entry follows from the one before it. {again}
        </Banner>
      ) : (
        <Banner tone="danger" title={`Tampered at entry #${Number(chain.firstBrokenId)}`}>
          {asSentence(chain.message)} Entries before it ({chain.entries}) check out. {again}
        </Banner>
      )}
    </div>
  );
}
