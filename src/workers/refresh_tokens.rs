//! `refresh_token`: refresh one person's token for one provider before it
//! expires. The work (single flight, `needs_reauth`, the one reconnect
//! text) is `oauth::refresh`; a temporary failure is retried by the worker
//! with backoff and jitter.

use apalis::prelude::TaskId;

use super::retry::RetryHint;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::queue::RefreshTokenJob;
use crate::oauth::Provider;
use crate::oauth::refresh::TokenError;
use crate::store::UserId;

/// Refreshes in flight per process; each is one provider call.
const REFRESHERS: usize = 4;

impl RetryHint for TokenError {}

impl Perform for RefreshTokenJob {
    type Error = TokenError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        REFRESHERS
    }

    #[tracing::instrument(name = "job.refresh_token", skip_all, fields(provider = %self.provider))]
    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), TokenError> {
        // An unknown provider or a server without OAuth keys has nothing
        // to refresh: done, not retried.
        let Ok(provider) = self.provider.parse::<Provider>() else {
            return Ok(());
        };
        let Some(oauth) = &state.oauth else {
            return Ok(());
        };
        oauth
            .refresh_if_expiring(UserId(self.user_id), provider)
            .await
    }
}
