//! Everything that belongs to one person: as one JSON document (export),
//! or gone (erase). [`PERSON_TABLES`] names every per-person table; a test
//! compares it with the catalog, so a new table cannot be forgotten.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::{StoreError, UserId};
use crate::db::UserTx;

/// Version of the export document's shape; raised when it changes.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// Every table holding a person's rows (`users` by `id`, the rest by
/// `user_id`), in the order an export lists them.
pub const PERSON_TABLES: &[&str] = &[
    "users",
    "user_phone_numbers",
    "messages",
    "reminders",
    "tasks",
    "goals",
    "list_items",
    "expenses",
    "memories",
    "conversation_summaries",
    "pending_actions",
    "oauth_integrations",
    "oauth_tokens",
    "oauth_states",
    "oauth_connect_links",
    "sms_usage_logs",
    "llm_usage",
    "user_identification_logs",
    "audit_log",
    "turn_leases",
    "agent_steps",
    "knowledge_sources",
    "knowledge_documents",
    "knowledge_chunks",
    "knowledge_runs",
];

/// Columns never exported, whatever the table: sealed secrets and the
/// hashes that stand for them.
const WITHHELD_SUFFIXES: &str = "(_ciphertext|_nonce|_hash)$";

fn owner_column(table: &str) -> &'static str {
    if table == "users" { "id" } else { "user_id" }
}

/// The person's rows, table by table, in the person's scope (RLS applies
/// and every query names them), secrets withheld.
pub async fn export(tx: &mut UserTx) -> Result<Value, StoreError> {
    let user = tx.uuid();
    let mut tables = serde_json::Map::new();
    for table in PERSON_TABLES {
        // Table and column names come from the constant list above, never
        // from input.
        let rows: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select coalesce(jsonb_agg((select jsonb_object_agg(k, v) from jsonb_each(to_jsonb(t)) e(k, v) \
                                        where k !~ '{WITHHELD_SUFFIXES}')), '[]'::jsonb) \
             from {table} t where {owner} = $1",
            owner = owner_column(table)
        )))
        .bind(user)
        .fetch_one(tx.conn())
        .await?;
        tables.insert((*table).to_string(), rows);
    }
    Ok(json!({
        "schema": "nudge.person-export",
        "schema_version": EXPORT_SCHEMA_VERSION,
        "exported_at": Utc::now(),
        "user_id": user,
        "tables": tables,
    }))
}

/// What an erase removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    pub person: bool,
    pub jobs: u64,
    pub identification_logs: u64,
}

/// Removes the person and every row that mentions them, in one
/// transaction on the owner connection (cross-table and cross-queue by
/// nature, so the operator command that calls it is audited): their rows
/// (by the foreign keys from `users`, audit entries about them first since
/// those only lose their link), their jobs in `apalis.jobs`, and the
/// identification log of their numbers, including texts from before the
/// numbers were theirs. Idempotent: run again, it removes nothing more.
pub async fn erase(owner: &mut PgConnection, user: UserId) -> Result<Erased, StoreError> {
    let phones: Vec<String> =
        sqlx::query_scalar("select e164 from user_phone_numbers where user_id = $1")
            .bind(user)
            .fetch_all(&mut *owner)
            .await?;
    sqlx::query("delete from audit_log where user_id = $1")
        .bind(user)
        .execute(&mut *owner)
        .await?;
    let identification_logs = sqlx::query(
        "delete from user_identification_logs where user_id = $1 or phone_e164 = any($2)",
    )
    .bind(user)
    .bind(&phones)
    .execute(&mut *owner)
    .await?
    .rows_affected();
    let person = sqlx::query("delete from users where id = $1")
        .bind(user)
        .execute(&mut *owner)
        .await?
        .rows_affected()
        > 0;
    let jobs = sqlx::query(
        "delete from apalis.jobs where convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $1 \
            or convert_from(job, 'UTF8')::jsonb ->> 'phone' = any($2)",
    )
    .bind(user.to_string())
    .bind(&phones)
    .execute(&mut *owner)
    .await?
    .rows_affected();
    Ok(Erased {
        person,
        jobs,
        identification_logs,
    })
}
