//! `nudge admin reminders …`: a person's upcoming occurrences in their
//! local time with the state of their nudges, and what was missed while
//! the system was down.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::store::{Reminder, User, admin_views};

#[derive(Debug, Subcommand)]
pub enum RemindersCommand {
    /// Upcoming reminders of a person, in their local time.
    List { user: String },
    /// Occurrences recorded as missed (too late to send), newest first.
    Missed,
}

pub async fn execute(op: &Operator, command: RemindersCommand) -> Result<Rendered, AdminError> {
    match command {
        RemindersCommand::List { user } => list(op, &user).await,
        RemindersCommand::Missed => missed(op).await,
    }
}

async fn list(op: &Operator, reference: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped_read(id, "reminders.list").await?;
    let user = User::current(&mut tx).await?;
    let upcoming = Reminder::upcoming_or_nudging(&mut tx, 100).await?;
    tx.commit().await?;
    let tz = user.tz();
    let rows = upcoming
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.due_at
                    .with_timezone(&tz)
                    .format("%a %Y-%m-%d %H:%M %Z")
                    .to_string(),
                r.recurrence
                    .as_ref()
                    .map(|j| j.0.describe(false))
                    .unwrap_or_else(|| "once".into()),
                r.body.clone(),
                follow_up(r),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!({"timezone": tz.name(), "reminders": upcoming}),
        vec!["ID", "NEXT (LOCAL)", "REPEATS", "TEXT", "NUDGES"],
        rows,
    ))
}

/// The state of a reminder's nudges: "2 sent, waiting", "3 sent,
/// acknowledged"; "persists" before its first delivery; "-" otherwise.
fn follow_up(r: &Reminder) -> String {
    match (r.nudge_for, r.nudge_end) {
        (Some(_), None) => format!("{} sent, waiting", r.nudges_sent),
        (Some(_), Some(end)) => format!("{} sent, {}", r.nudges_sent, end.as_str()),
        (None, _) if r.persist == Some(true) => "persists".into(),
        (None, _) => "-".into(),
    }
}

/// Across people: on the owner role, and audited.
async fn missed(op: &Operator) -> Result<Rendered, AdminError> {
    let missed = admin_views::missed_reminders(&op.pool).await?;
    op.audit_view("reminders.missed", json!({ "count": missed.len() }))
        .await?;
    let rows = missed
        .iter()
        .map(|m| {
            vec![
                m.due_at.clone().unwrap_or_default(),
                m.display_name.clone().unwrap_or_default(),
                m.body.clone().unwrap_or_default(),
                format!("{:.0} min late", m.late_secs.unwrap_or(0.0) / 60.0),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!(missed),
        vec!["DUE", "PERSON", "TEXT", "WHEN CHECKED"],
        rows,
    ))
}
