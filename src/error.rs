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

impl AppError {
    /// True when the failure was the database connection going away under
    /// the work, not the work being refused: see [`reconnecting`].
    pub fn connection_lost(&self) -> bool {
        let AppError::Internal(e) = self else {
            return false;
        };
        e.chain().any(|cause| {
            cause
                .downcast_ref::<crate::db::RedactedDbError>()
                .is_some_and(crate::db::RedactedDbError::connection_lost)
                || cause
                    .downcast_ref::<crate::store::StoreError>()
                    .is_some_and(crate::store::StoreError::connection_lost)
                || cause
                    .downcast_ref::<crate::db::queue::QueueError>()
                    .is_some_and(crate::db::queue::QueueError::connection_lost)
        })
    }
}

/// How many times a handler's work runs again after losing its connection.
const RECONNECTS: usize = 2;

/// Runs a handler's database work, and runs it again on a fresh connection
/// when the connection it had was lost (a database restart, a failover, an
/// operator's `pg_terminate_backend`). Twilio does not retry a webhook
/// answered 500, so answering 500 for our own lost connection would lose
/// the text; the work must be idempotent (the webhooks are, by
/// `MessageSid`).
pub async fn reconnecting<T, F, Fut>(mut work: F) -> Result<T, AppError>
where
    // A closure returning a future rather than an async closure: the
    // futures of async closures are not provably `Send` for axum handlers.
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let mut lost = 0;
    loop {
        match work().await {
            Err(e) if lost < RECONNECTS && e.connection_lost() => {
                lost += 1;
                metrics::counter!("db_reconnected_total").increment(1);
                tracing::warn!(error = %e, lost, "database connection lost; running the work again");
            }
            done => return done,
        }
    }
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

    fn lost() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
    }

    #[test]
    fn a_lost_connection_is_recognised_through_every_wrapper() {
        assert!(AppError::from(lost()).connection_lost());
        assert!(AppError::from(crate::store::StoreError::from(lost())).connection_lost());
        assert!(!AppError::from(sqlx::Error::PoolTimedOut).connection_lost());
        assert!(!AppError::BadRequest("From is missing".into()).connection_lost());
    }

    #[tokio::test]
    async fn work_runs_again_after_a_lost_connection_but_not_forever() {
        let mut runs = 0;
        let done = reconnecting(|| {
            runs += 1;
            let run = runs;
            async move {
                match run {
                    1 => Err(AppError::from(lost())),
                    _ => Ok(run),
                }
            }
        })
        .await;
        assert_eq!(done.unwrap(), 2);

        let mut runs = 0;
        let failed = reconnecting(|| {
            runs += 1;
            async { Err::<(), _>(AppError::from(lost())) }
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(runs, 1 + RECONNECTS);

        let mut runs = 0;
        let refused = reconnecting(|| {
            runs += 1;
            async { Err::<(), _>(AppError::from(sqlx::Error::RowNotFound)) }
        })
        .await;
        assert!(refused.is_err());
        assert_eq!(runs, 1, "a refusal is not run again");
    }

    #[tokio::test]
    async fn client_errors_carry_their_reason() {
        let resp = AppError::BadRequest("From is missing".into()).into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("From is missing"));
    }
}
