//! HTTP: the public router (webhooks, OAuth pages, export links, health) and the metrics
//! router, which is served on its own listener so it is never public by
//! accident.

mod client_ip;
mod connect;
mod export;
mod health;
mod metrics;
mod middleware;
mod pages;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_http::limit::RequestBodyLimitLayer;

pub use client_ip::TrustedProxyIp;
pub use connect::ConnectState;
pub use export::ExportState;

use crate::app::AppState;
use crate::sms_router::{status_callback, webhook};

/// Twilio's own requests are far smaller; anything larger is not Twilio.
pub const TWILIO_BODY_LIMIT: usize = 64 * 1024;

/// The public router with every middleware applied.
pub fn router(state: AppState) -> Router {
    let twilio = Router::new()
        .route("/twilio/sms", post(webhook::inbound))
        .route("/twilio/status", post(status_callback::status))
        // 413 before any other work: the limit reads Content-Length first.
        .layer(RequestBodyLimitLayer::new(TWILIO_BODY_LIMIT))
        .layer(DefaultBodyLimit::disable());
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/connect/{token}",
            get(connect::consent).post(connect::begin),
        )
        .route("/oauth/{provider}/callback", get(connect::callback))
        .route("/export/{token}", get(export::page).post(export::download));
    // Twilio's webhooks are outside the per-IP limit: they arrive from a
    // few Twilio addresses, so a burst of people texting at once (500 in a
    // second, in bench/faults.sh) would be refused with 429, which Twilio
    // does not retry: texts lost. They are authenticated by signature (one
    // HMAC, bodies capped at 64 KiB) and limited per person in Redis.
    let routes = with_edge_limit(routes, &state).merge(twilio);
    middleware::apply(routes).with_state(state)
}

/// Per client IP, in memory: a flood from one address is refused (429)
/// before any work. X-Forwarded-For/X-Real-IP name the client only when
/// the peer is in `TRUSTED_PROXIES` (see [`TrustedProxyIp`]).
fn with_edge_limit(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    let per_second = state.config.edge_requests_per_second.max(1);
    let config = GovernorConfigBuilder::default()
        .key_extractor(TrustedProxyIp::new(&state.config.trusted_proxies))
        .period(std::time::Duration::from_secs(1) / per_second)
        .burst_size(state.config.edge_burst.max(1))
        .finish();
    let Some(config) = config else {
        tracing::error!("edge rate limit settings rejected; running without it");
        return routes;
    };
    let limiter = config.limiter().clone();
    // Forget idle addresses so the table does not grow without bound.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
        }
    });
    routes.layer(GovernorLayer::new(config))
}

/// `/metrics` and `/healthz`, on `METRICS_ADDR`: the internal listener of
/// both `serve` and `worker` (Prometheus scrapes each process there, and a
/// container healthcheck asks it).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .route("/healthz", get(health::healthz))
        .with_state(state)
}
