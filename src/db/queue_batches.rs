//! The SQL of queues drained in batches (`workers::batch`): claiming due
//! jobs of one queue with `FOR UPDATE SKIP LOCKED`, and recording how each
//! ended, on the same `apalis.jobs` rows apalis uses.

use std::time::Duration;

use sqlx::PgConnection;

/// A claimed job's row: id, payload, attempts so far.
pub type ClaimedRow = (String, Vec<u8>, i32);

/// Claims up to `limit` due jobs of `queue`, oldest due first. Without a
/// `lease` they stay locked until the caller's transaction ends; with one
/// their `run_at` moves that far ahead, out of every other claim's reach.
pub async fn claim_due(
    conn: &mut PgConnection,
    queue: &str,
    limit: usize,
    lease: Option<Duration>,
) -> Result<Vec<ClaimedRow>, sqlx::Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // The predicate of apalis' partial fetch index, so the claim is an
    // index range scan however long the queue.
    const DUE: &str = "job_type = $1 and (status = 'Pending' or (status = 'Failed' and attempts < max_attempts)) \
                       and run_at <= now()";
    match lease {
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select id, job, attempts from apalis.jobs where {DUE} \
                 order by priority desc, run_at limit $2 for update skip locked"
            )))
            .bind(queue)
            .bind(limit)
            .fetch_all(conn)
            .await
        }
        Some(lease) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update apalis.jobs j set run_at = now() + make_interval(secs => $3), lock_at = now() \
                 where j.id in (select id from apalis.jobs where {DUE} \
                   order by priority desc, run_at limit $2 for update skip locked) \
                 returning j.id, j.job, j.attempts"
        )))
        .bind(queue)
        .bind(limit)
        .bind(lease.as_secs_f64())
        .fetch_all(conn)
        .await,
    }
}

/// Marks these jobs done.
pub async fn mark_done(conn: &mut PgConnection, ids: &[String]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "update apalis.jobs set status = 'Done', attempts = attempts + 1, done_at = now(), \
         last_result = 'null'::jsonb where id = any($1)",
    )
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt; the job is due again after `delay` unless that
/// was its last attempt. `error` names no person's data.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: &str,
    delay: Duration,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update apalis.jobs set status = 'Failed', attempts = attempts + 1, \
         run_at = now() + make_interval(secs => $2), \
         last_result = jsonb_build_object('Err', $3::text) where id = $1",
    )
    .bind(id)
    .bind(delay.as_secs_f64())
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a job dead at once (a payload that cannot be read).
pub async fn mark_dead(conn: &mut PgConnection, id: &str, reason: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update apalis.jobs set status = 'Killed', done_at = now(), \
         last_result = jsonb_build_object('Err', $2::text) where id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}
