-- Every state change of every supervised connection (the connection manager's history),
-- pruned to the most recent 1,000 per account by the manager. No foreign key to accounts:
-- the manager also supervises accounts handed to it directly (a CLI, tests), and an
-- account's connection history outlives it for support and audit.
CREATE TABLE connection_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    detail      TEXT,
    at          TEXT    NOT NULL
) STRICT;

CREATE INDEX connection_events_account ON connection_events (account_id, id);
