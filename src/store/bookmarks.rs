//! "What was I doing?" bookmarks: what the person was doing when they
//! stepped away, and the next step they named. Saving one schedules the
//! single gentle offer to pick it back up, in the same transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;
use crate::db::queue::{self, BookmarkOfferJob};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Bookmark {
    pub id: Uuid,
    pub doing: String,
    pub next_step: Option<String>,
    pub created_at: DateTime<Utc>,
    pub offered_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, doing, next_step, created_at, offered_at";

impl Bookmark {
    /// Saves a bookmark; with `offer_at`, the "back?" offer is scheduled then.
    pub async fn create(
        tx: &mut UserTx,
        doing: &str,
        next_step: Option<&str>,
        offer_at: Option<DateTime<Utc>>,
    ) -> Result<Bookmark, StoreError> {
        let user = tx.uuid();
        let bookmark: Bookmark = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into bookmarks (user_id, doing, next_step) values ($1, $2, $3) returning {COLUMNS}"
        )))
        .bind(user)
        .bind(doing)
        .bind(next_step)
        .fetch_one(tx.conn())
        .await?;
        if let Some(at) = offer_at {
            let job = BookmarkOfferJob {
                user_id: user,
                bookmark_id: bookmark.id,
            };
            queue::enqueue_at(tx.conn(), &job, at).await?;
        }
        Ok(bookmark)
    }

    /// The latest bookmarks, newest first.
    pub async fn latest(tx: &mut UserTx, limit: i64) -> Result<Vec<Bookmark>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from bookmarks where user_id = $1 order by created_at desc, id limit $2"
        )))
        .bind(user)
        .bind(limit)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Locks a bookmark for its offer.
    pub async fn lock(tx: &mut UserTx, id: Uuid) -> Result<Option<Bookmark>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from bookmarks where user_id = $1 and id = $2 for update"
        )))
        .bind(user)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Whether a newer bookmark exists (then only the newest is offered).
    pub async fn is_latest(tx: &mut UserTx, bookmark: &Bookmark) -> Result<bool, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_scalar(
            "select not exists (select 1 from bookmarks where user_id = $1 and created_at > $2)",
        )
        .bind(user)
        .bind(bookmark.created_at)
        .fetch_one(tx.conn())
        .await?)
    }

    pub async fn mark_offered(
        tx: &mut UserTx,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query("update bookmarks set offered_at = $3 where user_id = $1 and id = $2")
            .bind(user)
            .bind(id)
            .bind(at)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// The person is back: the latest bookmark saved after `since` and not
    /// yet closed gets its `back_at` (brb → back is recorded per task).
    pub async fn mark_back(
        tx: &mut UserTx,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Option<Bookmark>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update bookmarks set back_at = $3 where user_id = $1 and id = ( \
               select id from bookmarks where user_id = $1 and back_at is null \
                 and created_at > $2 and created_at <= $3 \
               order by created_at desc, id limit 1) \
             returning {COLUMNS}"
        )))
        .bind(user)
        .bind(since)
        .bind(at)
        .fetch_optional(tx.conn())
        .await?)
    }
}
