//! `notion_sync`: one incremental sync of a person's Notion (see
//! `knowledge::notion::sync`). A failure (Notion down or limiting us for
//! long) is retried with backoff; the retry resumes the same run, and
//! pages already written are skipped by their content hash.

use apalis::prelude::TaskId;

use super::retry::RetryHint;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::queue::NotionSyncJob;
use crate::knowledge::notion::{NotionClient, SyncError, sync};
use crate::oauth::Provider;
use crate::store::UserId;

/// Syncs in flight per process: each paces itself under Notion's limit.
const SYNCS: usize = 2;

impl RetryHint for SyncError {}

impl Perform for NotionSyncJob {
    type Error = SyncError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        SYNCS
    }

    #[tracing::instrument(name = "job.notion_sync", skip_all, fields(run = %self.run_id))]
    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), SyncError> {
        let user = UserId(self.user_id);
        // Without OAuth keys or a Notion connection there is nothing to
        // read: the run fails with the reason, and is not retried.
        let token = match &state.oauth {
            Some(oauth) => oauth.access_token(user, Provider::Notion).await.ok(),
            None => None,
        };
        let Some(token) = token else {
            let mut tx = crate::db::UserTx::begin(&state.db, user).await?;
            crate::store::KnowledgeRun::finish(
                &mut tx,
                self.run_id,
                crate::store::RunStatus::Failed,
                Some("Notion is not connected"),
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        };
        let k = &state.config.knowledge;
        let client = NotionClient::new(
            reqwest::Client::new(),
            &k.notion_api_url,
            &state.config.oauth.notion_version,
            token.secret,
            k.notion_requests_per_second,
        );
        sync(&state.db, user, self.source_id, self.run_id, &client).await?;
        Ok(())
    }
}
