//! `reminder_due`: hand off due reminder occurrences.
//!
//! At the due time: quiet hours may defer it (unless the person asked for
//! that exact time); an occurrence older than its staleness window is
//! recorded as missed and not sent; otherwise the SMS is stored with the key
//! `reminder:<id>:<due>` and its delivery job enqueued, the occurrence marked
//! sent and — for a recurring reminder — the next one scheduled. A
//! recurring reminder never bursts after downtime: the next occurrence is
//! the first one after now. A reminder that persists until acknowledged
//! gets its first nudge's job in that same transaction (see
//! `reminder_nudge`).
//!
//! The worker claims due occurrences a hundred at a time and hands them
//! all off in one transaction, one person at a time (see `workers::batch`):
//! each occurrence's writes, and its job marked done, commit together or
//! not at all.

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::batch;
use super::wake::WakeHub;
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::{self, DeliverReminderJob, DeliverSmsJob, Job, ReminderDueJob};
use crate::reminders::{Outcome, Person, decide, wording};
use crate::store::{
    Actor, Proactive, Reminder, ReminderStatus, SmsMessage, StoreError, User, UserId, record_audit,
};

/// How often the hand-off looks for reminders that fell due. Reminders are
/// written for a future instant, so nothing wakes it when one falls due:
/// it looks often, as a due reminder waits at most this long (one cheap
/// index probe per tick when idle).
const REMINDER_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Occurrences handed off per transaction.
const BATCH: usize = 100;

/// Hand-off loops per process: one fills its next batch while the other
/// commits.
const LOOPS: usize = 2;

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

/// Runs the hand-off loops in `loops` until `shutdown` turns true.
pub fn spawn(
    state: &AppState,
    wakes: &WakeHub,
    shutdown: &watch::Receiver<bool>,
    loops: &mut JoinSet<()>,
) {
    for _ in 0..LOOPS {
        let state = state.clone();
        loops.spawn(batch::drain(
            ReminderDueJob::QUEUE,
            wakes.subscribe(ReminderDueJob::QUEUE),
            REMINDER_POLL,
            shutdown.clone(),
            BATCH,
            move || {
                let state = state.clone();
                async move { hand_off(&state, BATCH).await }
            },
        ));
    }
}

/// Hands off up to `limit` due occurrences in one transaction; returns how
/// many were settled (handed off, or failed and scheduled for a retry).
/// An occurrence that fails is undone alone and retried with backoff; the
/// rest commit.
#[tracing::instrument(name = "job.reminder_hand_off", skip_all, fields(claimed))]
pub async fn hand_off(state: &AppState, limit: usize) -> Result<usize, StoreError> {
    let mut tx = UserTx::begin_batch(&state.db).await?;
    let claimed = batch::claim::<ReminderDueJob>(tx.conn(), limit, None).await?;
    tracing::Span::current().record("claimed", claimed.len());
    let now = Utc::now();
    let mut done = Vec::with_capacity(claimed.len());
    let mut effects = Vec::with_capacity(claimed.len());
    let mut deliveries = Vec::with_capacity(claimed.len());
    let mut failed = Vec::new();
    for job in &claimed {
        tx.visit(UserId(job.job.user_id)).await?;
        match batch::contain(ReminderDueJob::QUEUE, fire(&mut tx, &job.job, now)).await {
            // Left due: claimed again once its instant has come.
            Ok(Effect {
                fired: Fired::Early(_),
                ..
            }) => tx.leave(false),
            Ok(mut effect) => {
                tx.leave(true);
                done.push(job.id.clone());
                deliveries.extend(effect.delivery.take());
                effects.push(effect);
            }
            Err(e) => {
                tx.leave(false);
                failed.push((job, e));
            }
        }
    }
    tx.end_visits().await?;
    queue::enqueue_many(tx.conn(), &deliveries).await?;
    batch::finish(tx.conn(), &done).await?;
    // Occurrences claimed a little early are left due and not counted, so
    // a batch of them does not send the loop straight back for more.
    let settled = done.len() + failed.len();
    for (job, e) in failed {
        batch::fail(tx.conn(), ReminderDueJob::QUEUE, job, &e, None).await?;
    }
    tx.commit().await?;
    effects.iter().for_each(Effect::count);
    Ok(settled)
}

/// One occurrence handed off in its own transaction (tests, and what a
/// batch does for each occurrence).
pub async fn run(
    state: &AppState,
    job: &ReminderDueJob,
    now: DateTime<Utc>,
) -> Result<Fired, StoreError> {
    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    let mut effect = fire(&mut tx, job, now).await?;
    let delivery: Vec<_> = effect.delivery.take().into_iter().collect();
    queue::enqueue_many(tx.conn(), &delivery).await?;
    tx.commit().await?;
    effect.count();
    Ok(effect.fired)
}

/// What an occurrence did, and its lateness in seconds when it fired:
/// counted once its transaction has committed.
struct Effect {
    fired: Fired,
    late_secs: f64,
    /// The stored text's delivery job, written for the whole batch in one
    /// statement (same transaction).
    delivery: Option<DeliverReminderJob>,
}

impl Effect {
    fn only(fired: Fired, late_secs: f64) -> Self {
        Effect {
            fired,
            late_secs,
            delivery: None,
        }
    }

    fn count(&self) {
        match self.fired {
            Fired::Sent { late } => {
                metrics::counter!("reminders_fired_total", "late" => late.to_string()).increment(1);
                metrics::histogram!("reminder_lateness_seconds").record(self.late_secs);
            }
            Fired::Missed => metrics::counter!("reminders_missed_total").increment(1),
            Fired::Deferred => metrics::counter!("reminders_deferred_total").increment(1),
            Fired::Skipped | Fired::Early(_) => {}
        }
    }
}

/// Hands off one occurrence in `tx`, scoped to its person; the caller commits.
async fn fire(
    tx: &mut UserTx,
    job: &ReminderDueJob,
    now: DateTime<Utc>,
) -> Result<Effect, StoreError> {
    let Some(reminder) = Reminder::lock(tx, job.reminder_id).await? else {
        return Ok(Effect::only(Fired::Skipped, 0.0));
    };
    let (user, follow) = User::current_with_follow_through(tx).await?;
    let person = Person {
        tz: user.tz(),
        quiet_hours: user.quiet_hours_start.zip(user.quiet_hours_end),
    };
    match decide(&reminder, &person, now) {
        Outcome::Skip => Ok(Effect::only(Fired::Skipped, 0.0)),
        Outcome::Early(wait) => Ok(Effect::only(Fired::Early(wait), 0.0)),
        Outcome::Defer { until } => {
            Reminder::reschedule(tx, reminder.id, until).await?;
            Ok(Effect::only(Fired::Deferred, 0.0))
        }
        Outcome::Missed { late_secs, next } => {
            Reminder::advance(tx, reminder.id, ReminderStatus::Missed, next, None).await?;
            record_audit(
                tx.conn(),
                Some(UserId(job.user_id)),
                Actor::System,
                "reminder.missed",
                serde_json::json!({"reminder_id": reminder.id, "due_at": reminder.due_at, "late_secs": late_secs}),
            )
            .await?;
            Ok(Effect::only(Fired::Missed, late_secs))
        }
        Outcome::Fire {
            late,
            late_secs,
            next,
        } => {
            let body = wording::fired_text(&reminder.body, late, user.locale());
            let key = format!("reminder:{}:{}", reminder.id, reminder.due_at.timestamp());
            let message = SmsMessage::insert_outbound(tx, &body, &key, None).await?;
            Reminder::advance(tx, reminder.id, ReminderStatus::Sent, next, Some(now)).await?;
            // Persisting until acknowledged: the first nudge is written
            // with the delivery, so neither exists without the other.
            if reminder.persist.unwrap_or(follow.persist_reminders)
                && follow.allows(Proactive::Nudges)
            {
                Reminder::start_nudges(tx, reminder.id, now, follow.nudge_interval()).await?;
            }
            Ok(Effect {
                fired: Fired::Sent { late },
                late_secs,
                delivery: Some(DeliverReminderJob(DeliverSmsJob {
                    user_id: job.user_id,
                    message_id: message.id,
                })),
            })
        }
    }
}
