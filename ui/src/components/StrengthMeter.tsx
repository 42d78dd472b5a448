import { useEffect, useState } from "react";
import * as api from "../api/client";
import type { PasswordStrength } from "../bindings/PasswordStrength";
import { MIN_PASSWORD_LENGTH, strengthLabel } from "../lib/password";

/**
 * Four bars and a verdict from the core's own password policy (`vault_password_strength`), so
 * what the meter calls "Too weak" is exactly what saving refuses. Asked 150 ms after typing stops.
 */
export function StrengthMeter({ password }: { password: string }) {
  const [rated, setRated] = useState<{ password: string; strength: PasswordStrength } | null>(null);
  useEffect(() => {
    if (password === "") return;
    let live = true;
    const timer = window.setTimeout(() => {
      api
        .vaultPasswordStrength(password)
        .then((strength) => {
          if (live) setRated({ password, strength });
        })
        .catch(() => {
          if (live) setRated(null);
        });
    }, 150);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [password]);
  if (password === "" || rated === null || rated.password !== password) return null;
  const { score } = rated.strength;
  // Too short is what the form itself says under the field: the meter does not repeat it.
  const { verdict, detail } =
    password.length < MIN_PASSWORD_LENGTH ? { verdict: "Too short", detail: null } : strengthLabel(rated.strength);
  return (
    <div className={`strength strength-${score}`} aria-live="polite" data-testid="strength-meter">
      <div className="strength-bars" aria-hidden="true">
        {[1, 2, 3, 4].map((n) => (
          <span key={n} className={n <= score ? "on" : undefined} />
        ))}
      </div>
      <span className="strength-label">
        Strength: {verdict}
        {detail ? <span className="strength-detail"> — {detail}</span> : null}
      </span>
    </div>
  );
}
