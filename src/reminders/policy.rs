//! What happens to a reminder occurrence at a given instant.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::store::recurrence::{next_occurrence, resolve_local};
use crate::store::{Reminder, ReminderStatus};

/// Wakes this close before the due instant still fire (job times have
/// one-second resolution); earlier ones wait.
const EARLY_SLACK_SECS: i64 = 2;

/// Later than this, a fired occurrence says it is late.
const LATE_AFTER_SECS: f64 = 60.0;

/// What of the person the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    /// Used when the reminder's own timezone is not known.
    pub tz: Tz,
    /// Start and end, local time; may span midnight.
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
}

impl Person {
    /// Whether `at` falls in the person's quiet hours, in their timezone.
    pub fn quiet_at(&self, at: DateTime<Utc>) -> bool {
        self.quiet_hours.is_some_and(|(start, end)| {
            in_quiet_hours(at.with_timezone(&self.tz).time(), start, end)
        })
    }
}

/// The decision for one occurrence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Cancelled, done, or moved to a later time (another job covers it).
    Skip,
    /// Woken before the due instant: wait this long and decide again.
    Early(std::time::Duration),
    /// Inside quiet hours, and the person did not ask for this exact time.
    Defer { until: DateTime<Utc> },
    /// Older than its staleness window: recorded, not sent.
    Missed {
        late_secs: f64,
        next: Option<DateTime<Utc>>,
    },
    /// Send it now (saying it is late when it is).
    Fire {
        late: bool,
        late_secs: f64,
        next: Option<DateTime<Utc>>,
    },
}

/// Decides what happens to `reminder`'s current occurrence at `now`. A
/// recurring reminder's next occurrence is the first after both now and
/// the due time: it never bursts after downtime.
pub fn decide(reminder: &Reminder, person: &Person, now: DateTime<Utc>) -> Outcome {
    if reminder.status != ReminderStatus::Scheduled
        || reminder.due_at > now + Duration::seconds(EARLY_SLACK_SECS)
    {
        return Outcome::Skip;
    }
    if reminder.due_at > now {
        return Outcome::Early((reminder.due_at - now).to_std().unwrap_or_default());
    }
    let tz: Tz = reminder.timezone.parse().unwrap_or(person.tz);
    if !reminder.explicit_time
        && let Some((start, end)) = person.quiet_hours
        && in_quiet_hours(reminder.due_at.with_timezone(&tz).time(), start, end)
    {
        return Outcome::Defer {
            until: quiet_hours_end(reminder.due_at, tz, end),
        };
    }
    let next = match (&reminder.recurrence, reminder.local_time) {
        (Some(rule), Some(time)) => next_occurrence(&rule.0, tz, time, now.max(reminder.due_at)),
        _ => None,
    };
    let late_secs = (now - reminder.due_at).num_milliseconds().max(0) as f64 / 1000.0;
    if late_secs > reminder.staleness_secs {
        return Outcome::Missed { late_secs, next };
    }
    Outcome::Fire {
        late: late_secs > LATE_AFTER_SECS,
        late_secs,
        next,
    }
}

/// Whether `t` falls in `[start, end)`, which may span midnight.
pub(crate) fn in_quiet_hours(t: NaiveTime, start: NaiveTime, end: NaiveTime) -> bool {
    if start <= end {
        t >= start && t < end
    } else {
        t >= start || t < end
    }
}

/// The first end of quiet hours after `at`.
fn quiet_hours_end(at: DateTime<Utc>, tz: Tz, end: NaiveTime) -> DateTime<Utc> {
    let local = at.with_timezone(&tz);
    let today = resolve_local(tz, local.date_naive().and_time(end));
    if today > at {
        today
    } else {
        let tomorrow = local.date_naive().succ_opt().unwrap_or(local.date_naive());
        resolve_local(tz, tomorrow.and_time(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::recurrence::Recurrence;
    use sqlx::types::Json;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const MONTREAL: Tz = chrono_tz::America::Montreal;

    fn reminder(due: &str) -> Reminder {
        Reminder {
            id: uuid::Uuid::nil(),
            body: "take meds".into(),
            due_at: utc(due),
            timezone: "America/Montreal".into(),
            local_time: None,
            recurrence: None,
            explicit_time: false,
            status: ReminderStatus::Scheduled,
            last_sent_at: None,
            created_at: utc(due),
            staleness_secs: 3600.0,
            persist: None,
            nudge_for: None,
            nudges_sent: 0,
            nudge_end: None,
        }
    }

    fn person(quiet: Option<(&str, &str)>) -> Person {
        Person {
            tz: MONTREAL,
            quiet_hours: quiet.map(|(a, b)| (t(a), t(b))),
        }
    }

    #[test]
    fn quiet_hours_may_span_midnight() {
        assert!(in_quiet_hours(t("23:00"), t("22:00"), t("07:00")));
        assert!(in_quiet_hours(t("06:59"), t("22:00"), t("07:00")));
        assert!(!in_quiet_hours(t("07:00"), t("22:00"), t("07:00")));
        assert!(in_quiet_hours(t("13:30"), t("13:00"), t("14:00")));
        assert!(!in_quiet_hours(t("14:00"), t("13:00"), t("14:00")));
    }

    #[test]
    fn fires_on_time_and_says_late_only_after_a_minute() {
        let r = reminder("2026-11-30T14:00:00Z");
        let on_time = decide(&r, &person(None), utc("2026-11-30T14:00:05Z"));
        assert!(
            matches!(on_time, Outcome::Fire { late: false, .. }),
            "{on_time:?}"
        );
        let late = decide(&r, &person(None), utc("2026-11-30T14:05:00Z"));
        assert!(matches!(late, Outcome::Fire { late: true, .. }), "{late:?}");
    }

    #[test]
    fn a_wake_before_the_due_instant_waits_or_skips() {
        let r = reminder("2026-11-30T14:00:00Z");
        assert_eq!(
            decide(&r, &person(None), utc("2026-11-30T13:59:59Z")),
            Outcome::Early(std::time::Duration::from_secs(1))
        );
        assert_eq!(
            decide(&r, &person(None), utc("2026-11-30T13:00:00Z")),
            Outcome::Skip
        );
    }

    #[test]
    fn only_scheduled_reminders_fire() {
        for status in [
            ReminderStatus::Sent,
            ReminderStatus::Done,
            ReminderStatus::Cancelled,
            ReminderStatus::Missed,
        ] {
            let r = Reminder {
                status,
                ..reminder("2026-11-30T14:00:00Z")
            };
            assert_eq!(
                decide(&r, &person(None), utc("2026-11-30T14:00:01Z")),
                Outcome::Skip
            );
        }
    }

    #[test]
    fn quiet_hours_defer_to_their_end_unless_the_time_was_asked_for() {
        // 23:30 in Montreal (EST, UTC-5).
        let r = reminder("2026-12-01T04:30:00Z");
        let quiet = person(Some(("22:00", "07:00")));
        assert_eq!(
            decide(&r, &quiet, utc("2026-12-01T04:30:01Z")),
            Outcome::Defer {
                until: utc("2026-12-01T12:00:00Z")
            }
        );
        let asked = Reminder {
            explicit_time: true,
            ..r
        };
        assert!(matches!(
            decide(&asked, &quiet, utc("2026-12-01T04:30:01Z")),
            Outcome::Fire { .. }
        ));
    }

    #[test]
    fn an_occurrence_past_its_staleness_is_missed_and_the_next_is_after_now() {
        let r = Reminder {
            local_time: Some(t("09:00")),
            recurrence: Some(Json(Recurrence::Daily)),
            ..reminder("2026-11-30T14:00:00Z")
        };
        // Three days of downtime: one miss, and the next occurrence is
        // tomorrow at 9:00, not three in a row.
        let outcome = decide(&r, &person(None), utc("2026-12-03T15:00:00Z"));
        assert_eq!(
            outcome,
            Outcome::Missed {
                late_secs: 3.0 * 86400.0 + 3600.0,
                next: Some(utc("2026-12-04T14:00:00Z")),
            }
        );
    }
}
