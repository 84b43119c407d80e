//! `notion_sync`: one incremental sync of a person's Notion (see
//! `knowledge::notion::sync`). A failure (Notion down or limiting us for
//! long) is retried with backoff; the retry resumes the same run, and
//! pages already written are skipped by their content hash.

use apalis::prelude::TaskId;

use super::retry::RetryHint;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::queue::NotionSyncJob;
use crate::integrations::Integrations;
use crate::knowledge::notion::{Ended, NotionClient, NotionError, SyncError, sync};
use crate::store::{KnowledgeRun, RunStatus, UserId};

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
        // Without OAuth keys there is no Notion to read: the run fails
        // with the reason, and is not retried.
        let Some(oauth) = &state.oauth else {
            return fail(state, user, self.run_id, "Notion is not connected").await;
        };
        let k = &state.config.knowledge;
        let integrations = Integrations::new(
            Some(oauth.clone()),
            state.config.integrations.clone(),
            reqwest::Client::new(),
        );
        let client = NotionClient::for_connection(
            integrations,
            user,
            &k.notion_api_url,
            &state.config.oauth.notion_version,
            k.notion_requests_per_second,
        );
        match sync(&state.db, user, self.source_id, self.run_id, &client).await {
            Ok(Ended::Ready(_)) => embed(state, user).await,
            Ok(Ended::Canceled) => Ok(()),
            // A dead grant (the person was texted a link) or a token
            // refused even fresh: retrying cannot help until they reconnect.
            Err(SyncError::Notion(NotionError::NeedsReconnect | NotionError::Unauthorized)) => {
                fail(state, user, self.run_id, "Notion needs to be reconnected").await
            }
            Err(e) => Err(e),
        }
    }
}

async fn fail(state: &AppState, user: UserId, run: uuid::Uuid, why: &str) -> Result<(), SyncError> {
    let mut tx = crate::db::UserTx::begin(&state.db, user).await?;
    KnowledgeRun::finish(&mut tx, run, RunStatus::Failed, Some(why)).await?;
    tx.commit().await?;
    Ok(())
}

/// New chunks (Notion's and the person's notes) get their embeddings when
/// a provider is configured. A failure leaves them for the next run:
/// retrieval uses full text for them meanwhile, and the run stays ready.
async fn embed(state: &AppState, user: UserId) -> Result<(), SyncError> {
    let Some(embedder) =
        crate::knowledge::embed::from_config(&state.config, reqwest::Client::new())
    else {
        return Ok(());
    };
    match crate::knowledge::indexer::embed_pending(&state.db, user, embedder.as_ref()).await {
        Ok(n) => tracing::info!(embedded = n, "chunks embedded"),
        Err(e) => tracing::warn!(error = %e, "embedding failed; full text meanwhile"),
    }
    Ok(())
}
