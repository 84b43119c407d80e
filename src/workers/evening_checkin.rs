//! `evening_checkin`: at the local time the person chose, the wrap-up —
//! "Done today: 2 ✅. Move 'renew passport' to tomorrow? YES/NO". Open
//! tasks are never listed as missed; they roll forward quietly.
//!
//! At most one question an evening, so a "yes" is never ambiguous, in this
//! order: leave-by texts for tomorrow's first calendar event that has a
//! place (when a calendar is connected and the offer is on), archiving a
//! task untouched for 14 days ("Still want 'X'? ARCHIVE / KEEP"), moving
//! the first open task to tomorrow. The question is a pending action (the
//! call its "yes" runs), answered as any confirmation is; it waits until
//! the next morning.
//!
//! Like the morning check-in, each day's job schedules the next day's and
//! the text's key names the day. The calendar is read after the first
//! transaction commits and before the second begins: no transaction is
//! held across the provider call.

use apalis::prelude::TaskId;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::{Value, json};

use super::daily::{Start, Today};
use super::proactive;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::EveningCheckinJob;
use crate::reminders::wording::{self, EveningAsk};
use crate::store::follow_through::Daily;
use crate::store::recurrence::resolve_local;
use crate::store::{
    FollowThrough, Locale, PendingAction, Proactive, StoreError, Task, UserId, integrations,
};

/// A task nobody touched for this long is offered for archiving.
pub const ARCHIVE_AFTER: Duration = Duration::days(14);
/// Travel time assumed for a calendar event's leave-by texts (the event
/// says where, not how far).
pub const CALENDAR_TRAVEL_MINUTES: i64 = 30;
/// How long the evening's question waits for its answer.
const ANSWER_WITHIN: Duration = Duration::hours(14);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evening {
    Sent,
    Skipped(&'static str),
}

impl Perform for EveningCheckinJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        2
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        run(state, &self, Utc::now()).await.map(drop)
    }
}

#[tracing::instrument(name = "job.evening_checkin", skip_all, fields(user_id = %job.user_id, day = %job.day))]
pub async fn run(
    state: &AppState,
    job: &EveningCheckinJob,
    now: DateTime<Utc>,
) -> Result<Evening, StoreError> {
    let today = Today {
        which: Daily::Evening,
        user_id: job.user_id,
        day: job.day,
        at: job.at,
    };
    let (mut tx, user) = match today.start(state, now).await? {
        Start::Go(tx, user) => (tx, user),
        Start::Skipped(why) => return Ok(Evening::Skipped(why)),
    };
    let offers_on = FollowThrough::load(&mut tx)
        .await?
        .allows(Proactive::LeaveByOffer);
    let calendars: Vec<String> = match offers_on {
        true => integrations::list(&mut tx)
            .await?
            .into_iter()
            .filter(|i| i.status == "connected")
            .map(|i| i.provider)
            .collect(),
        false => Vec::new(),
    };
    // The next day's job is committed before the provider is called.
    tx.commit().await?;

    let tz = user.tz();
    let tomorrow = job.day.succ_opt().unwrap_or(job.day);
    let event = match calendars.is_empty() {
        true => None,
        false => {
            state
                .agent
                .located_event_on(UserId(job.user_id), &calendars, tz, tomorrow)
                .await
        }
    };

    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    if today.already_sent(&mut tx).await? {
        return Ok(Evening::Skipped("already_sent"));
    }
    let day_start = resolve_local(tz, job.day.and_time(NaiveTime::MIN));
    let tomorrow_start = resolve_local(tz, tomorrow.and_time(NaiveTime::MIN));
    let done = Task::done_between(&mut tx, day_start, tomorrow_start).await?;
    let open = Task::open(&mut tx).await?.len();
    let locale = user.locale();
    let question = match event {
        Some(e) => Some(Question {
            ask: EveningAsk::LeaveBy {
                title: e.title.clone(),
                time: e.start.format("%-H:%M").to_string(),
                location: e.location,
            },
            tool: "plan_leave_by",
            args: json!({
                "event": e.title,
                "at_local": e.start.format("%Y-%m-%dT%H:%M").to_string(),
                "travel_minutes": CALENDAR_TRAVEL_MINUTES,
            }),
            code: "YES",
        }),
        None => ask_about_tasks(&mut tx, now, tomorrow, tomorrow_start, locale).await?,
    };
    let body = wording::evening_text(done, open, question.as_ref().map(|q| &q.ask), locale);
    if let Some(q) = &question {
        PendingAction::create(&mut tx, q.tool, &q.args, &body, q.code, now + ANSWER_WITHIN).await?;
    }
    proactive::send(&mut tx, &body, &today.key()).await?;
    tx.commit().await?;
    metrics::counter!("evening_checkins_total").increment(1);
    Ok(Evening::Sent)
}

/// The evening's question: the text, and the call its "yes" runs.
struct Question {
    ask: EveningAsk,
    tool: &'static str,
    args: Value,
    /// What answers it besides "yes" (the word the text shows).
    code: &'static str,
}

/// Archiving a long-untouched task, else moving the first open one to
/// tomorrow; `None` when nothing is open.
async fn ask_about_tasks(
    tx: &mut UserTx,
    now: DateTime<Utc>,
    tomorrow: chrono::NaiveDate,
    tomorrow_start: DateTime<Utc>,
    locale: Locale,
) -> Result<Option<Question>, StoreError> {
    if let Some(task) = Task::untouched_since(tx, now - ARCHIVE_AFTER).await? {
        Task::mark_archive_offered(tx, task.id, now).await?;
        return Ok(Some(Question {
            ask: EveningAsk::Archive { title: task.title },
            tool: "archive_task",
            args: json!({"task_id": task.id}),
            code: match locale {
                Locale::Fr => "ARCHIVER",
                _ => "ARCHIVE",
            },
        }));
    }
    Ok(Task::first_to_move(tx, tomorrow_start)
        .await?
        .map(|task| Question {
            ask: EveningAsk::Move { title: task.title },
            tool: "move_task",
            args: json!({"task_id": task.id, "date": tomorrow.format("%Y-%m-%d").to_string()}),
            code: "YES",
        }))
}
