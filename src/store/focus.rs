//! Focus sessions ("starting 25 min on the report"): a check-in when the
//! time is up, scheduled in the transaction that starts or extends the
//! session; the person's DONE / 10 MORE / STUCK ends or extends it. Done
//! sessions are the history "how long does the report take me?" reads.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use super::reminders::like_all_words;
use crate::db::UserTx;
use crate::db::queue::{self, FocusCheckinJob};

/// Where a session is: the `focus_sessions.status` CHECK lists these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FocusStatus {
    Running,
    /// The check-in went out; waiting for the answer.
    CheckedIn,
    Done,
    Stuck,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FocusSession {
    pub id: Uuid,
    pub task: String,
    pub first_step: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: FocusStatus,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, task, first_step, started_at, ends_at, status, checked_in_at, ended_at";

impl FocusSession {
    /// Starts a session of `minutes` now; its check-in is scheduled at the end.
    /// A session still running is cancelled: one at a time.
    pub async fn start(
        tx: &mut UserTx,
        task: &str,
        first_step: Option<&str>,
        minutes: i64,
        now: DateTime<Utc>,
    ) -> Result<FocusSession, StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update focus_sessions set status = 'cancelled', ended_at = $2 \
             where user_id = $1 and status in ('running', 'checked_in')",
        )
        .bind(user)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let now = now.trunc_subsecs(6);
        let session: FocusSession = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into focus_sessions (user_id, task, first_step, started_at, ends_at) \
             values ($1, $2, $3, $4, $5) returning {COLUMNS}"
        )))
        .bind(user)
        .bind(task)
        .bind(first_step)
        .bind(now)
        .bind(now + Duration::minutes(minutes))
        .fetch_one(tx.conn())
        .await?;
        schedule_checkin(tx, session.id, session.ends_at).await?;
        Ok(session)
    }

    pub async fn lock(tx: &mut UserTx, id: Uuid) -> Result<Option<FocusSession>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from focus_sessions where user_id = $1 and id = $2 for update"
        )))
        .bind(user)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
    }

    pub async fn mark_checked_in(
        tx: &mut UserTx,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update focus_sessions set status = 'checked_in', checked_in_at = $3 where user_id = $1 and id = $2",
        )
        .bind(user)
        .bind(id)
        .bind(at)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// The session whose check-in went out at or after `since` and is not
    /// answered yet.
    pub async fn awaiting_answer(
        tx: &mut UserTx,
        since: DateTime<Utc>,
    ) -> Result<Option<FocusSession>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from focus_sessions where user_id = $1 and status = 'checked_in' \
               and checked_in_at >= $2 order by checked_in_at desc limit 1 for update"
        )))
        .bind(user)
        .bind(since)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Ends the session as done or stuck at `at`.
    pub async fn finish(
        tx: &mut UserTx,
        id: Uuid,
        status: FocusStatus,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update focus_sessions set status = $3, ended_at = $4 where user_id = $1 and id = $2",
        )
        .bind(user)
        .bind(id)
        .bind(status)
        .bind(at)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// "10 MORE": running again until `minutes` from now, with a new check-in.
    pub async fn extend(
        tx: &mut UserTx,
        id: Uuid,
        minutes: i64,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let user = tx.uuid();
        let ends_at = now.trunc_subsecs(6) + Duration::minutes(minutes);
        sqlx::query(
            "update focus_sessions set status = 'running', ends_at = $3 where user_id = $1 and id = $2",
        )
        .bind(user)
        .bind(id)
        .bind(ends_at)
        .execute(tx.conn())
        .await?;
        schedule_checkin(tx, id, ends_at).await?;
        Ok(ends_at)
    }

    /// Minutes the last `limit` timed stretches of work whose task has
    /// every word of `query` took, newest first: done focus sessions
    /// (start → DONE) and bookmarks (brb → back).
    pub async fn durations(
        tx: &mut UserTx,
        query: &str,
        limit: i64,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "select task, minutes from ( \
               select task, started_at as at, extract(epoch from ended_at - started_at)::float8 / 60 as minutes \
               from focus_sessions where user_id = $1 and status = 'done' and ended_at is not null \
                 and task ilike all($2) \
               union all \
               select doing, created_at, extract(epoch from back_at - created_at)::float8 / 60 \
               from bookmarks where user_id = $1 and back_at is not null and doing ilike all($2) \
             ) timed order by at desc limit $3",
        )
        .bind(user)
        .bind(like_all_words(query))
        .bind(limit)
        .fetch_all(tx.conn())
        .await?)
    }
}

async fn schedule_checkin(
    tx: &mut UserTx,
    session_id: Uuid,
    ends_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let job = FocusCheckinJob {
        user_id: tx.uuid(),
        session_id,
        ends_at,
    };
    queue::enqueue_at(tx.conn(), &job, ends_at).await?;
    Ok(())
}
