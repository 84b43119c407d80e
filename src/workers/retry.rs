//! Backoff for failed jobs. apalis-postgres re-fetches a failed job as soon
//! as it can; pushing its `run_at` into the future before reporting the
//! failure turns that into exponential backoff with jitter.

use std::time::Duration;

use apalis::prelude::{Attempt, BoxDynError, TaskId};
use rand::Rng;
use sqlx::PgPool;

/// The delay before attempt `attempt + 1`: 2 s, 4 s, 8 s … capped at 5
/// minutes, with ±25 % jitter so retries of a burst spread out.
pub fn backoff(attempt: usize) -> Duration {
    let base = 2u64.saturating_pow(attempt.clamp(1, 20) as u32).min(300);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::from_secs_f64(base as f64 * jitter)
}

/// Passes a job's result to apalis; a failure is logged and the job
/// deferred first, so the retry comes after a backoff.
pub async fn or_defer<T, E>(
    result: Result<T, E>,
    pool: &PgPool,
    task_id: &TaskId,
    attempt: &Attempt,
) -> Result<(), BoxDynError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, attempt = attempt.current(), "job failed; will retry");
            defer(pool, task_id, attempt.current()).await;
            Err(e.into())
        }
    }
}

/// Reschedules the job before its failure is recorded.
pub async fn defer(pool: &PgPool, task_id: &TaskId, attempt: usize) {
    let delay = backoff(attempt);
    let result = sqlx::query(
        "update apalis.jobs set run_at = now() + make_interval(secs => $2) where id = $1",
    )
    .bind(task_id.to_string())
    .bind(delay.as_secs_f64())
    .execute(pool)
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not defer a failed job; it will be retried at once");
    }
}
