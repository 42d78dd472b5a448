-- How many times a second the UI may update each instrument's price (latest value wins).
ALTER TABLE app_settings ADD COLUMN price_updates_per_second INTEGER NOT NULL DEFAULT 30
    CHECK (price_updates_per_second BETWEEN 1 AND 120);
