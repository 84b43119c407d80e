//! The calendar tools, over whichever calendar the person connected
//! (Google first when both are): `calendar_events`, `calendar_free`,
//! `calendar_create_event`, `calendar_update_event`, `calendar_delete_event`.
//!
//! All run remotely (no transaction open while the provider is called).
//! Reading events is untrusted content (titles and descriptions come from
//! whoever sent the invitation). Creating a private event in the person's
//! own calendar does not ask first — it is theirs, visible only to them,
//! and as easy to undo as a reminder; creating one with attendees sends
//! invitations, so it asks. Moving or deleting an event always asks: the
//! attendees are told.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::{Effect, Integration, RemoteContext, Tool, ToolContext, ToolError, arg_str};
use crate::integrations::calendar::local_instant;
use crate::integrations::{IntegrationError, Integrations};
use crate::oauth::Provider;

pub fn tools(integrations: &Integrations) -> Vec<Arc<dyn Tool>> {
    let s = || integrations.clone();
    vec![
        Arc::new(Events(s())),
        Arc::new(Free(s())),
        Arc::new(writes::Create(s())),
        Arc::new(writes::Update(s())),
        Arc::new(writes::Delete(s())),
    ]
}

/// The calendar to use: Google when connected, else Microsoft.
fn provider(connected: &HashSet<Integration>) -> Option<Provider> {
    if connected.contains(&Integration::Google) {
        Some(Provider::Google)
    } else if connected.contains(&Integration::Microsoft) {
        Some(Provider::Microsoft)
    } else {
        None
    }
}

fn any_calendar(connected: &HashSet<Integration>) -> bool {
    provider(connected).is_some()
}

fn chosen(ctx: &RemoteContext<'_>) -> Result<Provider, ToolError> {
    provider(ctx.connected).ok_or_else(|| ToolError::Provider("no calendar is connected".into()))
}

/// A provider's failure as the model should hear it: what happened and
/// what to offer the person.
pub(super) fn provider_error(e: IntegrationError) -> ToolError {
    let hint = match &e {
        IntegrationError::NeedsReauth(_) | IntegrationError::Unauthorized(_) => {
            " — tell the person it must be reconnected and offer connect_integration"
        }
        IntegrationError::MissingScope(_) => {
            " — offer connect_integration so the person can grant that access"
        }
        IntegrationError::Unavailable { .. } | IntegrationError::RateLimited { .. } => {
            " — say it could not be reached and answer what you can"
        }
        _ => "",
    };
    ToolError::Provider(format!("{e}{hint}; nothing was changed"))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

fn local_arg(args: &Value, key: &str) -> Result<Option<NaiveDateTime>, ToolError> {
    arg_str(args, key)
        .map(|s| {
            parse_local(s)
                .ok_or_else(|| ToolError::Invalid(format!("{key} must be YYYY-MM-DDTHH:MM")))
        })
        .transpose()
}

fn minutes(args: &Value) -> Option<i64> {
    args.get("minutes")
        .and_then(Value::as_i64)
        .map(|m| m.clamp(5, 24 * 60))
}

mod text;
mod writes;

use text::{agenda, at_text, event_json};

struct Events(Integrations);

#[async_trait::async_trait]
impl Tool for Events {
    fn name(&self) -> &'static str {
        "calendar_events"
    }
    fn description(&self) -> &'static str {
        "List the events in the person's calendar for a day or a few days (recurring events expanded, all-day events included)."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "date": {"type": "string", "description": "first day, YYYY-MM-DD (default today)"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7, "description": "how many days (default 1)"},
            },
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_calendar(connected)
    }
    fn reads_untrusted(&self) -> Option<&'static str> {
        Some("the person's calendar (event titles, places and descriptions)")
    }
    fn remote(&self) -> bool {
        true
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("calendar_events runs remotely".into()))
    }
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let today = ctx.now.with_timezone(&ctx.tz).date_naive();
        let first = match arg_str(&args, "date") {
            Some(d) => {
                parse_date(d).ok_or_else(|| ToolError::Invalid("date must be YYYY-MM-DD".into()))?
            }
            None => today,
        };
        let days = args
            .get("days")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .clamp(1, 7);
        let start = first.and_hms_opt(0, 0, 0).unwrap_or_default();
        let from = local_instant(ctx.tz, start);
        let to = local_instant(ctx.tz, start + chrono::Duration::days(days));
        let events = self
            .0
            .calendar_events(ctx.user.id, p, ctx.tz, from, to)
            .await
            .map_err(provider_error)?;
        Ok(json!({
            "calendar": p.display_name(),
            "confirmation": agenda(&events, first, ctx.tz, ctx.now, ctx.say),
            "events": events.iter().map(|e| event_json(e, ctx.tz, ctx.say)).collect::<Vec<_>>(),
        }))
    }
}

struct Free(Integrations);

#[async_trait::async_trait]
impl Tool for Free {
    fn name(&self) -> &'static str {
        "calendar_free"
    }
    fn description(&self) -> &'static str {
        "Check whether the person is free at a time, from their calendar's busy times."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "start": {"type": "string", "description": "local time YYYY-MM-DDTHH:MM"},
                "minutes": {"type": "integer", "minimum": 5, "maximum": 1440, "description": "how long (default 60)"},
            },
            "required": ["start"],
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_calendar(connected)
    }
    fn remote(&self) -> bool {
        true
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("calendar_free runs remotely".into()))
    }
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let start = local_arg(&args, "start")?
            .ok_or_else(|| ToolError::Invalid("start is required".into()))?;
        let end = start + chrono::Duration::minutes(minutes(&args).unwrap_or(60));
        let (from, to) = (local_instant(ctx.tz, start), local_instant(ctx.tz, end));
        let busy = self
            .0
            .calendar_busy(ctx.user.id, p, ctx.tz, from, to)
            .await
            .map_err(provider_error)?;
        let conflicts: Vec<_> = busy
            .into_iter()
            .filter(|(s, e)| *s < to && *e > from)
            .collect();
        let say = ctx.say;
        let when = at_text(start, ctx.tz, ctx.now, say);
        let confirmation = match conflicts.first() {
            None => say.pick(
                &format!("You're free {when}."),
                &format!("Vous êtes libre {when}."),
            ),
            Some((s, e)) => {
                let (s, e) = (
                    say.time(s.with_timezone(&ctx.tz)),
                    say.time(e.with_timezone(&ctx.tz)),
                );
                say.pick(
                    &format!("You're busy then ({s}–{e})."),
                    &format!("Vous êtes pris à ce moment-là ({s}–{e})."),
                )
            }
        };
        Ok(json!({
            "free": conflicts.is_empty(),
            "busy": conflicts.iter().map(|(s, e)| json!({"from": s.with_timezone(&ctx.tz).to_rfc3339(), "to": e.with_timezone(&ctx.tz).to_rfc3339()})).collect::<Vec<_>>(),
            "confirmation": confirmation,
        }))
    }
}
