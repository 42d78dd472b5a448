import type { Account } from "../../../bindings/Account";
import type { NotificationSettings } from "../../../bindings/NotificationSettings";
import { ModePill } from "../../../components/Badges";
import { SelectField, Switch, TextField } from "../../../components/Field";
import { fieldDomId } from "../../../lib/fieldErrors";
import type { AccountStatus } from "../../../bindings/AccountStatus";
import { NOTIFICATION_LABELS, STATUS_LABELS } from "../../../lib/labels";
import { Section } from "./Section";
import type { SectionProps } from "./types";

/** A new account starts active, or suspended (no new positions until reactivated). */
const NEW_ACCOUNT_STATUSES: readonly AccountStatus[] = ["active", "suspended"];

const NOTIFICATION_KEYS = Object.keys(NOTIFICATION_LABELS) as (keyof NotificationSettings)[];

export function NotificationsSection({ form, update, errors }: SectionProps) {
  return (
    <Section id="section-notifications" title="Notifications" description="Native desktop notifications for this account.">
      {errors.notifications ? <p className="field-error">{errors.notifications}</p> : null}
      <div className="switch-list">
        {NOTIFICATION_KEYS.map((key) => (
          <Switch
            key={key}
            id={`field-notifications-${key}`}
            label={NOTIFICATION_LABELS[key].label}
            help={NOTIFICATION_LABELS[key].help}
            checked={form.notifications[key]}
            onChange={(on) => update((f) => ({ ...f, notifications: { ...f.notifications, [key]: on } }))}
          />
        ))}
      </div>
    </Section>
  );
}

/** The first status of a new account, with its reason. An existing account's status is changed by its status actions. */
export function StatusSection({ form, update, errors }: SectionProps) {
  return (
    <Section id="section-status" title="Status" description="A suspended account opens no new positions until it is reactivated. Only an active account can be switched to live trading.">
      <div className="grid-2">
        <SelectField
          id={fieldDomId("status")}
          label="Status"
          value={form.status}
          options={NEW_ACCOUNT_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] }))}
          onChange={(status) => update((f) => ({ ...f, status }))}
          error={errors.status}
        />
        <TextField
          id={fieldDomId("statusReason")}
          label="Reason"
          value={form.statusReason}
          onChange={(statusReason) => update((f) => ({ ...f, statusReason }))}
          help="Optional. Recorded as the first entry of the status history."
          placeholder="Optional"
          error={errors.statusReason}
        />
      </div>
      <TradingModeNote account={null} />
    </Section>
  );
}

/** What the account's orders do now (a new account starts in paper), and where live trading is switched on. */
export function TradingModeNote({ account }: { account: Account | null }) {
  const mode = account?.mode ?? "paper";
  return (
    <div className="mode-note">
      <span className="field-label">Trading mode</span>
      <span className="mode-note-body">
        <ModePill mode={mode} environment={account?.environment ?? "practice"} />
        <span className="muted">
          {account === null
            ? "New accounts start in paper mode: orders fill in Brokerdesk's paper engine against the account's own prices. Switch to live on the Trade page (needs 2FA, a fresh code and a recent broker check)."
            : mode === "paper"
              ? "Orders fill in Brokerdesk's paper engine. Switch to live on the Trade page."
              : "Orders go to the broker. Switch back to paper on the Trade page."}
        </span>
      </span>
    </div>
  );
}
