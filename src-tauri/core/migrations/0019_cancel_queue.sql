-- Cancels the broker did not answer (a timeout, a reset, a 5xx, a rate limit), retried with
-- backoff and jitter by the order worker (`trading/cancels.rs`). Kept in the database so a
-- restart does not forget them; a cancel that exhausts its retries moves its order to Needs
-- review and leaves this queue.
CREATE TABLE cancel_queue (
    order_id    TEXT    PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    attempts    INTEGER NOT NULL CHECK (attempts >= 1),
    next_at     TEXT    NOT NULL,
    last_error  TEXT    NOT NULL,
    queued_at   TEXT    NOT NULL
) STRICT;
