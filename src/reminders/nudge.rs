//! Whether a reminder is texted again: the rules of a chain of nudges,
//! pure, tested without a database.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::Person;
use super::policy::in_quiet_hours;
use crate::store::{NudgeEnd, Reminder, ReminderStatus};

/// What the worker knows besides the reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NudgeFacts {
    /// The person texted something after the delivery.
    pub answered: bool,
    pub opted_out: bool,
    /// The person turned nudges off.
    pub turned_off: bool,
}

/// Which nudge this is, of how many, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NudgePlan {
    pub delivered_at: DateTime<Utc>,
    /// From 1.
    pub nudge: i16,
    pub max: i16,
    pub interval: Duration,
    /// When this nudge is due.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NudgeOutcome {
    /// Not this chain's turn any more (a newer delivery, a nudge already
    /// sent by an earlier run, a chain already ended).
    Skip,
    /// Woken before its time: wait this long and decide again.
    Early(std::time::Duration),
    /// Stop the chain, for this reason.
    Stop(NudgeEnd),
    /// Text it again; schedule the next nudge at `next` (none: the last).
    Send {
        last: bool,
        next: Option<DateTime<Utc>>,
    },
}

/// Decides nudge `plan.nudge` about `reminder` at `now`.
pub fn decide_nudge(
    reminder: &Reminder,
    person: &Person,
    plan: &NudgePlan,
    facts: NudgeFacts,
    now: DateTime<Utc>,
) -> NudgeOutcome {
    if reminder.nudge_for != Some(plan.delivered_at)
        || reminder.nudge_end.is_some()
        || reminder.nudges_sent != plan.nudge - 1
    {
        return NudgeOutcome::Skip;
    }
    // Job times have one-second resolution: a wake before the instant
    // waits for it, so nudges are never closer than the interval.
    if plan.at > now {
        return NudgeOutcome::Early((plan.at - now).to_std().unwrap_or_default());
    }
    let recurring = reminder.recurrence.is_some();
    let stop = match reminder.status {
        ReminderStatus::Cancelled => Some(NudgeEnd::Cancelled),
        ReminderStatus::Done => Some(NudgeEnd::Acknowledged),
        // A one-off moved again (snoozed): its next delivery starts anew.
        ReminderStatus::Scheduled if !recurring => Some(NudgeEnd::Acknowledged),
        _ if facts.answered => Some(NudgeEnd::Acknowledged),
        _ if facts.opted_out => Some(NudgeEnd::OptedOut),
        _ if facts.turned_off => Some(NudgeEnd::TurnedOff),
        ReminderStatus::Scheduled if reminder.due_at <= now => Some(NudgeEnd::NextDue),
        _ => None,
    };
    if let Some(why) = stop {
        return NudgeOutcome::Stop(why);
    }
    let tz: Tz = reminder.timezone.parse().unwrap_or(person.tz);
    if let Some((start, end)) = person.quiet_hours
        && in_quiet_hours(now.with_timezone(&tz).time(), start, end)
    {
        return NudgeOutcome::Stop(NudgeEnd::QuietHours);
    }
    let last = plan.nudge >= plan.max;
    let next = (!last)
        .then(|| now + plan.interval)
        // The next occurrence takes over from the nudges.
        .filter(|at| !(recurring && *at >= reminder.due_at));
    NudgeOutcome::Send { last, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::recurrence::Recurrence;
    use chrono::NaiveTime;
    use sqlx::types::Json;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const DELIVERED: &str = "2026-12-07T14:00:00Z";

    fn reminder() -> Reminder {
        Reminder {
            id: uuid::Uuid::nil(),
            body: "meds".into(),
            due_at: utc(DELIVERED),
            timezone: "America/Montreal".into(),
            local_time: None,
            recurrence: None,
            explicit_time: true,
            status: ReminderStatus::Sent,
            last_sent_at: Some(utc(DELIVERED)),
            created_at: utc(DELIVERED),
            staleness_secs: 7200.0,
            persist: Some(true),
            nudge_for: Some(utc(DELIVERED)),
            nudges_sent: 0,
            nudge_end: None,
        }
    }

    fn plan(nudge: i16, at: &str) -> NudgePlan {
        NudgePlan {
            delivered_at: utc(DELIVERED),
            nudge,
            max: 3,
            interval: Duration::minutes(10),
            at: utc(at),
        }
    }

    const QUIET: NudgeFacts = NudgeFacts {
        answered: false,
        opted_out: false,
        turned_off: false,
    };

    fn person(quiet: Option<(&str, &str)>) -> Person {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        Person {
            tz: chrono_tz::America::Montreal,
            quiet_hours: quiet.map(|(a, b)| (t(a), t(b))),
        }
    }

    #[test]
    fn sends_k_nudges_spaced_by_the_interval_then_stops() {
        let at = |n: i64| utc(DELIVERED) + Duration::minutes(10 * n);
        let mut r = reminder();
        for n in 1..=3i16 {
            let outcome = decide_nudge(
                &r,
                &person(None),
                &plan(n, &at(n as i64).to_rfc3339()),
                QUIET,
                at(n as i64),
            );
            let want = NudgeOutcome::Send {
                last: n == 3,
                next: (n < 3).then(|| at(n as i64 + 1)),
            };
            assert_eq!(outcome, want, "nudge {n}");
            r.nudges_sent = n;
        }
    }

    #[test]
    fn a_nudge_already_sent_or_about_an_older_delivery_is_skipped() {
        let mut r = reminder();
        r.nudges_sent = 1;
        let p = plan(1, "2026-12-07T14:10:00Z");
        assert_eq!(
            decide_nudge(&r, &person(None), &p, QUIET, p.at),
            NudgeOutcome::Skip
        );
        let mut r = reminder();
        r.nudge_for = Some(utc("2026-12-08T14:00:00Z"));
        assert_eq!(
            decide_nudge(&r, &person(None), &p, QUIET, p.at),
            NudgeOutcome::Skip
        );
    }

    #[test]
    fn an_answer_stop_or_switch_ends_the_chain() {
        let r = reminder();
        let p = plan(1, "2026-12-07T14:10:00Z");
        for (facts, why) in [
            (
                NudgeFacts {
                    answered: true,
                    ..QUIET
                },
                NudgeEnd::Acknowledged,
            ),
            (
                NudgeFacts {
                    opted_out: true,
                    ..QUIET
                },
                NudgeEnd::OptedOut,
            ),
            (
                NudgeFacts {
                    turned_off: true,
                    ..QUIET
                },
                NudgeEnd::TurnedOff,
            ),
        ] {
            assert_eq!(
                decide_nudge(&r, &person(None), &p, facts, p.at),
                NudgeOutcome::Stop(why)
            );
        }
        let done = Reminder {
            status: ReminderStatus::Done,
            ..reminder()
        };
        assert_eq!(
            decide_nudge(&done, &person(None), &p, QUIET, p.at),
            NudgeOutcome::Stop(NudgeEnd::Acknowledged)
        );
    }

    #[test]
    fn quiet_hours_end_the_chain() {
        // 14:10Z is 09:10 in Montreal.
        let p = plan(1, "2026-12-07T14:10:00Z");
        assert_eq!(
            decide_nudge(
                &reminder(),
                &person(Some(("09:00", "10:00"))),
                &p,
                QUIET,
                p.at
            ),
            NudgeOutcome::Stop(NudgeEnd::QuietHours)
        );
    }

    #[test]
    fn the_next_occurrence_of_a_recurring_reminder_takes_over() {
        let r = Reminder {
            status: ReminderStatus::Scheduled,
            recurrence: Some(Json(Recurrence::Daily)),
            due_at: utc("2026-12-07T14:15:00Z"),
            ..reminder()
        };
        let p = plan(1, "2026-12-07T14:10:00Z");
        // This nudge goes; the next would come after the occurrence.
        assert_eq!(
            decide_nudge(&r, &person(None), &p, QUIET, p.at),
            NudgeOutcome::Send {
                last: false,
                next: None
            }
        );
        let p = plan(1, "2026-12-07T14:15:00Z");
        assert_eq!(
            decide_nudge(&r, &person(None), &p, QUIET, p.at),
            NudgeOutcome::Stop(NudgeEnd::NextDue)
        );
    }

    #[test]
    fn an_early_wake_waits() {
        let p = plan(1, "2026-12-07T14:10:00Z");
        assert_eq!(
            decide_nudge(
                &reminder(),
                &person(None),
                &p,
                QUIET,
                utc("2026-12-07T14:09:55Z")
            ),
            NudgeOutcome::Early(std::time::Duration::from_secs(5))
        );
    }
}
