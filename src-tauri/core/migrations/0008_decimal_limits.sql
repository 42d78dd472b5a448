-- Prop-firm rules and risk limits become exact decimals stored as TEXT (what Rust's Decimal
-- writes, e.g. '4.8', '0.75'), instead of binary REALs that cannot hold 0.1 exactly.
--
-- SQLite cannot change a column's type in place, so each column is rebuilt: a TEXT column is
-- added, filled from the REAL one, the REAL one dropped and the new one renamed (no table
-- rebuild, so the foreign keys that point at accounts are untouched).
--
-- A REAL becomes the text of its value to 15 significant digits ('%!.15g'): exactly what a
-- user typed (the form and the CLI took at most that many digits), never a float's binary
-- tail (0.1 stays '0.1', not '0.1000000000000000055511151231257827'). '%!.15g' writes whole
-- numbers with a '.0' that is dropped afterwards ('30.0' → '30'); very small or large values
-- keep SQLite's exponent form ('1.0e-05'), which the store reads as a decimal too.

ALTER TABLE accounts ADD COLUMN max_daily_loss_pct_text TEXT;
ALTER TABLE accounts ADD COLUMN max_total_loss_pct_text TEXT;
ALTER TABLE accounts ADD COLUMN profit_target_pct_text TEXT;
ALTER TABLE accounts ADD COLUMN max_position_size_pct_text TEXT;
ALTER TABLE accounts ADD COLUMN max_qty_text TEXT;
ALTER TABLE accounts ADD COLUMN max_leverage_text TEXT;
ALTER TABLE accounts ADD COLUMN max_correlation_text TEXT;

UPDATE accounts SET
    max_daily_loss_pct_text    = printf('%!.15g', max_daily_loss_pct),
    max_total_loss_pct_text    = printf('%!.15g', max_total_loss_pct),
    profit_target_pct_text     = printf('%!.15g', profit_target_pct),
    max_position_size_pct_text = printf('%!.15g', max_position_size_pct),
    max_qty_text               = printf('%!.15g', max_qty),
    max_leverage_text          = printf('%!.15g', max_leverage),
    max_correlation_text       = printf('%!.15g', max_correlation);

-- printf of NULL is '' (not NULL): no limit stays no limit.
UPDATE accounts SET max_daily_loss_pct_text = NULL WHERE max_daily_loss_pct IS NULL;
UPDATE accounts SET max_total_loss_pct_text = NULL WHERE max_total_loss_pct IS NULL;
UPDATE accounts SET profit_target_pct_text = NULL WHERE profit_target_pct IS NULL;
UPDATE accounts SET max_position_size_pct_text = NULL WHERE max_position_size_pct IS NULL;
UPDATE accounts SET max_qty_text = NULL WHERE max_qty IS NULL;
UPDATE accounts SET max_leverage_text = NULL WHERE max_leverage IS NULL;
UPDATE accounts SET max_correlation_text = NULL WHERE max_correlation IS NULL;

UPDATE accounts SET max_daily_loss_pct_text = substr(max_daily_loss_pct_text, 1, length(max_daily_loss_pct_text) - 2) WHERE max_daily_loss_pct_text LIKE '%.0';
UPDATE accounts SET max_total_loss_pct_text = substr(max_total_loss_pct_text, 1, length(max_total_loss_pct_text) - 2) WHERE max_total_loss_pct_text LIKE '%.0';
UPDATE accounts SET profit_target_pct_text = substr(profit_target_pct_text, 1, length(profit_target_pct_text) - 2) WHERE profit_target_pct_text LIKE '%.0';
UPDATE accounts SET max_position_size_pct_text = substr(max_position_size_pct_text, 1, length(max_position_size_pct_text) - 2) WHERE max_position_size_pct_text LIKE '%.0';
UPDATE accounts SET max_qty_text = substr(max_qty_text, 1, length(max_qty_text) - 2) WHERE max_qty_text LIKE '%.0';
UPDATE accounts SET max_leverage_text = substr(max_leverage_text, 1, length(max_leverage_text) - 2) WHERE max_leverage_text LIKE '%.0';
UPDATE accounts SET max_correlation_text = substr(max_correlation_text, 1, length(max_correlation_text) - 2) WHERE max_correlation_text LIKE '%.0';

ALTER TABLE accounts DROP COLUMN max_daily_loss_pct;
ALTER TABLE accounts DROP COLUMN max_total_loss_pct;
ALTER TABLE accounts DROP COLUMN profit_target_pct;
ALTER TABLE accounts DROP COLUMN max_position_size_pct;
ALTER TABLE accounts DROP COLUMN max_qty;
ALTER TABLE accounts DROP COLUMN max_leverage;
ALTER TABLE accounts DROP COLUMN max_correlation;

ALTER TABLE accounts RENAME COLUMN max_daily_loss_pct_text TO max_daily_loss_pct;
ALTER TABLE accounts RENAME COLUMN max_total_loss_pct_text TO max_total_loss_pct;
ALTER TABLE accounts RENAME COLUMN profit_target_pct_text TO profit_target_pct;
ALTER TABLE accounts RENAME COLUMN max_position_size_pct_text TO max_position_size_pct;
ALTER TABLE accounts RENAME COLUMN max_qty_text TO max_qty;
ALTER TABLE accounts RENAME COLUMN max_leverage_text TO max_leverage;
ALTER TABLE accounts RENAME COLUMN max_correlation_text TO max_correlation;
