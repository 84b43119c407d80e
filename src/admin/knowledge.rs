//! `nudge admin knowledge sync|status|reindex|cancel|retry|search <user>`: a person's
//! knowledge base as operators see it. Every command runs in the person's
//! scope with the application role's rights, so RLS applies.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::knowledge::notion::{WORKSPACE, request_sync};
use crate::knowledge::online::{QueryEmbedder, embed_query, search_in};
use crate::store::knowledge::{KnowledgeSource, SourceKind, counts};
use crate::store::{Actor, KnowledgeRun, RunStatus, record_audit};

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
    /// Cancel the person's queued or running sync (pages already written stay).
    Cancel { user: String },
    /// Queue a new sync after a failed or canceled one (it resumes from the
    /// last checkpoint; pages already written are skipped by their hash).
    Retry { user: String },
    /// Search one person's knowledge base as the assistant would.
    Search { user: String, query: String },
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

pub async fn execute(
    op: &Operator,
    config: &crate::config::Config,
    command: KnowledgeCommand,
) -> Result<Rendered, AdminError> {
    match command {
        KnowledgeCommand::Sync { user } => queue(op, &user, false).await,
        KnowledgeCommand::Reindex { user } => queue(op, &user, true).await,
        KnowledgeCommand::Cancel { user } => cancel(op, &user).await,
        KnowledgeCommand::Retry { user } => retry(op, &user).await,
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
            // As the assistant searches: the query embedded first, with no
            // transaction open; full text alone without an embedder.
            let embedder = QueryEmbedder::from_config(config, reqwest::Client::new());
            let vector = embed_query(embedder.as_ref(), &query).await;
            let mut tx = op.scoped(id).await?;
            let found = search_in(&mut tx, embedder.as_ref(), vector.as_deref(), &query, 5)
                .await?
                .passages;
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

async fn cancel(op: &Operator, user: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, user).await?;
    let mut tx = op.scoped(id).await?;
    let mut canceled = None;
    for s in KnowledgeSource::of_kind(&mut tx, SourceKind::Notion).await? {
        if let Some(live) = KnowledgeRun::live(&mut tx, s.id).await?
            && KnowledgeRun::finish(&mut tx, live.id, RunStatus::Canceled, None).await?
        {
            canceled = Some(live.id);
        }
    }
    let Some(run) = canceled else {
        tx.commit().await?;
        return Err(AdminError::Refused(format!(
            "no sync is queued or running for {id}"
        )));
    };
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        "knowledge.cancel",
        json!({"run": run}),
    )
    .await?;
    tx.commit().await?;
    // The job sees the run canceled before its next page and stops.
    Ok(Rendered::message(
        json!({"run": run, "status": "canceled"}),
        format!("canceled run {run} for {id}"),
    ))
}

async fn retry(op: &Operator, user: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, user).await?;
    let mut tx = op.scoped(id).await?;
    let last = KnowledgeRun::recent(&mut tx, 1).await?.pop();
    tx.commit().await?;
    match last.as_ref().map(|r| r.status.as_str()) {
        Some("failed" | "canceled") => queue(op, user, false).await,
        Some(status) => Err(AdminError::Refused(format!(
            "the last sync for {id} is {status}: nothing to retry (use `sync` for a new one)"
        ))),
        None => Err(AdminError::Refused(format!(
            "{id} has no sync to retry (use `sync`)"
        ))),
    }
}
