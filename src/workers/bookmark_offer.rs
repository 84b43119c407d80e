//! `bookmark_offer`: after a "brb" and a long quiet, one gentle offer to
//! pick the bookmark back up. Not sent when the person texted since, saved
//! a newer bookmark, turned these offers off, opted out, or is in quiet
//! hours: one offer at most, never a chase.

use apalis::prelude::TaskId;
use chrono::{DateTime, Utc};

use super::proactive::{self, Gate};
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::BookmarkOfferJob;
use crate::reminders::wording;
use crate::store::nudges::answered_since;
use crate::store::{Bookmark, Proactive, StoreError, UserId};

/// What the job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    Sent,
    /// Not sent, and why.
    Skipped(&'static str),
}

impl Perform for BookmarkOfferJob {
    type Error = StoreError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        2
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), StoreError> {
        run(state, &self, Utc::now()).await.map(drop)
    }
}

#[tracing::instrument(name = "job.bookmark_offer", skip_all, fields(bookmark_id = %job.bookmark_id))]
pub async fn run(
    state: &AppState,
    job: &BookmarkOfferJob,
    now: DateTime<Utc>,
) -> Result<Offered, StoreError> {
    let mut tx = UserTx::begin(&state.db, UserId(job.user_id)).await?;
    let Some(bookmark) = Bookmark::lock(&mut tx, job.bookmark_id).await? else {
        return Ok(Offered::Skipped("gone"));
    };
    let skip = if bookmark.offered_at.is_some() {
        Some("already_offered")
    } else if answered_since(&mut tx, bookmark.created_at).await? {
        Some("not_quiet")
    } else if !Bookmark::is_latest(&mut tx, &bookmark).await? {
        Some("newer_bookmark")
    } else {
        None
    };
    let why = match (
        skip,
        proactive::gate(&mut tx, Proactive::BookmarkOffer, now).await?,
    ) {
        (Some(why), _) | (None, Gate::Closed(why)) => why,
        (None, Gate::Open(user)) => {
            let body = wording::bookmark_offer_text(
                &bookmark.doing,
                bookmark.next_step.as_deref(),
                user.locale(),
            );
            proactive::send(&mut tx, &body, &format!("bookmark:{}", bookmark.id)).await?;
            Bookmark::mark_offered(&mut tx, bookmark.id, now).await?;
            tx.commit().await?;
            metrics::counter!("bookmark_offers_total", "outcome" => "sent").increment(1);
            return Ok(Offered::Sent);
        }
    };
    metrics::counter!("bookmark_offers_total", "outcome" => why).increment(1);
    Ok(Offered::Skipped(why))
}
