export const MIN_PASSWORD_LENGTH = 8;

export interface PasswordStrength {
  /** 0 (too short) to 4 (strong). */
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
}

/**
 * Returns a rough strength hint for a master password. Only a hint: the backend decides what
 * it accepts (`weak_password`).
 */
export function passwordStrength(password: string): PasswordStrength {
  if (password.length < MIN_PASSWORD_LENGTH) return { score: 0, label: `Too short (at least ${MIN_PASSWORD_LENGTH} characters)` };
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const unique = new Set(password).size;
  let score = 1;
  if (password.length >= 12) score++;
  if (password.length >= 16) score++;
  if (classes >= 3) score++;
  if (unique < 5) score = 1;
  const clamped = Math.min(score, 4) as 1 | 2 | 3 | 4;
  const labels = { 1: "Weak", 2: "Fair", 3: "Good", 4: "Strong" } as const;
  return { score: clamped, label: labels[clamped] };
}
