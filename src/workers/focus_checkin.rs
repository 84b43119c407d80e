//! `focus_checkin`: when a focus session's time is up, "25 min up — how
//! did it go? DONE / 10 MORE / STUCK". A session extended since ("10
//! MORE") has a later end, and this job stands down for the new one.

use apalis::prelude::TaskId;
use chrono::{DateTime, Utc};

use super::proactive::{self, Gate};
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::FocusCheckinJob;
use crate::reminders::wording;
use crate::store::{FocusSession, FocusStatus, Proactive, StoreError, UserId};

/// What the job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedIn {
    Sent,
    Skipped(&'static str),
    /// Woken before the end: wait this long and run again.
    Early(std::time::Duration),
}

impl Perform for FocusCheckinJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        2
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        loop {
            match run(state, &self, Utc::now()).await? {
                CheckedIn::Early(wait) => tokio::time::sleep(wait).await,
                _ => return Ok(()),
            }
        }
    }
}

#[tracing::instrument(name = "job.focus_checkin", skip_all, fields(session_id = %job.session_id))]
pub async fn run(
    state: &AppState,
    job: &FocusCheckinJob,
    now: DateTime<Utc>,
) -> Result<CheckedIn, StoreError> {
    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    let Some(session) = FocusSession::lock(&mut tx, job.session_id).await? else {
        return Ok(CheckedIn::Skipped("gone"));
    };
    if session.status != FocusStatus::Running || session.ends_at != job.ends_at {
        return Ok(CheckedIn::Skipped("moved_or_ended"));
    }
    // Job times have one-second resolution.
    if session.ends_at > now + chrono::Duration::seconds(1) {
        return Ok(CheckedIn::Early(
            (session.ends_at - now).to_std().unwrap_or_default(),
        ));
    }
    let user = match proactive::gate(&mut tx, Proactive::FocusCheckin, now).await? {
        Gate::Open(user) => user,
        Gate::Closed(why) => {
            metrics::counter!("focus_checkins_total", "outcome" => why).increment(1);
            return Ok(CheckedIn::Skipped(why));
        }
    };
    let minutes = (session.ends_at - session.started_at).num_minutes().max(1);
    let body = wording::focus_checkin_text(minutes, user.locale());
    let key = format!("focus:{}:{}", session.id, session.ends_at.timestamp());
    proactive::send(&mut tx, &body, &key).await?;
    FocusSession::mark_checked_in(&mut tx, session.id, now).await?;
    tx.commit().await?;
    metrics::counter!("focus_checkins_total", "outcome" => "sent").increment(1);
    Ok(CheckedIn::Sent)
}
