//! `nudge admin jobs …`: every queue's backlog, dead jobs (killed, or out
//! of attempts) and retrying them.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator};
use crate::db::queue_admin;
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

pub async fn execute(op: &Operator, command: JobsCommand) -> Result<Rendered, AdminError> {
    match command {
        JobsCommand::Queues => queues(op).await,
        JobsCommand::Failed => failed(op).await,
        JobsCommand::Retry { id } => retry(op, &id).await,
    }
}

/// Counts only, no payloads: nothing about a person is shown.
async fn queues(op: &Operator) -> Result<Rendered, AdminError> {
    let backlog = queue_admin::queue_status(&op.pool, &crate::db::queue::QUEUES).await?;
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
    let jobs = queue_admin::dead_jobs(&op.pool).await?;
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
    let job_type = queue_admin::retry_dead_job(&mut tx, id).await?;
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
