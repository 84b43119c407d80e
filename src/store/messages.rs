//! The conversation as stored: every inbound message and every reply.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredMessage {
    pub id: Uuid,
    pub direction: String,
    pub body: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl StoredMessage {
    pub async fn insert(
        tx: &mut UserTx,
        direction: Direction,
        body: &str,
        status: &str,
        in_reply_to: Option<Uuid>,
    ) -> Result<StoredMessage, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into messages (user_id, direction, body, status, in_reply_to) \
             values ($1, $2, $3, $4, $5) returning id, direction, body, status, created_at",
        )
        .bind(user)
        .bind(direction.as_str())
        .bind(body)
        .bind(status)
        .bind(in_reply_to)
        .fetch_one(tx.conn())
        .await?)
    }

    /// The last `n` messages, oldest first, strictly before `before`.
    pub async fn recent(
        tx: &mut UserTx,
        before: DateTime<Utc>,
        n: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut rows: Vec<StoredMessage> = sqlx::query_as(
            "select id, direction, body, status, created_at from messages \
             where created_at < $1 order by created_at desc, id desc limit $2",
        )
        .bind(before)
        .bind(n)
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
        Ok(sqlx::query_as(
            "select id, direction, body, status, created_at from messages \
             where created_at > coalesce($1::timestamptz, '-infinity') order by created_at, id",
        )
        .bind(after)
        .fetch_all(tx.conn())
        .await?)
    }
}

/// The rolling summary of older turns.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConversationSummary {
    pub summary: String,
    pub covers_until: DateTime<Utc>,
}

impl ConversationSummary {
    pub async fn latest(tx: &mut UserTx) -> Result<Option<ConversationSummary>, StoreError> {
        Ok(sqlx::query_as(
            "select summary, covers_until from conversation_summaries order by covers_until desc limit 1",
        )
        .fetch_optional(tx.conn())
        .await?)
    }

    pub async fn save(
        tx: &mut UserTx,
        summary: &str,
        covers_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query("insert into conversation_summaries (user_id, summary, covers_until) values ($1, $2, $3)")
            .bind(user)
            .bind(summary)
            .bind(covers_until)
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}
