//! `refresh_token`: refresh one person's token for one provider before it
//! expires. The work (single flight, `needs_reauth`, the one reconnect
//! text) is `oauth::refresh`; a temporary failure is retried by the worker
//! with backoff and jitter. `revoke_token`: revoke a disconnected token at
//! its provider, retried the same way.

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

/// The provider refused or could not be reached: retried with backoff.
#[derive(Debug, thiserror::Error)]
#[error("revocation at the provider failed")]
pub struct RevokeFailed;

impl RetryHint for RevokeFailed {}

/// `revoke_token`: after a disconnect, revoke the token at the provider.
impl Perform for crate::db::queue::RevokeTokenJob {
    type Error = RevokeFailed;

    fn concurrency(_options: &WorkerOptions) -> usize {
        REFRESHERS
    }

    #[tracing::instrument(name = "job.revoke_token", skip_all, fields(provider = %self.provider))]
    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), RevokeFailed> {
        let (Ok(provider), Some(oauth)) = (self.provider.parse::<Provider>(), &state.oauth) else {
            return Ok(());
        };
        let bytes = crate::store::integrations::SealedBytes {
            nonce: self.nonce,
            ciphertext: self.ciphertext,
        };
        let tokens = crate::store::integrations::SealedTokens {
            key_id: self.key_id,
            access: bytes.clone(),
            refresh: self.refresh.then_some(bytes),
            expires_at: None,
        };
        match oauth.revoke(self.user_id, provider, &tokens).await {
            crate::oauth::revoke::Revocation::Failed => Err(RevokeFailed),
            _ => Ok(()),
        }
    }
}
