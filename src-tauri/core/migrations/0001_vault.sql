-- The vault: one row describing how the data-encryption key (DEK) is protected.
CREATE TABLE vault (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id        TEXT    NOT NULL,
    protection      TEXT    NOT NULL CHECK (protection IN ('keychain', 'password')),
    key_generation  INTEGER NOT NULL CHECK (key_generation >= 1),
    -- Argon2id salt and parameters; NULL in keychain mode.
    kdf_salt        BLOB,
    kdf_m_kib       INTEGER,
    kdf_t           INTEGER,
    kdf_p           INTEGER,
    -- The DEK sealed under the password-derived key; NULL in keychain mode.
    wrapped_key     BLOB,
    -- A known value sealed under the DEK: proves a candidate key is the right one.
    key_check       BLOB    NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    CHECK (protection = 'keychain' OR (kdf_salt IS NOT NULL AND wrapped_key IS NOT NULL))
) STRICT;
