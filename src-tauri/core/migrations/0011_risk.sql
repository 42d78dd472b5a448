-- Risk: the prop-firm rule set's clock and Brokerdesk's response to a breach, two more
-- pre-trade limits, and each account's loss-tracking state.
--
-- Decimals are TEXT (as since 0008). The new columns have defaults, so existing accounts keep
-- what they meant: a percentage of the initial balance, reset at midnight UTC, a static
-- maximum loss, a pause for the day on the daily limit, 50/80/95% warnings. An existing
-- preset account gets its firm's clock when it is next saved (the validation fills it in).

-- The presets gain FTMO's and FundedNext's 1-Step programs. The CHECK on `prop_firm` is a
-- column constraint, so the column is rebuilt as in 0008 (added, filled, the old one dropped,
-- the new one renamed; no table rebuild, so the foreign keys that point at accounts stay).
ALTER TABLE accounts ADD COLUMN prop_firm_v2 TEXT NOT NULL DEFAULT 'none'
    CHECK (prop_firm_v2 IN ('none', 'ftmo', 'ftmo_1step', 'funded_next', 'funded_next_1step', 'the5ers', 'custom'));
UPDATE accounts SET prop_firm_v2 = prop_firm;
ALTER TABLE accounts DROP COLUMN prop_firm;
ALTER TABLE accounts RENAME COLUMN prop_firm_v2 TO prop_firm;

ALTER TABLE accounts ADD COLUMN initial_balance TEXT;
ALTER TABLE accounts ADD COLUMN daily_base TEXT NOT NULL DEFAULT 'initial_balance'
    CHECK (daily_base IN ('initial_balance', 'previous_day_balance', 'higher_of_equity_and_balance'));
ALTER TABLE accounts ADD COLUMN reset_time TEXT NOT NULL DEFAULT '00:00';
ALTER TABLE accounts ADD COLUMN reset_timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE accounts ADD COLUMN max_loss_mode TEXT NOT NULL DEFAULT 'static'
    CHECK (max_loss_mode IN ('static', 'trailing', 'trailing_then_locked'));
ALTER TABLE accounts ADD COLUMN daily_breach TEXT NOT NULL DEFAULT 'pause'
    CHECK (daily_breach IN ('pause', 'terminate'));
ALTER TABLE accounts ADD COLUMN safety_buffer_pct TEXT;
ALTER TABLE accounts ADD COLUMN close_on_breach INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN warn_levels TEXT NOT NULL DEFAULT '50,80,95';
ALTER TABLE accounts ADD COLUMN max_risk_per_trade_pct TEXT;
ALTER TABLE accounts ADD COLUMN allowed_instruments TEXT NOT NULL DEFAULT '';

-- One row per account whose losses are tracked: the firm day it is in and the levels that
-- day started from, the highest end-of-day balance (trailing maximum loss), the floor the
-- maximum loss has reached (never decreasing), and the warnings already given (so each is
-- given once per day, or once for the total budget).
CREATE TABLE risk_state (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    initial_balance TEXT NOT NULL,
    day_start TEXT NOT NULL,
    day_start_balance TEXT NOT NULL,
    day_start_equity TEXT NOT NULL,
    highest_eod_balance TEXT NOT NULL,
    total_floor TEXT,
    warned TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
