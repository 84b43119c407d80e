//! Calendars, whichever provider holds them: one event type, one set of
//! calls, each sent to Google Calendar v3 or Microsoft Graph v1.0.
//! Ranges are instants; all-day events are dates in the person's zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{IntegrationError, Integrations, google_calendar, microsoft_calendar};
use crate::oauth::Provider;
use crate::store::UserId;

/// At most this many events are read for one answer (an SMS shows a few).
pub const MAX_EVENTS: usize = 25;
/// Characters kept of a description: enough to answer, never a whole mail.
pub const MAX_DESCRIPTION_CHARS: usize = 300;

/// When an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// From `first` to `last`, both included.
    AllDay { first: NaiveDate, last: NaiveDate },
    Timed {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl When {
    /// Where it sorts: an all-day event before the day's first meeting.
    pub fn sort_key(&self, tz: Tz) -> DateTime<Utc> {
        match self {
            When::Timed { start, .. } => *start,
            When::AllDay { first, .. } => {
                local_instant(tz, first.and_hms_opt(0, 0, 0).unwrap_or_default())
            }
        }
    }
}

/// An event as we keep it: what an SMS answer needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: String,
    pub title: String,
    pub when: When,
    pub location: Option<String>,
    pub description: Option<String>,
    /// Attendees' addresses (not the person's own).
    pub attendees: Vec<String>,
}

/// A busy interval, `[start, end)`.
pub type Busy = (DateTime<Utc>, DateTime<Utc>);

/// A new timed event, in the person's local time.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub title: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub attendees: Vec<String>,
    pub description: Option<String>,
    pub location: Option<String>,
}

/// What to change on an event; `None` keeps it.
#[derive(Debug, Clone, Default)]
pub struct EventChange {
    pub title: Option<String>,
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
}

/// A local wall-clock time as an instant (the earlier one in a DST
/// overlap, the moment after a gap).
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

/// Keeps the first [`MAX_DESCRIPTION_CHARS`] characters of a text, on one line.
pub(super) fn clip(text: Option<String>) -> Option<String> {
    let text = text?;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = crate::http_client::shorten(&flat, MAX_DESCRIPTION_CHARS);
    (!cut.is_empty()).then_some(cut)
}

impl Integrations {
    /// Events overlapping `[from, to)`, recurring ones expanded, sorted.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_events(
        &self,
        user: UserId,
        provider: Provider,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Event>, IntegrationError> {
        let mut events = match provider {
            Provider::Microsoft => microsoft_calendar::events(self, user, tz, from, to).await?,
            _ => google_calendar::events(self, user, tz, from, to).await?,
        };
        events.sort_by_key(|e| e.when.sort_key(tz));
        events.truncate(MAX_EVENTS);
        Ok(events)
    }

    /// The busy intervals within `[from, to)`.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_busy(
        &self,
        user: UserId,
        provider: Provider,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Busy>, IntegrationError> {
        match provider {
            Provider::Microsoft => microsoft_calendar::busy(self, user, tz, from, to).await,
            _ => google_calendar::busy(self, user, tz, from, to).await,
        }
    }

    /// One event by id.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_event(
        &self,
        user: UserId,
        provider: Provider,
        tz: Tz,
        id: &str,
    ) -> Result<Event, IntegrationError> {
        match provider {
            Provider::Microsoft => microsoft_calendar::get(self, user, tz, id).await,
            _ => google_calendar::get(self, user, tz, id).await,
        }
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_create(
        &self,
        user: UserId,
        provider: Provider,
        tz: Tz,
        event: &NewEvent,
    ) -> Result<Event, IntegrationError> {
        match provider {
            Provider::Microsoft => microsoft_calendar::create(self, user, tz, event).await,
            _ => google_calendar::create(self, user, tz, event).await,
        }
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_update(
        &self,
        user: UserId,
        provider: Provider,
        tz: Tz,
        id: &str,
        change: &EventChange,
    ) -> Result<Event, IntegrationError> {
        match provider {
            Provider::Microsoft => microsoft_calendar::update(self, user, tz, id, change).await,
            _ => google_calendar::update(self, user, tz, id, change).await,
        }
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn calendar_delete(
        &self,
        user: UserId,
        provider: Provider,
        id: &str,
    ) -> Result<(), IntegrationError> {
        match provider {
            Provider::Microsoft => microsoft_calendar::delete(self, user, id).await,
            _ => google_calendar::delete(self, user, id).await,
        }
    }
}

/// What must be escaped in one URL path segment (RFC 3986 unreserved
/// characters stay as they are).
pub(super) const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An id as one URL path segment.
pub(super) fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}
