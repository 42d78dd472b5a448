import { describe, expect, it } from "vitest";
import {
  addDecimal,
  checkDecimal,
  compareDecimal,
  formatDecimal,
  isDecimal,
  midDecimal,
  placesOf,
  roundDecimal,
  signOf,
  subDecimal,
} from "./decimal";

describe("decimal text", () => {
  it("accepts the plain notation the backend writes and reads", () => {
    for (const ok of ["1", "-0.5", "+12", "1.08235", ".5", "5.", " 30 "]) expect(isDecimal(ok), ok).toBe(true);
    for (const bad of ["", ".", "-", "1e3", "1_000", "0x10", "NaN", "Infinity", "1,5", "1.2.3"]) expect(isDecimal(bad), bad).toBe(false);
    expect(checkDecimal(" 0.75 ")).toEqual({ ok: true, value: "0.75" });
    expect(checkDecimal("1e3")).toEqual({ ok: false, reason: "not_a_number" });
    expect(checkDecimal("0.12345678901234567890123456789")).toEqual({ ok: false, reason: "too_many_digits" });
    expect(checkDecimal("0.1234567890123456789012345678")).toEqual({ ok: true, value: "0.1234567890123456789012345678" });
  });

  it("adds, subtracts and halves exactly", () => {
    expect(addDecimal("0.1", "0.2")).toBe("0.3");
    expect(subDecimal("1.08235", "1.0823")).toBe("0.00005");
    expect(subDecimal("1", "1.5")).toBe("-0.5");
    expect(midDecimal("1.08230", "1.08240")).toBe("1.08235");
    expect(midDecimal("1.08231", "1.08240")).toBe("1.082355");
    expect(midDecimal("-1", "0")).toBe("-0.5");
    expect(subDecimal("x", "1")).toBeNull();
  });

  it("compares, signs and counts places", () => {
    expect(compareDecimal("1.10", "1.1")).toBe(0);
    expect(compareDecimal("1.0000000000000000001", "1")).toBe(1);
    expect(compareDecimal("-2", "1")).toBe(-1);
    expect(signOf("-0.000")).toBe(0);
    expect(signOf("0.01")).toBe(1);
    expect(placesOf("1.08230")).toBe(5);
    expect(placesOf("2650")).toBe(0);
  });

  it("rounds half away from zero and formats with separators", () => {
    expect(roundDecimal("1.082355", 5)).toBe("1.08236");
    expect(roundDecimal("-1.082355", 5)).toBe("-1.08236");
    expect(roundDecimal("1.082354", 5)).toBe("1.08235");
    expect(roundDecimal("2", 2)).toBe("2.00");
    expect(formatDecimal("2650.4", 2)).toBe("2,650.40");
    expect(formatDecimal("-1234567.891", 2)).toBe("-1,234,567.89");
    expect(formatDecimal("0.5", 0)).toBe("1");
    expect(formatDecimal("abc", 2)).toBeNull();
  });
});
