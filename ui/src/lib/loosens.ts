import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import { compareDecimal } from "./decimal";

/** A limit that is higher, or gone, after the change (the core's `risk::loosens`). */
function looser(before: string | number | null, after: string | number | null): boolean {
  if (before === null) return false;
  if (after === null) return true;
  return compareDecimal(String(after), String(before)) > 0;
}

/**
 * The protections an edit loosens, as the core names them (`risk::loosens`): saving such an
 * edit needs a fresh two-factor code. Empty when the edit only tightens or leaves them alone.
 * The form uses it to say so before the code is asked for; the core decides.
 */
export function loosenedProtections(before: Account, after: AccountInput): string[] {
  const b = before.propFirm;
  const a = after.propFirm;
  const bl = before.risk;
  const al = after.risk;
  const out: string[] = [];
  if (looser(b.maxDailyLossPct, a.maxDailyLossPct)) out.push("max daily loss");
  if (looser(b.maxTotalLossPct, a.maxTotalLossPct)) out.push("max total loss");
  const clockMoved = b.dailyBase !== a.dailyBase || b.resetTime !== a.resetTime || b.resetTimezone !== a.resetTimezone || b.maxLossMode !== a.maxLossMode;
  if (clockMoved && (b.maxDailyLossPct !== null || b.maxTotalLossPct !== null)) out.push("the loss rules' clock or base");
  if (looser(b.initialBalance, a.initialBalance)) out.push("initial balance");
  if (b.dailyBreach === "terminate" && a.dailyBreach !== b.dailyBreach) out.push("daily breach action");
  if (looser(b.safetyBufferPct, a.safetyBufferPct)) out.push("safety buffer");
  if (b.closeOnBreach && !a.closeOnBreach) out.push("close positions on breach");
  if (looser(bl.maxPositionSizePct, al.maxPositionSizePct)) out.push("max position size");
  if (looser(bl.maxOpenPositions, al.maxOpenPositions)) out.push("max open positions");
  if (looser(bl.maxQty, al.maxQty)) out.push("max quantity");
  if (looser(bl.maxLeverage, al.maxLeverage)) out.push("max leverage");
  if (looser(bl.maxRiskPerTradePct, al.maxRiskPerTradePct)) out.push("max risk per trade");
  if (bl.requireStopLoss && !al.requireStopLoss) out.push("stop-loss required");
  const known = (s: string) => bl.allowedInstruments.some((x) => x.toLowerCase() === s.toLowerCase());
  if (bl.allowedInstruments.length > 0 && (al.allowedInstruments.length === 0 || al.allowedInstruments.some((i) => !known(i)))) out.push("allowed instruments");
  if (!before.weekendTrading && after.weekendTrading) out.push("weekend trading");
  const h1 = before.tradingHours;
  const h2 = after.tradingHours;
  if (h1 && (!h2 || h1.start !== h2.start || h1.end !== h2.end || h1.timezone !== h2.timezone)) out.push("trading hours");
  return out;
}
