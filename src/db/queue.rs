//! The job queue's producer side: job payloads and their queue names, and
//! enqueueing inside the caller's transaction (apalis-postgres), so a job
//! exists exactly when the row it works on does.

use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// A kind of background job: the payload is `Self`, stored as JSON in
/// `apalis.jobs` under the queue [`Job::QUEUE`]. What runs it, and how many
/// at once, is the worker side (`workers::Perform`).
///
/// Adding a job: its payload and `Job` impl here, one line in
/// [`every_job!`] and [`one_by_one_jobs!`], and one file under `workers/`
/// implementing `Perform`.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The queue's name (`apalis.jobs.job_type`).
    const QUEUE: &'static str;
}

/// Every job kind, once. Calls `$then!(args… ; Job, Job, …)`: [`QUEUES`]
/// (hence the queue gauges and `nudge admin jobs queues`) is made from
/// this list; the worker runs the kinds of [`one_by_one_jobs!`] through
/// apalis and drains `ReminderDueJob` and `DeliverReminderJob` in batches
/// itself (`workers::batch`).
macro_rules! every_job {
    ($then:ident $(, $arg:expr)*) => {
        $then!($($arg),* ;
            $crate::db::queue::AgentTurnJob,
            $crate::db::queue::DeliverSmsJob,
            $crate::db::queue::DeliverReminderJob,
            $crate::db::queue::OnboardingSmsJob,
            $crate::db::queue::ReminderDueJob,
            $crate::db::queue::ReminderNudgeJob,
            $crate::db::queue::BookmarkOfferJob,
            $crate::db::queue::FocusCheckinJob,
            $crate::db::queue::MorningCheckinJob,
            $crate::db::queue::EveningCheckinJob,
            $crate::db::queue::RefreshTokenJob,
            $crate::db::queue::RevokeTokenJob,
            $crate::db::queue::EraseAccountJob,
            $crate::db::queue::NotionSyncJob
        )
    };
}

/// The job kinds apalis runs one at a time: [`every_job!`] but the two
/// drained in batches.
macro_rules! one_by_one_jobs {
    ($then:ident $(, $arg:expr)*) => {
        $then!($($arg),* ;
            $crate::db::queue::AgentTurnJob,
            $crate::db::queue::DeliverSmsJob,
            $crate::db::queue::OnboardingSmsJob,
            $crate::db::queue::ReminderNudgeJob,
            $crate::db::queue::BookmarkOfferJob,
            $crate::db::queue::FocusCheckinJob,
            $crate::db::queue::MorningCheckinJob,
            $crate::db::queue::EveningCheckinJob,
            $crate::db::queue::RefreshTokenJob,
            $crate::db::queue::RevokeTokenJob,
            $crate::db::queue::EraseAccountJob,
            $crate::db::queue::NotionSyncJob
        )
    };
}
pub(crate) use one_by_one_jobs;

macro_rules! queue_names {
    ( ; $($job:path),*) => {
        [$(<$job as $crate::db::queue::Job>::QUEUE),*]
    };
}

/// Every queue's name, in [`every_job!`] order.
pub const QUEUES: [&str; 14] = every_job!(queue_names);

/// Answer a person's oldest unanswered message (and deliver the reply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTurnJob {
    pub user_id: Uuid,
    pub message_id: Uuid,
}

impl Job for AgentTurnJob {
    const QUEUE: &'static str = "agent_turn";
}

/// Send one stored outbound message (replies, HELP, "slow down").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverSmsJob {
    pub user_id: Uuid,
    pub message_id: Uuid,
}

impl Job for DeliverSmsJob {
    const QUEUE: &'static str = "deliver_sms";
}

/// Send a reminder's stored SMS: few at a time per process, in due order,
/// in a queue of its own so a burst of reminders never delays replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeliverReminderJob(pub DeliverSmsJob);

impl Job for DeliverReminderJob {
    const QUEUE: &'static str = "deliver_reminder";
}

/// Send the onboarding text to a number nobody owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingSmsJob {
    pub phone: String,
}

impl Job for OnboardingSmsJob {
    const QUEUE: &'static str = "onboarding_sms";
}

/// Deliver a reminder occurrence at its due time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderDueJob {
    pub user_id: Uuid,
    pub reminder_id: Uuid,
}

impl Job for ReminderDueJob {
    const QUEUE: &'static str = "reminder_due";
}

/// Text a reminder again (nudge number `nudge`) unless the delivery at
/// `delivered_at` was acknowledged; `at` is when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderNudgeJob {
    pub user_id: Uuid,
    pub reminder_id: Uuid,
    pub delivered_at: chrono::DateTime<chrono::Utc>,
    pub nudge: i16,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Job for ReminderNudgeJob {
    const QUEUE: &'static str = "reminder_nudge";
}

/// One gentle "back?" offer after a "brb" and a long quiet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookmarkOfferJob {
    pub user_id: Uuid,
    pub bookmark_id: Uuid,
}

impl Job for BookmarkOfferJob {
    const QUEUE: &'static str = "bookmark_offer";
}

/// The check-in at the end of a focus session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FocusCheckinJob {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// The end this check-in is for ("10 MORE" moves the end; the old
    /// job then stands down).
    pub ends_at: chrono::DateTime<chrono::Utc>,
}

impl Job for FocusCheckinJob {
    const QUEUE: &'static str = "focus_checkin";
}

/// The morning check-in of one local day: the day's reminders and open
/// tasks. Each one schedules the next day's in its own transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MorningCheckinJob {
    pub user_id: Uuid,
    pub day: chrono::NaiveDate,
    /// The local time it was set for (a changed time stands this one down).
    pub at: chrono::NaiveTime,
}

impl Job for MorningCheckinJob {
    const QUEUE: &'static str = "morning_checkin";
}

/// The evening wrap-up of one local day, as [`MorningCheckinJob`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EveningCheckinJob {
    pub user_id: Uuid,
    pub day: chrono::NaiveDate,
    pub at: chrono::NaiveTime,
}

impl Job for EveningCheckinJob {
    const QUEUE: &'static str = "evening_checkin";
}

/// Refresh one person's token for one provider if it expires soon (single
/// flight: see `oauth::refresh`). `provider` is `google`, `microsoft` or `notion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenJob {
    pub user_id: Uuid,
    pub provider: String,
}

impl Job for RefreshTokenJob {
    const QUEUE: &'static str = "refresh_token";
}

/// Revoke a disconnected token at its provider. The token travels sealed
/// (AES-GCM, bound to this person and provider): the tokens row is deleted
/// in the transaction that enqueues this, and no transaction is held over
/// the provider call.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeTokenJob {
    pub user_id: Uuid,
    pub provider: String,
    pub key_id: i32,
    /// True: the refresh token (revokes the whole grant); false: the access token.
    pub refresh: bool,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for RevokeTokenJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeTokenJob")
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Job for RevokeTokenJob {
    const QUEUE: &'static str = "revoke_token";
}

/// Erase the person of a deletion they asked for by text, at its due time
/// (see `privacy::deletion`). The payload is the deletion's id alone, so a
/// finished job names nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseAccountJob {
    pub deletion_id: Uuid,
}

impl Job for EraseAccountJob {
    const QUEUE: &'static str = "erase_account";
}

/// Sync one person's Notion workspace (a knowledge run queued with it).
/// Idempotent: a retry resumes the same run (see `knowledge::notion::sync`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotionSyncJob {
    pub user_id: Uuid,
    pub source_id: Uuid,
    pub run_id: Uuid,
}

impl Job for NotionSyncJob {
    const QUEUE: &'static str = "notion_sync";
}

/// Schedules a reminder's delivery at `due` in the caller's transaction.
pub async fn schedule_reminder(
    conn: &mut PgConnection,
    user_id: Uuid,
    reminder_id: Uuid,
    due: chrono::DateTime<chrono::Utc>,
) -> Result<(), QueueError> {
    enqueue_at(
        conn,
        &ReminderDueJob {
            user_id,
            reminder_id,
        },
        due,
    )
    .await
}

/// Removes a reminder's pending deliveries (it was cancelled). The job
/// must name the same person too: `apalis.jobs` has no row-level security,
/// so the user id is the only wall between people here.
pub async fn unschedule_reminder(
    conn: &mut PgConnection,
    user_id: Uuid,
    reminder_id: Uuid,
) -> Result<u64, QueueError> {
    sqlx::query(
        "delete from apalis.jobs where job_type = $1 and status = 'Pending' \
         and convert_from(job, 'UTF8')::jsonb ->> 'reminder_id' = $2 \
         and convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $3",
    )
    .bind(ReminderDueJob::QUEUE)
    .bind(reminder_id.to_string())
    .bind(user_id.to_string())
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
    .map_err(|e| QueueError::Database(Box::new(super::redact(&e))))
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job payload cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("job cannot be enqueued: {0}")]
    // Boxed: the redacted error is large and travels inside every store error.
    Database(Box<super::RedactedDbError>),
    #[error("job cannot be enqueued: {0}")]
    Backend(String),
}

impl QueueError {
    /// True when the database connection went away under the enqueue.
    pub fn connection_lost(&self) -> bool {
        matches!(self, QueueError::Database(e) if e.connection_lost())
    }
}

/// Attempts before a job is dead. With the workers' backoff (2 s doubling,
/// capped at 5 minutes) 25 attempts span about an hour and a half: a
/// provider outage that long delays a text, it does not lose it.
pub const DEFAULT_MAX_ATTEMPTS: usize = 25;

/// Options for one job.
#[derive(Debug, Clone, Default)]
pub struct JobOptions {
    pub run_at: Option<SystemTime>,
    pub priority: Option<usize>,
    pub max_attempts: Option<usize>,
}

/// Enqueues `job` on its queue in the caller's transaction.
///
/// The row apalis' own `push_tasks` writes, except that `run_at` keeps its
/// microseconds: apalis stores whole seconds, so a reminder due at 9:00:00.7
/// became fetchable at 9:00:00 and its job slept 0.7 s holding a worker
/// slot (at 10,000 reminders a minute every slot sleeps and the queue
/// falls behind). A job with no `run_at` is due at the transaction's start.
pub async fn enqueue<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    options: JobOptions,
) -> Result<(), QueueError> {
    let payload = serde_json::to_vec(job)?;
    let run_at = options.run_at.map(chrono::DateTime::<chrono::Utc>::from);
    let priority = i32::try_from(options.priority.unwrap_or(0)).unwrap_or(i32::MAX);
    let max_attempts =
        i32::try_from(options.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS)).unwrap_or(i32::MAX);
    sqlx::query(
        "insert into apalis.jobs \
           (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
         values (apalis.generate_ulid(), $1, $2, 'Pending', 0, $3, coalesce($4, now()), $5)",
    )
    .bind(J::QUEUE)
    .bind(payload)
    .bind(max_attempts)
    .bind(run_at)
    .bind(priority)
    .execute(conn)
    .await
    .map(drop)
    .map_err(|e| QueueError::Database(Box::new(super::redact(&e))))
}

/// Enqueues `jobs`, due now with default options, in one statement in the
/// caller's transaction: a batch's follow-up jobs.
pub async fn enqueue_many<J: Job>(conn: &mut PgConnection, jobs: &[J]) -> Result<(), QueueError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let payloads = jobs
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<Vec<_>, _>>()?;
    let max_attempts = i32::try_from(DEFAULT_MAX_ATTEMPTS).unwrap_or(i32::MAX);
    sqlx::query(
        "insert into apalis.jobs \
           (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
         select apalis.generate_ulid(), $1, payload, 'Pending', 0, $3, now(), 0 \
         from unnest($2::bytea[]) as payload",
    )
    .bind(J::QUEUE)
    .bind(payloads)
    .bind(max_attempts)
    .execute(conn)
    .await
    .map(drop)
    .map_err(|e| QueueError::Database(Box::new(super::redact(&e))))
}

/// Enqueues `job` to run at `at` (not before), with default options, in the
/// caller's transaction: how every scheduled job is written.
pub async fn enqueue_at<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), QueueError> {
    let options = JobOptions {
        run_at: Some(SystemTime::from(at)),
        ..JobOptions::default()
    };
    enqueue(conn, job, options).await
}

/// Moves a failed job's next run `delay` into the future (before apalis
/// records the failure, so the retry comes after the backoff).
pub async fn defer(
    pool: &sqlx::PgPool,
    task_id: &str,
    delay: std::time::Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query("update apalis.jobs set run_at = now() + make_interval(secs => $2) where id = $1")
        .bind(task_id)
        .bind(delay.as_secs_f64())
        .execute(pool)
        .await?;
    Ok(())
}

/// Jobs waiting in one queue, and the age of the oldest.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Backlog {
    pub queue: String,
    pub waiting: i64,
    pub oldest_secs: Option<f64>,
}

/// The backlog of every queue that has one (cheap: a partial index covers
/// pending jobs).
pub async fn backlog(pool: &sqlx::PgPool) -> Result<Vec<Backlog>, sqlx::Error> {
    sqlx::query_as(
        "select job_type as queue, count(*) as waiting, \
                extract(epoch from now() - min(run_at))::float8 as oldest_secs \
         from apalis.jobs where status in ('Pending', 'Queued') and run_at <= now() group by job_type",
    )
    .fetch_all(pool)
    .await
}
