// RFC 6238 codes, as an authenticator app computes them (HMAC-SHA-1, 6 digits, 30 s steps),
// in Node with node:crypto. The core accepts the steps now−1, now and now+1, each once
// (replay protection), so `codeFor` hands out each step at most once per secret and waits for
// the next step when all three were used.
import { createHmac } from "node:crypto";

const STEP = 30;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(secret) {
  const clean = secret.replace(/[\s=]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const i = ALPHABET.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code of `step` for a base32 secret. */
export function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

const used = new Map(); // secret → last step handed out

/**
 * A code the core will accept now for `secret`: the earliest unused step of now−1 (unless the
 * step is about to change), now and now+1; waits for the next step if all were used.
 */
export async function codeFor(secret) {
  for (;;) {
    const t = Date.now() / 1000;
    const now = Math.floor(t / STEP);
    const into = t - now * STEP;
    const last = used.get(secret) ?? -Infinity;
    // now−1 stops being accepted when the step changes: only offer it with time to spare.
    const candidates = [...(into < STEP - 5 ? [now - 1] : []), now, now + 1];
    const step = candidates.find((s) => s > last);
    if (step !== undefined) {
      used.set(secret, step);
      return totpAt(secret, step);
    }
    await new Promise((ok) => setTimeout(ok, (STEP - into) * 1000 + 200));
  }
}
