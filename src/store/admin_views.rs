//! Operator views across people (`nudge admin …`): who has this number,
//! the list of primary numbers, missed reminders, the audit log. They read
//! on the owner connection, which row-level security does not limit, so
//! they take a pool, not a [`UserTx`](crate::db::UserTx); the admin
//! commands that show what they return audit each read. Anything about one
//! person runs in that person's scope instead.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{PhoneNumber, UserId};

/// Whether a person with this id exists.
pub async fn user_exists(owner: &PgPool, id: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from users where id = $1)")
        .bind(id)
        .fetch_one(owner)
        .await
}

/// Who has this number, read directly on the owner connection (the
/// application role asks `cross_user::user_id_for_phone` instead).
pub async fn owner_of_number(
    owner: &PgPool,
    phone: &PhoneNumber,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("select user_id from user_phone_numbers where e164 = $1")
        .bind(phone.as_str())
        .fetch_optional(owner)
        .await
}

/// Every person's primary number.
pub async fn primary_numbers(owner: &PgPool) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    sqlx::query_as("select user_id, e164 from user_phone_numbers where is_primary")
        .fetch_all(owner)
        .await
}

/// The people with at least one connected account (any status), by id.
pub async fn people_with_integrations(owner: &PgPool) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar("select distinct user_id from oauth_integrations order by 1")
        .fetch_all(owner)
        .await
}

/// A reminder occurrence recorded as missed (`reminder.missed` in the
/// audit log), with whose and what it was.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct MissedReminder {
    pub at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub body: Option<String>,
    pub due_at: Option<String>,
    pub late_secs: Option<f64>,
}

/// The most recent missed occurrences, newest first, at most 500.
pub async fn missed_reminders(owner: &PgPool) -> Result<Vec<MissedReminder>, sqlx::Error> {
    sqlx::query_as(
        "select a.created_at as at, a.user_id, u.display_name, r.body, a.details ->> 'due_at' as due_at, \
                (a.details ->> 'late_secs')::float8 as late_secs \
         from audit_log a left join users u on u.id = a.user_id \
         left join reminders r on r.id = (a.details ->> 'reminder_id')::uuid \
         where a.action = 'reminder.missed' order by a.created_at desc limit 500",
    )
    .fetch_all(owner)
    .await
}

/// One entry of the audit log.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub user_id: Option<Uuid>,
    pub details: serde_json::Value,
}

/// Which audit entries to read; `None` filters nothing.
#[derive(Debug, Default)]
pub struct AuditFilter<'a> {
    pub user: Option<UserId>,
    pub since: Option<DateTime<Utc>>,
    pub action: Option<&'a str>,
    pub limit: i64,
}

/// Audit entries matching `filter`, newest first.
pub async fn audit_entries(
    owner: &PgPool,
    filter: &AuditFilter<'_>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "select id, created_at, actor, action, outcome, user_id, details from audit_log \
         where ($1::uuid is null or user_id = $1) \
           and ($2::timestamptz is null or created_at >= $2) \
           and ($3::text is null or action = $3) \
         order by created_at desc, id desc limit $4",
    )
    .bind(filter.user)
    .bind(filter.since)
    .bind(filter.action)
    .bind(filter.limit)
    .fetch_all(owner)
    .await
}
