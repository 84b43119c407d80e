//! Microsoft Graph v1.0 on the person's default calendar: `calendarView`
//! for a range (recurrences expanded by Graph; times asked for in the
//! person's zone with `Prefer: outlook.timezone`; `@odata.nextLink`
//! followed a bounded number of times, and only back to Graph itself),
//! busy times from the same view, and `/me/events` get/create/patch/delete.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Value, json};

use super::calendar::{
    Busy, Event, EventChange, MAX_EVENTS, NewEvent, When, clip, local_instant, segment,
};
use super::client::{label, parse};
use super::{IntegrationError, Integrations};
use crate::oauth::Provider;
use crate::store::UserId;

const P: Provider = Provider::Microsoft;
const MAX_PAGES: usize = 3;
const SELECT: &str =
    "id,subject,bodyPreview,start,end,isAllDay,isCancelled,showAs,location,attendees";

#[derive(Deserialize)]
struct View {
    #[serde(default)]
    value: Vec<RawEvent>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    id: String,
    subject: Option<String>,
    body_preview: Option<String>,
    start: Option<RawTime>,
    end: Option<RawTime>,
    #[serde(default)]
    is_all_day: bool,
    #[serde(default)]
    is_cancelled: bool,
    show_as: Option<String>,
    location: Option<RawLocation>,
    #[serde(default)]
    attendees: Vec<RawAttendee>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTime {
    /// Local to the zone asked for ("2026-03-29T09:00:00.0000000").
    date_time: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLocation {
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAttendee {
    email_address: Option<RawAddress>,
}

#[derive(Deserialize)]
struct RawAddress {
    address: Option<String>,
}

fn local_time(raw: &RawTime) -> Option<NaiveDateTime> {
    let text = raw.date_time.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

impl RawEvent {
    fn into_event(self, tz: Tz) -> Option<Event> {
        if self.is_cancelled {
            return None;
        }
        let (start, end) = (
            local_time(self.start.as_ref()?)?,
            local_time(self.end.as_ref()?)?,
        );
        let when = if self.is_all_day {
            // Midnight to midnight; the end is exclusive.
            let first = start.date();
            When::AllDay {
                first,
                last: end
                    .date()
                    .pred_opt()
                    .filter(|d| *d >= first)
                    .unwrap_or(first),
            }
        } else {
            When::Timed {
                start: local_instant(tz, start),
                end: local_instant(tz, end),
            }
        };
        Some(Event {
            id: self.id,
            title: self.subject.unwrap_or_else(|| "(no title)".into()),
            when,
            location: clip(self.location.and_then(|l| l.display_name)),
            description: clip(self.body_preview),
            attendees: self
                .attendees
                .into_iter()
                .filter_map(|a| a.email_address.and_then(|e| e.address))
                .collect(),
        })
    }

    fn busy(&self) -> bool {
        !self.is_cancelled && self.show_as.as_deref() != Some("free")
    }
}

fn prefer(tz: Tz) -> String {
    format!("outlook.timezone=\"{}\"", tz.name())
}

/// The view's raw events, following `@odata.nextLink` while it points
/// back at Graph (never sending the token anywhere else).
async fn view(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RawEvent>, IntegrationError> {
    let base = s.config.microsoft_graph_url.clone();
    let first = format!("{base}/me/calendarView");
    let query: Vec<(&str, String)> = vec![
        ("startDateTime", from.to_rfc3339()),
        ("endDateTime", to.to_rfc3339()),
        ("$select", SELECT.into()),
        ("$orderby", "start/dateTime".into()),
        ("$top", MAX_EVENTS.to_string()),
    ];
    let mut raw = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page_url = next.take();
        let body = s
            .authorized(user, P, true, &|http, token| {
                let request = match &page_url {
                    Some(link) => http.get(link),
                    None => http.get(&first).query(&query),
                };
                request.bearer_auth(token).header("Prefer", prefer(tz))
            })
            .await?;
        let page: View = parse(label(P), &body)?;
        raw.extend(page.value);
        match page.next_link {
            Some(link) if raw.len() < MAX_EVENTS && link.starts_with(&format!("{base}/")) => {
                next = Some(link);
            }
            _ => break,
        }
    }
    Ok(raw)
}

pub(super) async fn events(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Event>, IntegrationError> {
    Ok(view(s, user, tz, from, to)
        .await?
        .into_iter()
        .filter_map(|e| e.into_event(tz))
        .collect())
}

pub(super) async fn busy(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>, IntegrationError> {
    Ok(view(s, user, tz, from, to)
        .await?
        .into_iter()
        .filter(RawEvent::busy)
        .filter_map(|e| e.into_event(tz))
        .map(|e| match e.when {
            When::Timed { start, end } => (start, end),
            When::AllDay { first, last } => (
                local_instant(tz, first.and_hms_opt(0, 0, 0).unwrap_or_default()),
                local_instant(
                    tz,
                    last.succ_opt()
                        .unwrap_or(last)
                        .and_hms_opt(0, 0, 0)
                        .unwrap_or_default(),
                ),
            ),
        })
        .collect())
}

fn events_url(s: &Integrations) -> String {
    format!("{}/me/events", s.config.microsoft_graph_url)
}

pub(super) async fn get(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    id: &str,
) -> Result<Event, IntegrationError> {
    let url = format!("{}/{}", events_url(s), segment(id));
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.get(&url)
                .bearer_auth(token)
                .header("Prefer", prefer(tz))
                .query(&[("$select", SELECT)])
        })
        .await?;
    let raw: RawEvent = parse(label(P), &body)?;
    raw.into_event(tz)
        .ok_or(IntegrationError::NotFound(label(P)))
}

fn local(tz: Tz, t: NaiveDateTime) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": tz.name()})
}

pub(super) async fn create(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    e: &NewEvent,
) -> Result<Event, IntegrationError> {
    let url = events_url(s);
    let mut body = json!({
        "subject": e.title,
        "start": local(tz, e.start),
        "end": local(tz, e.end),
    });
    if let Some(d) = &e.description {
        body["body"] = json!({"contentType": "text", "content": d});
    }
    if let Some(l) = &e.location {
        body["location"] = json!({"displayName": l});
    }
    if !e.attendees.is_empty() {
        body["attendees"] = e
            .attendees
            .iter()
            .map(|a| json!({"emailAddress": {"address": a}, "type": "required"}))
            .collect();
    }
    let answer = s
        .authorized(user, P, false, &|http, token| {
            http.post(&url)
                .bearer_auth(token)
                .header("Prefer", prefer(tz))
                .json(&body)
        })
        .await?;
    let raw: RawEvent = parse(label(P), &answer)?;
    raw.into_event(tz)
        .ok_or(IntegrationError::Malformed(label(P)))
}

pub(super) async fn update(
    s: &Integrations,
    user: UserId,
    tz: Tz,
    id: &str,
    change: &EventChange,
) -> Result<Event, IntegrationError> {
    let url = format!("{}/{}", events_url(s), segment(id));
    let mut body = json!({});
    if let Some(t) = &change.title {
        body["subject"] = json!(t);
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
                .header("Prefer", prefer(tz))
                .json(&body)
        })
        .await?;
    let raw: RawEvent = parse(label(P), &answer)?;
    raw.into_event(tz)
        .ok_or(IntegrationError::Malformed(label(P)))
}

pub(super) async fn delete(
    s: &Integrations,
    user: UserId,
    id: &str,
) -> Result<(), IntegrationError> {
    let url = format!("{}/{}", events_url(s), segment(id));
    s.authorized(user, P, false, &|http, token| {
        http.delete(&url).bearer_auth(token)
    })
    .await?;
    Ok(())
}
