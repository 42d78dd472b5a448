import { useEffect, useState } from "react";

/**
 * The current time (ms), updated every `intervalMs` while mounted. It starts at the time of
 * mounting, so components showing a countdown are best keyed on what they count down to.
 */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
