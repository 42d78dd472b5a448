import { passwordStrength } from "../lib/password";

/** A four-step bar with a label; a hint only, the backend decides. */
export function StrengthMeter({ password }: { password: string }) {
  if (password === "") return null;
  const { score, label } = passwordStrength(password);
  return (
    <div className={`strength strength-${score}`} aria-live="polite">
      <div className="strength-bars" aria-hidden="true">
        {[1, 2, 3, 4].map((n) => (
          <span key={n} className={n <= score ? "on" : undefined} />
        ))}
      </div>
      <span className="strength-label">Strength: {label}</span>
    </div>
  );
}
