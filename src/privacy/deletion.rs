//! The deletion a person asked for by text, run by the `erase_account`
//! job at its due time: the job's payload is the deletion's id alone, so
//! once it has run nothing left in the queue names the person.
//!
//! Order: find the person of a due, uncancelled deletion; wait (a little)
//! for their last texts to leave, so the goodbye is not erased before it
//! is sent; revoke their grants and delete their Redis keys; then one SQL
//! function erases every row and job of theirs and writes the `user.delete`
//! audit entry with a salted hash of their id.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::erase::{Forgetter, Outside};
use crate::db::UserTx;
use crate::store::person_data::erased_audit_details;
use crate::store::{StoreError, account_deletions, cross_user};

/// How long an erase waits for the person's last texts to leave (a
/// provider outage must not keep a person from being erased for long).
pub const GOODBYE_WAIT: Duration = Duration::from_secs(600);

/// What one run of the deletion job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionOutcome {
    /// Cancelled, already done, or not due yet: nothing to do.
    NotDue,
    /// Texts to the person are still on their way: run again in a moment.
    Waiting,
    /// Erased; the person's jobs removed with them.
    Erased { jobs: i64 },
}

/// Runs the deletion `deletion` if it is due.
#[tracing::instrument(skip_all)]
pub async fn run_due_deletion(
    pool: &PgPool,
    forgetter: &Forgetter,
    deletion: Uuid,
) -> Result<DeletionOutcome, StoreError> {
    let Some(user) = cross_user::due_deletion(pool, deletion).await? else {
        return Ok(DeletionOutcome::NotDue);
    };
    let mut tx = UserTx::begin(pool, user).await?;
    let due_at = account_deletions::pending(&mut tx).await?.map(|d| d.due_at);
    let sending = account_deletions::texts_on_their_way(&mut tx).await?;
    let outside = Outside::read(&mut tx).await?;
    tx.commit().await?;
    let waited = due_at.map_or(Duration::MAX, |d| {
        (Utc::now() - d).to_std().unwrap_or(Duration::ZERO)
    });
    if sending && waited < GOODBYE_WAIT {
        return Ok(DeletionOutcome::Waiting);
    }
    let forgotten = forgetter.forget(&outside).await;
    let mut details = erased_audit_details(user);
    details["via"] = json!("sms");
    details["revoked"] = json!(forgotten.revoked);
    details["redis_keys"] = json!(forgotten.redis_keys);
    match cross_user::erase_due_deletion(pool, deletion, &details).await? {
        Some(jobs) => Ok(DeletionOutcome::Erased { jobs }),
        // Cancelled while the grants were being revoked: the person stays
        // (their revoked accounts show as needing a reconnect).
        None => Ok(DeletionOutcome::NotDue),
    }
}
