-- Configuration history (`core/src/history.rs`): every change to an account's configuration
-- (created, edited, rolled back) and to the app settings is a numbered version with who,
-- when, the whole configuration as it became (no secret: credentials are named by field only)
-- and what changed. Rows outlive their account (a removed account's history stays readable).
CREATE TABLE config_versions (
    version     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL for the app settings.
    account_id  TEXT,
    -- The account's name at the time, or 'settings'.
    subject     TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    -- JSON: the account as exported (`portable::ExportedAccount`) or the `AppSettings`.
    config      TEXT    NOT NULL,
    -- JSON array of "path: before → after" lines ("created" for the first version).
    changes     TEXT    NOT NULL
) STRICT;

CREATE INDEX config_versions_account ON config_versions (account_id, version);
