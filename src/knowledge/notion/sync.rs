//! One incremental sync of a person's Notion workspace: pages edited since
//! the source's checkpoint (search sorted by `last_edited_time`), each
//! page's block tree (paginated, nested), database rows; archived or
//! trashed pages removed on sight, and once a day a complete id-only
//! listing removes the pages no longer shared. Each page is written in its own transaction with
//! the run's counts, so a sync killed midway resumes without duplicates:
//! a document is replaced by its (source, id), and an unchanged one (same
//! content hash) is skipped. A page that fails (a poison page) is counted
//! and skipped; Notion unreachable or limiting us fails the run, which the
//! queue retries.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::blocks::{PageMeta, block_line, page_meta};
use super::client::{NotionClient, NotionError};
use crate::db::{UserId, UserTx};
use crate::knowledge::chunk::{chunk, detect_language, normalise, sha256_hex};
use crate::store::knowledge::{
    KnowledgeSource, NewDocument, remove_document, remove_unlisted, store_document,
};
use crate::store::{KnowledgeRun, RunCounts, RunStatus, StoreError};

/// Nesting followed below a page (Notion pages rarely go deeper).
const MAX_DEPTH: usize = 8;
/// Blocks read from one page at most (a 5,000-block page fits).
const MAX_BLOCKS: usize = 20_000;
/// How often a run lists every shared page, past the checkpoint, to find
/// the pages unshared since (incremental search cannot see those).
const LISTING_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Search requests one listing may take (100 pages each): bounded, and a
/// workspace too large to list in full keeps its unshared pages a while.
const MAX_LISTING_REQUESTS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Notion(#[from] NotionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        SyncError::Store(StoreError::Database(e))
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Ready(RunCounts),
    Canceled,
}

fn count_page(outcome: &'static str) {
    metrics::counter!("knowledge_ingest_pages_total", "outcome" => outcome).increment(1);
}

/// Runs (or resumes) `run` for the Notion source `source`.
#[tracing::instrument(skip_all, fields(user = %user, run = %run))]
pub async fn sync(
    pool: &PgPool,
    user: UserId,
    source: Uuid,
    run: Uuid,
    client: &NotionClient,
) -> Result<Ended, SyncError> {
    let started = Instant::now();
    let mut tx = UserTx::begin(pool, user).await?;
    if !KnowledgeRun::start(&mut tx, run).await? {
        tx.commit().await?;
        return Ok(Ended::Canceled);
    }
    let found = KnowledgeSource::of_kind(&mut tx, crate::store::knowledge::SourceKind::Notion)
        .await?
        .into_iter()
        .find(|s| s.id == source)
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    let listing = found
        .listed_at
        .is_none_or(|at| Utc::now() - at > LISTING_EVERY);

    let result = sync_pages(pool, user, source, run, client, found.checkpoint, listing).await;
    let mut tx = UserTx::begin(pool, user).await?;
    let ended = match result {
        Ok(Some(listed)) => {
            if let Some(newest) = listed.newest {
                KnowledgeSource::advance_checkpoint(&mut tx, source, newest).await?;
            }
            if let Some(ids) = &listed.all {
                let removed = remove_unlisted(&mut tx, source, ids).await?;
                KnowledgeSource::mark_listed(&mut tx, source).await?;
                if removed > 0 {
                    tracing::info!(removed, "pages no longer shared removed");
                    metrics::counter!("knowledge_ingest_pages_total", "outcome" => "unlisted")
                        .increment(removed);
                }
            }
            KnowledgeRun::finish(&mut tx, run, RunStatus::Ready, None).await?;
            let counts = KnowledgeRun::get(&mut tx, run).await?.map(|r| RunCounts {
                pages_seen: r.pages_seen,
                pages_changed: r.pages_changed,
                pages_failed: r.pages_failed,
                chunks_written: r.chunks_written,
                chunks_skipped: r.chunks_skipped,
                requests: r.requests,
            });
            Ended::Ready(counts.unwrap_or_default())
        }
        Ok(None) => Ended::Canceled,
        Err(e) => {
            // The error is recorded for `status` and the job retries; the
            // run stays live so the retry resumes it.
            tracing::warn!(error = %e, "notion sync failed");
            KnowledgeRun::note_error(&mut tx, run, &e.to_string()).await?;
            tx.commit().await?;
            return Err(e);
        }
    };
    tx.commit().await?;
    metrics::histogram!("knowledge_ingest_run_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    Ok(ended)
}

/// What a run's listing found.
struct Listed {
    /// The newest edit seen (the next checkpoint).
    newest: Option<DateTime<Utc>>,
    /// Every page still shared, when the listing was complete.
    all: Option<Vec<String>>,
}

/// Every page edited since `checkpoint`, written page by page; with
/// `listing`, every shared page's id too (the listing goes on past the
/// checkpoint, ids only, at most [`MAX_LISTING_REQUESTS`] requests).
/// `Ok(None)`: the run was canceled meanwhile.
async fn sync_pages(
    pool: &PgPool,
    user: UserId,
    source: Uuid,
    run: Uuid,
    client: &NotionClient,
    checkpoint: Option<DateTime<Utc>>,
    listing: bool,
) -> Result<Option<Listed>, SyncError> {
    let mut pages: Vec<PageMeta> = Vec::new();
    let mut all: Vec<String> = Vec::new();
    let mut complete = false;
    let mut cursor: Option<String> = None;
    'listing: for _ in 0..MAX_LISTING_REQUESTS {
        let list = client.search_pages(cursor.as_deref()).await?;
        for page in &list.results {
            let Some(meta) = page_meta(page) else {
                continue;
            };
            if !meta.gone {
                all.push(meta.id.clone());
            }
            // Sorted newest first: the first page at or before the
            // checkpoint ends what changed since the last run.
            if checkpoint.is_some_and(|c| meta.last_edited <= c) {
                if !listing {
                    break 'listing;
                }
                continue;
            }
            pages.push(meta);
        }
        match (list.has_more, list.next_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => {
                complete = true;
                break;
            }
        }
    }
    if listing && !complete {
        tracing::warn!(
            listed = all.len(),
            "workspace too large to list in full; unshared pages stay until a listing completes"
        );
    }
    let newest = pages.iter().map(|p| p.last_edited).max();
    let all = (listing && complete).then_some(all);
    for page in pages {
        let before = client.requests();
        let fetched = if page.gone {
            Ok(String::new())
        } else {
            page_text(client, &page).await
        };
        let mut counts = RunCounts {
            pages_seen: 1,
            ..RunCounts::default()
        };
        let mut tx = UserTx::begin(pool, user).await?;
        if KnowledgeRun::live(&mut tx, source)
            .await?
            .is_none_or(|r| r.id != run)
        {
            tx.commit().await?;
            return Ok(None);
        }
        match fetched {
            _ if page.gone => {
                remove_document(&mut tx, source, &page.id).await?;
                count_page("removed");
            }
            Ok(text) => {
                let stored = store_page(&mut tx, source, &page, &text).await?;
                counts.pages_changed = i32::from(stored.changed);
                counts.chunks_written = stored.chunks_written as i32;
                counts.chunks_skipped = stored.chunks_kept as i32;
                count_page(if stored.changed {
                    "changed"
                } else {
                    "unchanged"
                });
            }
            Err(e @ (NotionError::Status(_) | NotionError::Malformed)) => {
                // A poison page: recorded and skipped, the run goes on.
                tracing::warn!(page = %page.id, error = %e, "notion page skipped");
                counts.pages_failed = 1;
                count_page("failed");
            }
            Err(e) => return Err(e.into()),
        }
        counts.requests = (client.requests() - before) as i32;
        KnowledgeRun::add(&mut tx, run, counts).await?;
        tx.commit().await?;
    }
    Ok(Some(Listed { newest, all }))
}

async fn store_page(
    tx: &mut UserTx,
    source: Uuid,
    page: &PageMeta,
    text: &str,
) -> Result<crate::store::knowledge::Stored, StoreError> {
    let text = normalise(text);
    let hash = sha256_hex(&format!("{}\n{}", page.title, text));
    let chunks = chunk(&page.title, &text);
    store_document(
        tx,
        source,
        &NewDocument {
            external_id: &page.id,
            title: &page.title,
            url: page.url.as_deref(),
            last_edited: Some(page.last_edited),
            content_hash: &hash,
            language: detect_language(&text),
        },
        &chunks,
    )
    .await
}

/// A page's text: its row properties, then its block tree.
async fn page_text(client: &NotionClient, page: &PageMeta) -> Result<String, NotionError> {
    let mut lines = page.properties.clone();
    // Depth-first, in document order: children are read right after their
    // parent line, so a nested list stays under its item.
    let mut blocks = 0usize;
    read_children(client, &page.id, 0, &mut lines, &mut blocks).await?;
    Ok(lines.join("\n"))
}

async fn read_children(
    client: &NotionClient,
    block: &str,
    depth: usize,
    lines: &mut Vec<String>,
    blocks: &mut usize,
) -> Result<(), NotionError> {
    let mut cursor: Option<String> = None;
    loop {
        let list = client.children(block, cursor.as_deref()).await?;
        for child in &list.results {
            *blocks += 1;
            if *blocks > MAX_BLOCKS {
                return Ok(());
            }
            if let Some(line) = block_line(child) {
                lines.push(line);
            }
            let kind = child
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if kind == "child_database"
                && let Some(id) = child.get("id").and_then(Value::as_str)
            {
                database_rows(client, id, lines).await?;
                continue;
            }
            // Sub-pages are pages of their own (search lists them).
            let nested = child.get("has_children").and_then(Value::as_bool) == Some(true)
                && kind != "child_page";
            if nested
                && depth < MAX_DEPTH
                && let Some(id) = child.get("id").and_then(Value::as_str)
            {
                Box::pin(read_children(client, id, depth + 1, lines, blocks)).await?;
            }
        }
        match (list.has_more, list.next_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => return Ok(()),
        }
    }
}

/// An inline database's rows as lines of the page that holds it.
async fn database_rows(
    client: &NotionClient,
    database: &str,
    lines: &mut Vec<String>,
) -> Result<(), NotionError> {
    let mut cursor: Option<String> = None;
    loop {
        let list = client.query_database(database, cursor.as_deref()).await?;
        for row in &list.results {
            if let Some(meta) = page_meta(row) {
                let mut line = format!("- {}", meta.title);
                if !meta.properties.is_empty() {
                    line.push_str(&format!(" ({})", meta.properties.join("; ")));
                }
                lines.push(line);
            }
        }
        match (list.has_more, list.next_cursor) {
            (true, Some(next)) => cursor = Some(next),
            _ => return Ok(()),
        }
    }
}

/// The external id of a person's Notion source: one connection per person.
pub const WORKSPACE: &str = "notion";

/// Queues a sync of the person's Notion in their transaction (run and job
/// together), or returns the run already queued or running. `true` when
/// a new run was queued.
pub async fn request_sync(tx: &mut UserTx) -> Result<(KnowledgeRun, bool), StoreError> {
    let source = KnowledgeSource::ensure(
        tx,
        crate::store::knowledge::SourceKind::Notion,
        WORKSPACE,
        "Notion",
    )
    .await?;
    if let Some(live) = KnowledgeRun::live(tx, source.id).await? {
        return Ok((live, false));
    }
    let run = KnowledgeRun::queue(tx, source.id).await?;
    let job = crate::db::queue::NotionSyncJob {
        user_id: tx.uuid(),
        source_id: source.id,
        run_id: run.id,
    };
    crate::db::queue::enqueue(tx.conn(), &job, crate::db::queue::JobOptions::default()).await?;
    Ok((run, true))
}
