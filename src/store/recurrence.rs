//! Wall-clock time in a person's timezone: turning a local time into an
//! instant (DST gaps and overlaps included) and computing the next
//! occurrence of a recurring reminder, so "every day at 8:00" stays 8:00
//! local across DST.
//!
//! Every function here is total: dates come from a model or a person, and a
//! year like 262142 sits at the edge of what `chrono` can represent, where
//! its operators panic. All arithmetic is checked; out of range means
//! `None`, never a panic (the property tests below sweep the whole range).

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A day of the week as written in tool arguments and stored rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Mon,
            Day::Tue => Weekday::Tue,
            Day::Wed => Weekday::Wed,
            Day::Thu => Weekday::Thu,
            Day::Fri => Weekday::Fri,
            Day::Sat => Weekday::Sat,
            Day::Sun => Weekday::Sun,
        }
    }
}

/// How a reminder repeats; stored as JSON in `reminders.recurrence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "frequency", rename_all = "lowercase")]
pub enum Recurrence {
    Daily,
    Weekdays,
    Weekly { days: Vec<Day> },
    Monthly { day_of_month: u32 },
}

impl Recurrence {
    fn matches(&self, date: NaiveDate) -> bool {
        match self {
            Recurrence::Daily => true,
            Recurrence::Weekdays => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
            Recurrence::Weekly { days } => days.iter().any(|d| d.weekday() == date.weekday()),
            Recurrence::Monthly { day_of_month } => {
                // A month without that day (the 31st in April) fires on its last day.
                let last = last_day_of_month(date);
                date.day() == (*day_of_month).min(last)
            }
        }
    }

    /// A short description in English or French ("every day", "tous les jours").
    pub fn describe(&self, french: bool) -> String {
        let day_name = |d: &Day| -> &'static str {
            match (d, french) {
                (Day::Mon, false) => "Monday",
                (Day::Tue, false) => "Tuesday",
                (Day::Wed, false) => "Wednesday",
                (Day::Thu, false) => "Thursday",
                (Day::Fri, false) => "Friday",
                (Day::Sat, false) => "Saturday",
                (Day::Sun, false) => "Sunday",
                (Day::Mon, true) => "lundi",
                (Day::Tue, true) => "mardi",
                (Day::Wed, true) => "mercredi",
                (Day::Thu, true) => "jeudi",
                (Day::Fri, true) => "vendredi",
                (Day::Sat, true) => "samedi",
                (Day::Sun, true) => "dimanche",
            }
        };
        match (self, french) {
            (Recurrence::Daily, false) => "every day".into(),
            (Recurrence::Daily, true) => "tous les jours".into(),
            (Recurrence::Weekdays, false) => "every weekday".into(),
            (Recurrence::Weekdays, true) => "en semaine".into(),
            (Recurrence::Weekly { days }, false) => format!(
                "every {}",
                days.iter().map(day_name).collect::<Vec<_>>().join(" and ")
            ),
            (Recurrence::Weekly { days }, true) => format!(
                "chaque {}",
                days.iter().map(day_name).collect::<Vec<_>>().join(" et ")
            ),
            (Recurrence::Monthly { day_of_month }, false) => {
                format!("every month on the {}", ordinal(*day_of_month))
            }
            (Recurrence::Monthly { day_of_month }, true) => {
                format!("tous les mois le {day_of_month}")
            }
        }
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (y, m) = (date.year(), date.month());
    let first_next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    first_next
        .and_then(|d| d.pred_opt())
        .map(|d| d.day())
        .unwrap_or(28)
}

/// The instant a local wall-clock time means in `tz`.
///
/// A time that does not exist (the spring-forward gap) resolves to the first
/// valid minute after it; an ambiguous one (fall back) to its first
/// occurrence, so it fires once. At the edges of the representable range,
/// where no instant exists, the wall-clock time is read as UTC.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    try_resolve_local(tz, local).unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// [`resolve_local`], or `None` when no instant within `chrono`'s range
/// matches (only at the extreme edges of that range).
pub fn try_resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Gaps are at most a few hours; walk forward minute by minute.
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe = probe.checked_add_signed(Duration::minutes(1))?;
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return Some(t.with_timezone(&Utc));
                }
            }
            None
        }
    }
}

/// The local calendar date of `at` in `tz`, or `None` when it falls
/// outside the representable range (`DateTime::date_naive` panics there).
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc()
        .checked_add_offset(offset)
        .map(|local| local.date())
}

/// The first occurrence strictly after `after` of `rule` at local `time`;
/// `None` when the rule never matches or the range of dates runs out.
pub fn next_occurrence(
    rule: &Recurrence,
    tz: Tz,
    time: NaiveTime,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let start = local_date(after, tz)?;
    // Two years covers every rule, including "the 31st" and leap days.
    for offset in 0..740 {
        let date = start.checked_add_signed(Duration::days(offset))?;
        if !rule.matches(date) {
            continue;
        }
        let at = try_resolve_local(tz, date.and_time(time))?;
        if at > after {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(tz: Tz, s: &str) -> String {
        let t: DateTime<Utc> = s.parse().unwrap();
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn series(rule: &Recurrence, tz: Tz, time: &str, from: &str, n: usize) -> Vec<String> {
        let time = NaiveTime::parse_from_str(time, "%H:%M").unwrap();
        let mut at = utc(from);
        let mut out = Vec::new();
        for _ in 0..n {
            at = next_occurrence(rule, tz, time, at).unwrap();
            out.push(
                at.with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M %Z")
                    .to_string(),
            );
        }
        out
    }

    #[test]
    fn daily_stays_at_local_time_across_both_montreal_transitions() {
        let tz = chrono_tz::America::Montreal;
        assert_eq!(
            series(&Recurrence::Daily, tz, "08:00", "2026-03-06T20:00:00Z", 3),
            [
                "2026-03-07 08:00 EST",
                "2026-03-08 08:00 EDT",
                "2026-03-09 08:00 EDT"
            ]
        );
        assert_eq!(
            series(&Recurrence::Daily, tz, "08:00", "2026-10-30T20:00:00Z", 3),
            [
                "2026-10-31 08:00 EDT",
                "2026-11-01 08:00 EST",
                "2026-11-02 08:00 EST"
            ]
        );
    }

    #[test]
    fn daily_and_weekly_stay_at_local_time_across_both_paris_transitions() {
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(
            series(&Recurrence::Daily, tz, "08:00", "2026-03-28T12:00:00Z", 2),
            ["2026-03-29 08:00 CEST", "2026-03-30 08:00 CEST"]
        );
        let sundays = Recurrence::Weekly {
            days: vec![Day::Sun],
        };
        assert_eq!(
            series(&sundays, tz, "09:30", "2026-10-20T00:00:00Z", 2),
            ["2026-10-25 09:30 CET", "2026-11-01 09:30 CET"]
        );
        assert_eq!(
            series(&sundays, tz, "09:30", "2026-03-23T00:00:00Z", 2),
            ["2026-03-29 09:30 CEST", "2026-04-05 09:30 CEST"]
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_fires_at_the_first_valid_minute() {
        let tz = chrono_tz::America::Montreal;
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local(tz, &resolve_local(tz, gap).to_rfc3339()),
            "2026-03-08 03:00 EDT"
        );
        // Daily at 02:30: the gap day fires at 03:00, the others at 02:30.
        assert_eq!(
            series(&Recurrence::Daily, tz, "02:30", "2026-03-07T12:00:00Z", 3),
            [
                "2026-03-08 03:00 EDT",
                "2026-03-09 02:30 EDT",
                "2026-03-10 02:30 EDT"
            ]
        );
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            series(
                &Recurrence::Daily,
                paris,
                "02:15",
                "2026-03-28T12:00:00Z",
                1
            ),
            ["2026-03-29 03:00 CEST"]
        );
    }

    #[test]
    fn an_ambiguous_time_in_the_fall_overlap_fires_once() {
        let tz = chrono_tz::America::Montreal;
        assert_eq!(
            series(&Recurrence::Daily, tz, "01:30", "2026-10-31T12:00:00Z", 2),
            ["2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"]
        );
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            series(
                &Recurrence::Daily,
                paris,
                "02:30",
                "2026-10-24T12:00:00Z",
                2
            ),
            ["2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"]
        );
    }

    #[test]
    fn weekdays_skip_weekends_and_monthly_clamps_short_months() {
        let tz = chrono_tz::UTC;
        // 2026-11-20 is a Friday.
        assert_eq!(
            series(
                &Recurrence::Weekdays,
                tz,
                "08:00",
                "2026-11-20T09:00:00Z",
                2
            ),
            ["2026-11-23 08:00 UTC", "2026-11-24 08:00 UTC"]
        );
        assert_eq!(
            series(
                &Recurrence::Monthly { day_of_month: 31 },
                tz,
                "09:00",
                "2027-01-31T10:00:00Z",
                3
            ),
            [
                "2027-02-28 09:00 UTC",
                "2027-03-31 09:00 UTC",
                "2027-04-30 09:00 UTC"
            ]
        );
    }

    #[test]
    fn rules_round_trip_as_json() {
        let rule = Recurrence::Weekly {
            days: vec![Day::Mon, Day::Thu],
        };
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"frequency": "weekly", "days": ["mon", "thu"]})
        );
        assert_eq!(serde_json::from_value::<Recurrence>(json).unwrap(), rule);
    }

    fn rules() -> Vec<Recurrence> {
        vec![
            Recurrence::Daily,
            Recurrence::Weekdays,
            Recurrence::Weekly {
                days: vec![Day::Sun],
            },
            Recurrence::Weekly { days: vec![] },
            Recurrence::Monthly { day_of_month: 31 },
            Recurrence::Monthly { day_of_month: 0 },
            Recurrence::Monthly {
                day_of_month: u32::MAX,
            },
        ]
    }

    /// Checks the properties every answer must have; panicking inside is
    /// the failure these tests exist to catch.
    fn check(rule: &Recurrence, tz: Tz, time: NaiveTime, after: DateTime<Utc>) {
        if let Some(at) = next_occurrence(rule, tz, time, after) {
            assert!(at > after, "{rule:?} {tz} {time} {after}: {at}");
        }
        let _ = local_date(after, tz);
        let local = after.naive_utc().date().and_time(time);
        if let Some(at) = try_resolve_local(tz, local) {
            assert_eq!(resolve_local(tz, local), at);
        }
    }

    #[test]
    fn the_edges_of_the_representable_range_never_panic() {
        let extremes = [
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC - Duration::hours(13),
            DateTime::<Utc>::MIN_UTC + Duration::hours(13),
            // The year a model once sent as a due date.
            utc("+262142-12-31T23:00:00Z"),
            utc("+262142-06-15T12:00:00Z"),
        ];
        let zones = [
            chrono_tz::UTC,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Etc::GMTPlus12,
            chrono_tz::America::Montreal,
            chrono_tz::Asia::Kathmandu,
        ];
        let times = [
            NaiveTime::MIN,
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
        ];
        for after in extremes {
            for tz in zones {
                for time in times {
                    for rule in rules() {
                        check(&rule, tz, time, after);
                    }
                }
            }
        }
        // Past the end there is no next occurrence, and saying so is the answer.
        assert_eq!(
            next_occurrence(
                &Recurrence::Daily,
                chrono_tz::Pacific::Kiritimati,
                NaiveTime::MIN,
                DateTime::<Utc>::MAX_UTC
            ),
            None
        );
        let last = NaiveDate::MAX.and_hms_opt(23, 59, 0).unwrap();
        assert_eq!(try_resolve_local(chrono_tz::Etc::GMTPlus12, last), None);
        assert_eq!(
            resolve_local(chrono_tz::Etc::GMTPlus12, last),
            Utc.from_utc_datetime(&last)
        );
    }

    #[test]
    fn random_instants_zones_times_and_rules_never_panic() {
        use rand::{Rng, SeedableRng};
        // Seeded: a failure reproduces.
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        let (lo, hi) = (
            DateTime::<Utc>::MIN_UTC.timestamp(),
            DateTime::<Utc>::MAX_UTC.timestamp(),
        );
        let rules = rules();
        for i in 0..20_000 {
            // Half over the whole range, half within a day of its ends.
            let secs = match i % 4 {
                0 | 1 => rng.random_range(lo..=hi),
                2 => hi - rng.random_range(0..200_000),
                _ => lo + rng.random_range(0..200_000),
            };
            let after = DateTime::from_timestamp(secs, 0).unwrap();
            let tz = chrono_tz::TZ_VARIANTS[rng.random_range(0..chrono_tz::TZ_VARIANTS.len())];
            let time =
                NaiveTime::from_num_seconds_from_midnight_opt(rng.random_range(0..86_400), 0)
                    .unwrap();
            check(&rules[rng.random_range(0..rules.len())], tz, time, after);
        }
    }
}
