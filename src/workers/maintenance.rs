//! Every 10 minutes: delete expired OAuth states and pending actions, and
//! identification logs past their retention; schedule the refresh of OAuth
//! tokens that expire within 15 minutes. Cross-user by nature, so each
//! step calls one narrow `SECURITY DEFINER` function.

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

/// The apalis-cron handler.
pub async fn on_tick(_tick: Tick, state: Data<AppState>) -> Result<(), BoxDynError> {
    purge_expired(&state.db, state.config.identification_log_retention).await?;
    // Tokens expiring within 15 minutes are refreshed before anyone needs them.
    crate::oauth::refresh::schedule_refreshes(&state.db).await?;
    Ok(())
}
