//! The calendar tools that change something: create (asks only when it
//! invites someone), update and delete (always ask; attendees are told).

use serde_json::{Value, json};

use super::text::{at_text, event_text, short};
use super::{any_calendar, chosen, local_arg, minutes, provider, provider_error};
use crate::agent::tools::{
    Effect, Integration, RemoteContext, Tool, ToolContext, ToolError, Wording, arg_str,
};
use crate::integrations::Integrations;
use crate::integrations::calendar::{Event, EventChange, NewEvent, When};
use std::collections::HashSet;

fn attendees(args: &Value) -> Vec<String> {
    args.get("attendees")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

pub(super) struct Create(pub(super) Integrations);

#[async_trait::async_trait]
impl Tool for Create {
    fn name(&self) -> &'static str {
        "calendar_create_event"
    }
    fn description(&self) -> &'static str {
        "Add an event to the person's calendar; with attendees, they are emailed an invitation."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 200},
                "start": {"type": "string", "description": "local time YYYY-MM-DDTHH:MM"},
                "minutes": {"type": "integer", "minimum": 5, "maximum": 1440, "description": "how long (default 60)"},
                "attendees": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 20},
                "location": {"type": "string", "maxLength": 200},
                "description": {"type": "string", "maxLength": 1000},
            },
            "required": ["title", "start"],
        })
    }
    fn effect(&self) -> Effect {
        Effect::Write
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_calendar(connected)
    }
    fn needs_confirmation_for(&self, args: &Value) -> bool {
        !attendees(args).is_empty()
    }
    fn remote(&self) -> bool {
        true
    }
    fn describe_call(&self, args: &Value, say: Wording) -> String {
        let title = arg_str(args, "title").unwrap_or("?");
        let start = arg_str(args, "start").unwrap_or("?");
        let who = attendees(args);
        let mins = minutes(args).unwrap_or(60);
        match who.is_empty() {
            true => say.pick(
                &format!("add \"{title}\" on {start} ({mins} min) to your calendar"),
                &format!("ajouter « {title} » le {start} ({mins} min) à votre agenda"),
            ),
            false => say.pick(
                &format!(
                    "add \"{title}\" on {start} ({mins} min) and email an invitation to {}",
                    who.join(", ")
                ),
                &format!(
                    "ajouter « {title} » le {start} ({mins} min) et envoyer une invitation à {}",
                    who.join(", ")
                ),
            ),
        }
    }
    async fn describe_remote(&self, ctx: &RemoteContext<'_>, args: &Value) -> Option<String> {
        let start = local_arg(args, "start").ok().flatten()?;
        let mut described = args.clone();
        described["start"] = json!(at_text(start, ctx.tz, ctx.now, ctx.say));
        Some(self.describe_call(&described, ctx.say))
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid(
            "calendar_create_event runs remotely".into(),
        ))
    }
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let title = arg_str(&args, "title")
            .ok_or_else(|| ToolError::Invalid("title is required".into()))?;
        let start = local_arg(&args, "start")?
            .ok_or_else(|| ToolError::Invalid("start is required".into()))?;
        let end = start + chrono::Duration::minutes(minutes(&args).unwrap_or(60));
        let new = NewEvent {
            title: title.to_string(),
            start,
            end,
            attendees: attendees(&args),
            description: arg_str(&args, "description").map(str::to_owned),
            location: arg_str(&args, "location").map(str::to_owned),
        };
        let event = self
            .0
            .calendar_create(ctx.user.id, p, ctx.tz, &new)
            .await
            .map_err(provider_error)?;
        let when = at_text(start, ctx.tz, ctx.now, ctx.say);
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Added to your calendar: {} {when}.", short(title)),
                &format!("Ajouté à votre agenda : {} {when}.", short(title)),
            ),
            "event_id": event.id,
        }))
    }
}

/// A held update/delete, described from the event itself.
async fn describe_event(
    s: &Integrations,
    ctx: &RemoteContext<'_>,
    args: &Value,
) -> Option<(Event, String)> {
    let p = provider(ctx.connected)?;
    let id = arg_str(args, "event_id")?;
    let event = s.calendar_event(ctx.user.id, p, ctx.tz, id).await.ok()?;
    let when = match event.when {
        When::Timed { start, .. } => ctx.say.when(start, ctx.tz, ctx.now),
        When::AllDay { first, .. } => first.to_string(),
    };
    let mut text = format!("\"{}\" ({when})", short(&event.title));
    if !event.attendees.is_empty() {
        text.push_str(&ctx.say.pick(
            &format!(", attendees told: {}", event.attendees.join(", ")),
            &format!(", participants prévenus : {}", event.attendees.join(", ")),
        ));
    }
    Some((event, text))
}

fn event_id_only() -> Value {
    json!({"type": "object", "properties": {"event_id": {"type": "string", "maxLength": 1024}}, "required": ["event_id"]})
}

pub(super) struct Update(pub(super) Integrations);

#[async_trait::async_trait]
impl Tool for Update {
    fn name(&self) -> &'static str {
        "calendar_update_event"
    }
    fn description(&self) -> &'static str {
        "Rename or move an event of the person's calendar (by its id from calendar_events); attendees are told."
    }
    fn parameters(&self) -> Value {
        let mut p = event_id_only();
        p["properties"]["title"] = json!({"type": "string", "maxLength": 200});
        p["properties"]["start"] =
            json!({"type": "string", "description": "new local start YYYY-MM-DDTHH:MM"});
        p["properties"]["minutes"] = json!({"type": "integer", "minimum": 5, "maximum": 1440});
        p
    }
    fn effect(&self) -> Effect {
        Effect::External
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_calendar(connected)
    }
    fn remote(&self) -> bool {
        true
    }
    async fn describe_remote(&self, ctx: &RemoteContext<'_>, args: &Value) -> Option<String> {
        let (_, event) = describe_event(&self.0, ctx, args).await?;
        let mut change = Vec::new();
        if let Some(t) = arg_str(args, "title") {
            change.push(ctx.say.pick(
                &format!("rename it \"{t}\""),
                &format!("le renommer « {t} »"),
            ));
        }
        if let Ok(Some(start)) = local_arg(args, "start") {
            let at = at_text(start, ctx.tz, ctx.now, ctx.say);
            change.push(
                ctx.say
                    .pick(&format!("move it to {at}"), &format!("le déplacer à {at}")),
            );
        }
        Some(ctx.say.pick(
            &format!("change {event}: {}", change.join(", ")),
            &format!("modifier {event} : {}", change.join(", ")),
        ))
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid(
            "calendar_update_event runs remotely".into(),
        ))
    }
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let id = arg_str(&args, "event_id")
            .ok_or_else(|| ToolError::Invalid("event_id is required".into()))?;
        let mut change = EventChange {
            title: arg_str(&args, "title").map(str::to_owned),
            ..EventChange::default()
        };
        if let Some(start) = local_arg(&args, "start")? {
            // Keep the event's length unless a new one is given.
            let length = match minutes(&args) {
                Some(m) => chrono::Duration::minutes(m),
                None => match self
                    .0
                    .calendar_event(ctx.user.id, p, ctx.tz, id)
                    .await
                    .map_err(provider_error)?
                    .when
                {
                    When::Timed { start, end } => end - start,
                    When::AllDay { .. } => chrono::Duration::hours(1),
                },
            };
            change.start = Some(start);
            change.end = Some(start + length);
        }
        if change.title.is_none() && change.start.is_none() {
            return Err(ToolError::Invalid(
                "nothing to change: give title or start".into(),
            ));
        }
        let event = self
            .0
            .calendar_update(ctx.user.id, p, ctx.tz, id, &change)
            .await
            .map_err(provider_error)?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Updated: {}.", event_text(&event, ctx.tz, ctx.say)),
                &format!("Modifié : {}.", event_text(&event, ctx.tz, ctx.say)),
            ),
        }))
    }
}

pub(super) struct Delete(pub(super) Integrations);

#[async_trait::async_trait]
impl Tool for Delete {
    fn name(&self) -> &'static str {
        "calendar_delete_event"
    }
    fn description(&self) -> &'static str {
        "Delete an event from the person's calendar (by its id from calendar_events); attendees are told."
    }
    fn parameters(&self) -> Value {
        event_id_only()
    }
    fn effect(&self) -> Effect {
        Effect::External
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_calendar(connected)
    }
    fn removals(&self, _args: &Value) -> u32 {
        1
    }
    fn remote(&self) -> bool {
        true
    }
    async fn describe_remote(&self, ctx: &RemoteContext<'_>, args: &Value) -> Option<String> {
        let (_, event) = describe_event(&self.0, ctx, args).await?;
        Some(
            ctx.say
                .pick(&format!("delete {event}"), &format!("supprimer {event}")),
        )
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid(
            "calendar_delete_event runs remotely".into(),
        ))
    }
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let id = arg_str(&args, "event_id")
            .ok_or_else(|| ToolError::Invalid("event_id is required".into()))?;
        self.0
            .calendar_delete(ctx.user.id, p, id)
            .await
            .map_err(provider_error)?;
        Ok(json!({
            "confirmation": ctx.say.pick("Deleted from your calendar.", "Supprimé de votre agenda."),
        }))
    }
}
