//! The job queue as operators see it (`nudge admin jobs …`): every queue's
//! backlog, the dead jobs, and putting one back. These read `apalis.jobs`
//! across people, so they run on the owner connection; the callers audit
//! each read.

use sqlx::{AssertSqlSafe, PgConnection, PgPool};

/// A job that will not run again on its own: killed, or out of attempts.
/// One condition for the list, the count and the retry, so they agree.
const DEAD: &str = "(status = 'Killed' or (status = 'Failed' and attempts >= max_attempts))";

/// One queue's jobs by state. Counts only: nothing about a person.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct QueueStatus {
    pub queue: String,
    pub waiting: i64,
    pub running: i64,
    pub dead: i64,
    pub oldest_waiting_secs: Option<f64>,
}

/// Waiting, running and dead jobs of each of `queues`, in that order (a
/// queue with no job at all is listed with zeros).
pub async fn queue_status(pool: &PgPool, queues: &[&str]) -> Result<Vec<QueueStatus>, sqlx::Error> {
    let names: Vec<String> = queues.iter().map(|q| q.to_string()).collect();
    sqlx::query_as(AssertSqlSafe(format!(
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
    .fetch_all(pool)
    .await
}

/// A dead job, with its payload (which may name a person: operators only).
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct DeadJob {
    pub id: String,
    pub job_type: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub error: Option<String>,
    pub payload: Option<serde_json::Value>,
    pub done_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The most recent dead jobs, newest first, at most 200.
pub async fn dead_jobs(pool: &PgPool) -> Result<Vec<DeadJob>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "select id, job_type, status, attempts, max_attempts, \
                coalesce(last_result ->> 'Err', last_result::text) as error, \
                convert_from(job, 'UTF8')::jsonb as payload, done_at \
         from apalis.jobs where {DEAD} order by done_at desc nulls last limit 200"
    )))
    .fetch_all(pool)
    .await
}

/// Puts the dead job `id` back in its queue, attempts reset, due now;
/// returns its queue, or `None` when no dead job has that id.
pub async fn retry_dead_job(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "update apalis.jobs set status = 'Pending', attempts = 0, run_at = now(), lock_by = null, \
                lock_at = null, done_at = null, last_result = null \
         where id = $1 and {DEAD} returning job_type"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}
