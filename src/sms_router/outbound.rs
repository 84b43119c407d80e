//! Delivering one stored outbound message: checked against opt-outs,
//! unreachable numbers and disabled accounts at send time, cut to the
//! segment limit, recorded as "sending" before the provider is called (so
//! a retried job knows), then
//! recorded with the provider's answer, its segments and estimated cost.
//! When the provider is unavailable the claim is released and the caller's
//! job retries later: an outage delays a text, never loses it.

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use super::carrier_errors;
use super::pacing::Pacer;
use super::segments::{
    DEFAULT_SEGMENT_COST_MICROS, analyse, estimated_cost_micros, fit_to_segments,
};
use super::sender::{OutboundSms, SendError, SentSms, SmsSender};
use crate::db::UserTx;
use crate::store::nudges::{answered_since, nudged_delivery};
use crate::store::{
    Claim, Direction, Handover, MessageStatus, SmsMessage, StoreError, UserId, UserStatus,
};

/// A message "sending" for longer than this lost its sender (a crash) and
/// may be sent again — the one case where a duplicate can happen.
pub const SENDING_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

/// Idempotency-key prefix of the opt-out confirmation, the one message
/// delivered to a number that is opted out.
pub const OPT_OUT_CONFIRMATION_PREFIX: &str = "optout:";

/// Delivery as a service: what sending one stored message needs, and
/// nothing else. Held by the application state; jobs and tests take it.
#[derive(Clone)]
pub struct Outbound {
    pub db: PgPool,
    /// Twilio in production, the console in development.
    pub sender: Arc<dyn SmsSender>,
    /// Keeps outbound SMS under `max_mps` across workers.
    pub pacer: Arc<Pacer>,
    /// `SMS_MAX_SEGMENTS`: longer replies are cut to fit.
    pub max_segments: u32,
    /// `TWILIO_MAX_MPS`: messages per second across workers.
    pub max_mps: f64,
}

/// What happened to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        provider_message_id: String,
    },
    /// Not sent, by rule: opted out, disabled, no number.
    Suppressed(&'static str),
    /// Already handed to the provider earlier (a retried job).
    AlreadyDone,
    /// The provider refused it for good.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later: the claim is released, so the retry sends it.
    #[error("provider unavailable: {message}")]
    Retry {
        message: String,
        /// The provider's `Retry-After`, honoured by the job's backoff.
        retry_after: Option<std::time::Duration>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DeliveryError {
    fn from(e: sqlx::Error) -> Self {
        DeliveryError::Store(StoreError::Database(e))
    }
}

/// Delivers a message as a one-off sender (tests, tools): a claim left by a
/// killed sender is taken back only once it is stale.
pub async fn deliver(
    state: &Outbound,
    user_id: UserId,
    message_id: Uuid,
) -> Result<Delivery, DeliveryError> {
    deliver_as(state, user_id, message_id, &Uuid::new_v4().to_string()).await
}

/// Delivers a message as `holder` (a job's task id): a retry of a job
/// killed mid-send takes its own claim back at once instead of finding it
/// "busy" and giving up on the message.
#[tracing::instrument(name = "sms.deliver", skip_all, fields(message_id = %message_id))]
pub async fn deliver_as(
    state: &Outbound,
    user_id: UserId,
    message_id: Uuid,
    holder: &str,
) -> Result<Delivery, DeliveryError> {
    let mut tx = UserTx::begin(&state.db, user_id).await?;
    let prepared = prepare(&mut tx, state, message_id, holder).await?;
    tx.commit().await?;
    let prepared = match prepared {
        Prepared::Send(claimed) => claimed,
        Prepared::Settled(delivery) => return Ok(delivery),
    };
    let result = send(state, &prepared).await;
    let mut tx = UserTx::begin(&state.db, user_id).await?;
    match record(&mut tx, &prepared, result).await {
        Err(DeliveryError::Store(e)) => Err(e.into()),
        // A `Retry` has given the claim back: that too must be committed.
        recorded => {
            tx.commit().await?;
            recorded
        }
    }
}

/// A message claimed for sending, with what the provider call needs.
pub struct Outgoing {
    pub message_id: Uuid,
    to: String,
    body: String,
    segments: u32,
    encoding: &'static str,
}

/// What [`prepare`] found.
pub enum Prepared {
    /// Claimed: send it with [`send`], then [`record`] the answer.
    Send(Outgoing),
    /// Nothing to send: suppressed by rule (recorded), or already handled.
    Settled(Delivery),
}

/// The first step of a delivery, in the person's scoped transaction: the
/// send-time checks (opt-out, disabled, unreachable, acknowledged nudge),
/// then the claim that marks the message "sending" as `holder`. Commit
/// before calling the provider: a retry must know the message may be out.
pub async fn prepare(
    tx: &mut UserTx,
    state: &Outbound,
    message_id: Uuid,
    holder: &str,
) -> Result<Prepared, DeliveryError> {
    let (message, recipient) = SmsMessage::get_for_sending(tx, message_id).await?;
    if message.direction != Direction::Outbound || message.status.is_handed_over() {
        return Ok(Prepared::Settled(Delivery::AlreadyDone));
    }
    // The opt-out confirmation is the one text an opted-out number gets.
    let confirms_opt_out = message
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with(OPT_OUT_CONFIRMATION_PREFIX));
    // A nudge waiting its turn in the queue when the person answered the
    // reminder: never sent after the answer.
    let acknowledged = match message.idempotency_key.as_deref().and_then(nudged_delivery) {
        Some(delivered) => answered_since(tx, delivered).await?,
        None => false,
    };
    let suppressed = match (recipient.status, recipient.number) {
        (UserStatus::Disabled, _) => Err("disabled"),
        (_, None) => Err("no_number"),
        (_, Some(p)) if p.opted_out_at.is_some() && !confirms_opt_out => Err("opted_out"),
        // The carrier said 30003/30005/30006: reminders and replies wait
        // until the number texts in again.
        (_, Some(p)) if p.unreachable_at.is_some() => Err("unreachable"),
        (_, Some(_)) if acknowledged => Err("acknowledged"),
        (_, Some(p)) => Ok(p),
    };
    let phone = match suppressed {
        Ok(phone) => phone,
        Err(reason) => {
            SmsMessage::record_send(
                tx,
                message_id,
                MessageStatus::Suppressed,
                None,
                Some(reason),
                None,
                &message.body,
            )
            .await?;
            metrics::counter!("sms_outbound_total", "status" => "suppressed").increment(1);
            return Ok(Prepared::Settled(Delivery::Suppressed(reason)));
        }
    };
    let body = fit_to_segments(&message.body, state.max_segments);
    let info = analyse(&body);
    let segments = i32::try_from(info.segments).unwrap_or(i32::MAX);
    match SmsMessage::claim_for_sending(
        tx,
        message_id,
        &body,
        segments,
        SENDING_STALE_AFTER,
        holder,
    )
    .await?
    {
        Claim::Claimed => {}
        Claim::Reclaimed => {
            tracing::warn!("re-sending a message whose sender died mid-send; it may arrive twice");
            let kind = if message
                .idempotency_key
                .as_deref()
                .is_some_and(|k| k.starts_with("reminder:"))
            {
                "reminder"
            } else {
                "other"
            };
            metrics::counter!("sms_possible_duplicates_total", "kind" => kind).increment(1);
        }
        // Another worker is sending it right now.
        Claim::Busy => return Ok(Prepared::Settled(Delivery::AlreadyDone)),
    }
    Ok(Prepared::Send(Outgoing {
        message_id,
        to: phone.e164,
        body,
        segments: info.segments,
        encoding: info.encoding.as_str(),
    }))
}

/// The provider call, when the pacer gives this message its turn. No
/// transaction is open here.
pub async fn send(state: &Outbound, claimed: &Outgoing) -> Result<SentSms, SendError> {
    state.pacer.wait_turn(claimed.segments, state.max_mps).await;
    let sms = OutboundSms {
        to: claimed.to.clone(),
        body: claimed.body.clone(),
    };
    state.sender.send(&sms).await
}

/// The last step, in the person's scoped transaction: the provider's
/// answer recorded. An unavailable provider gives the claim back and
/// returns [`DeliveryError::Retry`]; commit either way.
pub async fn record(
    tx: &mut UserTx,
    claimed: &Outgoing,
    result: Result<SentSms, SendError>,
) -> Result<Delivery, DeliveryError> {
    let message_id = claimed.message_id;
    let segments = i32::try_from(claimed.segments).unwrap_or(i32::MAX);
    let body = &claimed.body;
    let delivery = match result {
        Ok(sent) => {
            let cost = estimated_cost_micros(claimed.segments, DEFAULT_SEGMENT_COST_MICROS);
            let handover = Handover {
                status: sent.status,
                provider_message_id: &sent.provider_message_id,
                segments,
                body,
                encoding: claimed.encoding,
                estimated_cost_micros: cost,
            };
            SmsMessage::record_handed_over(tx, message_id, &handover).await?;
            metrics::counter!("sms_segments_total").increment(u64::from(claimed.segments));
            metrics::counter!("sms_estimated_cost_micros_total").increment(cost.max(0) as u64);
            Delivery::Sent {
                provider_message_id: sent.provider_message_id,
            }
        }
        Err(SendError::Unsubscribed) => {
            carrier_errors::act_on(tx, Some(&claimed.to), "21610", "send").await?;
            SmsMessage::record_send(
                tx,
                message_id,
                MessageStatus::Failed,
                None,
                Some("21610"),
                Some(segments),
                body,
            )
            .await?;
            Delivery::Failed("recipient unsubscribed".into())
        }
        Err(SendError::Rejected { code, message }) => {
            let code = code.map(|c| c.to_string());
            if let Some(code) = &code {
                carrier_errors::act_on(tx, Some(&claimed.to), code, "send").await?;
            }
            SmsMessage::record_send(
                tx,
                message_id,
                MessageStatus::Failed,
                None,
                code.as_deref(),
                Some(segments),
                body,
            )
            .await?;
            Delivery::Failed(message)
        }
        Err(SendError::Unavailable {
            message,
            retry_after,
        }) => {
            // Not sent: give the claim back, or the retry would find it
            // "sending" and take it for done.
            SmsMessage::release_claim(tx, message_id).await?;
            metrics::counter!("sms_outbound_total", "status" => "retry").increment(1);
            return Err(DeliveryError::Retry {
                message,
                retry_after,
            });
        }
    };
    let label = match &delivery {
        Delivery::Sent { .. } => "sent",
        _ => "failed",
    };
    metrics::counter!("sms_outbound_total", "status" => label).increment(1);
    Ok(delivery)
}
