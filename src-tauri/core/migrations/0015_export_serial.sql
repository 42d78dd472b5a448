-- Each configuration export carries the profile's lineage (the vault id) and a serial that
-- grows with every export, so two exports of one profile can be ordered.
ALTER TABLE vault ADD COLUMN export_serial INTEGER NOT NULL DEFAULT 0;
