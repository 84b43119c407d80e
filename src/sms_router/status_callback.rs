//! `POST /twilio/status`: status callbacks move an outbound message forward,
//! never back, and act on carrier error codes (see
//! [`super::carrier_errors`]) exactly once.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::carrier_errors;
use super::webhook::{WebhookState, check_signature, form_params, param};
use crate::db::UserTx;
use crate::error::AppError;
use crate::store::{MessageStatus, SmsMessage, cross_user};

#[tracing::instrument(name = "twilio.status", skip_all)]
pub async fn status(
    State(state): State<WebhookState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = form_params(&body);
    check_signature(&state, &uri, &headers, &params)?;
    let sid = param(&params, "MessageSid")
        .or_else(|| param(&params, "SmsSid"))
        .ok_or_else(|| AppError::BadRequest("MessageSid is missing".into()))?;
    let Ok(new_status) = param(&params, "MessageStatus")
        .or_else(|| param(&params, "SmsStatus"))
        .ok_or_else(|| AppError::BadRequest("MessageStatus is missing".into()))?
        .parse::<MessageStatus>()
    else {
        // A status Twilio added after this code: nothing to move, and
        // Twilio needs no retry.
        metrics::counter!("sms_status_callbacks_total", "outcome" => "unknown_status").increment(1);
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let error_code = param(&params, "ErrorCode").filter(|c| !c.is_empty());

    let to = param(&params, "To");
    // Applied once whatever the runs: `apply_callback` moves a status only
    // forward, and the carrier action goes with the move.
    crate::error::reconnecting(|| apply_status(&state, sid, new_status, error_code, to)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn apply_status(
    state: &WebhookState,
    sid: &str,
    new_status: MessageStatus,
    error_code: Option<&str>,
    to: Option<&str>,
) -> Result<(), AppError> {
    let user = cross_user::user_id_for_provider_message(&state.db, sid).await?;
    let Some(user) = user else {
        // Not ours (or not stored yet): Twilio needs no retry.
        metrics::counter!("sms_status_callbacks_total", "outcome" => "unknown").increment(1);
        return Ok(());
    };
    let mut tx = UserTx::begin(&state.db, user).await?;
    let applied = SmsMessage::apply_callback(&mut tx, sid, new_status, error_code).await?;
    // Acted on once: a repeated or late callback is not applied again.
    if applied && let Some(code) = error_code {
        carrier_errors::act_on(&mut tx, to, code, "status_callback").await?;
    }
    tx.commit().await?;
    metrics::counter!("sms_outbound_status_total", "status" => new_status.as_str(), "applied" => applied.to_string())
        .increment(1);
    Ok(())
}
