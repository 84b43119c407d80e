//! The rolling summary of older turns (`agent::conversation` decides when
//! and how to fold them), and how many messages it does not yet cover.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;
use crate::db::UserTx;

/// The rolling summary of older turns.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConversationSummary {
    pub summary: String,
    pub covers_until: DateTime<Utc>,
}

impl ConversationSummary {
    pub async fn latest(tx: &mut UserTx) -> Result<Option<ConversationSummary>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select summary, covers_until from conversation_summaries where user_id = $1 \
             order by covers_until desc limit 1",
        )
        .bind(user)
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

    /// Messages stored after the latest summary's end (all of them before
    /// the first summary).
    pub async fn messages_not_covered(tx: &mut UserTx) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "select count(*) from messages where user_id = $1 and created_at > coalesce(\
               (select max(covers_until) from conversation_summaries where user_id = $1), '-infinity')",
        )
        .bind(tx.uuid())
        .fetch_one(tx.conn())
        .await?)
    }
}
