//! The application's shared state, built once per process and cloned into
//! every handler and job.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::cache::Redis;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    /// Read-only after start-up.
    pub config: Arc<Config>,
    /// Application-role pool: every per-user query goes through
    /// [`UserTx`](crate::db::UserTx) on it.
    pub db: PgPool,
    /// `None` when no `REDIS_URL` is configured (development).
    pub redis: Option<Redis>,
    /// Renders the process-wide Prometheus registry.
    pub metrics: PrometheusHandle,
}
