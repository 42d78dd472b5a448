-- Every credential check against a broker: the rate limit on checks and the account's
-- verification history (the connection manager adds its own history later).
CREATE TABLE account_verifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,
    ok          INTEGER NOT NULL,
    code        TEXT
) STRICT;

CREATE INDEX account_verifications_account ON account_verifications (account_id, id);
