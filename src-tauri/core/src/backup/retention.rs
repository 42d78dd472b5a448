//! Which scheduled backups to keep: the newest backup of each of the last `keep_daily` days
//! that have one, and the newest of each of the last `keep_weekly` ISO weeks that have one
//! (a backup can count for both). Days and weeks are UTC. Everything else is deleted.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Returns the backups to delete, given every scheduled backup and when it was made.
pub fn to_delete(
    backups: &[(PathBuf, DateTime<Utc>)],
    keep_daily: u32,
    keep_weekly: u32,
) -> Vec<PathBuf> {
    let mut newest_first: Vec<&(PathBuf, DateTime<Utc>)> = backups.iter().collect();
    newest_first.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let mut days: HashSet<NaiveDate> = HashSet::new();
    let mut weeks: HashSet<(i32, u32)> = HashSet::new();
    let mut delete = Vec::new();
    for (path, at) in newest_first {
        let mut keep = false;
        let day = at.date_naive();
        if !days.contains(&day) && days.len() < keep_daily as usize {
            days.insert(day);
            keep = true;
        }
        let week = (at.iso_week().year(), at.iso_week().week());
        if !weeks.contains(&week) && weeks.len() < keep_weekly as usize {
            weeks.insert(week);
            keep = true;
        }
        if !keep {
            delete.push(path.clone());
        }
    }
    delete
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn daily(n: i64, hour: u32) -> Vec<(PathBuf, DateTime<Utc>)> {
        // 2026-12-07 is a Monday.
        let start = Utc
            .with_ymd_and_hms(2026, 12, 7, hour, 0, 0)
            .single()
            .expect("date");
        (0..n)
            .map(|i| {
                let at = start - Duration::days(i);
                (PathBuf::from(format!("b-{i:03}")), at)
            })
            .collect()
    }

    #[test]
    fn keeps_seven_days_and_four_weeks_of_sixty_days() {
        let backups = daily(60, 3);
        let delete = to_delete(&backups, 7, 4);
        let kept: Vec<&PathBuf> = backups
            .iter()
            .map(|(p, _)| p)
            .filter(|p| !delete.contains(p))
            .collect();
        // Days 0–6 (Mon 7 back to Tue 1 Dec), then the newest of the weeks not yet held:
        // the week of Mon 7 Dec is held by day 0; Sun 6 Dec (day 1) holds the week of 30 Nov;
        // Sun 29 Nov (day 8) and Sun 22 Nov (day 15) hold the next two.
        let names: Vec<&str> = kept.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(
            names,
            ["b-000", "b-001", "b-002", "b-003", "b-004", "b-005", "b-006", "b-008", "b-015"]
        );
        assert_eq!(delete.len(), 60 - 9);
    }

    #[test]
    fn several_a_day_keep_the_newest_and_nothing_is_deleted_under_the_limits() {
        let mut backups = daily(3, 3);
        backups.extend(
            daily(3, 15)
                .into_iter()
                .map(|(p, at)| (PathBuf::from(format!("{}-pm", p.display())), at)),
        );
        let delete = to_delete(&backups, 7, 4);
        let mut names: Vec<String> = delete.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        assert_eq!(names, ["b-000", "b-001", "b-002"]);
        assert!(to_delete(&daily(5, 3), 7, 4).is_empty());
        assert!(to_delete(&[], 7, 4).is_empty());
    }
}
