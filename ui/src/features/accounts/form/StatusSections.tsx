import type { Account } from "../../../bindings/Account";
import type { NotificationSettings } from "../../../bindings/NotificationSettings";
import { ModePill, StatusPill } from "../../../components/Badges";
import { SelectField, Switch, TextField } from "../../../components/Field";
import { fieldDomId } from "../../../lib/fieldErrors";
import { NOTIFICATION_LABELS, STATUSES, STATUS_LABELS, formatDateTime } from "../../../lib/labels";
import { Section } from "./Section";
import type { SectionProps } from "./types";

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

export function StatusSection({ form, update, errors, account }: SectionProps & { account: Account | null }) {
  // A reason is recorded with a change of status only (and with the first status on create).
  const changed = account === null || account.status !== form.status;
  return (
    <Section id="section-status" title="Status" description="Only an active account can be switched to live trading. Blocking new orders by status is not enforced yet in this release.">
      <div className="grid-2">
        <SelectField
          id={fieldDomId("status")}
          label="Status"
          value={form.status}
          options={STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] }))}
          onChange={(status) => update((f) => ({ ...f, status }))}
          error={errors.status}
        />
        {changed ? (
          <TextField
            id={fieldDomId("statusReason")}
            label={account === null ? "Reason" : "Reason for the change"}
            value={form.statusReason}
            onChange={(statusReason) => update((f) => ({ ...f, statusReason }))}
            help={
              account === null
                ? "Optional. Recorded as the first entry of the status history."
                : `Optional. Recorded in the status history with the change from ${STATUS_LABELS[account.status]} to ${STATUS_LABELS[form.status]}.`
            }
            placeholder={form.status === "in_drawdown" ? "e.g. Daily loss limit hit" : "Optional"}
            error={errors.statusReason}
          />
        ) : (
          <p className="field-help status-reason-note">Change the status to record a reason with it.</p>
        )}
      </div>
      <div className="mode-note">
        <span className="field-label">Trading mode</span>
        <span className="mode-note-body">
          <ModePill mode={account?.mode ?? "paper"} environment={account?.environment ?? "practice"} />
          <span className="muted">New accounts start in paper mode: orders fill in Brokerdesk&apos;s paper engine against the account&apos;s own prices. Switch to live on the Trade page (needs 2FA, a fresh code and a recent broker check).</span>
        </span>
      </div>
      {account && account.statusHistory.length > 0 ? (
        <div className="history">
          <h3 className="history-title">Status history</h3>
          <ol className="timeline" aria-label="Status history">
            {[...account.statusHistory].sort((a, b) => b.changedAt.localeCompare(a.changedAt)).map((h, i) => (
              <li key={`${h.changedAt}-${i}`} className="timeline-item">
                <span className="timeline-dot" aria-hidden="true" />
                <div className="timeline-body">
                  <div className="timeline-head">
                    <StatusPill status={h.status} />
                    <time dateTime={h.changedAt} className="muted">
                      {formatDateTime(h.changedAt)}
                    </time>
                  </div>
                  {h.reason ? <p className="timeline-reason">{h.reason}</p> : null}
                </div>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </Section>
  );
}
