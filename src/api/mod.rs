//! HTTP: the public router (webhooks, OAuth pages, health) and the metrics
//! router, which is served on its own listener so it is never public by
//! accident.

mod health;
mod metrics;
mod middleware;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

/// The public router with every middleware applied.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    middleware::apply(routes).with_state(state)
}

/// `/metrics` only; bind it to `METRICS_ADDR`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}
