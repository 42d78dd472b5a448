-- A keyed audit chain (`audit/mod.rs`): entries written while the vault is unlocked carry an
-- HMAC-SHA-256 under the audit key instead of a bare SHA-256, and the log's head (how many
-- entries, the last one's id and hash) is kept with a MAC of its own, so rewriting the log
-- or cutting entries off its end is caught.

-- The audit key: 32 random bytes sealed under the data key (re-sealed by a key rotation, so
-- the log itself never has to be rewritten).
ALTER TABLE vault ADD COLUMN audit_key_sealed BLOB;

-- 1: `hash` is the keyed MAC; 0: a plain SHA-256 (written while locked, or before this).
ALTER TABLE audit_log ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0 CHECK (keyed IN (0, 1));

CREATE TABLE audit_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    entries     INTEGER NOT NULL,
    last_id     INTEGER NOT NULL,
    last_hash   BLOB    NOT NULL,
    mac         BLOB    NOT NULL
) STRICT;
