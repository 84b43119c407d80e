//! Profile tools: timezone, display name, quiet hours.

use std::sync::Arc;

use chrono::NaiveTime;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, Tool, ToolContext, ToolError, arg_str};
use crate::store::{Reminder, Timezone, User};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "set_timezone",
            description: "Change the person's timezone (IANA name like America/Montreal); upcoming reminders keep their local time.",
            parameters: || json!({"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_timezone,
        }),
        Arc::new(BuiltinTool {
            name: "set_display_name",
            description: "Change the name Nudge calls the person.",
            parameters: || json!({"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}}, "required": ["name"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_display_name,
        }),
        Arc::new(BuiltinTool {
            name: "set_quiet_hours",
            description: "Hours (local HH:MM) during which Nudge sends nothing.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                        "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}
                    },
                    "required": ["start", "end"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_quiet_hours,
        }),
    ]
}

fn set_timezone<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let raw = arg_str(&args, "timezone").unwrap_or("");
        let tz: Timezone = raw.parse().map_err(ToolError::Invalid)?;
        User::set_timezone(ctx.tx, tz).await?;
        let moved = Reminder::retime_all(ctx.tx, &tz.to_string()).await?;
        ctx.tz = tz.0;
        let now = ctx.say.time(ctx.now.with_timezone(&ctx.tz));
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Timezone set to {tz} (it's {now} there)."),
                &format!("Fuseau horaire : {tz} (il est {now} là-bas).")),
            "timezone": tz.to_string(),
            "reminders_moved": moved,
        }))
    })
}

fn set_display_name<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let name = super::limits::bounded_arg(
            &args,
            "name",
            super::limits::TextField::DisplayName,
            ctx.say,
        )?
        .ok_or_else(|| ToolError::Invalid("name is required".into()))?
        .to_string();
        User::set_display_name(ctx.tx, &name).await?;
        Ok(
            json!({"confirmation": ctx.say.pick(&format!("Nice to meet you, {name}!"), &format!("Enchanté, {name} !"))}),
        )
    })
}

fn set_quiet_hours<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let parse = |key: &str| {
            arg_str(&args, key)
                .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
                .ok_or_else(|| ToolError::Invalid(format!("{key} must be HH:MM")))
        };
        let (start, end) = (parse("start")?, parse("end")?);
        if start == end {
            return Err(ToolError::Invalid("start and end must differ".into()));
        }
        User::set_quiet_hours(ctx.tx, Some((start, end))).await?;
        let (s, e) = (start.format("%H:%M"), end.format("%H:%M"));
        Ok(json!({"confirmation": ctx.say.pick(
            &format!("Quiet hours set: nothing from me between {s} and {e}."),
            &format!("Heures calmes : rien de ma part entre {s} et {e}."))}))
    })
}
