-- A counter that every change to the profile's configuration moves, so a running app notices
-- what another process (the CLI) changed by polling one row (`runtime::watch`). Connection
-- history, verifications and the audit log are not configuration and do not move it.
CREATE TABLE profile_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO profile_changes (id, n) VALUES (1, 0);

CREATE TRIGGER profile_changes_vault_i AFTER INSERT ON vault BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_vault_u AFTER UPDATE ON vault BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_vault_d AFTER DELETE ON vault BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_accounts_i AFTER INSERT ON accounts BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_accounts_u AFTER UPDATE ON accounts BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_accounts_d AFTER DELETE ON accounts BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_instruments_i AFTER INSERT ON account_instruments BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_instruments_d AFTER DELETE ON account_instruments BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_secrets_i AFTER INSERT ON account_secrets BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_secrets_u AFTER UPDATE ON account_secrets BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_secrets_d AFTER DELETE ON account_secrets BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_twofa_i AFTER INSERT ON twofa BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_twofa_u AFTER UPDATE ON twofa BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_twofa_d AFTER DELETE ON twofa BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_settings_i AFTER INSERT ON app_settings BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER profile_changes_settings_u AFTER UPDATE ON app_settings BEGIN UPDATE profile_changes SET n = n + 1 WHERE id = 1; END;
