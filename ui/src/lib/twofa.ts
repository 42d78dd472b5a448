/** Two-factor helpers without React: the QR image, the secret's grouping, countdowns. */

/**
 * The backend's QR code (a standalone SVG document) as a data: URI for an <img>. An image
 * cannot run script or reach the page, unlike SVG markup put into the DOM.
 */
export function svgDataUri(svg: string): string {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

/** "JBSWY3DPEHPK3PXP" → "JBSW Y3DP EHPK 3PXP", easier to type into an app by hand. */
export const groupSecret = (secret: string) => secret.replace(/\s+/g, "").match(/.{1,4}/g)?.join(" ") ?? "";

/** Milliseconds from `now` until an RFC 3339 instant (0 once past, or when null / unparsable). */
export function msUntil(instant: string | null, now: number): number {
  if (!instant) return 0;
  const at = Date.parse(instant);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

/** A countdown as "m:ss" (or "h:mm:ss" past an hour). */
export function formatCountdown(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Whole minutes left, rounded up, so an open window never reads "0 min". */
export const minutesLeft = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

/** What to put in the code input: a TOTP code keeps only digits (max 6); a backup code is free text. */
export const cleanTotpInput = (text: string) => text.replace(/\D/g, "").slice(0, 6);

/** Few enough backup codes left that the user should make new ones. */
export const LOW_BACKUP_CODES = 3;
