//! `nudge admin audit`: reads the audit log, newest first — who (actor),
//! what (action), about whom (user), when, and with what outcome. Across
//! people, so it reads as the owner role, and the reading is itself
//! audited. `--json` (global) prints the entries for scripts.

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::store::admin_views::{self, AuditFilter};

#[derive(Debug, Args)]
pub struct AuditCommand {
    /// Only entries about this person (id or phone number).
    #[arg(long)]
    user: Option<String>,
    /// Only entries at or after this instant (RFC 3339, e.g. 2026-11-29T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Only this action (e.g. user.export, reminder.missed).
    #[arg(long)]
    action: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

pub async fn execute(op: &Operator, command: AuditCommand) -> Result<Rendered, AdminError> {
    let user = match &command.user {
        Some(reference) => Some(resolve_user(&op.pool, reference).await?),
        None => None,
    };
    let since = command
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    AdminError::Refused(format!(
                        "--since must be RFC 3339, e.g. 2026-11-29T00:00:00Z, not '{s}'"
                    ))
                })
        })
        .transpose()?;
    if !(1..=10_000).contains(&command.limit) {
        return Err(AdminError::Refused("--limit must be 1 to 10000".into()));
    }
    let filter = AuditFilter {
        user,
        since,
        action: command.action.as_deref(),
        limit: command.limit,
    };
    let entries = admin_views::audit_entries(&op.pool, &filter).await?;
    op.audit_view(
        "audit.read",
        json!({ "user": user, "action": command.action, "count": entries.len() }),
    )
    .await?;
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.created_at.to_rfc3339(),
                e.actor.clone(),
                e.action.clone(),
                e.outcome.clone(),
                e.user_id
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "-".into()),
                e.details.to_string().chars().take(60).collect(),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!(entries),
        vec!["TIME", "ACTOR", "ACTION", "OUTCOME", "USER", "DETAILS"],
        rows,
    ))
}
