//! Actions waiting for the person's explicit "yes": anything that sends,
//! deletes in bulk or spends on their behalf.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PendingAction {
    pub id: Uuid,
    pub tool_name: String,
    pub arguments: Value,
    pub summary: String,
    pub short_code: String,
    pub expires_at: DateTime<Utc>,
}

impl PendingAction {
    /// Stores a new pending action; any older one still pending is cancelled,
    /// so "yes" always refers to the last question asked.
    pub async fn create(
        tx: &mut UserTx,
        tool_name: &str,
        arguments: &Value,
        summary: &str,
        short_code: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<PendingAction, StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update pending_actions set status = 'cancelled' where user_id = $1 and status = 'pending'",
        )
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(sqlx::query_as(
            "insert into pending_actions (user_id, tool_name, arguments, summary, short_code, expires_at) \
             values ($1, $2, $3, $4, $5, $6) \
             returning id, tool_name, arguments, summary, short_code, expires_at",
        )
        .bind(user)
        .bind(tool_name)
        .bind(arguments)
        .bind(summary)
        .bind(short_code)
        .bind(expires_at)
        .fetch_one(tx.conn())
        .await?)
    }

    /// The pending action still awaiting an answer at `now`, locked so two
    /// concurrent "yes" cannot both run it.
    pub async fn awaiting(
        tx: &mut UserTx,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingAction>, StoreError> {
        Ok(sqlx::query_as(
            "select id, tool_name, arguments, summary, short_code, expires_at from pending_actions \
             where user_id = $2 and status = 'pending' and expires_at > $1 \
             order by created_at desc limit 1 for update",
        )
        .bind(now)
        .bind(tx.uuid())
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Marks it done or cancelled; false when it was no longer pending.
    pub async fn resolve(tx: &mut UserTx, id: Uuid, done: bool) -> Result<bool, StoreError> {
        let status = if done { "done" } else { "cancelled" };
        Ok(sqlx::query(
            "update pending_actions set status = $2 where user_id = $3 and id = $1 and status = 'pending'",
        )
        .bind(id)
        .bind(status)
        .bind(tx.uuid())
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1)
    }
}
