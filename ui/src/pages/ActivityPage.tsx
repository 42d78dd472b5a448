import { EmptyState, PageHeader } from "../components/PageHeader";

export function ActivityPage() {
  return (
    <div className="page">
      <PageHeader title="Activity" description="A tamper-evident record of what happened in this vault." />
      <EmptyState title="The audit log arrives in a later release.">
        It will list sign-ins, credential changes, mode switches and orders, each entry chained to the one before it.
      </EmptyState>
    </div>
  );
}
