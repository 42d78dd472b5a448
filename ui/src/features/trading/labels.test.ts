import { describe, expect, it } from "vitest";
import { isWorking, money, num, tone } from "./labels";

describe("trading labels", () => {
  it("prints money with two decimals, grouping and half-up rounding, without floating point", () => {
    expect(money("100000")).toBe("100,000.00");
    expect(money("-1234.5")).toBe("-1,234.50");
    expect(money("0.005")).toBe("0.01");
    expect(money("999.995")).toBe("1,000.00");
    expect(money("-0.001")).toBe("0.00");
    expect(money("12345678901234567890.12")).toBe("12,345,678,901,234,567,890.12");
    expect(money(null)).toBe("—");
  });
  it("trims quantities and tells the sign", () => {
    expect(num("1000.000")).toBe("1000");
    expect(num("1.2500")).toBe("1.25");
    expect(num("7")).toBe("7");
    expect(tone("-0.00")).toBe("flat");
    expect(tone("-3")).toBe("down");
    expect(tone("0.1")).toBe("up");
    expect(isWorking("unknown")).toBe(true);
    expect(isWorking("needs_review")).toBe(false);
  });
});
