//! The calendar's part of the evening wrap-up: tomorrow's first timed
//! event that has a location, to offer leave-by texts for it ("Dentist
//! 10:00 at 12 Rue X tomorrow — want leave-by texts? YES").
//!
//! Called with no transaction open (the provider call may take seconds);
//! the caller reads who is connected before and writes the offer after.
//! A provider that fails or is not connected means no offer, never a
//! failed wrap-up.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use super::Agent;
use crate::http_client::shorten;
use crate::integrations::calendar::{When, local_instant};
use crate::oauth::Provider;
use crate::store::UserId;

/// Characters kept of an event's title and of its location in a text.
const MAX_SHOWN_CHARS: usize = 60;

/// A timed event with a place, in the person's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedEvent {
    pub title: String,
    pub start: NaiveDateTime,
    pub location: String,
}

impl Agent {
    /// The first timed event of local day `day` that has a location, from
    /// the person's calendar (Google when both are connected); `None` when
    /// there is none, no calendar, or the provider failed.
    #[tracing::instrument(name = "agent.calendar_offer", skip_all, fields(user_id = %user))]
    pub async fn located_event_on(
        &self,
        user: UserId,
        connected: &[String],
        tz: Tz,
        day: NaiveDate,
    ) -> Option<LocatedEvent> {
        let provider = [Provider::Google, Provider::Microsoft]
            .into_iter()
            .find(|p| connected.iter().any(|c| c == p.as_str()))?;
        let integrations = self.integrations()?;
        let from = local_instant(tz, day.and_time(NaiveTime::MIN));
        let to = local_instant(tz, day.succ_opt()?.and_time(NaiveTime::MIN));
        let events = match integrations
            .calendar_events(user, provider, tz, from, to)
            .await
        {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "calendar unavailable for the leave-by offer");
                return None;
            }
        };
        events.into_iter().find_map(|e| {
            let When::Timed { start, .. } = e.when else {
                return None;
            };
            let location = e.location.filter(|l| !l.trim().is_empty())?;
            (start >= from).then(|| LocatedEvent {
                title: shorten(e.title.trim(), MAX_SHOWN_CHARS),
                start: start.with_timezone(&tz).naive_local(),
                location: shorten(location.trim(), MAX_SHOWN_CHARS),
            })
        })
    }
}
