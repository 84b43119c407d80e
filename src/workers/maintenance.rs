//! Every 10 minutes: delete expired OAuth states and pending actions, and
//! identification logs past their retention; delete texts past
//! `MESSAGE_RETENTION_DAYS` in batches (summaries and memories stay);
//! run account deletions that are due but whose job was lost or early;
//! schedule the refresh of OAuth tokens that expire within 15 minutes;
//! queue the scheduled Notion syncs that are due.
//! Cross-user by nature, so each step calls one narrow `SECURITY DEFINER`
//! function.

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use sqlx::PgPool;

use crate::app::AppState;
use crate::store::cross_user;

/// Seconds first (cron 0.17 syntax): at second 0 of every 10th minute.
pub const SCHEDULE: &str = "0 */10 * * * *";

pub use crate::store::cross_user::Purged;

/// One maintenance pass.
#[tracing::instrument(name = "job.maintenance", skip_all)]
pub async fn purge_expired(
    pool: &PgPool,
    identification_retention: Duration,
) -> Result<Purged, sqlx::Error> {
    let purged = cross_user::purge_expired(pool, identification_retention).await?;
    tracing::info!(
        oauth_states = purged.oauth_states,
        pending_actions = purged.pending_actions,
        identification_logs = purged.identification_logs,
        "expired rows purged"
    );
    metrics::counter!("maintenance_purged_rows_total", "kind" => "oauth_states")
        .increment(purged.oauth_states as u64);
    metrics::counter!("maintenance_purged_rows_total", "kind" => "pending_actions")
        .increment(purged.pending_actions as u64);
    metrics::counter!("maintenance_purged_rows_total", "kind" => "identification_logs")
        .increment(purged.identification_logs as u64);
    Ok(purged)
}

/// Messages deleted per statement: short transactions, so a first purge
/// after enabling retention never holds locks on a large table for long.
pub const RETENTION_BATCH: i32 = 1000;

/// Deletes every message older than `retention`, [`RETENTION_BATCH`] at a
/// time; returns how many went.
#[tracing::instrument(name = "job.maintenance.retention", skip_all)]
pub async fn purge_old_messages(pool: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let mut total = 0u64;
    loop {
        let n = cross_user::purge_old_messages(pool, retention, RETENTION_BATCH).await?;
        total += n.max(0) as u64;
        if n < i64::from(RETENTION_BATCH) {
            break;
        }
    }
    if total > 0 {
        tracing::info!(messages = total, "messages past their retention purged");
    }
    metrics::counter!("maintenance_purged_rows_total", "kind" => "messages").increment(total);
    Ok(total)
}

/// Runs the deletions that are due (normally their own job does, at the
/// due time; this catches one lost or run early); returns how many people
/// were erased.
pub async fn run_due_deletions(state: &AppState) -> Result<usize, sqlx::Error> {
    let forgetter = super::erase_account::forgetter(state);
    let mut erased = 0;
    for deletion in cross_user::due_deletions(&state.db, 100).await? {
        // One that fails waits for the next pass; the others and the rest
        // of maintenance go on.
        match crate::privacy::run_due_deletion(&state.db, &forgetter, deletion).await {
            Ok(crate::privacy::DeletionOutcome::Erased { .. }) => erased += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a due account deletion failed; retried next pass")
            }
        }
    }
    Ok(erased)
}

/// The apalis-cron handler.
pub async fn on_tick(_tick: Tick, state: Data<AppState>) -> Result<(), BoxDynError> {
    purge_expired(&state.db, state.config.identification_log_retention).await?;
    if let Some(retention) = state.config.message_retention {
        purge_old_messages(&state.db, retention).await?;
    }
    run_due_deletions(&state).await?;
    // Tokens expiring within 15 minutes are refreshed before anyone needs them.
    crate::oauth::refresh::schedule_refreshes(&state.db).await?;
    if let Some(every) = state.config.knowledge.notion_sync_every {
        crate::knowledge::schedule::queue_due_syncs(&state.db, every).await?;
    }
    Ok(())
}
