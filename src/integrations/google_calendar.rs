//! Google Calendar v3 on the person's primary calendar: `events.list`
//! (`singleEvents=true`, ordered by start, in the person's zone, bounded
//! pagination), `freeBusy`, and `events.get/insert/patch/delete` (with
//! `sendUpdates=all` so attendees hear about changes, as in Google's UI).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Value, json};

use super::calendar::{Busy, Event, EventChange, MAX_EVENTS, NewEvent, When, clip, segment};
use super::client::{label, parse};
use super::{IntegrationError, Integrations};
use crate::oauth::Provider;
use crate::store::UserId;

const P: Provider = Provider::Google;
/// Pages read at most for one answer.
const MAX_PAGES: usize = 3;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventList {
    #[serde(default)]
    items: Vec<RawEvent>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    status: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    location: Option<String>,
    start: Option<RawTime>,
    end: Option<RawTime>,
    #[serde(default)]
    attendees: Vec<RawAttendee>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTime {
    date: Option<NaiveDate>,
    date_time: Option<DateTime<chrono::FixedOffset>>,
}

#[derive(Deserialize)]
struct RawAttendee {
    email: Option<String>,
    #[serde(rename = "self", default)]
    is_self: bool,
}

#[derive(Deserialize)]
struct FreeBusy {
    #[serde(default)]
    calendars: std::collections::HashMap<String, FreeBusyCalendar>,
}

#[derive(Deserialize)]
struct FreeBusyCalendar {
    #[serde(default)]
    busy: Vec<Interval>,
}

#[derive(Deserialize)]
struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl RawEvent {
    fn into_event(self) -> Option<Event> {
        if self.status.as_deref() == Some("cancelled") {
            return None;
        }
        let (start, end) = (self.start?, self.end?);
        let when = match (start.date, end.date, start.date_time, end.date_time) {
            // All-day: the end date is exclusive.
            (Some(first), Some(after), _, _) => When::AllDay {
                first,
                last: after.pred_opt().filter(|d| *d >= first).unwrap_or(first),
            },
            (_, _, Some(s), Some(e)) => When::Timed {
                start: s.with_timezone(&Utc),
                end: e.with_timezone(&Utc),
            },
            _ => return None,
        };
        Some(Event {
            id: self.id,
            title: self.summary.unwrap_or_else(|| "(no title)".into()),
            when,
            location: clip(self.location),
            description: clip(self.description),
            attendees: self
                .attendees
                .into_iter()
                .filter(|a| !a.is_self)
                .filter_map(|a| a.email)
                .collect(),
        })
    }
}

fn base(s: &Integrations) -> String {
    format!("{}/calendars/primary/events", s.config.google_calendar_url)
}

pub(super) async fn events(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Event>, IntegrationError> {
    let url = base(s);
    let mut events = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query: Vec<(&str, String)> = [
            ("timeMin", from.to_rfc3339()),
            ("timeMax", to.to_rfc3339()),
            ("singleEvents", "true".into()),
            ("orderBy", "startTime".into()),
            ("maxResults", MAX_EVENTS.to_string()),
            ("timeZone", tz.name().to_string()),
        ]
        .into_iter()
        .chain(page.take().map(|p| ("pageToken", p)))
        .collect();
        let body = s
            .authorized(user, P, true, &|http, token| {
                http.get(&url).bearer_auth(token).query(&query)
            })
            .await?;
        let list: EventList = parse(label(P), &body)?;
        events.extend(list.items.into_iter().filter_map(RawEvent::into_event));
        match list.next_page_token {
            Some(token) if events.len() < MAX_EVENTS => page = Some(token),
            _ => break,
        }
    }
    Ok(events)
}

pub(super) async fn busy(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>, IntegrationError> {
    let url = format!("{}/freeBusy", s.config.google_calendar_url);
    let request = json!({
        "timeMin": from.to_rfc3339(),
        "timeMax": to.to_rfc3339(),
        "timeZone": tz.name(),
        "items": [{"id": "primary"}],
    });
    // A query, not a change: safe to retry.
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.post(&url).bearer_auth(token).json(&request)
        })
        .await?;
    let answer: FreeBusy = parse(label(P), &body)?;
    Ok(answer
        .calendars
        .into_values()
        .flat_map(|c| c.busy)
        .map(|i| (i.start, i.end))
        .collect())
}

pub(super) async fn get(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    id: &str,
) -> Result<Event, IntegrationError> {
    let url = format!("{}/{}", base(s), segment(id));
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.get(&url)
                .bearer_auth(token)
                .query(&[("timeZone", tz.name())])
        })
        .await?;
    let raw: RawEvent = parse(label(P), &body)?;
    raw.into_event().ok_or(IntegrationError::NotFound(label(P)))
}

fn local(tz: Tz, t: chrono::NaiveDateTime) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": tz.name()})
}

fn send_updates(attendees: bool) -> [(&'static str, &'static str); 1] {
    [("sendUpdates", if attendees { "all" } else { "none" })]
}

pub(super) async fn create(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    e: &NewEvent,
) -> Result<Event, IntegrationError> {
    let url = base(s);
    let mut body = json!({
        "summary": e.title,
        "start": local(tz, e.start),
        "end": local(tz, e.end),
    });
    if let Some(d) = &e.description {
        body["description"] = json!(d);
    }
    if let Some(l) = &e.location {
        body["location"] = json!(l);
    }
    if !e.attendees.is_empty() {
        body["attendees"] = e.attendees.iter().map(|a| json!({"email": a})).collect();
    }
    let invites = send_updates(!e.attendees.is_empty());
    let answer = s
        .authorized(user, P, false, &|http, token| {
            http.post(&url)
                .bearer_auth(token)
                .query(&invites)
                .json(&body)
        })
        .await?;
    let raw: RawEvent = parse(label(P), &answer)?;
    raw.into_event()
        .ok_or(IntegrationError::Malformed(label(P)))
}

pub(super) async fn update(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    id: &str,
    change: &EventChange,
) -> Result<Event, IntegrationError> {
    let url = format!("{}/{}", base(s), segment(id));
    let mut body = json!({});
    if let Some(t) = &change.title {
        body["summary"] = json!(t);
    }
    if let Some(start) = change.start {
        body["start"] = local(tz, start);
    }
    if let Some(end) = change.end {
        body["end"] = local(tz, end);
    }
    let answer = s
        .authorized(user, P, false, &|http, token| {
            http.patch(&url)
                .bearer_auth(token)
                .query(&send_updates(true))
                .json(&body)
        })
        .await?;
    let raw: RawEvent = parse(label(P), &answer)?;
    raw.into_event()
        .ok_or(IntegrationError::Malformed(label(P)))
}

pub(super) async fn delete(
    s: &Integrations,
    user: UserId,
    id: &str,
) -> Result<(), IntegrationError> {
    let url = format!("{}/{}", base(s), segment(id));
    s.authorized(user, P, false, &|http, token| {
        http.delete(&url)
            .bearer_auth(token)
            .query(&send_updates(true))
    })
    .await?;
    Ok(())
}
