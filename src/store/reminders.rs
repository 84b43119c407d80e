//! Reminders: the due instant in UTC, the person's timezone and wall-clock
//! time, an optional recurrence, and a status.
//!
//! Every write here schedules, moves or removes the reminder's delivery job
//! in the same transaction, so a reminder and its delivery never disagree.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::StoreError;
use super::nudges::NudgeEnd;
use super::recurrence::Recurrence;
use crate::db::UserTx;
use crate::db::queue;

/// Where a reminder is: the `reminders.status` CHECK lists exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatus {
    /// Waiting for its next occurrence.
    Scheduled,
    /// A one-off that fired.
    Sent,
    /// Acknowledged or completed by the person.
    Done,
    Cancelled,
    /// A one-off that fired too late to be sent.
    Missed,
}

impl ReminderStatus {
    pub const ALL: [ReminderStatus; 5] = [
        ReminderStatus::Scheduled,
        ReminderStatus::Sent,
        ReminderStatus::Done,
        ReminderStatus::Cancelled,
        ReminderStatus::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Scheduled => "scheduled",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Done => "done",
            ReminderStatus::Cancelled => "cancelled",
            ReminderStatus::Missed => "missed",
        }
    }
}

/// Compares with the stored name, as tests and SQL results read it.
impl PartialEq<&str> for ReminderStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reminder {
    pub id: Uuid,
    pub body: String,
    pub due_at: DateTime<Utc>,
    pub timezone: String,
    pub local_time: Option<NaiveTime>,
    pub recurrence: Option<Json<Recurrence>>,
    pub explicit_time: bool,
    pub status: ReminderStatus,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Older than this when delivered, an occurrence is missed, not sent.
    pub staleness_secs: f64,
    /// Nudge until acknowledged; `None`: the person's default.
    pub persist: Option<bool>,
    /// The delivery the current chain of nudges is about.
    pub nudge_for: Option<DateTime<Utc>>,
    pub nudges_sent: i16,
    /// Why the chain stopped; `None` while it runs (or never started).
    pub nudge_end: Option<NudgeEnd>,
}

/// What a new reminder needs.
#[derive(Debug, Clone)]
pub struct NewReminder {
    pub body: String,
    pub due_at: DateTime<Utc>,
    pub timezone: String,
    pub local_time: Option<NaiveTime>,
    pub recurrence: Option<Recurrence>,
    pub explicit_time: bool,
}

macro_rules! reminder_columns {
    () => {
        "id, body, due_at, timezone, local_time, recurrence, explicit_time, status, last_sent_at, created_at, \
         extract(epoch from staleness_window)::float8 as staleness_secs, persist, nudge_for, nudges_sent, nudge_end"
    };
}

impl Reminder {
    pub async fn create(tx: &mut UserTx, new: NewReminder) -> Result<Reminder, StoreError> {
        let user = tx.uuid();
        let reminder: Reminder = sqlx::query_as(concat!(
            "insert into reminders (user_id, body, due_at, timezone, local_time, recurrence, explicit_time) \
             values ($1, $2, $3, $4, $5, $6, $7) returning ",
            reminder_columns!()
        ))
        .bind(user)
        .bind(&new.body)
        .bind(new.due_at)
        .bind(&new.timezone)
        .bind(new.local_time)
        .bind(new.recurrence.map(Json))
        .bind(new.explicit_time)
        .fetch_one(tx.conn())
        .await?;
        queue::schedule_reminder(tx.conn(), user, reminder.id, reminder.due_at).await?;
        Ok(reminder)
    }

    /// Scheduled reminders, soonest first.
    pub async fn upcoming(tx: &mut UserTx, limit: i64) -> Result<Vec<Reminder>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 and status = 'scheduled' order by due_at, id limit $1"
        ))
        .bind(limit)
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn get(tx: &mut UserTx, id: Uuid) -> Result<Reminder, StoreError> {
        let user = tx.uuid();
        sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 and id = $1"
        ))
        .bind(id)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Upcoming reminders and those being nudged right now, soonest first
    /// (for the operator's view of a person's reminders).
    pub async fn upcoming_or_nudging(
        tx: &mut UserTx,
        limit: i64,
    ) -> Result<Vec<Reminder>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 \
               and (status = 'scheduled' or (nudge_for is not null and nudge_end is null)) \
             order by due_at, id limit $1"
        ))
        .bind(limit)
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Scheduled reminders whose text contains every word of `query`.
    pub async fn find_scheduled(tx: &mut UserTx, query: &str) -> Result<Vec<Reminder>, StoreError> {
        let pattern = like_all_words(query);
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 and status = 'scheduled' and body ilike all($1) order by due_at"
        ))
        .bind(pattern)
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    pub async fn cancel(tx: &mut UserTx, id: Uuid) -> Result<(), StoreError> {
        let user = tx.uuid();
        let done = sqlx::query(
            "update reminders set status = 'cancelled', updated_at = now() \
             where user_id = $2 and id = $1 and status = 'scheduled'",
        )
        .bind(id)
        .bind(user)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        queue::unschedule_reminder(tx.conn(), user, id).await?;
        Ok(())
    }

    pub async fn cancel_all(tx: &mut UserTx) -> Result<u64, StoreError> {
        let user = tx.uuid();
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "update reminders set status = 'cancelled', updated_at = now() \
             where user_id = $1 and status = 'scheduled' returning id",
        )
        .bind(user)
        .fetch_all(tx.conn())
        .await?;
        for id in &ids {
            queue::unschedule_reminder(tx.conn(), user, *id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Moves a one-off reminder to `until` (scheduled again).
    pub async fn reschedule(
        tx: &mut UserTx,
        id: Uuid,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        let done = sqlx::query(
            "update reminders set due_at = $2, status = 'scheduled', updated_at = now() \
             where user_id = $3 and id = $1",
        )
        .bind(id)
        .bind(until)
        .bind(user)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        queue::schedule_reminder(tx.conn(), user, id, until).await?;
        Ok(())
    }

    /// The reminder delivered most recently, if any.
    pub async fn last_delivered(tx: &mut UserTx) -> Result<Option<Reminder>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $1 and last_sent_at is not null order by last_sent_at desc limit 1"
        ))
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// Moves future occurrences to a new timezone, keeping their wall-clock time.
    pub async fn retime_all(tx: &mut UserTx, timezone: &str) -> Result<u64, StoreError> {
        let user = tx.uuid();
        let moved: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
            "update reminders set \
                due_at = ((due_at at time zone timezone) at time zone $1), \
                timezone = $1, updated_at = now() \
             where user_id = $2 and status = 'scheduled' returning id, due_at",
        )
        .bind(timezone)
        .bind(user)
        .fetch_all(tx.conn())
        .await?;
        // The old jobs find the reminder moved and stand down.
        for (id, due) in &moved {
            queue::schedule_reminder(tx.conn(), user, *id, *due).await?;
        }
        Ok(moved.len() as u64)
    }

    /// Locks the reminder for delivery.
    pub async fn lock(tx: &mut UserTx, id: Uuid) -> Result<Option<Reminder>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 and id = $1 for update"
        ))
        .bind(id)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// After a delivery (or a miss): the next occurrence of a recurring
    /// reminder, scheduled; a one-off one gets its final status.
    pub async fn advance(
        tx: &mut UserTx,
        id: Uuid,
        final_status: ReminderStatus,
        next: Option<DateTime<Utc>>,
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        let done = sqlx::query(
            "update reminders set status = case when $3::timestamptz is null then $2 else 'scheduled' end, \
               due_at = coalesce($3, due_at), last_sent_at = coalesce($4, last_sent_at), updated_at = now() \
             where user_id = $5 and id = $1",
        )
        .bind(id)
        .bind(final_status)
        .bind(next)
        .bind(sent_at)
        .bind(user)
        .execute(tx.conn())
        .await?;
        // Another person's reminder id: nothing changed, nothing to schedule.
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(next) = next {
            queue::schedule_reminder(tx.conn(), user, id, next).await?;
        }
        Ok(())
    }

    /// Marks a one-off reminder done (a "done" reply).
    pub async fn mark_done(tx: &mut UserTx, id: Uuid) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update reminders set status = 'done', updated_at = now() \
             where user_id = $2 and id = $1 and recurrence is null",
        )
        .bind(id)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// The reminder delivered within `window` before `now`, most recent first.
    pub async fn delivered_since(
        tx: &mut UserTx,
        since: DateTime<Utc>,
    ) -> Result<Option<Reminder>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(concat!(
            "select ",
            reminder_columns!(),
            " from reminders where user_id = $2 and last_sent_at >= $1 order by last_sent_at desc limit 1"
        ))
        .bind(since)
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }
}

/// `%word%` patterns for `ilike all`, with LIKE's wildcards escaped.
pub(crate) fn like_all_words(query: &str) -> Vec<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| {
            let escaped = w
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
        .collect();
    if words.is_empty() {
        vec!["%".into()]
    } else {
        words
    }
}
