//! The conversation as stored: every inbound message and every reply.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use super::message_status::{Direction, MessageStatus};
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
