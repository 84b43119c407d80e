//! One row in every per-person table for a person: the fixtures the
//! isolation and privacy tests share, and the catalog's list of those
//! tables (`users`, and every table with a `user_id` column).

use std::collections::BTreeSet;

use nudge::store::UserId;
use sqlx::PgPool;

use super::{TestDb, create_user};

/// Tables the application may add to but never change or empty.
pub const APPEND_ONLY: &[&str] = &["audit_log"];

/// One row per user-owned table, `$1` = the user's id. A table missing here
/// fails `fixtures_cover_every_user_table`, so new tables get tested too.
pub const FIXTURES: &[(&str, &str)] = &[
    ("users", "select 1 where $1::uuid is not null"), // created by create_user
    ("user_phone_numbers", "select 1 where $1::uuid is not null"),
    (
        "user_identification_logs",
        "insert into user_identification_logs (user_id, phone_e164, outcome) values ($1, '+15145550000', 'matched')",
    ),
    (
        "messages",
        "insert into messages (user_id, direction, body) values ($1, 'inbound', 'hi')",
    ),
    (
        "sms_usage_logs",
        "insert into sms_usage_logs (user_id, segments, encoding) values ($1, 1, 'gsm7')",
    ),
    (
        "reminders",
        "insert into reminders (user_id, body, due_at, timezone) values ($1, 'x', now() + interval '1 hour', 'UTC')",
    ),
    (
        "tasks",
        "insert into tasks (user_id, title) values ($1, 't')",
    ),
    (
        "goals",
        "insert into goals (user_id, title) values ($1, 'g')",
    ),
    (
        "list_items",
        "insert into list_items (user_id, item) values ($1, 'milk')",
    ),
    (
        "expenses",
        "insert into expenses (user_id, amount_minor, currency) values ($1, 1250, 'CAD')",
    ),
    (
        "memories",
        "insert into memories (user_id, content) values ($1, 'locker is 42')",
    ),
    (
        "conversation_summaries",
        "insert into conversation_summaries (user_id, summary, covers_until) values ($1, 's', now())",
    ),
    (
        "oauth_integrations",
        "insert into oauth_integrations (user_id, provider) values ($1, 'google')",
    ),
    (
        "oauth_tokens",
        "insert into oauth_tokens (user_id, integration_id, provider, key_id, access_token_ciphertext, access_token_nonce) \
         select $1, id, 'google', 1, '\\x00', '\\x000000000000000000000000' from oauth_integrations where user_id = $1",
    ),
    (
        "oauth_states",
        "insert into oauth_states (state_hash, user_id, provider, pkce_verifier_ciphertext, pkce_verifier_nonce, key_id, expires_at) \
         values (gen_random_uuid()::text, $1, 'google', '\\x00', '\\x000000000000000000000000', 1, now() + interval '10 minutes')",
    ),
    (
        "oauth_connect_links",
        "insert into oauth_connect_links (jti, user_id, provider, expires_at) \
         values (gen_random_uuid(), $1, 'notion', now() + interval '15 minutes')",
    ),
    (
        "pending_actions",
        "insert into pending_actions (user_id, tool_name, arguments, summary, short_code, expires_at) \
         values ($1, 'reminders.cancel_all', '{}', 'cancel all', 'A1', now() + interval '10 minutes')",
    ),
    (
        "audit_log",
        "insert into audit_log (user_id, actor, action) values ($1, 'system', 'test')",
    ),
    (
        "llm_usage",
        "insert into llm_usage (user_id, provider, model, total_tokens) values ($1, 'offline', 'rules', 0)",
    ),
    (
        "turn_leases",
        "insert into turn_leases (user_id, holder, expires_at) values ($1, 'job', now())",
    ),
    (
        "account_deletions",
        "insert into account_deletions (user_id, due_at) values ($1, now() + interval '7 days')",
    ),
    (
        "agent_steps",
        "insert into agent_steps (user_id, message_id, round, kind, result) \
         select $1, id, 0, 'model', '{}' from messages where user_id = $1 limit 1",
    ),
    (
        "bookmarks",
        "insert into bookmarks (user_id, doing, next_step) values ($1, 'taxes', 'find receipt')",
    ),
    (
        "focus_sessions",
        "insert into focus_sessions (user_id, task, started_at, ends_at) \
         values ($1, 'report', now() - interval '40 minutes', now() - interval '15 minutes')",
    ),
    (
        "knowledge_sources",
        "insert into knowledge_sources (user_id, kind, external_id) values ($1, 'notes', 'notes')",
    ),
    (
        "knowledge_documents",
        "insert into knowledge_documents (user_id, source_id, external_id, title, content_hash) \
         select $1, id, 'n1', 'wifi', repeat('a', 64) from knowledge_sources where user_id = $1",
    ),
    (
        "knowledge_chunks",
        "insert into knowledge_chunks (user_id, document_id, position, body, content_hash) \
         select $1, id, 0, 'the wifi is Blue42', repeat('b', 64) from knowledge_documents where user_id = $1",
    ),
    (
        "knowledge_runs",
        "insert into knowledge_runs (user_id, source_id) select $1, id from knowledge_sources where user_id = $1",
    ),
];

pub fn owner_column(table: &str) -> &'static str {
    if table == "users" { "id" } else { "user_id" }
}

/// Tables that hold a person's rows: `users` and every table with `user_id`.
pub async fn user_tables(pool: &PgPool) -> BTreeSet<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'public' and c.relkind in ('r', 'p') \
           and (c.relname = 'users' or exists (select 1 from pg_attribute a \
                where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped))",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

pub async fn seed(db: &TestDb, n: usize) -> Vec<UserId> {
    let mut users = Vec::new();
    for i in 0..n {
        let id = create_user(db, &format!("user {i}"), &format!("+1514555{:04}", 100 + i)).await;
        for (_, sql) in FIXTURES {
            sqlx::query(*sql)
                .bind(id.0)
                .execute(&db.owner)
                .await
                .unwrap();
        }
        users.push(id);
    }
    users
}

/// Rows anywhere (every table of `public` and `apalis`, whole rows as
/// text, job payloads decoded) that mention `needle`.
pub async fn mentions(db: &TestDb, needle: &str) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables \
         where table_schema in ('public', 'apalis') and table_type = 'BASE TABLE' \
           and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (schema, table) in tables {
        let text = if (schema.as_str(), table.as_str()) == ("apalis", "jobs") {
            "convert_from(t.job, 'UTF8') || t::text"
        } else {
            "t::text"
        };
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {schema}.{table} t where strpos({text}, $1) > 0"
        )))
        .bind(needle)
        .fetch_one(&db.owner)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{schema}.{table}: {n}"));
        }
    }
    found
}
