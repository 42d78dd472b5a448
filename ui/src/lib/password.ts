import type { PasswordStrength } from "../bindings/PasswordStrength";

/** The policy's minimum length (the core's `MIN_PASSWORD_CHARS`), checked before asking it. */
export const MIN_PASSWORD_LENGTH = 8;

/**
 * The meter's words for the core's verdict (`vault_password_strength`, the same function that
 * refuses a weak password with `weak_password`): the verdict first, then why or how to do better.
 */
export function strengthLabel(s: PasswordStrength): { verdict: string; detail: string | null } {
  if (!s.acceptable) return { verdict: "Too weak", detail: s.reason ? sentence(s.reason) : null };
  const verdict = s.score >= 4 ? "Strong" : "Good";
  return { verdict, detail: s.score >= 4 ? null : s.suggestions[0] ?? null };
}

function sentence(text: string): string {
  const t = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
