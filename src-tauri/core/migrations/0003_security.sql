-- Two-factor authentication (one row), its backup codes, the audit log, and app settings.

CREATE TABLE twofa (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    -- 'pending' while set up but not confirmed with a valid code; 'enabled' after.
    state               TEXT    NOT NULL CHECK (state IN ('pending', 'enabled')),
    -- The TOTP secret, sealed by the vault (binding "twofa:totp_secret").
    secret_sealed       BLOB    NOT NULL,
    -- The highest TOTP time step accepted so far: a code of that step or earlier is a replay.
    last_step           INTEGER NOT NULL DEFAULT 0,
    -- Consecutive failures and the lockout they caused (RFC 3339, UTC).
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    lockouts            INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    -- A successful verification opens a step-up window for sensitive changes until then.
    step_up_until       TEXT,
    enabled_at          TEXT,
    updated_at          TEXT    NOT NULL
) STRICT;

-- Single-use backup codes, stored only as salted Argon2id hashes.
CREATE TABLE twofa_backup_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    salt        BLOB    NOT NULL,
    hash        BLOB    NOT NULL,
    used_at     TEXT,
    created_at  TEXT    NOT NULL
) STRICT;

-- Append-only, hash-chained audit log: hash = SHA-256(prev_hash || canonical entry).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    account_id  TEXT,
    detail      TEXT    NOT NULL DEFAULT '',
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
) STRICT;

CREATE INDEX audit_log_event ON audit_log (event, id);
CREATE INDEX audit_log_account ON audit_log (account_id, id);

-- Refuse edits through Brokerdesk's own connection; a determined attacker can drop these,
-- which is what the hash chain (`audit verify`) detects.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE app_settings (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    -- Lock the vault after this many idle minutes; NULL = never.
    auto_lock_minutes   INTEGER CHECK (auto_lock_minutes IS NULL OR auto_lock_minutes BETWEEN 1 AND 1440),
    updated_at          TEXT    NOT NULL
) STRICT;
