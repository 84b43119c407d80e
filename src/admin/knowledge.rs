//! `nudge admin knowledge sync|status|reindex|search <user>`: a person's
//! knowledge base as operators see it. Every command runs in the person's
//! scope with the application role's rights, so RLS applies.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::knowledge::notion::{WORKSPACE, request_sync};
use crate::store::knowledge::{KnowledgeSource, SourceKind, counts};
use crate::store::{Actor, KnowledgeRun, record_audit};

#[derive(Debug, Subcommand)]
pub enum KnowledgeCommand {
    /// Queue a sync of the person's Notion (joins one already queued).
    Sync {
        /// User id or one of their numbers.
        user: String,
    },
    /// Documents, chunks and the latest ingestion runs of one person.
    Status { user: String },
    /// Forget the Notion checkpoint and queue a full sync (unchanged pages
    /// are still skipped by their content hash).
    Reindex { user: String },
    /// Search one person's knowledge base as the assistant would.
    Search { user: String, query: String },
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

pub async fn execute(op: &Operator, command: KnowledgeCommand) -> Result<Rendered, AdminError> {
    match command {
        KnowledgeCommand::Sync { user } => queue(op, &user, false).await,
        KnowledgeCommand::Reindex { user } => queue(op, &user, true).await,
        KnowledgeCommand::Status { user } => {
            let id = resolve_user(&op.pool, &user).await?;
            let mut tx = op.scoped(id).await?;
            let c = counts(&mut tx).await?;
            let runs = KnowledgeRun::recent(&mut tx, 10).await?;
            tx.commit().await?;
            let rows = runs
                .iter()
                .map(|r| {
                    vec![
                        r.status.clone(),
                        r.pages_seen.to_string(),
                        r.pages_changed.to_string(),
                        r.pages_failed.to_string(),
                        r.chunks_written.to_string(),
                        r.chunks_skipped.to_string(),
                        r.requests.to_string(),
                        time(r.started_at),
                        time(r.finished_at),
                        r.error.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            if runs.is_empty() {
                return Ok(Rendered::message(
                    json!({"documents": c.documents, "chunks": c.chunks, "embedded": c.embedded, "runs": runs}),
                    format!(
                        "{} documents, {} chunks ({} embedded), no sync yet",
                        c.documents, c.chunks, c.embedded
                    ),
                ));
            }
            Ok(Rendered::table(
                json!({"documents": c.documents, "chunks": c.chunks, "embedded": c.embedded, "runs": runs}),
                vec![
                    "status", "seen", "changed", "failed", "written", "skipped", "requests",
                    "started", "finished", "error",
                ],
                rows,
            ))
        }
        KnowledgeCommand::Search { user, query } => {
            let id = resolve_user(&op.pool, &user).await?;
            let mut tx = op.scoped(id).await?;
            let found = crate::knowledge::search(&mut tx, &query, None, 5).await?;
            tx.commit().await?;
            let rows = found
                .iter()
                .map(|p| {
                    vec![
                        p.source.clone(),
                        p.title.clone(),
                        p.url.clone().unwrap_or_default(),
                        p.body.chars().take(80).collect(),
                    ]
                })
                .collect();
            Ok(Rendered::table(
                json!(found),
                vec!["source", "title", "url", "passage"],
                rows,
            ))
        }
    }
}

async fn queue(op: &Operator, user: &str, reindex: bool) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, user).await?;
    let mut tx = op.scoped(id).await?;
    if reindex {
        let sources = KnowledgeSource::of_kind(&mut tx, SourceKind::Notion).await?;
        for s in sources.iter().filter(|s| s.external_id == WORKSPACE) {
            KnowledgeSource::reset_checkpoint(&mut tx, s.id).await?;
        }
    }
    let (run, new) = request_sync(&mut tx).await?;
    let action = if reindex {
        "knowledge.reindex"
    } else {
        "knowledge.sync"
    };
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        action,
        json!({"run": run.id, "new": new}),
    )
    .await?;
    tx.commit().await?;
    let message = match new {
        true => format!("queued run {} for {id}", run.id),
        false => format!("run {} is already {} for {id}", run.id, run.status),
    };
    Ok(Rendered::message(
        json!({"run": run.id, "status": run.status, "new": new}),
        message,
    ))
}
