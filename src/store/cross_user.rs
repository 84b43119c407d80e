//! Every place per-user code crosses people, in one module. Each call is a
//! `SECURITY DEFINER` function in PostgreSQL with a fixed `search_path`
//! that returns ids or counts only (never a person's rows), granted to the
//! application role by `nudge migrate`. Why each must cross:
//!
//! - `nudge_user_id_for_phone`: a text arrives from a number; before we
//!   know whose it is there is no person to scope the query to.
//! - `nudge_user_id_for_provider_message`: a status callback names only
//!   Twilio's message sid.
//! - `nudge_log_identification`, `nudge_log_unknown_sender`: the
//!   identification log also records numbers nobody owns, and rate-limits
//!   the onboarding reply per number.
//! - `nudge_stranded_inbound`: the sweeper looks, across people, for texts
//!   that were stored but lost their job.
//! - `nudge_purge_expired`: maintenance deletes everyone's expired rows.
//! - `nudge_expiring_tokens`: the refresh scheduler looks, across people,
//!   for connected tokens about to expire.
//! - `nudge_purge_old_messages`: maintenance applies message retention.
//! - `nudge_due_notion_syncs`, `nudge_stranded_knowledge_runs`: the
//!   scheduled Notion sync and the sweeper find whose knowledge run to
//!   queue or recover.
//! - `nudge_due_deletions`, `nudge_due_deletion`, `nudge_erase_due_deletion`: the deletion job
//!   finds and erases the person of a due deletion they asked for, by the
//!   deletion's id alone (the erase crosses tables and the job queue).
//!
//! Operator views across people (`nudge admin user list`, …) read as the
//! owner role and are audited; they are in `store::admin_views`, not here.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{PhoneNumber, UserId};

/// Which person owns this number.
pub async fn user_id_for_phone(
    pool: &PgPool,
    phone: &PhoneNumber,
) -> Result<Option<UserId>, sqlx::Error> {
    let id: Option<Uuid> = sqlx::query_scalar("select nudge_user_id_for_phone($1)")
        .bind(phone.as_str())
        .fetch_one(pool)
        .await?;
    Ok(id.map(UserId))
}

/// Whose outbound message Twilio's `sid` is.
pub async fn user_id_for_provider_message(
    pool: &PgPool,
    sid: &str,
) -> Result<Option<UserId>, sqlx::Error> {
    let id: Option<Uuid> = sqlx::query_scalar("select nudge_user_id_for_provider_message($1)")
        .bind(sid)
        .fetch_one(pool)
        .await?;
    Ok(id.map(UserId))
}

/// Records how an inbound text was identified (`matched`, `unknown`,
/// `opted_out`, `disabled`).
pub async fn log_identification(
    conn: &mut PgConnection,
    phone: &PhoneNumber,
    user: Option<UserId>,
    outcome: &str,
    sid: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("select nudge_log_identification($1, $2, $3, $4)")
        .bind(phone.as_str())
        .bind(user)
        .bind(outcome)
        .bind(sid)
        .execute(conn)
        .await?;
    Ok(())
}

/// Logs a text from a number nobody owns; true when that number may get
/// the onboarding reply (at most once per `window`).
pub async fn log_unknown_sender(
    conn: &mut PgConnection,
    phone: &PhoneNumber,
    sid: &str,
    window: Duration,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select nudge_log_unknown_sender($1, $2, make_interval(secs => $3))")
        .bind(phone.as_str())
        .bind(sid)
        .bind(window.as_secs_f64())
        .fetch_one(conn)
        .await
}

/// A text stored but left without a job: its id and its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Stranded {
    pub message_id: Uuid,
    pub user_id: UserId,
}

/// Texts unanswered for longer than `older_than` with no live job, oldest
/// first, at most `limit`.
pub async fn stranded_inbound(
    pool: &PgPool,
    older_than: Duration,
    limit: i32,
) -> Result<Vec<Stranded>, sqlx::Error> {
    sqlx::query_as(
        "select message_id, user_id from nudge_stranded_inbound(make_interval(secs => $1), $2)",
    )
    .bind(older_than.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Rows removed by one purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Purged {
    pub oauth_states: i64,
    pub pending_actions: i64,
    pub identification_logs: i64,
}

/// Deletes expired OAuth states and pending actions, and identification
/// logs older than `identification_retention`.
pub async fn purge_expired(
    pool: &PgPool,
    identification_retention: Duration,
) -> Result<Purged, sqlx::Error> {
    sqlx::query_as(
        "select oauth_states, pending_actions, identification_logs \
         from nudge_purge_expired(make_interval(secs => $1))",
    )
    .bind(identification_retention.as_secs_f64())
    .fetch_one(pool)
    .await
}

/// Connected tokens with a refresh token, expiring within `within` and not
/// being refreshed right now, soonest first, at most `limit`: whose, and
/// which provider (never a token).
pub async fn expiring_tokens(
    pool: &PgPool,
    within: Duration,
    limit: i32,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "select user_id, provider from nudge_expiring_tokens(make_interval(secs => $1), $2)",
    )
    .bind(within.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Deletes at most `batch` messages older than `older_than`, oldest first;
/// returns how many went.
pub async fn purge_old_messages(
    pool: &PgPool,
    older_than: Duration,
    batch: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select nudge_purge_old_messages(make_interval(secs => $1), $2)")
        .bind(older_than.as_secs_f64())
        .bind(batch)
        .fetch_one(pool)
        .await
}

/// Deletions that are due (their ids only), oldest first, at most `limit`.
pub async fn due_deletions(pool: &PgPool, limit: i32) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select nudge_due_deletions($1)")
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// The person of a deletion that is due (and was not cancelled).
pub async fn due_deletion(pool: &PgPool, deletion: Uuid) -> Result<Option<UserId>, sqlx::Error> {
    let id: Option<Uuid> = sqlx::query_scalar("select nudge_due_deletion($1)")
        .bind(deletion)
        .fetch_one(pool)
        .await?;
    Ok(id.map(UserId))
}

/// Erases the person of a due deletion and records `details` (no personal
/// data) as the one `user.delete` audit entry. `None`: not due, or
/// cancelled meanwhile; otherwise the number of their jobs removed.
pub async fn erase_due_deletion(
    pool: &PgPool,
    deletion: Uuid,
    details: &serde_json::Value,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select nudge_erase_due_deletion($1, $2)")
        .bind(deletion)
        .bind(details)
        .fetch_one(pool)
        .await
}

/// People whose Notion is due for a scheduled sync (see migration 0018).
pub async fn due_notion_syncs(
    pool: &PgPool,
    every: Duration,
    limit: i32,
) -> Result<Vec<UserId>, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select user_id from nudge_due_notion_syncs(make_interval(secs => $1), $2)",
    )
    .bind(every.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// A live knowledge run with no job left to run it.
#[derive(Debug, sqlx::FromRow)]
pub struct StrandedRun {
    pub run_id: Uuid,
    pub user_id: Uuid,
    pub source_id: Uuid,
    /// Its job ran out of attempts (fail it) rather than vanished (resume it).
    pub exhausted: bool,
}

pub async fn stranded_knowledge_runs(
    pool: &PgPool,
    older_than: Duration,
    limit: i32,
) -> Result<Vec<StrandedRun>, sqlx::Error> {
    sqlx::query_as(
        "select run_id, user_id, source_id, exhausted \
         from nudge_stranded_knowledge_runs(make_interval(secs => $1), $2)",
    )
    .bind(older_than.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await
}
