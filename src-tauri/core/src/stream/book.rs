//! The latest-quote book: one slot per instrument holding the newest tick, merged field
//! by field (a trade-only update keeps the last bid/ask), plus per-instrument counters.
