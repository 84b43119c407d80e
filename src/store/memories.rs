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

    /// A fact that updates one told before ("my new gate code is 4411"):
    /// the earlier fact about `about` ("gate code") is rewritten in place
    /// and its old text returned. The earlier fact is the one holding every
    /// word of `about`; when several do, the one holding the words as a
    /// phrase; when that still leaves several (or none), nothing is
    /// guessed and the fact is kept as a new one.
    pub async fn replace(
        tx: &mut UserTx,
        about: &str,
        content: &str,
        language: Locale,
    ) -> Result<(Memory, Option<String>), StoreError> {
        let words = search_words(about);
        let mut found: Vec<Memory> = if words.is_empty() {
            Vec::new()
        } else {
            sqlx::query_as(
                "select id, content, created_at from memories, \
                   to_tsquery('english', $1) qe, to_tsquery('french', $1) qf \
                 where user_id = $2 and (search @@ qe or search @@ qf) \
                 order by created_at desc limit 20",
            )
            .bind(words.join(" & "))
            .bind(tx.uuid())
            .fetch_all(tx.conn())
            .await?
        };
        if found.len() > 1 {
            let phrase = words.join(" ");
            found.retain(|m| m.content.to_lowercase().contains(&phrase));
        }
        let [old] = found.as_slice() else {
            return Ok((Self::remember(tx, content, language).await?, None));
        };
        let updated: Memory = sqlx::query_as(
            "update memories set content = $3, language = $4, created_at = now() \
             where user_id = $1 and id = $2 returning id, content, created_at",
        )
        .bind(tx.uuid())
        .bind(old.id)
        .bind(content)
        .bind(language.as_str())
        .fetch_one(tx.conn())
        .await?;
        Ok((updated, Some(old.content.clone())))
    }

    /// Memories sharing any word with `query`, best match then newest first.
    pub async fn recall(
        tx: &mut UserTx,
        query: &str,
        limit: i64,
    ) -> Result<Vec<Memory>, StoreError> {
        Ok(Self::recall_ranked(tx, query, limit)
            .await?
            .into_iter()
            .map(|(m, _)| m)
            .collect())
    }

    /// [`Memory::recall`] with each memory's rank (higher is closer), so a
    /// caller can leave out facts that share only a word or two.
    pub async fn recall_ranked(
        tx: &mut UserTx,
        query: &str,
        limit: i64,
    ) -> Result<Vec<(Memory, f32)>, StoreError> {
        let words = search_words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // Any word may match ("locker number" finds "my locker is 42"), in
        // either language's stemming, since people mix them.
        let terms = words.join(" | ");
        let rows: Vec<(Uuid, String, DateTime<Utc>, f32)> = sqlx::query_as(
            "select id, content, created_at, \
               greatest(ts_rank(search, qe), ts_rank(search, qf)) as rank from memories, \
               to_tsquery('english', $1) qe, to_tsquery('french', $1) qf \
             where user_id = $3 and (search @@ qe or search @@ qf) \
             order by rank desc, created_at desc \
             limit $2",
        )
        .bind(terms)
        .bind(limit)
        .bind(tx.uuid())
        .fetch_all(tx.conn())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, content, created_at, rank)| {
                (
                    Memory {
                        id,
                        content,
                        created_at,
                    },
                    rank,
                )
            })
            .collect())
    }
}

/// The words of a search, lower case, as `to_tsquery` operands: letters
/// and digits only, so nothing a person types is read as query syntax.
fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}
