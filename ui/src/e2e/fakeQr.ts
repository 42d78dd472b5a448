/**
 * A QR-shaped SVG document for the fake backend's `twofa_setup` (the real backend renders a
 * real QR code of the otpauth URI with the `qrcode` crate). It has the finder and timing
 * patterns and data modules derived from the URI, but it is NOT scannable: a test never needs
 * to scan it (it asks the mock for the current code instead).
 */
import { sha256Hex } from "./sha256";

const SIZE = 29; // a version-3 symbol
const QUIET = 4;

function isFinder(x: number, y: number): boolean | null {
  for (const [fx, fy] of [
    [0, 0],
    [SIZE - 7, 0],
    [0, SIZE - 7],
  ] as const) {
    const dx = x - fx;
    const dy = y - fy;
    if (dx >= -1 && dx <= 7 && dy >= -1 && dy <= 7) {
      if (dx < 0 || dy < 0 || dx > 6 || dy > 6) return false; // the separator
      const ring = Math.min(dx, dy, 6 - dx, 6 - dy);
      return ring !== 1;
    }
  }
  return null;
}

export function fakeQrSvg(data: string): string {
  let bits = "";
  for (let i = 0; bits.length < SIZE * SIZE; i++) {
    bits += sha256Hex(`${i}:${data}`)
      .split("")
      .map((h) => parseInt(h, 16).toString(2).padStart(4, "0"))
      .join("");
  }
  const cells: string[] = [];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const finder = isFinder(x, y);
      const dark = finder ?? (x === 6 || y === 6 ? (x + y) % 2 === 0 : bits[y * SIZE + x] === "1");
      if (dark) cells.push(`M${x + QUIET} ${y + QUIET}h1v1h-1z`);
    }
  }
  const side = SIZE + 2 * QUIET;
  return (
    `<?xml version="1.0" standalone="yes"?>` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${side * 8}" height="${side * 8}" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `<rect x="0" y="0" width="${side}" height="${side}" fill="#ffffff"/>` +
    `<path fill="#000000" d="${cells.join("")}"/></svg>`
  );
}
