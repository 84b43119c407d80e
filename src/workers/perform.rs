//! The worker side of a job: how many run at once and what running one
//! does. The payload and its queue are [`crate::db::queue::Job`]; every
//! job kind is listed in `db::queue`'s `every_job!`, and those apalis runs
//! one at a time in its `one_by_one_jobs!`.

use std::future::Future;
use std::time::Duration;

use apalis::prelude::{Attempt, BoxDynError, Data, TaskId};

use super::WorkerOptions;
use super::retry::{self, RetryHint};
use crate::app::AppState;
use crate::db::queue::Job;

/// A job kind the worker runs.
pub trait Perform: Job {
    /// Why one run failed; the hint says when to try again.
    type Error: std::error::Error + RetryHint + Send + Sync + 'static;

    /// Jobs of this kind in flight at once in one process.
    fn concurrency(options: &WorkerOptions) -> usize;

    /// Jobs claimed per fetch: each fetch walks the queue's index past the
    /// entries of jobs already claimed (dead until vacuum), so a deep
    /// backlog is cheaper claimed in fewer, larger batches.
    fn batch_size() -> usize {
        10
    }

    /// How often an idle worker of this kind looks for jobs that became
    /// due (jobs due when written wake it at once through NOTIFY).
    fn poll_interval(options: &WorkerOptions) -> Duration {
        options.poll_interval
    }

    /// Runs the job once. A failure is retried with backoff; a panic is
    /// contained to this job (see [`retry::guarded`]).
    fn perform(
        self,
        state: &AppState,
        task: &TaskId,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The apalis handler of every job kind.
pub async fn handle<J: Perform>(
    job: J,
    state: Data<AppState>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    retry::guarded(
        J::QUEUE,
        job.perform(&state, &task_id),
        &state.db,
        &task_id,
        &attempt,
    )
    .await
}
