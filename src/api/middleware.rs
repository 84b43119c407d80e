//! The middleware stack every public route shares: request ids, tracing
//! spans named by route, metrics, panics turned into 500s.

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn apply(routes: Router<AppState>) -> Router<AppState> {
    routes.layer(
        ServiceBuilder::new()
            // Outermost first: the id exists before the span is created, so
            // every log line of the request carries it.
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::new())
            .layer(axum::middleware::from_fn(super::metrics::track)),
    )
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "http_request",
        method = %request.method(),
        route,
        request_id,
    )
}
