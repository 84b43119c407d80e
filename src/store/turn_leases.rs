//! The per-person turn lease: at most one worker drains a person's messages
//! at a time, across processes, without pinning a database connection for
//! the length of a turn (see `workers::agent_turn`).

use std::time::Duration;

use super::StoreError;
use crate::db::UserTx;

/// A lease on one person's mailbox, held by a job's task id.
pub struct TurnLease;

impl TurnLease {
    /// Takes the person's lease for `ttl`, or renews it when `holder`
    /// already has it. `false` while someone else holds an unexpired one.
    /// Taking it back under the same holder is what lets a job retried
    /// after a crash continue at once.
    pub async fn take(tx: &mut UserTx, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let user = tx.uuid();
        let taken: Option<i32> = sqlx::query_scalar(
            "insert into turn_leases (user_id, holder, expires_at) \
             values ($1, $2, now() + make_interval(secs => $3)) \
             on conflict (user_id) do update \
                set holder = excluded.holder, expires_at = excluded.expires_at \
              where turn_leases.user_id = $1 \
                and (turn_leases.expires_at < now() or turn_leases.holder = excluded.holder) \
             returning 1",
        )
        .bind(user)
        .bind(holder)
        .bind(ttl.as_secs_f64())
        .fetch_optional(tx.conn())
        .await?;
        Ok(taken.is_some())
    }

    /// Gives the lease up; a lease held by someone else is left alone.
    pub async fn release(tx: &mut UserTx, holder: &str) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query("delete from turn_leases where user_id = $1 and holder = $2")
            .bind(user)
            .bind(holder)
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}
