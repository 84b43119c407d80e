//! Leave-by times, the end of waiting mode: "dentist at 3pm, 20 min away"
//! becomes two texts — get ready, then leave — and the hours before are
//! the person's ("You're free until 2:25"). The margin grows by five
//! minutes each time they say they were late.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::limits::check_horizon;
use super::{Effect, Tool, ToolContext, ToolError, arg_str};
use crate::store::recurrence::resolve_local;
use crate::store::{FollowThrough, NewReminder, Reminder};

/// Getting ready starts this long before leaving.
const GET_READY: Duration = Duration::minutes(15);
/// "I was late" moves the next leave-by texts this much earlier.
const LATE_STEP_MINUTES: i32 = 5;

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "plan_leave_by",
            description: "For an appointment at a local time and a travel time (\"dentist at 3pm, 20 min away\"): text when to get ready and when to leave, and say how long the person is free until then.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "event": {"type": "string"},
                        "at_local": {"type": "string", "description": "Local time of the appointment, YYYY-MM-DDTHH:MM."},
                        "travel_minutes": {"type": "integer", "minimum": 0, "maximum": 600}
                    },
                    "required": ["event", "at_local", "travel_minutes"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: plan_leave_by,
        }),
        Arc::new(BuiltinTool {
            name: "was_late",
            description: "The person says they were late to an appointment: future leave-by texts come 5 minutes earlier.",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: was_late,
        }),
    ]
}

fn plan_leave_by<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let event = arg_str(&args, "event")
            .filter(|e| e.chars().count() <= 500)
            .ok_or_else(|| ToolError::Invalid("event is required (at most 500 characters)".into()))?
            .to_string();
        let raw = arg_str(&args, "at_local")
            .ok_or_else(|| ToolError::Invalid("at_local is required".into()))?;
        let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .map_err(|_| ToolError::Invalid("at_local must look like 2026-11-22T15:00".into()))?;
        check_horizon(local.date(), ctx.tz, ctx.now, ctx.say)?;
        let travel = args
            .get("travel_minutes")
            .and_then(Value::as_i64)
            .filter(|m| (0..=600).contains(m))
            .ok_or_else(|| ToolError::Invalid("travel_minutes must be 0 to 600".into()))?;
        // Real minutes before the appointment's instant: right across a
        // change of UTC offset, whatever the wall clock does.
        let at = resolve_local(ctx.tz, local);
        let margin = FollowThrough::load(ctx.tx).await?.leave_buffer_secs as i64;
        let leave = at - Duration::minutes(travel) - Duration::seconds(margin);
        let ready = leave - GET_READY;
        if leave <= ctx.now {
            return Err(ToolError::Invalid(ctx.say.pick(
                "that leaves no time to get there — leave now",
                "ça ne laisse pas le temps d'y aller — pars maintenant",
            )));
        }
        let (say, tz) = (ctx.say, ctx.tz);
        let time = |t: chrono::DateTime<chrono::Utc>| say.time(t.with_timezone(&tz));
        let (at_s, leave_s, ready_s) = (time(at), time(leave), time(ready));
        let mut texts = vec![(
            leave,
            say.pick(
                &format!("leave now for {event} ({at_s})"),
                &format!("pars maintenant pour {event} ({at_s})"),
            ),
        )];
        if ready > ctx.now {
            texts.insert(
                0,
                (
                    ready,
                    say.pick(
                        &format!("get ready for {event} — leave at {leave_s}"),
                        &format!("prépare-toi pour {event} — départ à {leave_s}"),
                    ),
                ),
            );
        }
        for (due_at, body) in &texts {
            Reminder::create(
                ctx.tx,
                NewReminder {
                    body: body.clone(),
                    due_at: *due_at,
                    timezone: ctx.tz.name().to_string(),
                    local_time: None,
                    recurrence: None,
                    explicit_time: true,
                },
            )
            .await?;
        }
        let confirmation = if ready > ctx.now {
            say.pick(
                &format!("You're free until {ready_s}. I'll text at {ready_s} (get ready) and {leave_s} (leave)."),
                &format!("Tu es libre jusqu'à {ready_s}. Je t'écris à {ready_s} (prépare-toi) et à {leave_s} (pars)."),
            )
        } else {
            say.pick(
                &format!("Get ready now. I'll text at {leave_s} (leave)."),
                &format!("Prépare-toi maintenant. Je t'écris à {leave_s} (pars)."),
            )
        };
        Ok(json!({
            "confirmation": confirmation,
            "leave_local": leave.with_timezone(&ctx.tz).format("%Y-%m-%dT%H:%M").to_string(),
            "ready_local": ready.with_timezone(&ctx.tz).format("%Y-%m-%dT%H:%M").to_string(),
        }))
    })
}

fn was_late<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let margin = FollowThrough::add_leave_buffer(ctx.tx, LATE_STEP_MINUTES).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Noted — next time I'll have you leave earlier ({margin} min of margin)."),
                &format!("Noté — la prochaine fois je te ferai partir plus tôt ({margin} min de marge)."),
            ),
            "margin_minutes": margin,
        }))
    })
}
