//! The firm's clock: when a trading day starts, in the rule set's time zone, across DST.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A daily reset: a wall-clock time in a time zone (FTMO: 00:00 Europe/Prague).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetClock {
    pub time: NaiveTime,
    pub zone: Tz,
}

impl ResetClock {
    /// Parses `HH:MM` and an IANA zone; `None` when either is invalid (validation refuses
    /// both before they are stored).
    pub fn parse(time: &str, zone: &str) -> Option<Self> {
        let minutes = crate::accounts::validate::parse_hhmm(time)?;
        let time = NaiveTime::from_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)?;
        Some(Self {
            time,
            zone: zone.parse().ok()?,
        })
    }

    /// The reset instant on a local calendar date. A time the clocks skip (spring forward)
    /// resets at the first instant after the gap; a time they pass twice (fall back), at the
    /// first of the two.
    fn on(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(self.time);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: step forward minute by minute to the first valid local time.
                let mut probe = local;
                for _ in 0..180 {
                    probe += Duration::minutes(1);
                    if let Some(t) = self.zone.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&local)
            }
        }
    }

    /// The start of the firm day that contains `now`: the latest reset at or before it.
    pub fn day_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.zone).date_naive();
        let r = self.on(today);
        if r <= now {
            r
        } else {
            self.on(today.pred_opt().unwrap_or(today))
        }
    }

    /// The next reset after `now`.
    pub fn next_reset(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.zone).date_naive();
        let r = self.on(today);
        if r > now {
            r
        } else {
            self.on(today.succ_opt().unwrap_or(today))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn prague_midnight_in_winter_and_summer() {
        let c = ResetClock::parse("00:00", "Europe/Prague").unwrap();
        // Winter: CET = UTC+1, so midnight is 23:00 UTC the day before.
        assert_eq!(
            c.day_start(utc("2026-01-14T10:00:00Z")),
            utc("2026-01-13T23:00:00Z")
        );
        assert_eq!(
            c.next_reset(utc("2026-01-14T10:00:00Z")),
            utc("2026-01-14T23:00:00Z")
        );
        // Summer: CEST = UTC+2.
        assert_eq!(
            c.day_start(utc("2026-07-14T10:00:00Z")),
            utc("2026-07-13T22:00:00Z")
        );
        // Exactly at the reset, the new day has begun.
        assert_eq!(
            c.day_start(utc("2026-07-13T22:00:00Z")),
            utc("2026-07-13T22:00:00Z")
        );
        assert_eq!(
            c.day_start(utc("2026-07-13T21:59:59Z")),
            utc("2026-07-12T22:00:00Z")
        );
    }

    #[test]
    fn the_dst_weeks() {
        let c = ResetClock::parse("00:00", "Europe/Prague").unwrap();
        // 2026-03-29: clocks go 02:00 → 03:00 in Prague. Midnight before it is still CET.
        assert_eq!(
            c.day_start(utc("2026-03-29T12:00:00Z")),
            utc("2026-03-28T23:00:00Z")
        );
        // The next midnight is CEST.
        assert_eq!(
            c.next_reset(utc("2026-03-29T12:00:00Z")),
            utc("2026-03-29T22:00:00Z")
        );
        // New York 17:00 across the US change (2026-03-08), while Europe has not changed yet.
        let ny = ResetClock::parse("17:00", "America/New_York").unwrap();
        assert_eq!(
            ny.day_start(utc("2026-03-06T23:00:00Z")),
            utc("2026-03-06T22:00:00Z")
        );
        assert_eq!(
            ny.day_start(utc("2026-03-09T23:00:00Z")),
            utc("2026-03-09T21:00:00Z")
        );
        // A reset inside the spring-forward gap (02:30 does not exist on that day).
        let gap = ResetClock::parse("02:30", "Europe/Prague").unwrap();
        assert_eq!(
            gap.next_reset(utc("2026-03-28T12:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
        // A reset in the fall-back overlap (02:30 happens twice on 2026-10-25): the first.
        assert_eq!(
            gap.next_reset(utc("2026-10-24T12:00:00Z")),
            utc("2026-10-25T00:30:00Z")
        );
    }
}
