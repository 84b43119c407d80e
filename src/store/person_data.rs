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
    "account_deletions",
    "bookmarks",
    "focus_sessions",
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
        // The withheld columns are looked up once per table (an initplan),
        // then removed from each row's JSON: cheap enough for a person
        // with tens of thousands of messages (benches/privacy.rs).
        let rows: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select coalesce(jsonb_agg(to_jsonb(t) - w.columns), '[]'::jsonb) \
             from {table} t, \
                  (select coalesce(array_agg(column_name::text), '{{}}'::text[]) as columns \
                     from information_schema.columns \
                    where table_schema = 'public' and table_name = '{table}' \
                      and column_name ~ '{WITHHELD_SUFFIXES}') w \
             where {owner} = $1",
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
/// numbers were theirs. One SQL function (`nudge_erase_person`, migration
/// 0012) does it, the same one the deletion asked for by text runs.
/// Idempotent: run again, it removes nothing more.
pub async fn erase(owner: &mut PgConnection, user: UserId) -> Result<Erased, StoreError> {
    let (person, jobs, identification_logs): (bool, i64, i64) =
        sqlx::query_as("select person, jobs, identification_logs from nudge_erase_person($1)")
            .bind(user)
            .fetch_one(&mut *owner)
            .await?;
    Ok(Erased {
        person,
        jobs: jobs.max(0) as u64,
        identification_logs: identification_logs.max(0) as u64,
    })
}

/// A salted SHA-256 of a person's id, for the one audit entry an erase
/// leaves: it proves which person was erased to someone who holds the id,
/// and tells nobody else anything.
pub fn erased_audit_details(user: UserId) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let salt = uuid::Uuid::new_v4().simple().to_string();
    let hash: String = Sha256::digest(format!("{salt}{user}"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({ "user_hash": hash, "salt": salt })
}
