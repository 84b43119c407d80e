//! A deletion the person asked for by text: one row per person, due after
//! the grace period, gone when they cancel (or when they are erased with
//! it). The erase itself is `person_data::erase` / the deletion job.
//!
//! Every query names its person (`where user_id = $1`, bound from the
//! [`UserTx`]) on top of row-level security.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;

/// A pending deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountDeletion {
    pub id: Uuid,
    pub due_at: DateTime<Utc>,
}

/// The person's pending deletion, if any.
pub async fn pending(tx: &mut UserTx) -> Result<Option<AccountDeletion>, StoreError> {
    Ok(
        sqlx::query_as("select id, due_at from account_deletions where user_id = $1")
            .bind(tx.uuid())
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Schedules the person's deletion at `due_at`. Asking again while one is
/// pending keeps the one already scheduled: `(deletion, false)`.
pub async fn schedule(
    tx: &mut UserTx,
    due_at: DateTime<Utc>,
) -> Result<(AccountDeletion, bool), StoreError> {
    let inserted: Option<AccountDeletion> = sqlx::query_as(
        "insert into account_deletions (user_id, due_at) values ($1, $2) \
         on conflict (user_id) do nothing returning id, due_at",
    )
    .bind(tx.uuid())
    .bind(due_at)
    .fetch_optional(tx.conn())
    .await?;
    match inserted {
        Some(d) => Ok((d, true)),
        None => pending(tx)
            .await?
            .map(|d| (d, false))
            .ok_or(StoreError::NotFound),
    }
}

/// Cancels the person's pending deletion; true when there was one.
pub async fn cancel(tx: &mut UserTx) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("delete from account_deletions where user_id = $1")
            .bind(tx.uuid())
            .execute(tx.conn())
            .await?
            .rows_affected()
            > 0,
    )
}

/// True while a text to the person is stored but not yet handed to the
/// provider: an erase waits a little for their goodbye to leave.
pub async fn texts_on_their_way(tx: &mut UserTx) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from messages where user_id = $1 and direction = 'outbound' \
             and status in ('generated', 'sending'))",
    )
    .bind(tx.uuid())
    .fetch_one(tx.conn())
    .await?)
}
