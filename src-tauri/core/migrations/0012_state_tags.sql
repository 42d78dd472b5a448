-- Authenticated security state (see core/src/vault/integrity.rs): an HMAC-SHA-256 under a
-- key derived from the data key over each account's mode, status, endpoints and rules, and
-- over the two-factor state (kept in the vault row, so deleting the 2FA row shows). Written by
-- Brokerdesk in the same transaction as every change; filled in for existing rows at the
-- vault's first unlock after this migration (the key check moves from v1 to v2 then).
ALTER TABLE accounts ADD COLUMN state_tag BLOB;
ALTER TABLE vault ADD COLUMN twofa_tag BLOB;
