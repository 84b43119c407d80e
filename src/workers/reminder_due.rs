//! `reminder_due`: deliver one reminder occurrence.
//!
//! At the due time: quiet hours may defer it (unless the person asked for
//! that exact time); an occurrence older than its staleness window is
//! recorded as missed and not sent; otherwise the SMS is stored with the key
//! `reminder:<id>:<due>` and its delivery job enqueued, the occurrence marked
//! sent and — for a recurring reminder — the next one scheduled, all in one
//! transaction. A recurring reminder never bursts after downtime: the next
//! occurrence is the first one after now.

use apalis::prelude::TaskId;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::{self, DeliverReminderJob, DeliverSmsJob, JobOptions, ReminderDueJob};
use crate::store::recurrence::{next_occurrence, resolve_local};
use crate::store::{Reminder, SmsMessage, StoreError, User, UserId};

/// What the job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    Sent {
        late: bool,
    },
    Missed,
    /// Inside quiet hours; moved to their end.
    Deferred,
    /// Cancelled, done, or moved to a later time (another job covers it).
    Skipped,
    /// Woken before the due instant (job times have one-second
    /// resolution): wait this long and run again.
    Early(std::time::Duration),
}

impl Perform for ReminderDueJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        8
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        loop {
            match run(state, &self, Utc::now()).await? {
                Fired::Early(wait) => tokio::time::sleep(wait).await,
                _ => return Ok(()),
            }
        }
    }
}

#[tracing::instrument(name = "job.reminder_due", skip_all, fields(reminder_id = %job.reminder_id))]
pub async fn run(
    state: &AppState,
    job: &ReminderDueJob,
    now: DateTime<Utc>,
) -> Result<Fired, StoreError> {
    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    let Some(reminder) = Reminder::lock(&mut tx, job.reminder_id).await? else {
        return Ok(Fired::Skipped);
    };
    if reminder.status != "scheduled" || reminder.due_at > now + Duration::seconds(2) {
        return Ok(Fired::Skipped);
    }
    if reminder.due_at > now {
        return Ok(Fired::Early(
            (reminder.due_at - now).to_std().unwrap_or_default(),
        ));
    }
    let user = User::current(&mut tx).await?;
    let tz: Tz = reminder.timezone.parse().unwrap_or_else(|_| user.tz());
    let french = user.locale().as_str() == "fr";

    if !reminder.explicit_time
        && let (Some(start), Some(end)) = (user.quiet_hours_start, user.quiet_hours_end)
        && in_quiet_hours(reminder.due_at.with_timezone(&tz).time(), start, end)
    {
        let until = quiet_hours_end(reminder.due_at, tz, end);
        Reminder::reschedule(&mut tx, reminder.id, until).await?;
        tx.commit().await?;
        metrics::counter!("reminders_deferred_total").increment(1);
        return Ok(Fired::Deferred);
    }

    let next = match (&reminder.recurrence, reminder.local_time) {
        (Some(rule), Some(time)) => next_occurrence(&rule.0, tz, time, now.max(reminder.due_at)),
        _ => None,
    };
    let lateness = now - reminder.due_at;
    let lateness_secs = lateness.num_milliseconds().max(0) as f64 / 1000.0;
    if lateness_secs > reminder.staleness_secs {
        Reminder::advance(&mut tx, reminder.id, "missed", next, None).await?;
        sqlx::query(
            "insert into audit_log (user_id, actor, action, details) values ($1, 'system', 'reminder.missed', $2)",
        )
        .bind(job.user_id)
        .bind(serde_json::json!({"reminder_id": reminder.id, "due_at": reminder.due_at, "late_secs": lateness_secs}))
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        metrics::counter!("reminders_missed_total").increment(1);
        return Ok(Fired::Missed);
    }

    let late = lateness_secs > 60.0;
    let body = match (french, late) {
        (false, false) => format!("Reminder: {}", reminder.body),
        (false, true) => format!("Reminder: {} (late)", reminder.body),
        (true, false) => format!("Rappel : {}", reminder.body),
        (true, true) => format!("Rappel : {} (en retard)", reminder.body),
    };
    let key = format!("reminder:{}:{}", reminder.id, reminder.due_at.timestamp());
    let message = SmsMessage::insert_outbound(&mut tx, &body, &key, None).await?;
    queue::enqueue(
        tx.conn(),
        &DeliverReminderJob(DeliverSmsJob {
            user_id: job.user_id,
            message_id: message.id,
        }),
        JobOptions::default(),
    )
    .await?;
    Reminder::advance(&mut tx, reminder.id, "sent", next, Some(now)).await?;
    tx.commit().await?;
    metrics::counter!("reminders_fired_total", "late" => late.to_string()).increment(1);
    metrics::histogram!("reminder_lateness_seconds").record(lateness_secs);
    Ok(Fired::Sent { late })
}

/// Whether local time `t` falls in quiet hours `start..end` (which may
/// span midnight).
pub fn in_quiet_hours(t: NaiveTime, start: NaiveTime, end: NaiveTime) -> bool {
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

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_may_span_midnight() {
        assert!(in_quiet_hours(t("23:00"), t("22:00"), t("07:00")));
        assert!(in_quiet_hours(t("06:59"), t("22:00"), t("07:00")));
        assert!(!in_quiet_hours(t("07:00"), t("22:00"), t("07:00")));
        assert!(in_quiet_hours(t("13:30"), t("13:00"), t("14:00")));
        assert!(!in_quiet_hours(t("14:00"), t("13:00"), t("14:00")));
    }
}
