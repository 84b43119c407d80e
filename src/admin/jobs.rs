//! `nudge admin jobs …`: every queue's backlog, dead jobs (killed, or out
//! of attempts) and retrying them.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator};
use crate::store::{Actor, record_audit};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Every queue: jobs waiting, jobs running, dead jobs, oldest waiting.
    Queues,
    /// Jobs that will not run again on their own.
    Failed,
    /// Put a dead job back in its queue, attempts reset.
    Retry { id: String },
}

#[derive(Debug, sqlx::FromRow, serde::Serialize)]
struct DeadJob {
    id: String,
    job_type: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    error: Option<String>,
    payload: Option<serde_json::Value>,
    done_at: Option<chrono::DateTime<chrono::Utc>>,
}

const DEAD: &str = "(status = 'Killed' or (status = 'Failed' and attempts >= max_attempts))";

pub async fn execute(op: &Operator, command: JobsCommand) -> Result<Rendered, AdminError> {
    match command {
        JobsCommand::Queues => queues(op).await,
        JobsCommand::Failed => failed(op).await,
        JobsCommand::Retry { id } => retry(op, &id).await,
    }
}

#[derive(Debug, sqlx::FromRow, serde::Serialize)]
struct QueueBacklog {
    queue: String,
    waiting: i64,
    running: i64,
    dead: i64,
    oldest_waiting_secs: Option<f64>,
}

/// Counts only, no payloads: nothing about a person is shown.
async fn queues(op: &Operator) -> Result<Rendered, AdminError> {
    let names: Vec<String> = crate::db::queue::QUEUES
        .iter()
        .map(|q| q.to_string())
        .collect();
    let backlog: Vec<QueueBacklog> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select q as queue, \
                count(j.id) filter (where j.status in ('Pending', 'Queued') and j.run_at <= now()) as waiting, \
                count(j.id) filter (where j.status = 'Running') as running, \
                count(j.id) filter (where {DEAD}) as dead, \
                extract(epoch from now() - min(j.run_at) filter \
                    (where j.status in ('Pending', 'Queued') and j.run_at <= now()))::float8 as oldest_waiting_secs \
         from unnest($1::text[]) with ordinality as queues(q, n) \
         left join apalis.jobs j on j.job_type = q \
         group by q, n order by n"
    )))
    .bind(&names)
    .fetch_all(&op.pool)
    .await?;
    let rows = backlog
        .iter()
        .map(|b| {
            vec![
                b.queue.clone(),
                b.waiting.to_string(),
                b.running.to_string(),
                b.dead.to_string(),
                b.oldest_waiting_secs
                    .map(|s| format!("{:.0} s", s.max(0.0)))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!(backlog),
        vec!["QUEUE", "WAITING", "RUNNING", "DEAD", "OLDEST WAITING"],
        rows,
    ))
}

/// Across people: on the owner role, and audited.
async fn failed(op: &Operator) -> Result<Rendered, AdminError> {
    let jobs: Vec<DeadJob> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select id, job_type, status, attempts, max_attempts, \
                coalesce(last_result ->> 'Err', last_result::text) as error, \
                convert_from(job, 'UTF8')::jsonb as payload, done_at \
         from apalis.jobs where {DEAD} order by done_at desc nulls last limit 200"
    )))
    .fetch_all(&op.pool)
    .await?;
    op.audit_view("jobs.failed", json!({ "count": jobs.len() }))
        .await?;
    let rows = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.clone(),
                j.job_type.clone(),
                format!("{}/{}", j.attempts, j.max_attempts),
                j.error
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect(),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!(jobs),
        vec!["ID", "QUEUE", "ATTEMPTS", "LAST ERROR"],
        rows,
    ))
}

async fn retry(op: &Operator, id: &str) -> Result<Rendered, AdminError> {
    let mut tx = op.pool.begin().await?;
    let job_type: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "update apalis.jobs set status = 'Pending', attempts = 0, run_at = now(), lock_by = null, \
                lock_at = null, done_at = null, last_result = null \
         where id = $1 and {DEAD} returning job_type"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job_type) = job_type else {
        return Err(AdminError::Refused(format!("no dead job with id {id}")));
    };
    record_audit(
        &mut tx,
        None,
        Actor::Admin,
        "job.retry",
        json!({"job_id": id, "queue": job_type}),
    )
    .await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!({"id": id, "queue": job_type, "status": "Pending"}),
        format!("job {id} is back in the {job_type} queue"),
    ))
}
