//! A stored outbound message on its way out: what is checked about its
//! recipient at send time, the claim that marks it "sending" before the
//! provider is called, and the provider's answer recorded.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use super::message_status::MessageStatus;
use super::messages::SmsMessage;
use super::users::UserStatus;
use crate::db::UserTx;

/// Who gets to send an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    /// Its previous sender died mid-send: it may already have left.
    Reclaimed,
    /// Someone else is sending it.
    Busy,
}

/// A message as the provider took it (see [`SmsMessage::record_handed_over`]).
pub struct Handover<'a> {
    /// The provider's first status ("queued", "sent"…).
    pub status: MessageStatus,
    pub provider_message_id: &'a str,
    pub segments: i32,
    /// The text as sent (cut to the segment limit).
    pub body: &'a str,
    /// "gsm7" or "ucs2".
    pub encoding: &'a str,
    pub estimated_cost_micros: i64,
}

/// Who a message goes to, as checked at send time.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub status: UserStatus,
    /// The primary number; `None`: the person has none.
    pub number: Option<RecipientNumber>,
}

/// The state of the number a message goes to.
#[derive(Debug, Clone)]
pub struct RecipientNumber {
    pub e164: String,
    /// Texted STOP (or another opt-out keyword).
    pub opted_out_at: Option<DateTime<Utc>>,
    /// The carrier reported it unreachable.
    pub unreachable_at: Option<DateTime<Utc>>,
}

impl SmsMessage {
    /// An outbound message with what is checked about its recipient at
    /// send time, in one read: the person's status and their primary
    /// number's state.
    pub async fn get_for_sending(
        tx: &mut UserTx,
        id: Uuid,
    ) -> Result<(SmsMessage, Recipient), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            message: SmsMessage,
            user_status: String,
            e164: Option<String>,
            opted_out_at: Option<DateTime<Utc>>,
            unreachable_at: Option<DateTime<Utc>>,
        }
        let user = tx.uuid();
        let row: Option<Row> = sqlx::query_as(concat!(
            "select m.*, u.status as user_status, p.e164, p.opted_out_at, p.unreachable_at \
             from (select ",
            sms_columns!(),
            " from messages where user_id = $2 and id = $1) m \
             cross join (select status from users where id = $2) u \
             left join lateral (select e164, opted_out_at, unreachable_at from user_phone_numbers \
               where user_id = $2 order by is_primary desc, created_at limit 1) p on true"
        ))
        .bind(id)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let number = row.e164.map(|e164| RecipientNumber {
            e164,
            opted_out_at: row.opted_out_at,
            unreachable_at: row.unreachable_at,
        });
        Ok((
            row.message,
            Recipient {
                status: UserStatus::from_db(&row.user_status),
                number,
            },
        ))
    }

    /// Claims an outbound message for sending: only one sender wins. A
    /// message stuck in "sending" longer than `stale_after` (its sender
    /// died) may be claimed again — possibly a duplicate, so it says so.
    pub async fn claim_for_sending(
        tx: &mut UserTx,
        id: Uuid,
        body: &str,
        segments: i32,
        stale_after: std::time::Duration,
        holder: &str,
    ) -> Result<Claim, StoreError> {
        let user = tx.uuid();
        let before: Option<String> = sqlx::query_scalar(
            "with old as (select status, updated_at, claimed_by from messages where user_id = $5 and id = $1 for update) \
             update messages m set status = 'sending', body = $2, segments = $3, claimed_by = $6, updated_at = now() \
             from old where m.user_id = $5 and m.id = $1 and m.direction = 'outbound' and (old.status = 'generated' \
               or (old.status = 'sending' and (old.claimed_by = $6 \
                   or old.updated_at < now() - make_interval(secs => $4)))) \
             returning old.status",
        )
        .bind(id)
        .bind(body)
        .bind(segments)
        .bind(stale_after.as_secs_f64())
        .bind(user)
        .bind(holder)
        .fetch_optional(tx.conn())
        .await?;
        Ok(match before.as_deref() {
            Some("generated") => Claim::Claimed,
            Some(_) => Claim::Reclaimed,
            None => Claim::Busy,
        })
    }

    /// Gives a claimed message back after the provider could not take it
    /// (an outage): the next attempt claims it at once instead of waiting
    /// for the claim to go stale.
    pub async fn release_claim(tx: &mut UserTx, id: Uuid) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update messages set status = 'generated', updated_at = now() \
             where user_id = $1 and id = $2 and direction = 'outbound' and status = 'sending'",
        )
        .bind(user)
        .bind(id)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Records a message the provider took, and its usage (segments,
    /// encoding, estimated cost), in one statement.
    pub async fn record_handed_over(
        tx: &mut UserTx,
        id: Uuid,
        handover: &Handover<'_>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "with m as (update messages set status = $2, provider_message_id = $3, error_code = null, \
               segments = $4, body = $5, updated_at = now() where user_id = $6 and id = $1 returning id) \
             insert into sms_usage_logs (user_id, message_id, segments, encoding, estimated_cost_micros) \
             select $6, id, $4, $7, $8 from m",
        )
        .bind(id)
        .bind(handover.status)
        .bind(handover.provider_message_id)
        .bind(handover.segments)
        .bind(handover.body)
        .bind(user)
        .bind(handover.encoding)
        .bind(handover.estimated_cost_micros)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Records what the provider answered for an outbound message.
    pub async fn record_send(
        tx: &mut UserTx,
        id: Uuid,
        status: MessageStatus,
        provider_message_id: Option<&str>,
        error_code: Option<&str>,
        segments: Option<i32>,
        body: &str,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update messages set status = $2, provider_message_id = coalesce($3, provider_message_id), \
             error_code = $4, segments = coalesce($5, segments), body = $6, updated_at = now() \
             where user_id = $7 and id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(provider_message_id)
        .bind(error_code)
        .bind(segments)
        .bind(body)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}
