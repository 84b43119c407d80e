//! Nudges: a reminder that persists until acknowledged is texted again
//! after its delivery, a few times, until the person answers.
//!
//! The chain's state lives on the reminder (`nudge_for`, `nudges_sent`,
//! `nudge_end`); each nudge is a `reminder_nudge` job written in the same
//! transaction as the text before it, so a crash never loses the next one,
//! and a job run twice finds its number taken and stands down.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Reminder, StoreError};
use crate::db::UserTx;
use crate::db::queue::{self, ReminderNudgeJob};

/// Why a chain of nudges stopped: the `reminders.nudge_end` CHECK lists
/// exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NudgeEnd {
    /// The person answered (any message), said done, or snoozed.
    Acknowledged,
    /// The number texted STOP.
    OptedOut,
    /// The next nudge would fall in quiet hours.
    QuietHours,
    /// The next occurrence of the recurring reminder is due.
    NextDue,
    /// Every nudge went out.
    Finished,
    Cancelled,
    /// The person turned nudges off.
    TurnedOff,
}

impl NudgeEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            NudgeEnd::Acknowledged => "acknowledged",
            NudgeEnd::OptedOut => "opted_out",
            NudgeEnd::QuietHours => "quiet_hours",
            NudgeEnd::NextDue => "next_due",
            NudgeEnd::Finished => "finished",
            NudgeEnd::Cancelled => "cancelled",
            NudgeEnd::TurnedOff => "turned_off",
        }
    }
}

/// The idempotency key of nudge `n` about the delivery at `delivered_at`.
pub fn nudge_key(reminder_id: Uuid, delivered_at: DateTime<Utc>, n: i16) -> String {
    format!(
        "nudge:{reminder_id}:{}:{n}",
        delivered_at.timestamp_micros()
    )
}

/// The delivery a nudge's key names (see [`nudge_key`]), if it is one.
pub fn nudged_delivery(key: &str) -> Option<DateTime<Utc>> {
    let mut parts = key.strip_prefix("nudge:")?.split(':');
    let _reminder = parts.next()?;
    DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)
}

impl Reminder {
    /// Sets whether this reminder persists until acknowledged (`None`: the
    /// person's default).
    pub async fn set_persist(
        tx: &mut UserTx,
        id: Uuid,
        persist: Option<bool>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update reminders set persist = $2, updated_at = now() where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(persist)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Starts a chain of nudges about the delivery at `delivered_at`: the
    /// first one is scheduled `interval` later, in the caller's transaction.
    pub async fn start_nudges(
        tx: &mut UserTx,
        id: Uuid,
        delivered_at: DateTime<Utc>,
        interval: chrono::Duration,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        // As PostgreSQL stores it, so the job's copy compares equal.
        let delivered_at = delivered_at.trunc_subsecs(6);
        sqlx::query(
            "update reminders set nudge_for = $2, nudges_sent = 0, nudge_end = null, updated_at = now() \
             where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(delivered_at)
        .bind(user)
        .execute(tx.conn())
        .await?;
        schedule_nudge(tx, id, delivered_at, 1, delivered_at + interval).await
    }

    /// Records nudge `n` as sent at `sent_at` (it counts as the latest
    /// delivery, so "done" refers to it); schedules the next one (`Ok`), or
    /// ends the chain for the reason given (`Err`).
    pub async fn record_nudge(
        tx: &mut UserTx,
        id: Uuid,
        delivered_at: DateTime<Utc>,
        n: i16,
        sent_at: DateTime<Utc>,
        next: Result<DateTime<Utc>, NudgeEnd>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        let end = next.err();
        sqlx::query(
            "update reminders set nudges_sent = $2, last_sent_at = $3, nudge_end = $4, updated_at = now() \
             where user_id = $5 and id = $1",
        )
        .bind(id)
        .bind(n)
        .bind(sent_at)
        .bind(end)
        .bind(user)
        .execute(tx.conn())
        .await?;
        if let Ok(at) = next {
            schedule_nudge(tx, id, delivered_at, n + 1, at).await?;
        }
        Ok(())
    }

    /// Ends the chain, saying why.
    pub async fn end_nudges(tx: &mut UserTx, id: Uuid, why: NudgeEnd) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update reminders set nudge_end = $2, updated_at = now() where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(why)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// Whether the person texted anything after `since`: any answer counts
/// as an acknowledgement of a reminder delivered then.
pub async fn answered_since(tx: &mut UserTx, since: DateTime<Utc>) -> Result<bool, StoreError> {
    let user = tx.uuid();
    Ok(sqlx::query_scalar(
        "select exists (select 1 from messages where user_id = $1 and direction = 'inbound' and created_at > $2)",
    )
    .bind(user)
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}

async fn schedule_nudge(
    tx: &mut UserTx,
    reminder_id: Uuid,
    delivered_at: DateTime<Utc>,
    nudge: i16,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let job = ReminderNudgeJob {
        user_id: tx.uuid(),
        reminder_id,
        delivered_at,
        nudge,
        at,
    };
    queue::enqueue_at(tx.conn(), &job, at).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nudge_key_names_its_delivery() {
        let at: DateTime<Utc> = "2026-12-07T13:00:00.123456Z".parse().unwrap();
        let key = nudge_key(Uuid::nil(), at, 2);
        assert_eq!(nudged_delivery(&key), Some(at));
        assert_eq!(nudged_delivery("reminder:x:1"), None);
    }
}
