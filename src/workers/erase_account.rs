//! `erase_account`: at the end of the grace period, erase the person who
//! asked for it by text (unless they cancelled). The work is
//! `privacy::deletion`; while the person's last texts are still on their
//! way the job is retried shortly, so the goodbye leaves first.

use std::time::Duration;

use apalis::prelude::TaskId;

use super::retry::RetryHint;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::queue::EraseAccountJob;
use crate::privacy::{DeletionOutcome, Forgetter, run_due_deletion};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("texts to the person are still being sent; erasing after them")]
    Waiting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RetryHint for EraseError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            EraseError::Waiting => Some(Duration::from_secs(15)),
            EraseError::Store(_) => None,
        }
    }
}

/// What reaches beyond the rows, from this process's state.
pub(crate) fn forgetter(state: &AppState) -> Forgetter {
    Forgetter {
        oauth: state.oauth.clone(),
        redis: state.redis.clone(),
        redis_key_prefix: state.config.redis_key_prefix.clone(),
    }
}

impl Perform for EraseAccountJob {
    type Error = EraseError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        1
    }

    #[tracing::instrument(name = "job.erase_account", skip_all, fields(deletion = %self.deletion_id))]
    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), EraseError> {
        match run_due_deletion(&state.db, &forgetter(state), self.deletion_id).await? {
            DeletionOutcome::Waiting => Err(EraseError::Waiting),
            DeletionOutcome::NotDue => Ok(()),
            DeletionOutcome::Erased { jobs } => {
                tracing::info!(jobs, "account erased at the person's request");
                metrics::counter!("accounts_erased_total", "via" => "sms").increment(1);
                Ok(())
            }
        }
    }
}
