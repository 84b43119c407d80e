//! Error policy.
//!
//! Domain code returns typed errors (`thiserror`); `anyhow` is used only at
//! the edges (CLI commands, process start-up). HTTP handlers return
//! [`AppError`]: a caller's mistake becomes a 4xx with a reason they can act
//! on; anything else is logged with its cause chain and answered with a bare
//! 500 that reveals nothing.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or fails validation.
    #[error("{0}")]
    BadRequest(String),
    /// The caller could not prove who they are (e.g. a bad webhook signature).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// Something on our side failed; never shown to the caller.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Only the redacted form travels on: the driver's error carries the
/// failing row in its detail (see [`crate::db::redact`]).
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(crate::db::redact(&e)))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl From<crate::db::queue::QueueError> for AppError {
    fn from(e: crate::db::queue::QueueError) -> Self {
        AppError::Internal(anyhow::Error::new(e))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, reason) = match &self {
            AppError::BadRequest(r) => (StatusCode::BAD_REQUEST, r.clone()),
            AppError::Forbidden(r) => (StatusCode::FORBIDDEN, r.clone()),
            AppError::NotFound(r) => (StatusCode::NOT_FOUND, r.clone()),
            AppError::Conflict(r) => (StatusCode::CONFLICT, r.clone()),
            AppError::PayloadTooLarge(r) => (StatusCode::PAYLOAD_TOO_LARGE, r.clone()),
            AppError::TooManyRequests(r) => (StatusCode::TOO_MANY_REQUESTS, r.clone()),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_string(),
                )
            }
        };
        (status, Json(json!({ "error": reason }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_reveal_nothing() {
        let err = AppError::Internal(anyhow::anyhow!(
            "password authentication failed for nudge_app"
        ));
        let resp = err.into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("password"), "{text}");
    }

    #[tokio::test]
    async fn client_errors_carry_their_reason() {
        let resp = AppError::BadRequest("From is missing".into()).into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("From is missing"));
    }
}
