//! Every 10 minutes: delete expired OAuth states and pending actions, and
//! identification logs past their retention; schedule the refresh of OAuth
//! tokens that expire within 15 minutes. Cross-user by nature, so each
//! step calls one narrow `SECURITY DEFINER` function.

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use sqlx::PgPool;

use crate::app::AppState;

/// Seconds first (cron 0.17 syntax): at second 0 of every 10th minute.
pub const SCHEDULE: &str = "0 */10 * * * *";

/// Rows removed by one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Purged {
    pub oauth_states: i64,
    pub pending_actions: i64,
    pub identification_logs: i64,
}

/// One maintenance pass.
#[tracing::instrument(name = "job.maintenance", skip_all)]
pub async fn purge_expired(
    pool: &PgPool,
    identification_retention: Duration,
) -> Result<Purged, sqlx::Error> {
    let retention_secs = identification_retention.as_secs_f64();
    let purged: Purged = sqlx::query_as(
        "select oauth_states, pending_actions, identification_logs \
         from nudge_purge_expired(make_interval(secs => $1))",
    )
    .bind(retention_secs)
    .fetch_one(pool)
    .await?;
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

/// The apalis-cron handler.
pub async fn on_tick(_tick: Tick, state: Data<AppState>) -> Result<(), BoxDynError> {
    purge_expired(&state.db, state.config.identification_log_retention).await?;
    // Tokens expiring within 15 minutes are refreshed before anyone needs them.
    crate::oauth::refresh::schedule_refreshes(&state.db).await?;
    Ok(())
}
