//! Named lists (shopping by default) and their items.

use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;

pub const DEFAULT_LIST: &str = "shopping";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListItem {
    pub id: Uuid,
    pub list_name: String,
    pub item: String,
}

/// Lists are named case-insensitively; "Shopping" and "shopping" are one list.
pub fn normalise_list_name(name: Option<&str>) -> String {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_LIST);
    name.to_lowercase()
}

impl ListItem {
    /// Adds items not already on the list; returns those added.
    pub async fn add(
        tx: &mut UserTx,
        list: &str,
        items: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let user = tx.uuid();
        let mut added = Vec::new();
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let inserted = sqlx::query(
                "insert into list_items (user_id, list_name, item) \
                 select $1, $2, $3 where not exists (select 1 from list_items \
                   where user_id = $1 and list_name = $2 and lower(item) = lower($3) and not done)",
            )
            .bind(user)
            .bind(list)
            .bind(item)
            .execute(tx.conn())
            .await?;
            if inserted.rows_affected() > 0 {
                added.push(item.to_string());
            }
        }
        Ok(added)
    }

    /// Removes items (case-insensitively); returns those removed.
    pub async fn remove(
        tx: &mut UserTx,
        list: &str,
        items: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let user = tx.uuid();
        let mut removed = Vec::new();
        for item in items {
            let gone: Vec<String> = sqlx::query_scalar(
                "delete from list_items where user_id = $3 and list_name = $1 and lower(item) = lower($2) \
                 returning item",
            )
            .bind(list)
            .bind(item.trim())
            .bind(user)
            .fetch_all(tx.conn())
            .await?;
            removed.extend(gone);
        }
        Ok(removed)
    }

    pub async fn show(tx: &mut UserTx, list: &str) -> Result<Vec<ListItem>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select id, list_name, item from list_items where user_id = $2 and list_name = $1 and not done \
             order by created_at, id",
        )
        .bind(list)
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn clear(tx: &mut UserTx, list: &str) -> Result<u64, StoreError> {
        let user = tx.uuid();
        Ok(
            sqlx::query("delete from list_items where user_id = $2 and list_name = $1")
                .bind(list)
                .bind(user)
                .execute(tx.conn())
                .await?
                .rows_affected(),
        )
    }
}
