//! Ingestion runs: one row per sync of a knowledge source, with its status
//! (`queued → running → ready | failed | canceled`), what it counted, how
//! long it took and why it failed. At most one live run per source.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{StoreError, is_unique_violation};
use crate::db::UserTx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Ready,
    Failed,
    Canceled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Ready => "ready",
            RunStatus::Failed => "failed",
            RunStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "ready" => RunStatus::Ready,
            "failed" => RunStatus::Failed,
            "canceled" => RunStatus::Canceled,
            _ => return None,
        })
    }
}

/// What a run counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunCounts {
    pub pages_seen: i32,
    pub pages_changed: i32,
    pub pages_failed: i32,
    pub chunks_written: i32,
    pub chunks_skipped: i32,
    pub requests: i32,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KnowledgeRun {
    pub id: Uuid,
    pub source_id: Uuid,
    pub status: String,
    pub pages_seen: i32,
    pub pages_changed: i32,
    pub pages_failed: i32,
    pub chunks_written: i32,
    pub chunks_skipped: i32,
    pub requests: i32,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const RUN_COLUMNS: &str = "id, source_id, status, pages_seen, pages_changed, pages_failed, \
     chunks_written, chunks_skipped, requests, error, started_at, finished_at, created_at";

impl KnowledgeRun {
    /// Queues a run for the source, or returns the live one: a second
    /// "sync now" joins the first instead of starting another.
    pub async fn queue(tx: &mut UserTx, source: Uuid) -> Result<KnowledgeRun, StoreError> {
        let user = tx.uuid();
        sqlx::query("savepoint knowledge_run_queue")
            .execute(tx.conn())
            .await?;
        let inserted = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into knowledge_runs (user_id, source_id) values ($1, $2) returning {RUN_COLUMNS}"
        )))
        .bind(user)
        .bind(source)
        .fetch_one(tx.conn())
        .await;
        match inserted {
            Ok(run) => {
                sqlx::query("release savepoint knowledge_run_queue")
                    .execute(tx.conn())
                    .await?;
                Ok(run)
            }
            Err(e) if is_unique_violation(&e) => {
                sqlx::query("rollback to savepoint knowledge_run_queue")
                    .execute(tx.conn())
                    .await?;
                Self::live(tx, source).await?.ok_or(StoreError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The source's queued or running run, if any.
    pub async fn live(tx: &mut UserTx, source: Uuid) -> Result<Option<KnowledgeRun>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {RUN_COLUMNS} from knowledge_runs where user_id = $1 and source_id = $2 \
               and status in ('queued', 'running')"
        )))
        .bind(tx.uuid())
        .bind(source)
        .fetch_optional(tx.conn())
        .await?)
    }

    pub async fn get(tx: &mut UserTx, run: Uuid) -> Result<Option<KnowledgeRun>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {RUN_COLUMNS} from knowledge_runs where user_id = $1 and id = $2"
        )))
        .bind(tx.uuid())
        .bind(run)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The person's latest runs, newest first.
    pub async fn recent(tx: &mut UserTx, limit: i64) -> Result<Vec<KnowledgeRun>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {RUN_COLUMNS} from knowledge_runs where user_id = $1 \
             order by created_at desc limit $2"
        )))
        .bind(tx.uuid())
        .bind(limit)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Marks the run running (again, after a crash: a retried run resumes).
    /// False when it was canceled or already finished.
    pub async fn start(tx: &mut UserTx, run: Uuid) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "update knowledge_runs set status = 'running', started_at = coalesce(started_at, now()) \
             where user_id = $1 and id = $2 and status in ('queued', 'running')",
        )
        .bind(tx.uuid())
        .bind(run)
        .execute(tx.conn())
        .await?
        .rows_affected()
            > 0)
    }

    /// Adds to the run's counts (committed with each page's work, so a
    /// resumed run's totals stay right).
    pub async fn add(tx: &mut UserTx, run: Uuid, c: RunCounts) -> Result<(), StoreError> {
        sqlx::query(
            "update knowledge_runs set pages_seen = pages_seen + $3, pages_changed = pages_changed + $4, \
               pages_failed = pages_failed + $5, chunks_written = chunks_written + $6, \
               chunks_skipped = chunks_skipped + $7, requests = requests + $8 \
             where user_id = $1 and id = $2",
        )
        .bind(tx.uuid())
        .bind(run)
        .bind(c.pages_seen)
        .bind(c.pages_changed)
        .bind(c.pages_failed)
        .bind(c.chunks_written)
        .bind(c.chunks_skipped)
        .bind(c.requests)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Records why the last attempt of a live run failed (it stays live:
    /// the job's retry resumes it).
    pub async fn note_error(tx: &mut UserTx, run: Uuid, error: &str) -> Result<(), StoreError> {
        let error: String = error.chars().take(300).collect();
        sqlx::query("update knowledge_runs set error = $3 where user_id = $1 and id = $2")
            .bind(tx.uuid())
            .bind(run)
            .bind(error)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    /// Ends a live run as ready, failed (with a short reason) or canceled.
    /// False if it was no longer live (canceled meanwhile).
    pub async fn finish(
        tx: &mut UserTx,
        run: Uuid,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let error = error.map(|e| e.chars().take(300).collect::<String>());
        Ok(sqlx::query(
            "update knowledge_runs set status = $3, error = $4, finished_at = now() \
             where user_id = $1 and id = $2 and status in ('queued', 'running')",
        )
        .bind(tx.uuid())
        .bind(run)
        .bind(status.as_str())
        .bind(error)
        .execute(tx.conn())
        .await?
        .rows_affected()
            > 0)
    }
}
