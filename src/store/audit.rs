//! The audit log: who changed what, for operators and for the person.

use serde_json::Value;
use sqlx::PgConnection;

use super::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Admin,
    System,
    User,
    Agent,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Admin => "admin",
            Actor::System => "system",
            Actor::User => "user",
            Actor::Agent => "agent",
        }
    }
}

/// What came of an audited action (`audit_log.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Not allowed, or bad input (an expired link, a missing `--yes`).
    Refused,
    /// An error on our side.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// Appends one entry of an action that was refused or failed.
pub async fn record_audit_outcome(
    conn: &mut PgConnection,
    user: Option<UserId>,
    actor: Actor,
    action: &str,
    outcome: Outcome,
    details: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_log (user_id, actor, action, outcome, details) values ($1, $2, $3, $4, $5)",
    )
    .bind(user)
    .bind(actor.as_str())
    .bind(action)
    .bind(outcome.as_str())
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends one entry (outcome `ok`). Takes a connection so it joins the caller's
/// transaction: the change and its audit entry commit together.
pub async fn record_audit(
    conn: &mut PgConnection,
    user: Option<UserId>,
    actor: Actor,
    action: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into audit_log (user_id, actor, action, details) values ($1, $2, $3, $4)")
        .bind(user)
        .bind(actor.as_str())
        .bind(action)
        .bind(details)
        .execute(conn)
        .await?;
    Ok(())
}
