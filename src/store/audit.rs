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

/// Appends one entry. Takes a connection so it joins the caller's
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
