//! The application's shared state, built once per process and cloned into
//! every handler and job.

use std::sync::Arc;

use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::agent::Agent;
use crate::api::{ConnectState, ExportState};
use crate::cache::Redis;
use crate::config::Config;
use crate::oauth::OAuthService;
use crate::sms_router::outbound::Outbound;
use crate::sms_router::rate_limit::RedisLimiter;
use crate::sms_router::webhook::WebhookState;

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
    /// Limits shared across replicas; `None` without Redis.
    pub limiter: Option<RedisLimiter>,
    /// Delivery of stored outbound messages (sender, pacer, limits).
    pub outbound: Outbound,
    /// Runs conversation turns (workers only; serve never waits on a model).
    pub agent: Agent,
    /// Per-person OAuth (connect flow, vault); `None` when its keys are not set.
    pub oauth: Option<OAuthService>,
    /// One-time export links; `None` when `CONNECT_LINK_KEYS` is not set.
    pub export_links: Option<crate::privacy::ExportLinks>,
}

/// The export pages take the links and the pool.
impl FromRef<AppState> for ExportState {
    fn from_ref(state: &AppState) -> Self {
        ExportState {
            links: state.export_links.clone(),
            db: state.db.clone(),
        }
    }
}

/// The OAuth pages take only the OAuth service.
impl FromRef<AppState> for ConnectState {
    fn from_ref(state: &AppState) -> Self {
        ConnectState {
            oauth: state.oauth.clone(),
        }
    }
}

/// The webhooks take only what they need.
impl FromRef<AppState> for WebhookState {
    fn from_ref(state: &AppState) -> Self {
        WebhookState {
            config: state.config.clone(),
            db: state.db.clone(),
            limiter: state.limiter.clone(),
        }
    }
}
