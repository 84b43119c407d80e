//! Queues this process drains in batches itself instead of job by job
//! through apalis: the reminder hand-off and reminder deliveries. At the
//! top of the hour thirty thousand reminders can fall due at once; job by
//! job, each cost a fetch, an acknowledgement and a few commits of its
//! own, about 200 a second on a 2-core machine. In batches a hundred
//! people's work shares one transaction (visited one person at a time, see
//! [`UserTx::visit`]) and one commit.
//!
//! The jobs are the same `apalis.jobs` rows (written by
//! `db::queue::enqueue`, listed and revived by `nudge admin jobs`); only
//! who claims them differs. Claims use `FOR UPDATE SKIP LOCKED`, so any
//! number of loops and processes share a queue without taking one job
//! twice. A claim without a lease holds the rows locked until its
//! transaction ends: a crash rolls the whole batch back, nothing is lost
//! and nothing was done. A claim with a lease (deliveries, which call the
//! provider with no transaction open) moves the jobs' `run_at` past the
//! lease instead: a process that dies mid-batch leaves them to be claimed
//! again when the lease ends.
//!
//! A failed job is marked `Failed` with its attempt counted and retried
//! after the same backoff as every other job; past its attempts it is dead,
//! as apalis would leave it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use tokio::sync::watch;

use super::retry;
use super::wake::Wakes;
use crate::db::queue::Job;
use crate::db::queue_batches;

/// A job this process claimed.
#[derive(Debug)]
pub struct Claimed<J> {
    /// The `apalis.jobs` id; deliveries use it as the message's claim holder.
    pub id: String,
    pub job: J,
    pub attempts: i32,
}

/// Claims up to `limit` due jobs of `J`'s queue, oldest due first.
/// Without a `lease` they stay locked until the caller's transaction ends;
/// with one they are moved out of reach for that long. A payload that
/// cannot be read is marked dead at once and not returned.
pub async fn claim<J: Job + DeserializeOwned>(
    conn: &mut PgConnection,
    limit: usize,
    lease: Option<Duration>,
) -> Result<Vec<Claimed<J>>, sqlx::Error> {
    let rows = queue_batches::claim_due(conn, J::QUEUE, limit, lease).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for (id, payload, attempts) in rows {
        match serde_json::from_slice::<J>(&payload) {
            Ok(job) => claimed.push(Claimed { id, job, attempts }),
            Err(_) => {
                tracing::error!(queue = J::QUEUE, job_id = %id, "unreadable job payload; marked dead");
                queue_batches::mark_dead(conn, &id, "unreadable payload").await?;
            }
        }
    }
    Ok(claimed)
}

/// Marks these jobs done.
pub async fn finish(conn: &mut PgConnection, ids: &[String]) -> Result<(), sqlx::Error> {
    queue_batches::mark_done(conn, ids).await
}

/// Records one failed attempt; the job runs again after the backoff (or
/// the provider's `Retry-After`, whichever is longer), unless that was its
/// last attempt. `error` must name no person's data (store errors are
/// redacted).
pub async fn fail<J>(
    conn: &mut PgConnection,
    queue: &'static str,
    job: &Claimed<J>,
    error: &impl std::fmt::Display,
    retry_after: Option<Duration>,
) -> Result<(), sqlx::Error> {
    let error = error.to_string();
    let attempt = usize::try_from(job.attempts).unwrap_or(0) + 1;
    tracing::warn!(queue, job_id = %job.id, %error, attempt, "job failed; will retry");
    let delay = retry::delay(attempt, retry_after);
    queue_batches::mark_failed(conn, &job.id, delay, &error).await
}

/// Runs one job's step of a batch with its panic contained: a panic
/// becomes that job's failure (retried, then dead), never the batch's.
pub async fn contain<T, E>(
    queue: &'static str,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, JobFailure<E>> {
    use futures::FutureExt;
    match AssertUnwindSafe(step).catch_unwind().await {
        Ok(result) => result.map_err(JobFailure::Failed),
        Err(panic) => {
            metrics::counter!("jobs_panicked_total", "queue" => queue).increment(1);
            let text = retry::panic_text(panic.as_ref());
            tracing::error!(queue, panic = text, "job panicked; will retry");
            Err(JobFailure::Panicked(text))
        }
    }
}

/// Why one job of a batch did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure<E> {
    #[error(transparent)]
    Failed(E),
    #[error("the job panicked: {0}")]
    Panicked(&'static str),
}

/// Runs `batch` until a batch comes back short (the queue is drained), then
/// waits for a wake (a job inserted due now), the next `poll` (jobs that
/// fell due), or the shutdown; a batch in progress always finishes. An
/// error (the database away) is logged and retried after a pause.
pub async fn drain<F, Fut, E>(
    queue: &'static str,
    mut wakes: Wakes,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
    limit: usize,
    mut batch: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    use futures::{FutureExt, StreamExt};
    const PAUSE_AFTER_ERROR: Duration = Duration::from_secs(1);
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Each job's own panic is caught where it runs (see [`contain`]);
        // this keeps the loop alive through one anywhere else.
        let pause = match AssertUnwindSafe(batch()).catch_unwind().await {
            Ok(Ok(n)) if n >= limit => continue,
            Ok(Ok(_)) => poll,
            Ok(Err(e)) => {
                tracing::warn!(queue, error = %e, "batch failed; retrying");
                metrics::counter!("jobs_batch_errors_total", "queue" => queue).increment(1);
                PAUSE_AFTER_ERROR
            }
            Err(panic) => {
                metrics::counter!("jobs_panicked_total", "queue" => queue).increment(1);
                tracing::error!(
                    queue,
                    panic = retry::panic_text(panic.as_ref()),
                    "batch panicked; retrying"
                );
                PAUSE_AFTER_ERROR
            }
        };
        tokio::select! {
            _ = wakes.next() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
}
