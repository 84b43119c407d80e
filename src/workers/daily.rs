//! What the daily texts share (the morning check-in, the evening
//! wrap-up): the job stands down when its time was changed or turned off,
//! or when its day's text was already stored (the key names the day, so a
//! day is texted once); otherwise it schedules the next day's at the same
//! local time (right across DST) and passes the proactive gate.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::proactive::{self, Gate};
use crate::app::AppState;
use crate::db::UserTx;
use crate::store::follow_through::{Daily, schedule_daily};
use crate::store::recurrence::resolve_local;
use crate::store::{FollowThrough, Proactive, SmsMessage, StoreError, User, UserId};

/// One day's job of a daily text.
pub struct Today {
    pub which: Daily,
    pub user_id: uuid::Uuid,
    pub day: NaiveDate,
    pub at: NaiveTime,
}

/// Whether today's text goes ahead.
pub enum Start {
    /// Go: the person, and the transaction the next day's job is in
    /// (commit it with the text, or before a provider call).
    Go(UserTx, User),
    Skipped(&'static str),
}

impl Today {
    /// The stored text's idempotency key. It names the person: the keys
    /// are unique across everyone's messages.
    pub fn key(&self) -> String {
        let name = match self.which {
            Daily::Morning => "morning",
            Daily::Evening => "evening",
        };
        format!("{name}:{}:{}", self.user_id, self.day)
    }

    /// Whether today's text was already stored.
    pub async fn already_sent(&self, tx: &mut UserTx) -> Result<bool, StoreError> {
        Ok(SmsMessage::by_idempotency_key(tx, &self.key())
            .await?
            .is_some())
    }

    pub async fn start(&self, state: &AppState, now: DateTime<Utc>) -> Result<Start, StoreError> {
        let mut tx = UserTx::begin(&state.db, UserId(self.user_id)).await?;
        let user = User::current(&mut tx).await?;
        if self.which.at(&FollowThrough::load(&mut tx).await?) != Some(self.at) {
            // Turned off, or moved: the new time has its own job.
            return Ok(Start::Skipped("changed"));
        }
        if self.already_sent(&mut tx).await? {
            return Ok(Start::Skipped("already_sent"));
        }
        let next_day = self.day.succ_opt().unwrap_or(self.day);
        let run_at = resolve_local(user.tz(), next_day.and_time(self.at));
        schedule_daily(&mut tx, self.which, next_day, self.at, run_at).await?;
        let kind = match self.which {
            Daily::Morning => Proactive::MorningCheckin,
            Daily::Evening => Proactive::EveningCheckin,
        };
        match proactive::gate(&mut tx, kind, now).await? {
            Gate::Open(user) => Ok(Start::Go(tx, user)),
            Gate::Closed(why) => {
                tx.commit().await?;
                Ok(Start::Skipped(why))
            }
        }
    }
}
