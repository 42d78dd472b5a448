import { useEffect, useRef } from "react";
import type { FieldError } from "../../../bindings/FieldError";
import { Icon } from "../../../components/Icon";
import { errorSummary, fieldDomId } from "../../../lib/fieldErrors";
import type { FieldErrorMap, FormField } from "../../../lib/fieldErrors";

interface ErrorSummaryProps {
  errors: FieldErrorMap;
  unmatched: FieldError[];
  /** A problem that is not about one field (e.g. storage failed). */
  general: string | null;
  /** Changes on every failed submit, so the summary takes focus again. */
  attempt: number;
  /** Labels as the form shows them, where they depend on the broker. */
  labels?: Partial<Record<FormField, string>>;
  /** What failed: saving (default) or testing the connection. */
  action?: "save" | "test";
}

/** Lists every problem at the top of the form; each entry moves focus to its input. */
export function ErrorSummary({ errors, unmatched, general, attempt, labels, action = "save" }: ErrorSummaryProps) {
  const ref = useRef<HTMLDivElement>(null);
  const entries = errorSummary(errors, labels);
  const count = entries.length + unmatched.length;
  const visible = count > 0 || general !== null;

  useEffect(() => {
    if (attempt > 0) {
      ref.current?.scrollIntoView({ block: "start", behavior: "smooth" });
      ref.current?.focus({ preventScroll: true });
    }
  }, [attempt]);

  if (!visible) return null;
  return (
    <div ref={ref} className="error-summary" role="alert" tabIndex={-1} data-testid="error-summary">
      <Icon name="alert" size={20} className="error-summary-icon" />
      <div>
        <p className="error-summary-title">
          {(() => {
            const what = action === "test" ? "The connection was not tested" : "The account was not saved";
            return count > 0 ? `${what}: ${count === 1 ? "1 problem" : `${count} problems`} to fix` : what;
          })()}
        </p>
        {general ? <p className="error-summary-general">{general}</p> : null}
        {count > 0 ? (
          <ul className="error-summary-list">
            {entries.map((e) => (
              <li key={e.field}>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => {
                    const el = document.getElementById(fieldDomId(e.field));
                    el?.scrollIntoView({ block: "center" });
                    el?.focus();
                  }}
                >
                  <strong>{e.label}:</strong> {e.message}
                </button>
              </li>
            ))}
            {unmatched.map((e, i) => (
              <li key={`${e.field}-${i}`}>
                <strong>{e.field}:</strong> {e.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
