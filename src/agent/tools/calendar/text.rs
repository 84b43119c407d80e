//! How calendar answers read in an SMS: "Tomorrow: 9:00 AM dentist ·
//! 1:30 PM call with Sam (3 more)", in the person's zone and language.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::super::Wording;
use crate::integrations::calendar::{Event, When, local_instant};

/// Events named in one SMS; the rest are counted.
const SHOWN: usize = 4;
const TITLE_CHARS: usize = 32;

/// "Tue" / "mar.", or "today"/"tomorrow" and their French forms.
pub(super) fn day_label(day: NaiveDate, today: NaiveDate, say: Wording) -> String {
    const FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    match (day - today).num_days() {
        0 => say.pick("Today", "Aujourd'hui"),
        1 => say.pick("Tomorrow", "Demain"),
        _ if say.french => format!(
            "{} {}",
            FR[day.weekday().num_days_from_monday() as usize],
            day.day()
        ),
        _ => day.format("%a %-d").to_string(),
    }
}

pub(super) fn short(text: &str) -> String {
    crate::http_client::shorten(text, TITLE_CHARS)
}

/// "9:00 AM dentist" / "journée : congés".
pub(super) fn event_text(e: &Event, tz: Tz, say: Wording) -> String {
    match e.when {
        When::AllDay { .. } => format!("{} {}", say.pick("all day:", "journée :"), short(&e.title)),
        When::Timed { start, .. } => {
            format!("{} {}", say.time(start.with_timezone(&tz)), short(&e.title))
        }
    }
}

/// "Tomorrow: 9:00 AM dentist · 1:30 PM call with Sam (3 more)", one
/// part per day; "Nothing on your calendar tomorrow." when empty.
pub(super) fn agenda(
    events: &[Event],
    first: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
    say: Wording,
) -> String {
    let today = now.with_timezone(&tz).date_naive();
    if events.is_empty() {
        let when = day_label(first, today, say).to_lowercase();
        return say.pick(
            &format!("Nothing on your calendar {when}."),
            &format!("Rien dans votre agenda ({when})."),
        );
    }
    let mut days: Vec<(NaiveDate, Vec<String>)> = Vec::new();
    for e in events.iter().take(SHOWN) {
        let day = match e.when {
            When::AllDay { first: d, .. } => d.max(first),
            When::Timed { start, .. } => start.with_timezone(&tz).date_naive(),
        };
        match days.last_mut() {
            Some((d, items)) if *d == day => items.push(event_text(e, tz, say)),
            _ => days.push((day, vec![event_text(e, tz, say)])),
        }
    }
    let mut text = days
        .iter()
        .map(|(d, items)| format!("{}: {}", day_label(*d, today, say), items.join(" · ")))
        .collect::<Vec<_>>()
        .join(" | ");
    if events.len() > SHOWN {
        let more = events.len() - SHOWN;
        text.push_str(&say.pick(&format!(" ({more} more)"), &format!(" ({more} de plus)")));
    }
    text
}

pub(super) fn event_json(e: &Event, tz: Tz, say: Wording) -> Value {
    let when = match e.when {
        When::AllDay { first, last } if first == last => {
            format!("{first} ({})", say.pick("all day", "toute la journée"))
        }
        When::AllDay { first, last } => format!("{first} → {last}"),
        When::Timed { start, end } => {
            let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
            format!("{} {}–{}", s.format("%Y-%m-%d"), say.time(s), say.time(e))
        }
    };
    json!({
        "id": e.id,
        "title": e.title,
        "when": when,
        "location": e.location,
        "description": e.description,
        "attendees": e.attendees,
    })
}

/// "Fri 11: 10:00 AM" for a question.
pub(super) fn at_text(t: NaiveDateTime, tz: Tz, now: DateTime<Utc>, say: Wording) -> String {
    say.when(local_instant(tz, t), tz, now)
}
