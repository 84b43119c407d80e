//! `reminder_nudge`: text a reminder again when the person has not
//! answered its delivery.
//!
//! The job locks the reminder, decides ([`decide_nudge`]) and applies, in
//! one transaction: the nudge's SMS (key `nudge:<id>:<delivery>:<n>`), its
//! delivery job, the count, and the next nudge's job. A run after a crash
//! that followed the commit finds the count advanced and stands down; a
//! crash before it leaves nothing behind but the job, which runs again.

use apalis::prelude::TaskId;
use chrono::{DateTime, Utc};

use super::proactive;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::ReminderNudgeJob;
use crate::reminders::{NudgeFacts, NudgeOutcome, NudgePlan, Person, decide_nudge, wording};
use crate::store::nudges::{answered_since, nudge_key};
use crate::store::{
    FollowThrough, NudgeEnd, PhoneRecord, Proactive, Reminder, StoreError, User, UserId,
};

/// What the job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nudged {
    /// Nudge number `n` is stored and on its way.
    Sent { n: i16, last: bool },
    /// The chain ended here, for this reason.
    Stopped(NudgeEnd),
    /// Not this job's turn (already sent, or about an older delivery).
    Skipped,
    /// Woken before its time: wait this long and run again.
    Early(std::time::Duration),
}

impl Perform for ReminderNudgeJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        4
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        loop {
            match run(state, &self, Utc::now()).await? {
                Nudged::Early(wait) => tokio::time::sleep(wait).await,
                _ => return Ok(()),
            }
        }
    }
}

#[tracing::instrument(
    name = "job.reminder_nudge",
    skip_all,
    fields(reminder_id = %job.reminder_id, nudge = job.nudge)
)]
pub async fn run(
    state: &AppState,
    job: &ReminderNudgeJob,
    now: DateTime<Utc>,
) -> Result<Nudged, StoreError> {
    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    let Some(reminder) = Reminder::lock(&mut tx, job.reminder_id).await? else {
        return Ok(Nudged::Skipped);
    };
    let user = User::current(&mut tx).await?;
    let follow = FollowThrough::load(&mut tx).await?;
    let phone = PhoneRecord::primary(&mut tx).await?;
    let facts = NudgeFacts {
        answered: answered_since(&mut tx, job.delivered_at).await?,
        opted_out: phone.is_none_or(|p| p.opted_out_at.is_some()),
        turned_off: !follow.allows(Proactive::Nudges),
    };
    let person = Person {
        tz: user.tz(),
        quiet_hours: user.quiet_hours_start.zip(user.quiet_hours_end),
    };
    let plan = NudgePlan {
        delivered_at: job.delivered_at,
        nudge: job.nudge,
        max: follow.nudge_max,
        interval: follow.nudge_interval(),
        at: job.at,
    };
    match decide_nudge(&reminder, &person, &plan, facts, now) {
        NudgeOutcome::Skip => Ok(Nudged::Skipped),
        NudgeOutcome::Early(wait) => Ok(Nudged::Early(wait)),
        NudgeOutcome::Stop(why) => {
            Reminder::end_nudges(&mut tx, reminder.id, why).await?;
            tx.commit().await?;
            metrics::counter!("reminder_nudges_stopped_total", "why" => why.as_str()).increment(1);
            Ok(Nudged::Stopped(why))
        }
        NudgeOutcome::Send { last, next } => {
            let body = wording::nudge_text(&reminder.body, job.nudge, last, user.locale());
            let key = nudge_key(reminder.id, job.delivered_at, job.nudge);
            proactive::send(&mut tx, &body, &key).await?;
            let end = if last {
                NudgeEnd::Finished
            } else {
                NudgeEnd::NextDue
            };
            Reminder::record_nudge(
                &mut tx,
                reminder.id,
                job.delivered_at,
                job.nudge,
                now,
                next.ok_or(end),
            )
            .await?;
            tx.commit().await?;
            metrics::counter!("reminder_nudges_sent_total").increment(1);
            Ok(Nudged::Sent { n: job.nudge, last })
        }
    }
}
