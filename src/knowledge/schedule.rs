//! Ingestion without anyone asking: a scheduled incremental sync of every
//! connected Notion workspace whose last successful run is older than
//! `NOTION_SYNC_INTERVAL_MINUTES` (maintenance, every 10 minutes), and
//! live runs whose job is gone recovered (the sweeper, every minute):
//! resumed by a new job from where they stopped, or failed when their job
//! ran out of attempts. A workspace never has two live runs: the queueing
//! joins the live one (one live run per source, a unique index).

use std::time::Duration;

use sqlx::PgPool;

use super::notion::request_sync;
use crate::db::queue::{self, JobOptions, NotionSyncJob};
use crate::db::{UserId, UserTx};
use crate::store::cross_user::{due_notion_syncs, stranded_knowledge_runs};
use crate::store::{KnowledgeRun, RunStatus, StoreError};

/// People queued per pass: the next pass takes the rest.
const BATCH: i32 = 200;
/// A live run is left to its job this long before it counts as stranded.
pub const STRANDED_AFTER: Duration = Duration::from_secs(5 * 60);

/// Queues a sync for everyone due; returns how many runs were queued.
#[tracing::instrument(name = "job.knowledge_schedule", skip_all)]
pub async fn queue_due_syncs(pool: &PgPool, every: Duration) -> Result<usize, StoreError> {
    let mut queued = 0;
    for user in due_notion_syncs(pool, every, BATCH).await? {
        let mut tx = UserTx::begin(pool, user).await?;
        let (_, new) = request_sync(&mut tx).await?;
        tx.commit().await?;
        queued += usize::from(new);
    }
    if queued > 0 {
        tracing::info!(queued, "scheduled Notion syncs queued");
    }
    metrics::counter!("knowledge_syncs_scheduled_total").increment(queued as u64);
    Ok(queued)
}

/// Resumes or fails the live runs older than `older_than` whose job is
/// gone; returns how many were handled.
#[tracing::instrument(name = "job.knowledge_recover", skip_all)]
pub async fn recover_stranded_runs(
    pool: &PgPool,
    older_than: Duration,
) -> Result<usize, StoreError> {
    let stranded = stranded_knowledge_runs(pool, older_than, BATCH).await?;
    for run in &stranded {
        let user = UserId(run.user_id);
        let mut tx = UserTx::begin(pool, user).await?;
        let action = if run.exhausted {
            // The next scheduled sync starts afresh from the checkpoint.
            KnowledgeRun::finish(
                &mut tx,
                run.run_id,
                RunStatus::Failed,
                Some("gave up after repeated failures; the next scheduled sync retries"),
            )
            .await?;
            "failed"
        } else {
            // Pages already written are skipped by their content hash.
            let job = NotionSyncJob {
                user_id: run.user_id,
                source_id: run.source_id,
                run_id: run.run_id,
            };
            queue::enqueue(tx.conn(), &job, JobOptions::default()).await?;
            "resumed"
        };
        tx.commit().await?;
        tracing::warn!(run = %run.run_id, action, "stranded knowledge run recovered");
        metrics::counter!("knowledge_runs_recovered_total", "action" => action).increment(1);
    }
    Ok(stranded.len())
}
