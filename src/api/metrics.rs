//! Prometheus exposition and the per-request HTTP metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    record_queue_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Counts requests and records latency by matched route (never the raw
/// path: ids in paths would explode cardinality) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Queue depth and the age of the oldest waiting job, per queue, read at
/// scrape time (cheap: a partial index covers pending jobs).
async fn record_queue_gauges(state: &AppState) {
    match crate::db::queue::backlog(&state.db).await {
        Ok(rows) => {
            for queue in crate::db::queue::QUEUES {
                let (depth, age) = rows
                    .iter()
                    .find(|b| b.queue == queue)
                    .map(|b| (b.waiting as f64, b.oldest_secs.unwrap_or(0.0).max(0.0)))
                    .unwrap_or((0.0, 0.0));
                metrics::gauge!("jobs_queue_depth", "queue" => queue).set(depth);
                metrics::gauge!("jobs_oldest_age_seconds", "queue" => queue).set(age);
            }
        }
        Err(e) => tracing::warn!(error = %e, "queue gauges unavailable"),
    }
}
