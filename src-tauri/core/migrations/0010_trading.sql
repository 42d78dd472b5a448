-- Orders, their history and fills; the paper broker's accounts and positions; the queue of
-- broker operations to retry. Money and quantities are decimal TEXT (never REAL).

-- One row per order Brokerdesk placed (or found at the broker: origin 'external'). The intent
-- is committed here before anything is sent; `client_order_id` is the broker's idempotency
-- key (Alpaca client_order_id, OANDA clientExtensions.id, Tradier tag, Tastytrade
-- external-identifier, IBKR cOID). Every change is a compare-and-set on `version`, so the app
-- and the CLI never both send or both settle an order.
CREATE TABLE orders (
    id               TEXT    PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_order_id  TEXT    NOT NULL UNIQUE,
    broker_order_id  TEXT,
    mode             TEXT    NOT NULL CHECK (mode IN ('paper', 'live')),
    origin           TEXT    NOT NULL DEFAULT 'brokerdesk' CHECK (origin IN ('brokerdesk', 'external')),
    symbol           TEXT    NOT NULL,
    side             TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type       TEXT    NOT NULL CHECK (order_type IN ('market', 'limit', 'stop')),
    quantity         TEXT    NOT NULL,
    limit_price      TEXT,
    stop_price       TEXT,
    time_in_force    TEXT    NOT NULL CHECK (time_in_force IN ('day', 'gtc')),
    stop_loss        TEXT,
    take_profit      TEXT,
    -- The bracket parent of a stop-loss / take-profit child (the paper engine's).
    parent_id        TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'open', 'partially_filled',
                              'filled', 'cancelled', 'rejected', 'unknown', 'needs_review')),
    filled_qty       TEXT    NOT NULL DEFAULT '0',
    avg_fill_price   TEXT,
    -- Why it was rejected, cancelled, is unknown or needs review.
    reason           TEXT,
    broker_status    TEXT,
    version          INTEGER NOT NULL DEFAULT 0,
    -- Set (committed) right before the order leaves the machine: an order with it and no
    -- outcome may have reached the broker; one without it never did.
    sent_at          TEXT,
    -- Lookups of an order whose outcome is unknown: how many, and when the next is due.
    lookups          INTEGER NOT NULL DEFAULT 0,
    next_lookup_at   TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
) STRICT;
CREATE INDEX orders_account ON orders (account_id, created_at);
CREATE INDEX orders_status ON orders (status, account_id);
CREATE UNIQUE INDEX orders_broker ON orders (account_id, broker_order_id) WHERE broker_order_id IS NOT NULL;

-- Every status change of an order, with what caused it.
CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX order_events_order ON order_events (order_id, id);

-- Fills; `fill_id` is the broker's (or the paper engine's) id, so a fill seen twice (a
-- reconciliation after a stream) is stored once.
CREATE TABLE fills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    account_id  TEXT    NOT NULL,
    fill_id     TEXT    NOT NULL,
    quantity    TEXT    NOT NULL,
    price       TEXT    NOT NULL,
    fee         TEXT    NOT NULL DEFAULT '0',
    at          TEXT    NOT NULL,
    UNIQUE (order_id, fill_id)
) STRICT;
CREATE INDEX fills_account ON fills (account_id, at);

-- The paper broker's money per account (the ledger of `paper::ledger`).
CREATE TABLE paper_accounts (
    account_id        TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    currency          TEXT NOT NULL DEFAULT 'USD',
    starting_balance  TEXT NOT NULL,
    fx_leverage       TEXT NOT NULL,
    stock_leverage    TEXT NOT NULL,
    balance           TEXT NOT NULL,
    realized_pl       TEXT NOT NULL DEFAULT '0',
    fees              TEXT NOT NULL DEFAULT '0',
    -- The equity at the start of the current day (for the day's P&L), and which day.
    day_start_equity  TEXT,
    day               TEXT,
    reset_at          TEXT,
    updated_at        TEXT NOT NULL
) STRICT;

-- Realised P&L that could not be converted into the account currency, per currency.
CREATE TABLE paper_unconverted (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    currency    TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (account_id, currency)
) STRICT;

-- The paper broker's net positions (flat ones kept for their realised P&L until a reset).
CREATE TABLE paper_positions (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    symbol          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('fx', 'stock')),
    base_currency   TEXT,
    quote_currency  TEXT NOT NULL,
    contract_size   TEXT NOT NULL,
    quantity        TEXT NOT NULL,
    avg_price       TEXT NOT NULL,
    realized_pl     TEXT NOT NULL DEFAULT '0',
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, symbol)
) STRICT;

-- The paper engine's working state of each open paper order (its role in a bracket, the
-- sibling, from when quotes count, how many fills), so a restart resumes exactly where it
-- was. `orders` stays what the trader sees; a row here lives only while the order is open.
CREATE TABLE paper_working (
    order_id    TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state       TEXT NOT NULL
) STRICT;

-- Broker operations that failed and are retried with backoff (cancels, lookups), surviving a
-- restart; when the retries run out the order goes to Needs review.
CREATE TABLE order_ops (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('cancel')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT    NOT NULL,
    last_error  TEXT,
    created_at  TEXT    NOT NULL
) STRICT;

-- Like `profile_changes`, for orders: an order placed or changed by another process (the CLI)
-- reaches the running app's order workers and paper engines.
CREATE TABLE order_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO order_changes (id, n) VALUES (1, 0);
CREATE TRIGGER order_changes_i AFTER INSERT ON orders BEGIN UPDATE order_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER order_changes_u AFTER UPDATE ON orders BEGIN UPDATE order_changes SET n = n + 1 WHERE id = 1; END;
