//! `reminder_due`: deliver one reminder occurrence.
//!
//! At the due time: quiet hours may defer it (unless the person asked for
//! that exact time); an occurrence older than its staleness window is
//! recorded as missed and not sent; otherwise the SMS is stored with the key
//! `reminder:<id>:<due>` and its delivery job enqueued, the occurrence marked
//! sent and — for a recurring reminder — the next one scheduled, all in one
//! transaction. A recurring reminder never bursts after downtime: the next
//! occurrence is the first one after now. A reminder that persists until
//! acknowledged gets its first nudge's job in that same transaction (see
//! `reminder_nudge`).

use apalis::prelude::TaskId;
use chrono::{DateTime, Utc};

use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::{self, DeliverReminderJob, DeliverSmsJob, JobOptions, ReminderDueJob};
use crate::reminders::{Outcome, Person, decide, wording};
use crate::store::{
    Actor, FollowThrough, Proactive, Reminder, ReminderStatus, SmsMessage, StoreError, User,
    UserId, record_audit,
};

/// How often the reminder worker looks for reminders that fell due.
const REMINDER_POLL: std::time::Duration = std::time::Duration::from_millis(50);

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
    /// Woken before the due instant (the database's clock a little ahead
    /// of this process's): wait this long and run again.
    Early(std::time::Duration),
}

impl Perform for ReminderDueJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        8
    }

    /// Reminders are written for a future instant, so nothing wakes their
    /// worker when one falls due: it looks often, as a due reminder waits
    /// at most this long (one cheap index probe per tick when idle).
    fn poll_interval(_options: &WorkerOptions) -> std::time::Duration {
        REMINDER_POLL
    }

    /// A burst of due reminders is claimed 100 at a time (see
    /// `Perform::batch_size`).
    fn batch_size() -> usize {
        100
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
    let user = User::current(&mut tx).await?;
    let person = Person {
        tz: user.tz(),
        quiet_hours: user.quiet_hours_start.zip(user.quiet_hours_end),
    };
    match decide(&reminder, &person, now) {
        Outcome::Skip => Ok(Fired::Skipped),
        Outcome::Early(wait) => Ok(Fired::Early(wait)),
        Outcome::Defer { until } => {
            Reminder::reschedule(&mut tx, reminder.id, until).await?;
            tx.commit().await?;
            metrics::counter!("reminders_deferred_total").increment(1);
            Ok(Fired::Deferred)
        }
        Outcome::Missed { late_secs, next } => {
            Reminder::advance(&mut tx, reminder.id, ReminderStatus::Missed, next, None).await?;
            record_audit(
                tx.conn(),
                Some(UserId(job.user_id)),
                Actor::System,
                "reminder.missed",
                serde_json::json!({"reminder_id": reminder.id, "due_at": reminder.due_at, "late_secs": late_secs}),
            )
            .await?;
            tx.commit().await?;
            metrics::counter!("reminders_missed_total").increment(1);
            Ok(Fired::Missed)
        }
        Outcome::Fire {
            late,
            late_secs,
            next,
        } => {
            let body = wording::fired_text(&reminder.body, late, user.locale());
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
            Reminder::advance(&mut tx, reminder.id, ReminderStatus::Sent, next, Some(now)).await?;
            // Persisting until acknowledged: the first nudge is written
            // with the delivery, so neither exists without the other.
            let follow = FollowThrough::load(&mut tx).await?;
            if reminder.persist.unwrap_or(follow.persist_reminders)
                && follow.allows(Proactive::Nudges)
            {
                Reminder::start_nudges(&mut tx, reminder.id, now, follow.nudge_interval()).await?;
            }
            tx.commit().await?;
            metrics::counter!("reminders_fired_total", "late" => late.to_string()).increment(1);
            metrics::histogram!("reminder_lateness_seconds").record(late_secs);
            Ok(Fired::Sent { late })
        }
    }
}
