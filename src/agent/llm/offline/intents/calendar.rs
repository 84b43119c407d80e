//! Calendar reads, offered only when a calendar is connected (the caller
//! checks that the request declares `calendar_events`): "what's on
//! tomorrow", "what do I have Friday", "qu'est-ce que j'ai demain",
//! "j'ai quoi vendredi" → `calendar_events`; "am I free at 3", "am I free
//! Thursday at 3pm", "suis-je libre demain à 15h" → `calendar_free`. Writes
//! are left to the other rules (they ask the person to rephrase).

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::agent::llm::LlmRequest;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::time::{self, When};
use crate::agent::llm::offline::{Ctx, Plan};
use crate::store::Locale;

/// The calendar rules for `raw`, read like `plan_text` reads a message;
/// `None` unless the request offers the calendar tools.
pub(in crate::agent::llm::offline) fn calendar_plan(
    request: &LlmRequest,
    raw: &str,
    now: NaiveDateTime,
    locale: Locale,
) -> Option<Plan> {
    if !request.tools.iter().any(|t| t.name == "calendar_events") {
        return None;
    }
    let inp = text::polite_trimmed(&Input::new(raw));
    let ctx = Ctx {
        now,
        lang: text::detect_lang(&inp, locale),
        question: raw.trim_end().ends_with('?'),
    };
    calendar(&inp, &ctx)
}

/// The day a few words name ("", "today", "tomorrow", "on friday",
/// "demain", "vendredi"), or `None` when they say something else.
fn day_of(rest: &Input, ctx: &Ctx) -> Option<NaiveDate> {
    let n = rest.norm().trim();
    let today = ctx.now.date();
    if rx!(r"^(?:(?:for|pour)\s+)?(?:today|tonight|aujourd'hui|ce\s+soir|auj)?$").is_match(n) {
        return Some(today);
    }
    let ex = time::extract(rest, ctx.now);
    let left = ex.rest.norm().trim().to_string();
    if !rx!(r"^(?:(?:on|for|in\s+my\s+calendar|this|next|le|pour|de\s+prevu|dans\s+mon\s+agenda|prevu)\s*)*$").is_match(&left) {
        return None;
    }
    match time::resolve(&ex.schedule, ctx.now)? {
        When::At { due, rec: None } => Some(due.date()),
        _ => None,
    }
}

/// "what's on tomorrow" → the day's events; "am I free at 3" → busy check.
fn calendar(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if let Some(c) = rx!(
        r"^(?:am\s+i|are\s+we|will\s+i\s+be|(?:est-ce\s+que\s+)?je\s+suis|suis-je|(?:est-ce\s+que\s+)?j'suis)\s+(?:free|available|libre|dispo(?:nible)?)\b(?P<rest>.*)$"
    )
    .captures(n)
    {
        let rest = inp.sub(c.name("rest")?.start()..n.len());
        let ex = time::extract(&rest, ctx.now);
        if !ex.schedule.is_anchored() {
            // A day without a time: what is on that day answers it.
            let day = day_of(&rest, ctx)?;
            return Some(Plan::call("calendar_events", json!({"date": day.format("%Y-%m-%d").to_string()})));
        }
        return match time::resolve(&ex.schedule, ctx.now)? {
            When::At { due, rec: None } => Some(Plan::call(
                "calendar_free",
                json!({"start": due.format("%Y-%m-%dT%H:%M").to_string(), "minutes": 60}),
            )),
            _ => None,
        };
    }
    let c = rx!(
        r"^(?:what(?:'s|s|\s+is)\s+(?:on|happening|planned)|what\s+do\s+i\s+have(?:\s+on)?|what(?:'s|s|\s+is)\s+(?:in|on)\s+my\s+(?:calendar|agenda|schedule)|(?:is\s+there\s+)?anything\s+(?:on|in\s+my\s+calendar)|(?:show\s+me\s+)?my\s+(?:calendar|agenda|schedule)|qu'est-ce\s+que\s+j'ai|j'ai\s+quoi|qu'est-ce\s+qu'il\s+y\s+a\s+(?:dans|sur)\s+mon\s+(?:agenda|calendrier)|(?:c'est\s+quoi\s+)?mon\s+(?:agenda|calendrier|planning)|quoi\s+de\s+prevu)\b(?P<rest>.*)$"
    )
    .captures(n)?;
    let rest = inp.sub(c.name("rest")?.start()..n.len());
    let day = day_of(&rest, ctx)?;
    Some(Plan::call(
        "calendar_events",
        json!({"date": day.format("%Y-%m-%d").to_string()}),
    ))
}
