-- The TLS certificate pinned for an account's gateway on this machine (IBKR's Client Portal
-- gateway serves a self-signed certificate; see brokers/pin.rs). Pinned on first use or
-- trusted explicitly; it belongs to one host:port, and a pin for another origin is ignored
-- (the next connection pins the new gateway).
--   tls_pin_sha256   the pinned certificate's SHA-256, `AA:BB:…`
--   tls_pin_origin   `host:port` it was pinned for
--   tls_pinned_at    RFC 3339, UTC
--   tls_refused_sha256  the last certificate refused because it was not the pinned one
ALTER TABLE accounts ADD COLUMN tls_pin_sha256 TEXT;
ALTER TABLE accounts ADD COLUMN tls_pin_origin TEXT;
ALTER TABLE accounts ADD COLUMN tls_pinned_at TEXT;
ALTER TABLE accounts ADD COLUMN tls_refused_sha256 TEXT;
