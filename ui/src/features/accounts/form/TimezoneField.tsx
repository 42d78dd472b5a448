import type { ReactNode } from "react";
import { FieldShell, describedBy } from "../../../components/Field";
import { Icon } from "../../../components/Icon";

const OTHER = "__other__";

/** A time zone: a select of common IANA zones, and "Other…" to type any IANA name. */
export function TimezoneField({
  id,
  label,
  value,
  zones,
  onChange,
  error,
  help,
}: {
  id: string;
  label: string;
  value: string;
  zones: readonly string[];
  onChange: (zone: string) => void;
  error?: string | undefined;
  help?: ReactNode;
}) {
  const known = zones.includes(value);
  return (
    <FieldShell id={id} label={label} error={error} help={help}>
      <div className="select-wrap">
        <select
          id={id}
          className="input select"
          value={known ? value : OTHER}
          onChange={(e) => onChange(e.target.value === OTHER ? "" : e.target.value)}
          {...describedBy(id, help, error)}
        >
          {zones.map((tz) => (
            <option key={tz} value={tz}>
              {tz.replace(/_/g, " ")}
            </option>
          ))}
          <option value={OTHER}>Other…</option>
        </select>
        <Icon name="chevronDown" size={16} className="select-chevron" />
      </div>
      {known ? null : (
        <input
          className="input mono tz-other"
          aria-label={`${label}: name (IANA)`}
          placeholder="e.g. Europe/Paris"
          value={value}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </FieldShell>
  );
}
