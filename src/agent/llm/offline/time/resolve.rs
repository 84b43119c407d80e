//! A found schedule resolved against the person's local wall-clock time:
//! the rules for ambiguous hours and defaults, and the due time or delay.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use super::{Clock, DateSpec, DayPart, Recurrence, Schedule, TimeOfDay, When};

/// Hour and minute of a time of day, given the part of day named and
/// whether a date (or recurrence) anchors it. For a bare hour without an
/// anchor, `None`: the caller picks the next future occurrence.
fn hour_minute(t: TimeOfDay, part: Option<DayPart>, anchored: bool) -> Option<(u32, u32)> {
    let evening = matches!(part, Some(DayPart::Afternoon | DayPart::Evening));
    let h = match t.clock {
        Clock::Explicit => t.h,
        Clock::TwentyFour if evening && (1..12).contains(&t.h) => t.h + 12,
        Clock::TwentyFour => t.h,
        Clock::Bare => match part {
            Some(DayPart::Morning) => t.h % 12,
            Some(_) => t.h % 12 + 12,
            None if t.h == 12 => 12,
            None if t.h <= 5 => t.h + 12,
            None if anchored && t.h == 6 => 18,
            None if anchored => t.h,
            None => return None,
        },
    };
    Some((h, t.m))
}

fn default_time(part: Option<DayPart>) -> (u32, u32) {
    match part {
        Some(DayPart::Afternoon) => (15, 0),
        Some(DayPart::Evening) => (19, 0),
        Some(DayPart::Morning) | None => (9, 0),
    }
}

fn at(date: NaiveDate, (h, m): (u32, u32)) -> Option<NaiveDateTime> {
    NaiveTime::from_hms_opt(h, m, 0).map(|t| date.and_time(t))
}

/// The first day from today (inclusive) that `ok` accepts and where the
/// time is still ahead.
fn first_day(
    now: NaiveDateTime,
    hm: (u32, u32),
    max_days: i64,
    ok: impl Fn(NaiveDate) -> bool,
) -> Option<NaiveDateTime> {
    (0..=max_days)
        .filter_map(|i| now.date().checked_add_signed(Duration::days(i)))
        .filter(|d| ok(*d))
        .filter_map(|d| at(d, hm))
        .find(|dt| *dt > now)
}

/// Resolves a schedule against local `now`. `None` when it names no time.
pub(in crate::agent::llm::offline) fn resolve(s: &Schedule, now: NaiveDateTime) -> Option<When> {
    if let Some(m) = s.in_minutes {
        return Some(When::InMinutes(m));
    }
    let today = now.date();
    let anchored = s.date.is_some() || s.rec.is_some();
    let hm = match s.time {
        Some(t) => hour_minute(t, s.part, anchored),
        None if anchored => Some(default_time(s.part)),
        None => return None,
    };

    if let Some(rec) = &s.rec {
        let hm = hm?;
        let due = match rec {
            Recurrence::Daily => first_day(now, hm, 1, |_| true),
            Recurrence::Weekdays => first_day(now, hm, 7, |d| {
                !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
            }),
            Recurrence::Weekly(days) => first_day(now, hm, 7, |d| days.contains(&d.weekday())),
            Recurrence::Monthly(dom) => first_day(now, hm, 400, |d| d.day() == *dom),
        }?;
        return Some(When::At {
            due,
            rec: Some(rec.clone()),
        });
    }

    let due = match (s.date, hm) {
        (None, Some(hm)) => first_day(now, hm, 1, |_| true)?,
        (None, None) => {
            // A bare hour of 6–11: the next of the morning or evening time.
            let t = s.time?;
            [t.h % 12, t.h % 12 + 12]
                .into_iter()
                .filter_map(|h| first_day(now, (h, t.m), 1, |_| true))
                .min()?
        }
        (Some(date), hm) => {
            let hm = hm.unwrap_or_else(|| default_time(s.part));
            match date {
                DateSpec::Offset(0) => first_day(now, hm, 1, |_| true)?,
                DateSpec::Offset(n) => at(today.checked_add_signed(Duration::days(n))?, hm)?,
                DateSpec::Weekday { day, strictly_next } => first_day(now, hm, 7, |d| {
                    d.weekday() == day && !(strictly_next && d == today)
                })?,
                DateSpec::MonthDay { month, day } => (0..=1)
                    .filter_map(|y| NaiveDate::from_ymd_opt(today.year() + y, month, day))
                    .filter_map(|d| at(d, hm))
                    .find(|dt| *dt > now)?,
                DateSpec::DayOfMonth(dom) => first_day(now, hm, 400, |d| d.day() == dom)?,
            }
        }
    };
    Some(When::At { due, rec: None })
}
