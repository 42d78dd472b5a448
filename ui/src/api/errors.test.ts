import { describe, expect, it } from "vitest";
import { BrokerdeskError, SESSION_CODES, toBrokerdeskError } from "./errors";

describe("toBrokerdeskError", () => {
  it("keeps code, message and field errors of an ApiError", () => {
    const e = toBrokerdeskError({
      code: "validation",
      message: "Some fields need attention.",
      fields: [{ field: "risk.maxLeverage", code: "range", message: "Too high." }],
    });
    expect(e).toBeInstanceOf(BrokerdeskError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe("validation");
    expect(e.message).toBe("Some fields need attention.");
    expect(e.fields).toEqual([{ field: "risk.maxLeverage", code: "range", message: "Too high." }]);
    expect(e.hasFieldErrors()).toBe(true);
  });

  it("treats a missing fields array as no field errors and drops malformed entries", () => {
    expect(toBrokerdeskError({ code: "locked", message: "Locked." }).fields).toEqual([]);
    const e = toBrokerdeskError({ code: "validation", message: "x", fields: [null, { field: "name" }, { field: "name", message: "Required." }] });
    expect(e.fields).toEqual([{ field: "name", code: "invalid", message: "Required." }]);
  });

  it("maps Tauri's plain-string rejections (unknown command, bad args) to code internal", () => {
    const e = toBrokerdeskError("command account_nope not found");
    expect(e.code).toBe("internal");
    expect(e.message).toBe("command account_nope not found");
  });

  it("maps thrown Errors and anything else to code internal without losing the message", () => {
    expect(toBrokerdeskError(new TypeError("boom"))).toMatchObject({ code: "internal", message: "boom" });
    expect(toBrokerdeskError(undefined).code).toBe("internal");
    expect(toBrokerdeskError(42).message).toMatch(/unexpected/i);
  });

  it("returns a BrokerdeskError unchanged", () => {
    const original = new BrokerdeskError("not_found", "Gone.");
    expect(toBrokerdeskError(original)).toBe(original);
  });

  it("marks the codes that change the screen", () => {
    expect([...SESSION_CODES].sort()).toEqual(["locked", "not_initialized", "vault_changed"]);
  });
});
