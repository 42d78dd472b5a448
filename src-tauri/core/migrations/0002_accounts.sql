-- Broker accounts and their whole configuration. Secrets live sealed in account_secrets.
CREATE TABLE accounts (
    id                      TEXT    PRIMARY KEY,
    name                    TEXT    NOT NULL,
    broker                  TEXT    NOT NULL CHECK (broker IN ('paper', 'oanda', 'alpaca', 'tradier', 'tastytrade', 'ibkr')),
    environment             TEXT    NOT NULL CHECK (environment IN ('practice', 'live')),
    broker_account_id       TEXT,
    rest_url                TEXT,
    stream_url              TEXT,
    prop_firm               TEXT    NOT NULL DEFAULT 'none' CHECK (prop_firm IN ('none', 'ftmo', 'funded_next', 'the5ers', 'custom')),
    max_daily_loss_pct      REAL,
    max_total_loss_pct      REAL,
    profit_target_pct       REAL,
    max_position_size_pct   REAL,
    max_open_positions      INTEGER,
    max_qty                 REAL,
    max_leverage            REAL,
    require_stop_loss       INTEGER NOT NULL DEFAULT 0,
    max_correlation         REAL,
    trading_hours_start     TEXT,
    trading_hours_end       TEXT,
    trading_hours_tz        TEXT,
    weekend_trading         INTEGER NOT NULL DEFAULT 0,
    notify_connection_lost      INTEGER NOT NULL DEFAULT 1,
    notify_connection_restored  INTEGER NOT NULL DEFAULT 1,
    notify_auth_failure         INTEGER NOT NULL DEFAULT 1,
    notify_order_filled         INTEGER NOT NULL DEFAULT 1,
    notify_risk_breach          INTEGER NOT NULL DEFAULT 1,
    status                  TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'in_drawdown', 'terminated')),
    mode                    TEXT    NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
    created_at              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX accounts_name_unique ON accounts (name COLLATE NOCASE);

CREATE TABLE account_instruments (
    account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    symbol      TEXT    NOT NULL,
    PRIMARY KEY (account_id, symbol)
) STRICT;

CREATE TABLE account_timeframes (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeframe   TEXT NOT NULL CHECK (timeframe IN ('M1', 'M5', 'M15', 'M30', 'H1', 'H4', 'D1', 'W1', 'MN1')),
    PRIMARY KEY (account_id, timeframe)
) STRICT;

-- One sealed value per (account, field). `sealed` embeds its binding (see vault::crypto).
CREATE TABLE account_secrets (
    account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    field           TEXT    NOT NULL CHECK (field IN ('api_key', 'api_secret')),
    sealed          BLOB    NOT NULL,
    key_generation  INTEGER NOT NULL,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (account_id, field)
) STRICT;

CREATE TABLE account_status_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'in_drawdown', 'terminated')),
    reason      TEXT,
    changed_at  TEXT    NOT NULL
) STRICT;

CREATE INDEX account_status_history_account ON account_status_history (account_id, id);
