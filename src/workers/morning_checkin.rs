//! `morning_checkin`: at the local time the person chose, "Good morning:
//! 3 things today — 9:00 meds, 14:00 call Sam, task: renew passport". Each
//! day's job schedules the next day's in its own transaction, at the same
//! local time (right across DST); the text's key names the day, so a day
//! is texted once at most.

use apalis::prelude::TaskId;
use chrono::{DateTime, NaiveTime, Utc};

use super::daily::{Start, Today};
use super::proactive;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::queue::MorningCheckinJob;
use crate::reminders::wording;
use crate::store::follow_through::Daily;
use crate::store::recurrence::resolve_local;
use crate::store::{Reminder, StoreError, Task};

/// Open tasks named in one morning text.
const TASKS_SHOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Morning {
    Sent,
    Skipped(&'static str),
}

impl Perform for MorningCheckinJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        2
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        run(state, &self, Utc::now()).await.map(drop)
    }
}

#[tracing::instrument(name = "job.morning_checkin", skip_all, fields(user_id = %job.user_id, day = %job.day))]
pub async fn run(
    state: &AppState,
    job: &MorningCheckinJob,
    now: DateTime<Utc>,
) -> Result<Morning, StoreError> {
    let today = Today {
        which: Daily::Morning,
        user_id: job.user_id,
        day: job.day,
        at: job.at,
    };
    let (mut tx, user) = match today.start(state, now).await? {
        Start::Go(tx, user) => (tx, user),
        Start::Skipped(why) => return Ok(Morning::Skipped(why)),
    };
    let tz = user.tz();
    let next_day = job.day.succ_opt().unwrap_or(job.day);
    let day_end = resolve_local(tz, next_day.and_time(NaiveTime::MIN));
    let mut items: Vec<String> = Reminder::upcoming(&mut tx, 50)
        .await?
        .into_iter()
        .filter(|r| r.due_at < day_end)
        .map(|r| {
            format!(
                "{} {}",
                r.due_at.with_timezone(&tz).format("%-H:%M"),
                r.body
            )
        })
        .collect();
    let task_word = match user.locale() {
        crate::store::Locale::Fr => "tâche",
        _ => "task",
    };
    items.extend(
        Task::open(&mut tx)
            .await?
            .into_iter()
            .take(TASKS_SHOWN)
            .map(|t| format!("{task_word}: {}", t.title)),
    );
    let body = wording::morning_text(&items, user.locale());
    proactive::send(&mut tx, &body, &today.key()).await?;
    tx.commit().await?;
    metrics::counter!("morning_checkins_total").increment(1);
    Ok(Morning::Sent)
}
