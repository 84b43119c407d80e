//! HTTP: the public router (webhooks, OAuth pages, health) and the metrics
//! router, which is served on its own listener so it is never public by
//! accident.

mod health;
mod metrics;
mod middleware;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;

use crate::app::AppState;
use crate::sms_router::webhook;

/// Twilio's own requests are far smaller; anything larger is not Twilio.
pub const TWILIO_BODY_LIMIT: usize = 64 * 1024;

/// The public router with every middleware applied.
pub fn router(state: AppState) -> Router {
    let twilio = Router::new()
        .route("/twilio/sms", post(webhook::inbound))
        .route("/twilio/status", post(webhook::status))
        // 413 before any other work: the limit reads Content-Length first.
        .layer(RequestBodyLimitLayer::new(TWILIO_BODY_LIMIT))
        .layer(DefaultBodyLimit::disable());
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(twilio);
    middleware::apply(routes).with_state(state)
}

/// `/metrics` only; bind it to `METRICS_ADDR`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}
