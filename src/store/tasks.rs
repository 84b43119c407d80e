//! Tasks and goals: things to do, and longer aims with progress notes.

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

    pub async fn open(tx: &mut UserTx) -> Result<Vec<Task>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, title, status, created_at from tasks where user_id = $1 and status = 'open' \
             order by created_at, id",
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
