//! How a job ends: its result handed to apalis, a failure deferred with
//! backoff, and a panic contained to the one job that raised it.
//!
//! apalis-postgres re-fetches a failed job as soon as it can; pushing its
//! `run_at` into the future before reporting the failure turns that into
//! exponential backoff with jitter, stretched to a provider's `Retry-After`.
//! A panic is caught here, counted (`jobs_panicked_total{queue}`) and
//! reported as that job's failure: the worker and every other job in flight
//! carry on.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use apalis::prelude::{Attempt, BoxDynError, TaskId};
use futures::FutureExt;
use rand::Rng;
use sqlx::PgPool;

/// The longest a provider's `Retry-After` may push a job back.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What a failed job's error says about when to try again.
pub trait RetryHint {
    /// The wait the provider asked for, if any.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// The delay before attempt `attempt + 1`: 2 s, 4 s, 8 s … capped at 5
/// minutes, with ±25 % jitter so retries of a burst spread out.
pub fn backoff(attempt: usize) -> Duration {
    let base = 2u64.saturating_pow(attempt.clamp(1, 20) as u32).min(300);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::from_secs_f64(base as f64 * jitter)
}

/// Runs one job's work with its panics contained, then passes the result to
/// apalis; a failure is logged and the job deferred first, so the retry
/// comes after a backoff (or after the provider's `Retry-After`).
pub async fn guarded<T, E>(
    queue: &'static str,
    work: impl Future<Output = Result<T, E>>,
    pool: &PgPool,
    task_id: &TaskId,
    attempt: &Attempt,
) -> Result<(), BoxDynError>
where
    E: std::error::Error + RetryHint + Send + Sync + 'static,
{
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            tracing::warn!(queue, error = %e, attempt = attempt.current(), "job failed; will retry");
            defer(pool, task_id, attempt.current(), e.retry_after()).await;
            Err(e.into())
        }
        Err(panic) => {
            metrics::counter!("jobs_panicked_total", "queue" => queue).increment(1);
            tracing::error!(
                queue,
                panic = panic_text(panic.as_ref()),
                attempt = attempt.current(),
                "job panicked; will retry"
            );
            defer(pool, task_id, attempt.current(), None).await;
            Err(format!("the {queue} job panicked").into())
        }
    }
}

/// The panic's message when it is a literal from our code; a formatted
/// message may carry data (a row, a body) and is not logged.
pub fn panic_text(panic: &(dyn Any + Send)) -> &'static str {
    panic
        .downcast_ref::<&'static str>()
        .copied()
        .unwrap_or("(formatted panic message withheld)")
}

/// When a job that failed its `attempt` runs again: the backoff, or the
/// provider's `Retry-After` (bounded) when that is longer.
pub fn delay(attempt: usize, hint: Option<Duration>) -> Duration {
    backoff(attempt).max(hint.unwrap_or_default().min(MAX_RETRY_AFTER))
}

/// Reschedules the job before its failure is recorded.
pub async fn defer(pool: &PgPool, task_id: &TaskId, attempt: usize, hint: Option<Duration>) {
    let delay = delay(attempt, hint);
    if let Err(e) = crate::db::queue::defer(pool, &task_id.to_string(), delay).await {
        tracing::warn!(error = %e, "could not defer a failed job; it will be retried at once");
    }
}

impl RetryHint for crate::sms_router::outbound::DeliveryError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Retry { retry_after, .. } => *retry_after,
            Self::Store(_) => None,
        }
    }
}

impl RetryHint for crate::sms_router::sender::SendError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl RetryHint for crate::store::StoreError {}
