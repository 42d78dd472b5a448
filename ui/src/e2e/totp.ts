/**
 * RFC 6238 TOTP for the fake backend, on WebCrypto's HMAC-SHA-1: what authenticator apps
 * compute (6 digits, 30-second steps), with the backend's ±1-step window.
 */

export const STEP_SECONDS = 30;
export const DIGITS = 6;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (what otpauth URIs carry). */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "");
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** RFC 4226 HOTP: HMAC-SHA-1 over the 8-byte big-endian counter, dynamically truncated. */
export async function hotp(secret: Uint8Array, counter: number, digits = DIGITS): Promise<string> {
  const message = new ArrayBuffer(8);
  const view = new DataView(message);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const key = await crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = (mac[19] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The code for unix time `seconds`. */
export const totpAt = (secret: Uint8Array, seconds: number, digits = DIGITS) => hotp(secret, Math.floor(seconds / STEP_SECONDS), digits);

/**
 * Returns the time step `code` matches at unix time `seconds` (now−1, now or now+1; the latest
 * if several), or null. Spaces and dashes are ignored, like the backend.
 */
export async function matchingStep(secret: Uint8Array, code: string, seconds: number): Promise<number | null> {
  const cleaned = code.replace(/[\s-]/g, "");
  if (!/^\d{6}$/.test(cleaned)) return null;
  const origin = Math.floor(seconds / STEP_SECONDS);
  let found: number | null = null;
  for (let step = origin - 1; step <= origin + 1; step++) {
    if ((await hotp(secret, step)) === cleaned) found = step;
  }
  return found;
}
