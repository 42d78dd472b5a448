-- A live order changed at a broker that replaces orders rather than editing them (OANDA,
-- Alpaca, Tastytrade) becomes a new order with a new client order id; `replaces` names the
-- order it replaced. A replacement is stored (its intent) before the change is sent, like any
-- order; one that never left the machine is never sent late as a new order (`oms::recover`).
ALTER TABLE orders ADD COLUMN replaces TEXT REFERENCES orders (id) ON DELETE SET NULL;
