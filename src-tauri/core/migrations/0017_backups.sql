-- Encrypted backups of the whole profile (`backup/`).

-- The backup key: derived once from the backup passphrase (Argon2id), kept sealed under the
-- data key so scheduled backups can be sealed without asking for the passphrase; the spec
-- (KDF parameters, salt, key check value, JSON) travels in every backup's header so the
-- passphrase alone opens it on another machine. A key rotation re-seals it.
ALTER TABLE vault ADD COLUMN backup_key_sealed BLOB;
ALTER TABLE vault ADD COLUMN backup_key_spec TEXT;

-- Where and how often: one row.
CREATE TABLE backup_config (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    -- Daily backups while the app runs (1) or only by hand (0).
    scheduled     INTEGER NOT NULL DEFAULT 1 CHECK (scheduled IN (0, 1)),
    -- NULL: `<data dir>/backups`.
    folder        TEXT,
    keep_daily    INTEGER NOT NULL DEFAULT 7 CHECK (keep_daily BETWEEN 1 AND 365),
    keep_weekly   INTEGER NOT NULL DEFAULT 4 CHECK (keep_weekly BETWEEN 0 AND 520)
) STRICT;

-- Every backup attempt (the last success's age is a health check; a failure is shown).
CREATE TABLE backup_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT    NOT NULL,
    trigger       TEXT    NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
    path          TEXT,
    bytes         INTEGER,
    error         TEXT
) STRICT;
