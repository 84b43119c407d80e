//! Long-term memory: facts the person asked us to keep, found again by
//! PostgreSQL full-text search in their language, recent ones first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Locale, StoreError};
use crate::db::UserTx;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Memory {
    pub id: Uuid,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

impl Memory {
    pub async fn remember(
        tx: &mut UserTx,
        content: &str,
        language: Locale,
    ) -> Result<Memory, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into memories (user_id, content, language) values ($1, $2, $3) \
             returning id, content, created_at",
        )
        .bind(user)
        .bind(content)
        .bind(language.as_str())
        .fetch_one(tx.conn())
        .await?)
    }

    /// Memories sharing any word with `query`, best match then newest first.
    pub async fn recall(
        tx: &mut UserTx,
        query: &str,
        limit: i64,
    ) -> Result<Vec<Memory>, StoreError> {
        let words: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // Any word may match ("locker number" finds "my locker is 42"), in
        // either language's stemming, since people mix them.
        let terms = words.join(" | ");
        Ok(sqlx::query_as(
            "select id, content, created_at from memories, \
               to_tsquery('english', $1) qe, to_tsquery('french', $1) qf \
             where user_id = $3 and (search @@ qe or search @@ qf) \
             order by greatest(ts_rank(search, qe), ts_rank(search, qf)) desc, created_at desc \
             limit $2",
        )
        .bind(terms)
        .bind(limit)
        .bind(tx.uuid())
        .fetch_all(tx.conn())
        .await?)
    }
}
