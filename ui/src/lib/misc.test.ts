import { describe, expect, it } from "vitest";
import type { Account } from "../bindings/Account";
import { asSentence, endSentence, inSentence, unreadableCredentialText } from "./labels";
import { strengthLabel } from "./password";
import { summarizeAccounts } from "./summary";
import { parseHash, routeHref } from "../state/router";

describe("strengthLabel", () => {
  it("says a refused password is too weak, with the core's reason as a sentence", () => {
    expect(strengthLabel({ score: 0, acceptable: false, reason: "this is a top-10 common password: add another word", suggestions: [] })).toEqual({
      verdict: "Too weak",
      detail: "This is a top-10 common password: add another word.",
    });
  });
  it("calls an accepted password good (with a suggestion) or strong", () => {
    expect(strengthLabel({ score: 3, acceptable: true, reason: null, suggestions: ["Add another word or two."] })).toEqual({
      verdict: "Good",
      detail: "Add another word or two.",
    });
    expect(strengthLabel({ score: 4, acceptable: true, reason: null, suggestions: [] })).toEqual({ verdict: "Strong", detail: null });
  });
});

describe("summarizeAccounts", () => {
  const a = (broker: Account["broker"], mode: Account["mode"], status: Account["status"], environment: Account["environment"] = "practice") =>
    ({ broker, mode, status, environment }) as Account;
  it("counts by broker (catalog order, only brokers in use), by mode and by status", () => {
    const s = summarizeAccounts([a("alpaca", "paper", "active"), a("oanda", "live", "suspended"), a("oanda", "paper", "active"), a("tradier", "live", "active", "live")]);
    expect(s.total).toBe(4);
    expect(s.byBroker).toEqual([
      { broker: "oanda", count: 2 },
      { broker: "alpaca", count: 1 },
      { broker: "tradier", count: 1 },
    ]);
    expect(s.byMode).toEqual({ paper: 2, broker_practice: 1, real_money: 1 });
    expect(s.byStatus).toEqual({ active: 3, suspended: 1, in_drawdown: 0, terminated: 0 });
  });
});

describe("router", () => {
  it("parses hashes and builds them back", () => {
    expect(parseHash("")).toEqual({ page: "dashboard" });
    expect(parseHash("#/accounts")).toEqual({ page: "accounts" });
    expect(parseHash("#/accounts/new")).toEqual({ page: "account-new" });
    expect(parseHash("#/accounts/acc%2F1")).toEqual({ page: "account-edit", id: "acc/1" });
    expect(parseHash("#/nowhere")).toEqual({ page: "dashboard" });
    expect(routeHref({ page: "account-edit", id: "acc/1" })).toBe("#/accounts/acc%2F1");
    expect(parseHash(routeHref({ page: "settings" }))).toEqual({ page: "settings" });
  });
});

describe("backend messages in sentences", () => {
  it("capitalises and ends a message once", () => {
    expect(asSentence("wrong master password")).toBe("Wrong master password.");
    expect(asSentence("the key is missing (it may have been deleted)")).toBe("The key is missing (it may have been deleted).");
    expect(asSentence("Already a sentence!")).toBe("Already a sentence!");
    expect(endSentence("")).toBe("");
  });

  it("words an unreadable credential with the label in the sentence", () => {
    expect(inSentence("Secret key")).toBe("secret key");
    expect(inSentence("API key ID")).toBe("API key ID");
    expect(unreadableCredentialText("Personal access token", "the sealed value has been tampered with or corrupted")).toBe(
      "This stored personal access token cannot be read: the sealed value has been tampered with or corrupted. Enter it again to replace it.",
    );
  });
});
