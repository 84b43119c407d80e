//! The person's follow-through settings: whether reminders persist until
//! acknowledged by default, how often and how many times to nudge, when
//! to offer a bookmark back, and which proactive texts are turned off.

use serde::Serialize;

use super::StoreError;
use crate::db::UserTx;

/// A kind of text Nudge sends without being asked; each can be turned off
/// by text ("stop the nudges").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proactive {
    /// Reminders texted again until acknowledged.
    Nudges,
    /// "Back? You were doing …" after a "brb" and a long quiet.
    BookmarkOffer,
    /// "25 min up — how did it go?" at the end of a focus session.
    FocusCheckin,
    /// "Good morning: 3 things today — …" at the time the person chose.
    MorningCheckin,
    /// "Done today: 2 ✅; move 'X' to tomorrow? YES/NO" in the evening.
    EveningCheckin,
    /// "Dentist 10:00 at 12 Rue X tomorrow — want leave-by texts? YES",
    /// asked in the evening wrap-up when a calendar is connected.
    LeaveByOffer,
}

impl Proactive {
    pub const ALL: [Proactive; 6] = [
        Proactive::Nudges,
        Proactive::BookmarkOffer,
        Proactive::FocusCheckin,
        Proactive::MorningCheckin,
        Proactive::EveningCheckin,
        Proactive::LeaveByOffer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Proactive::Nudges => "nudges",
            Proactive::BookmarkOffer => "bookmark_offer",
            Proactive::FocusCheckin => "focus_checkin",
            Proactive::MorningCheckin => "morning_checkin",
            Proactive::EveningCheckin => "evening_checkin",
            Proactive::LeaveByOffer => "leave_by_offer",
        }
    }

    pub fn parse(name: &str) -> Option<Proactive> {
        Proactive::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// The settings' columns of the person's row, as [`FollowThrough`] reads them.
pub(super) const COLUMNS: &str = "persist_reminders, extract(epoch from nudge_interval)::float8 as nudge_interval_secs, \
     nudge_max, extract(epoch from bookmark_offer_after)::float8 as bookmark_offer_after_secs, \
     proactive_off, extract(epoch from leave_buffer)::float8 as leave_buffer_secs, \
     morning_checkin_at, evening_checkin_at";

/// The settings as stored on the person's row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FollowThrough {
    /// Reminders without their own choice persist until acknowledged.
    pub persist_reminders: bool,
    pub nudge_interval_secs: f64,
    pub nudge_max: i16,
    pub bookmark_offer_after_secs: f64,
    pub proactive_off: Vec<String>,
    /// Added to the travel time before a leave-by text.
    pub leave_buffer_secs: f64,
    /// The morning check-in's local time; `None`: off.
    pub morning_checkin_at: Option<chrono::NaiveTime>,
    /// The evening wrap-up's local time; `None`: off.
    pub evening_checkin_at: Option<chrono::NaiveTime>,
}

/// A text sent once a day at a local time the person picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daily {
    /// "Good morning: 3 things today — …"
    Morning,
    /// "Done today: 2 ✅; move 'renew passport' to tomorrow? YES/NO"
    Evening,
}

impl Daily {
    /// Its time's column on `users` (a fixed name, never input).
    fn column(self) -> &'static str {
        match self {
            Daily::Morning => "morning_checkin_at",
            Daily::Evening => "evening_checkin_at",
        }
    }

    /// The local time it is set for.
    pub fn at(self, settings: &FollowThrough) -> Option<chrono::NaiveTime> {
        match self {
            Daily::Morning => settings.morning_checkin_at,
            Daily::Evening => settings.evening_checkin_at,
        }
    }
}

/// What to change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct FollowThroughChange {
    pub persist_reminders: Option<bool>,
    pub nudge_interval_minutes: Option<i64>,
    pub nudge_max: Option<i16>,
    pub turn_off: Vec<Proactive>,
    pub turn_on: Vec<Proactive>,
}

impl FollowThrough {
    pub async fn load(tx: &mut UserTx) -> Result<FollowThrough, StoreError> {
        let user = tx.uuid();
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from users where id = $1"
        )))
        .bind(user)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)
    }

    pub async fn update(
        tx: &mut UserTx,
        change: &FollowThroughChange,
    ) -> Result<FollowThrough, StoreError> {
        let user = tx.uuid();
        let off: Vec<&str> = change.turn_off.iter().map(|p| p.as_str()).collect();
        let on: Vec<&str> = change.turn_on.iter().map(|p| p.as_str()).collect();
        sqlx::query(
            "update users set \
                persist_reminders = coalesce($2, persist_reminders), \
                nudge_interval = coalesce(make_interval(mins => $3::int), nudge_interval), \
                nudge_max = coalesce($4, nudge_max), \
                proactive_off = array(select distinct x from unnest(proactive_off || $5::text[]) x \
                                      where x <> all($6::text[]) order by x), \
                updated_at = now() \
             where id = $1",
        )
        .bind(user)
        .bind(change.persist_reminders)
        .bind(change.nudge_interval_minutes.map(|m| m as i32))
        .bind(change.nudge_max)
        .bind(&off)
        .bind(&on)
        .execute(tx.conn())
        .await?;
        FollowThrough::load(tx).await
    }

    /// "I was late": the next leave-by texts come `minutes` earlier (at
    /// most two hours of margin in all). Returns the new margin.
    pub async fn add_leave_buffer(tx: &mut UserTx, minutes: i32) -> Result<i64, StoreError> {
        let user = tx.uuid();
        let secs: f64 = sqlx::query_scalar(
            "update users set leave_buffer = least(leave_buffer + make_interval(mins => $2), interval '2 hours'), \
                updated_at = now() where id = $1 \
             returning extract(epoch from leave_buffer)::float8",
        )
        .bind(user)
        .bind(minutes)
        .fetch_one(tx.conn())
        .await?;
        Ok((secs / 60.0).round() as i64)
    }

    /// Sets (or, with `None`, turns off) a daily text; the first one is
    /// scheduled for `first` (a local day) in the same transaction.
    pub async fn set_daily(
        tx: &mut UserTx,
        which: Daily,
        at: Option<chrono::NaiveTime>,
        first: chrono::NaiveDate,
        first_utc: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "update users set {} = $2, updated_at = now() where id = $1",
            which.column()
        )))
        .bind(user)
        .bind(at)
        .execute(tx.conn())
        .await?;
        if let Some(at) = at {
            schedule_daily(tx, which, first, at, first_utc).await?;
        }
        Ok(())
    }

    /// Whether this kind of proactive text is on.
    pub fn allows(&self, kind: Proactive) -> bool {
        !self.proactive_off.iter().any(|k| k == kind.as_str())
    }

    pub fn nudge_interval(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.nudge_interval_secs * 1000.0) as i64)
    }

    pub fn bookmark_offer_after(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.bookmark_offer_after_secs * 1000.0) as i64)
    }
}

/// Schedules the daily text of local day `day` at `run_at`.
pub async fn schedule_daily(
    tx: &mut UserTx,
    which: Daily,
    day: chrono::NaiveDate,
    at: chrono::NaiveTime,
    run_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    use crate::db::queue::{EveningCheckinJob, MorningCheckinJob, enqueue_at};
    let user_id = tx.uuid();
    match which {
        Daily::Morning => {
            let job = MorningCheckinJob { user_id, day, at };
            enqueue_at(tx.conn(), &job, run_at).await?;
        }
        Daily::Evening => {
            let job = EveningCheckinJob { user_id, day, at };
            enqueue_at(tx.conn(), &job, run_at).await?;
        }
    }
    Ok(())
}
