//! Tasks and goals: things to do, and longer aims with progress notes.
//!
//! Open tasks roll forward quietly: nothing is ever "overdue". One moved
//! to a day (`due_at`) comes first in that day's texts; one untouched for
//! a while is offered for archiving, and an archived task leaves every
//! list.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::StoreError;
use super::reminders::like_all_words;
use crate::db::UserTx;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl Task {
    pub async fn add(tx: &mut UserTx, title: &str) -> Result<Task, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into tasks (user_id, title) values ($1, $2) returning id, title, status, created_at",
        )
        .bind(user)
        .bind(title)
        .fetch_one(tx.conn())
        .await?)
    }

    /// Open tasks: the ones moved to a day first (earliest day first),
    /// then the rest oldest first.
    pub async fn open(tx: &mut UserTx) -> Result<Vec<Task>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, created_at from tasks where user_id = $1 and status = 'open' \
             order by due_at nulls last, created_at, id",
        )
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Open tasks matching an id or every word of a query.
    pub async fn find_open(
        tx: &mut UserTx,
        id: Option<Uuid>,
        query: &str,
    ) -> Result<Vec<Task>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, created_at from tasks \
             where user_id = $3 and status = 'open' and (id = $1 or ($1 is null and title ilike all($2))) \
             order by created_at",
        )
        .bind(id)
        .bind(like_all_words(query))
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Tasks done in `[from, to)`.
    pub async fn done_between(
        tx: &mut UserTx,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_scalar(
            "select count(*) from tasks where user_id = $1 and status = 'done' \
             and completed_at >= $2 and completed_at < $3",
        )
        .bind(user)
        .bind(from)
        .bind(to)
        .fetch_one(tx.conn())
        .await?)
    }

    /// The oldest open task nobody touched (nor offered for archiving)
    /// since `before`.
    pub async fn untouched_since(
        tx: &mut UserTx,
        before: DateTime<Utc>,
    ) -> Result<Option<Task>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, created_at from tasks where user_id = $1 and status = 'open' \
             and greatest(touched_at, archive_offered_at) < $2 order by touched_at, created_at, id limit 1",
        )
        .bind(user)
        .bind(before)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The first open task not already moved to `tomorrow` or later.
    pub async fn first_to_move(
        tx: &mut UserTx,
        tomorrow: DateTime<Utc>,
    ) -> Result<Option<Task>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, created_at from tasks where user_id = $1 and status = 'open' \
             and (due_at is null or due_at < $2) order by due_at nulls last, created_at, id limit 1",
        )
        .bind(user)
        .bind(tomorrow)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Records that the task was offered for archiving now.
    pub async fn mark_archive_offered(
        tx: &mut UserTx,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("update tasks set archive_offered_at = $3 where user_id = $1 and id = $2")
            .bind(tx.uuid())
            .bind(id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// Moves an open task to the day starting at `day_start`; `None` when
    /// it is no longer open.
    pub async fn move_to(
        tx: &mut UserTx,
        id: Uuid,
        day_start: DateTime<Utc>,
    ) -> Result<Option<Task>, StoreError> {
        Ok(sqlx::query_as(
            "update tasks set due_at = $3, touched_at = now() \
             where user_id = $1 and id = $2 and status = 'open' \
             returning id, title, status, created_at",
        )
        .bind(tx.uuid())
        .bind(id)
        .bind(day_start)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Archives an open task: it leaves every list. `None` when it is no
    /// longer open.
    pub async fn archive(tx: &mut UserTx, id: Uuid) -> Result<Option<Task>, StoreError> {
        Ok(sqlx::query_as(
            "update tasks set status = 'archived', archived_at = now() \
             where user_id = $1 and id = $2 and status = 'open' \
             returning id, title, status, created_at",
        )
        .bind(tx.uuid())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
    }

    pub async fn complete(tx: &mut UserTx, id: Uuid) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update tasks set status = 'done', completed_at = now() where user_id = $2 and id = $1",
        )
        .bind(id)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Goal {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    pub progress: Value,
    pub created_at: DateTime<Utc>,
}

impl Goal {
    pub async fn add(tx: &mut UserTx, title: &str) -> Result<Goal, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into goals (user_id, title) values ($1, $2) \
             returning id, title, status, progress, created_at",
        )
        .bind(user)
        .bind(title)
        .fetch_one(tx.conn())
        .await?)
    }

    pub async fn active(tx: &mut UserTx) -> Result<Vec<Goal>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, progress, created_at from goals \
             where user_id = $1 and status = 'active' order by created_at, id",
        )
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn find_active(
        tx: &mut UserTx,
        id: Option<Uuid>,
        query: &str,
    ) -> Result<Vec<Goal>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, progress, created_at from goals \
             where user_id = $3 and status = 'active' and (id = $1 or ($1 is null and title ilike all($2))) \
             order by created_at",
        )
        .bind(id)
        .bind(like_all_words(query))
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn add_progress(tx: &mut UserTx, id: Uuid, note: &str) -> Result<(), StoreError> {
        sqlx::query(
            "update goals set progress = progress || jsonb_build_array(jsonb_build_object('note', $2::text, 'at', now())), \
             updated_at = now() where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(note)
        .bind(tx.uuid())
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}
