//! The conversation as stored: every inbound message and every reply.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use super::message_status::{Direction, MessageStatus};
use super::users::UserStatus;
use crate::db::UserTx;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: Uuid,
    pub direction: Direction,
    pub body: String,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
}

impl StoredMessage {
    /// A message typed at the operator console (`nudge admin chat`): stored
    /// and answered like a text, but on the `console` channel, so neither
    /// it nor its reply is ever sent by SMS or picked up by the workers.
    pub async fn insert_console(tx: &mut UserTx, body: &str) -> Result<StoredMessage, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into messages (user_id, direction, body, status, channel) \
             values ($1, 'inbound', $2, 'received', 'console') \
             returning id, direction, body, status, created_at",
        )
        .bind(user)
        .bind(body)
        .fetch_one(tx.conn())
        .await?)
    }

    /// The last `n` messages, oldest first, strictly before `before`.
    pub async fn recent(
        tx: &mut UserTx,
        before: DateTime<Utc>,
        n: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let user = tx.uuid();
        let mut rows: Vec<StoredMessage> = sqlx::query_as(
            "select id, direction, body, status, created_at from messages \
             where user_id = $3 and created_at < $1 order by created_at desc, id desc limit $2",
        )
        .bind(before)
        .bind(n)
        .bind(user)
        .fetch_all(tx.conn())
        .await?;
        rows.reverse();
        Ok(rows)
    }

    /// Messages newer than `after` (all when `None`), oldest first.
    pub async fn since(
        tx: &mut UserTx,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, direction, body, status, created_at from messages \
             where user_id = $2 and created_at > coalesce($1::timestamptz, '-infinity') \
             order by created_at, id",
        )
        .bind(after)
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }
}

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

/// The SMS view of a message: what delivery and status callbacks need.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SmsMessage {
    pub id: Uuid,
    pub direction: Direction,
    pub body: String,
    pub status: MessageStatus,
    pub provider_message_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub in_reply_to: Option<Uuid>,
    pub media: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

macro_rules! sms_columns {
    () => {
        "id, direction, body, status, provider_message_id, idempotency_key, in_reply_to, media, created_at"
    };
}

impl SmsMessage {
    /// Stores an inbound SMS; `None` when this provider id was already
    /// stored (a retried webhook).
    pub async fn insert_inbound(
        tx: &mut UserTx,
        body: &str,
        phone: &str,
        provider_message_id: &str,
        media: &serde_json::Value,
        status: MessageStatus,
    ) -> Result<Option<SmsMessage>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "insert into messages (user_id, direction, body, phone_e164, provider_message_id, media, status) \
             values ($1, 'inbound', $2, $3, $4, $5, $6) on conflict (provider_message_id) do nothing returning ",
            sms_columns!()
        ))
        .bind(user)
        .bind(body)
        .bind(phone)
        .bind(provider_message_id)
        .bind(media)
        .bind(status)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Stores an outbound message once per idempotency key; returns the
    /// stored one (new or existing).
    pub async fn insert_outbound(
        tx: &mut UserTx,
        body: &str,
        idempotency_key: &str,
        in_reply_to: Option<Uuid>,
    ) -> Result<SmsMessage, StoreError> {
        let user = tx.uuid();
        let inserted: Option<SmsMessage> = sqlx::query_as(concat!(
            "insert into messages (user_id, direction, body, status, idempotency_key, in_reply_to) \
             values ($1, 'outbound', $2, 'generated', $3, $4) on conflict (idempotency_key) do nothing returning ",
            sms_columns!()
        ))
        .bind(user)
        .bind(body)
        .bind(idempotency_key)
        .bind(in_reply_to)
        .fetch_optional(tx.conn())
        .await?;
        match inserted {
            Some(m) => Ok(m),
            None => SmsMessage::by_idempotency_key(tx, idempotency_key)
                .await?
                .ok_or(StoreError::NotFound),
        }
    }

    pub async fn by_idempotency_key(
        tx: &mut UserTx,
        key: &str,
    ) -> Result<Option<SmsMessage>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            sms_columns!(),
            " from messages where user_id = $2 and idempotency_key = $1"
        ))
        .bind(key)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }

    pub async fn get(tx: &mut UserTx, id: Uuid) -> Result<SmsMessage, StoreError> {
        let user = tx.uuid();
        sqlx::query_as(concat!(
            "select ",
            sms_columns!(),
            " from messages where user_id = $2 and id = $1"
        ))
        .bind(id)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)
    }

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

    /// The oldest inbound message still waiting for an answer.
    pub async fn oldest_unanswered(tx: &mut UserTx) -> Result<Option<SmsMessage>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            sms_columns!(),
            " from messages where user_id = $1 and direction = 'inbound' and status = 'received' \
             and channel = 'sms' order by created_at, id limit 1"
        ))
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Replies stored but not yet handed to the provider, oldest first.
    /// (Reminders and fixed texts have delivery jobs of their own.)
    pub async fn unsent_replies(tx: &mut UserTx) -> Result<Vec<SmsMessage>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            sms_columns!(),
            " from messages where user_id = $1 and direction = 'outbound' \
             and status in ('generated', 'sending') and channel = 'sms' \
             and idempotency_key like 'reply:%' order by created_at, id"
        ))
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn set_status(
        tx: &mut UserTx,
        id: Uuid,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update messages set status = $2, updated_at = now() where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
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

    /// A message kept while its sender was over the rate limit becomes an
    /// ordinary unanswered message when its delayed turn comes.
    pub async fn release_rate_limited(tx: &mut UserTx, id: Uuid) -> Result<bool, StoreError> {
        let user = tx.uuid();
        let released = sqlx::query(
            "update messages set status = 'received', updated_at = now() \
             where user_id = $1 and id = $2 and direction = 'inbound' and status = 'rate_limited'",
        )
        .bind(user)
        .bind(id)
        .execute(tx.conn())
        .await?;
        Ok(released.rows_affected() > 0)
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

    /// A status callback: applied only when it moves the message forward.
    pub async fn apply_callback(
        tx: &mut UserTx,
        provider_message_id: &str,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<bool, StoreError> {
        let user = tx.uuid();
        let current: Option<(Uuid, MessageStatus)> = sqlx::query_as(
            "select id, status from messages where user_id = $2 and provider_message_id = $1 for update",
        )
        .bind(provider_message_id)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?;
        let Some((id, current)) = current else {
            return Err(StoreError::NotFound);
        };
        if status.rank() <= current.rank() {
            return Ok(false);
        }
        sqlx::query(
            "update messages set status = $2, error_code = coalesce($3, error_code), updated_at = now() \
             where user_id = $4 and id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error_code)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(true)
    }
}

impl StoredMessage {
    /// Stores the reply to `inbound_id` and marks the inbound answered, in
    /// one statement. The reply's idempotency key (`reply:<inbound id>`)
    /// makes a second reply to the same message impossible.
    pub async fn store_reply(
        tx: &mut UserTx,
        inbound_id: Uuid,
        body: &str,
    ) -> Result<StoredMessage, StoreError> {
        let user = tx.uuid();
        let inserted: Option<StoredMessage> = sqlx::query_as(
            "with answered as ( \
                 update messages set status = 'answered', updated_at = now() \
                  where user_id = $1 and id = $2 and direction = 'inbound' and status = 'received') \
             insert into messages (user_id, direction, body, status, idempotency_key, in_reply_to, channel) \
             select $1, 'outbound', $3, 'generated', 'reply:' || $2::text, $2, m.channel \
               from messages m where m.user_id = $1 and m.id = $2 and m.direction = 'inbound' \
             on conflict (idempotency_key) do nothing \
             returning id, direction, body, status, created_at",
        )
        .bind(user)
        .bind(inbound_id)
        .bind(body)
        .fetch_optional(tx.conn())
        .await?;
        match inserted {
            Some(m) => Ok(m),
            // Already answered, or not this person's message at all.
            None => sqlx::query_as(
                "select id, direction, body, status, created_at from messages \
                 where user_id = $2 and idempotency_key = 'reply:' || $1::text",
            )
            .bind(inbound_id)
            .bind(user)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound),
        }
    }
}
