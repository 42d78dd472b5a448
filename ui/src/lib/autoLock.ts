/** The auto-lock choices offered in Settings (minutes; null = off). */
export const AUTO_LOCK_CHOICES: readonly (number | null)[] = [null, 1, 5, 15, 30, 60, 240];

export function autoLockLabel(minutes: number | null): string {
  if (minutes === null) return "Off";
  if (minutes % 60 === 0 && minutes >= 60) {
    const hours = minutes / 60;
    return hours === 1 ? "60 minutes" : `${hours} hours`;
  }
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/**
 * The select's options: the standard choices, plus the current value when it is something else
 * (set from the command line, say), so the select shows what is really set.
 */
export function autoLockOptions(current: number | null): { value: string; label: string }[] {
  const values = AUTO_LOCK_CHOICES.includes(current) ? [...AUTO_LOCK_CHOICES] : [...AUTO_LOCK_CHOICES, current].sort((a, b) => (a ?? 0) - (b ?? 0));
  return values.map((m) => ({ value: m === null ? "off" : String(m), label: autoLockLabel(m) }));
}

/** The select's value back to `AppSettings.autoLockMinutes`. */
export const parseAutoLock = (value: string): number | null => (value === "off" ? null : Number(value));

/**
 * Returns a function that calls `fn` at most once per `intervalMs` (the first call goes
 * through at once). Used to report user activity without flooding the backend.
 */
export function throttle(fn: () => void, intervalMs: number, now: () => number = Date.now): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    fn();
  };
}
