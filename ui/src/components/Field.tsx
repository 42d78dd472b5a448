import { useState } from "react";
import type { ReactNode } from "react";
import { Icon } from "./Icon";

interface FieldShellProps {
  id: string;
  label: ReactNode;
  help?: ReactNode;
  /** A problem with what is stored (not with what was typed), e.g. an unreadable secret. */
  warning?: ReactNode;
  /** A small marker after the label (and its required mark), e.g. an "Unreadable" pill. */
  badge?: ReactNode;
  error?: string | undefined;
  required?: boolean;
  children: ReactNode;
  className?: string;
}

/** Label above, control, then help, warning and error text below; ids tie them together for screen readers. */
export function FieldShell({ id, label, help, warning, badge, error, required, children, className }: FieldShellProps) {
  return (
    <div className={`field${error ? " field-invalid" : ""}${className ? ` ${className}` : ""}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {required ? (
          <span className="field-required" aria-hidden="true">
            {" "}
            *
          </span>
        ) : null}
        {badge}
      </label>
      {children}
      {help ? (
        <p className="field-help" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
      {warning ? (
        <p className="field-warning" id={`${id}-warning`}>
          <Icon name="alert" size={14} />
          <span>{warning}</span>
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          <Icon name="alert" size={14} />
          <span>{error}</span>
        </p>
      ) : null}
    </div>
  );
}

/** The aria attributes a control inside a FieldShell needs. */
export function describedBy(id: string, help: unknown, error: string | undefined, warning?: unknown) {
  const ids = [help ? `${id}-help` : null, warning ? `${id}-warning` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return { "aria-describedby": ids || undefined, "aria-invalid": error ? true : undefined };
}

interface TextFieldProps {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  help?: ReactNode;
  warning?: ReactNode;
  badge?: ReactNode;
  error?: string | undefined;
  required?: boolean;
  placeholder?: string;
  type?: "text" | "password" | "url" | "time";
  inputMode?: "text" | "decimal" | "numeric" | "url";
  autoComplete?: string;
  disabled?: boolean;
  /** A unit shown inside the right edge of the input ("%", "×"). */
  suffix?: string;
  className?: string;
  autoFocus?: boolean;
  mono?: boolean;
}

export function TextField(props: TextFieldProps) {
  const { id, label, value, onChange, help, warning, badge, error, required, suffix, className, mono, type = "text", ...rest } = props;
  return (
    <FieldShell id={id} label={label} help={help} warning={warning} badge={badge} error={error} required={required} className={className}>
      <div className={`input-wrap${suffix ? " has-suffix" : ""}`}>
        <input
          id={id}
          name={id}
          className={`input${mono ? " mono" : ""}`}
          type={type}
          value={value}
          required={required}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
          {...describedBy(id, help, error, warning)}
          {...rest}
        />
        {suffix ? (
          <span className="input-suffix" aria-hidden="true">
            {suffix}
          </span>
        ) : null}
      </div>
    </FieldShell>
  );
}

/** A password input with a show/hide button. */
export function PasswordField(props: Omit<TextFieldProps, "type" | "suffix">) {
  const [shown, setShown] = useState(false);
  const { id, label, value, onChange, help, warning, badge, error, required, className, ...rest } = props;
  return (
    <FieldShell id={id} label={label} help={help} warning={warning} badge={badge} error={error} required={required} className={className}>
      <div className="input-wrap has-button">
        <input
          id={id}
          name={id}
          className="input"
          type={shown ? "text" : "password"}
          value={value}
          required={required}
          spellCheck={false}
          autoCapitalize="off"
          onChange={(e) => onChange(e.target.value)}
          {...describedBy(id, help, error, warning)}
          {...rest}
        />
        <button
          type="button"
          className="input-button"
          aria-label={shown ? "Hide" : "Show"}
          aria-pressed={shown}
          aria-controls={id}
          onClick={() => setShown((s) => !s)}
        >
          <Icon name={shown ? "eyeOff" : "eye"} size={16} />
        </button>
      </div>
    </FieldShell>
  );
}

interface SelectFieldProps<T extends string> {
  id: string;
  label: ReactNode;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  help?: ReactNode;
  error?: string | undefined;
  disabled?: boolean;
  className?: string;
}

export function SelectField<T extends string>({ id, label, value, options, onChange, help, error, disabled, className }: SelectFieldProps<T>) {
  return (
    <FieldShell id={id} label={label} help={help} error={error} className={className}>
      <div className="select-wrap">
        <select
          id={id}
          name={id}
          className="input select"
          value={value}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value as T)}
          {...describedBy(id, help, error)}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        <Icon name="chevronDown" size={16} className="select-chevron" />
      </div>
    </FieldShell>
  );
}

interface SwitchProps {
  id: string;
  label: ReactNode;
  help?: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
  error?: string | undefined;
}

/** A checkbox styled as a switch (role="switch"), label on the left. */
export function Switch({ id, label, help, checked, onChange, disabled, error }: SwitchProps) {
  return (
    <div className={`switch-row${error ? " field-invalid" : ""}`}>
      <div className="switch-text">
        <label htmlFor={id} className="switch-label">
          {label}
        </label>
        {help ? (
          <p className="field-help" id={`${id}-help`}>
            {help}
          </p>
        ) : null}
        {error ? (
          <p className="field-error" id={`${id}-error`}>
            <Icon name="alert" size={14} />
            <span>{error}</span>
          </p>
        ) : null}
      </div>
      <input
        id={id}
        type="checkbox"
        role="switch"
        className="switch"
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        {...describedBy(id, help, error)}
      />
    </div>
  );
}
