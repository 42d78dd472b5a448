import { Banner } from "./Banner";
import { FieldShell, describedBy } from "./Field";
import { useNow } from "../state/useNow";
import { cleanTotpInput, formatCountdown, msUntil } from "../lib/twofa";

interface CodeFieldProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** A backup code (`k7m2p-x9qrt`) instead of the app's 6 digits. */
  backup?: boolean;
  label?: string;
  error?: string | undefined;
  disabled?: boolean;
}

/** The input for a code from the authenticator app (digits only; the OS may offer one-time codes) or a backup code. */
export function CodeField({ id, value, onChange, backup = false, label, error, disabled }: CodeFieldProps) {
  const help = backup ? "Each backup code works once. Dashes and capitals don't matter." : undefined;
  return (
    <FieldShell id={id} label={label ?? (backup ? "Backup code" : "6-digit code")} help={help} error={error}>
      <input
        id={id}
        name={id}
        className="input code-input mono"
        value={value}
        onChange={(e) => onChange(backup ? e.target.value : cleanTotpInput(e.target.value))}
        autoComplete={backup ? "off" : "one-time-code"}
        inputMode={backup ? "text" : "numeric"}
        pattern={backup ? undefined : "[0-9]*"}
        maxLength={backup ? 16 : undefined}
        placeholder={backup ? "xxxxx-xxxxx" : "123456"}
        autoCapitalize="off"
        spellCheck={false}
        disabled={disabled}
        data-autofocus
        // Focus moves to the code when the field appears (or switches between app and backup code).
        autoFocus
        {...describedBy(id, help, error)}
      />
    </FieldShell>
  );
}

/** Checks a typed code before sending it; returns what is wrong, or null. */
export function codeProblem(code: string, backup: boolean): string | null {
  if (backup) {
    return code.replace(/[^a-z0-9]/gi, "").length === 10 ? null : "Enter one of your backup codes, like k7m2p-x9qrt.";
  }
  return /^\d{6}$/.test(code) ? null : "Enter the 6-digit code your authenticator app shows.";
}

/**
 * "Too many wrong codes": counts down to `lockedUntil`. Key it on `lockedUntil` so its clock
 * starts with the lockout.
 */
export function LockoutNotice({ lockedUntil }: { lockedUntil: string }) {
  const now = useNow(1000);
  const left = msUntil(lockedUntil, now);
  if (left === 0) return null;
  return (
    <Banner tone="warning" title="Too many wrong codes">
      <span data-testid="lockout-countdown">
        Codes are refused for <strong className="countdown">{formatCountdown(left)}</strong> (until{" "}
        {new Date(lockedUntil).toLocaleTimeString()}). Each new lockout lasts twice as long.
      </span>
    </Banner>
  );
}

/** True while `lockedUntil` is in the future; re-evaluated every second. */
export function useLockedOut(lockedUntil: string | null): boolean {
  const now = useNow(1000);
  return msUntil(lockedUntil, now) > 0;
}
