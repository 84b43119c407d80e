//! Follow-through settings by text: reminders that persist until
//! acknowledged by default, how often and how many times to nudge, and
//! turning each proactive text off or back on ("stop the nudges").

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, Tool, ToolContext, ToolError, Wording};
use crate::store::follow_through::Daily;
use crate::store::{FollowThrough, FollowThroughChange, Proactive};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "set_morning_checkin",
            description: "A text every morning at a local time (HH:MM) with the day's reminders and open tasks; \"off\" stops it.",
            parameters: || json!({"type": "object", "properties": {"at": {"type": "string", "description": "HH:MM local, or off"}}, "required": ["at"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_morning_checkin,
        }),
        Arc::new(BuiltinTool {
            name: "set_evening_checkin",
            description: "An evening wrap-up every day at a local time (HH:MM): what got done today, and one question (move an open task to tomorrow, archive a long-untouched one, or leave-by texts for tomorrow's calendar event); \"off\" stops it.",
            parameters: || json!({"type": "object", "properties": {"at": {"type": "string", "description": "HH:MM local, or off"}}, "required": ["at"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_evening_checkin,
        }),
        Arc::new(BuiltinTool {
            name: "set_follow_through",
            description: "Change how Nudge follows through: whether reminders persist until answered by default, nudge spacing and count, and turn proactive texts (nudges, bookmark_offer, focus_checkin, morning_checkin, evening_checkin, leave_by_offer) off or on.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "persist_reminders": {"type": "boolean", "description": "Every reminder is texted again until the person answers."},
                        "nudge_every_minutes": {"type": "integer", "minimum": 1, "maximum": 240},
                        "nudge_max": {"type": "integer", "minimum": 1, "maximum": 10},
                        "turn_off": {"type": "array", "items": {"type": "string", "enum": ["nudges", "bookmark_offer", "focus_checkin", "morning_checkin", "evening_checkin", "leave_by_offer"]}},
                        "turn_on": {"type": "array", "items": {"type": "string", "enum": ["nudges", "bookmark_offer", "focus_checkin", "morning_checkin", "evening_checkin", "leave_by_offer"]}}
                    }
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: set_follow_through,
        }),
    ]
}

fn set_morning_checkin<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(set_daily(ctx, args, Daily::Morning))
}

fn set_evening_checkin<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(set_daily(ctx, args, Daily::Evening))
}

/// Sets a daily text's local time, or turns it off; the first one is the
/// next time that local time comes round.
async fn set_daily(
    ctx: &mut ToolContext<'_>,
    args: Value,
    which: Daily,
) -> Result<Value, ToolError> {
    let say = ctx.say;
    let raw = super::arg_str(&args, "at").unwrap_or("off");
    let local_now = ctx.now.with_timezone(&ctx.tz);
    if raw.eq_ignore_ascii_case("off") {
        FollowThrough::set_daily(ctx.tx, which, None, local_now.date_naive(), ctx.now).await?;
        let off = match which {
            Daily::Morning => say.pick("Morning texts off.", "Messages du matin désactivés."),
            Daily::Evening => say.pick("Evening wrap-up off.", "Bilan du soir désactivé."),
        };
        return Ok(json!({ "confirmation": off }));
    }
    let at = chrono::NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| ToolError::Invalid("at must look like 08:00, or off".into()))?;
    let mut day = local_now.date_naive();
    if at <= local_now.time() {
        day = day.succ_opt().unwrap_or(day);
    }
    let first = crate::store::recurrence::resolve_local(ctx.tz, day.and_time(at));
    FollowThrough::set_daily(ctx.tx, which, Some(at), day, first).await?;
    let shown = say.time(first.with_timezone(&ctx.tz));
    let confirmation = match which {
        Daily::Morning => say.pick(
            &format!("Every morning at {shown}: the day's reminders and tasks. \"stop the morning texts\" stops it."),
            &format!("Chaque matin à {shown} : les rappels et tâches du jour. « arrête les messages du matin » pour arrêter."),
        ),
        Daily::Evening => say.pick(
            &format!("Every evening at {shown}: what got done, and what rolls to tomorrow. \"stop the evening texts\" stops it."),
            &format!("Chaque soir à {shown} : ce qui est fait, et ce qui passe à demain. « arrête le bilan du soir » pour arrêter."),
        ),
    };
    Ok(json!({ "confirmation": confirmation }))
}

fn kinds(args: &Value, key: &str) -> Result<Vec<Proactive>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(Proactive::parse)
                    .ok_or_else(|| ToolError::Invalid(format!("{key}: unknown kind {v}")))
            })
            .collect(),
        Some(_) => Err(ToolError::Invalid(format!("{key} must be a list"))),
    }
}

fn kind_name(kind: Proactive, say: Wording) -> String {
    match kind {
        Proactive::Nudges => say.pick("nudges until you answer", "relances jusqu'à ta réponse"),
        Proactive::BookmarkOffer => say.pick(
            "\"back?\" offers after a brb",
            "rappels après un « je reviens »",
        ),
        Proactive::FocusCheckin => say.pick("focus check-ins", "points de fin de concentration"),
        Proactive::MorningCheckin => say.pick("morning texts", "messages du matin"),
        Proactive::EveningCheckin => say.pick("evening wrap-up", "bilan du soir"),
        Proactive::LeaveByOffer => say.pick(
            "leave-by offers for calendar events",
            "propositions d'heure de départ pour l'agenda",
        ),
    }
}

fn set_follow_through<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let int = |key: &str, max: i64| -> Result<Option<i64>, ToolError> {
            match args.get(key).and_then(Value::as_i64) {
                None => Ok(None),
                Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
                Some(_) => Err(ToolError::Invalid(format!("{key} must be 1 to {max}"))),
            }
        };
        let change = FollowThroughChange {
            persist_reminders: args.get("persist_reminders").and_then(Value::as_bool),
            nudge_interval_minutes: int("nudge_every_minutes", 240)?,
            nudge_max: int("nudge_max", 10)?.map(|n| n as i16),
            turn_off: kinds(&args, "turn_off")?,
            turn_on: kinds(&args, "turn_on")?,
        };
        let say = ctx.say;
        let mut said = Vec::new();
        if let Some(persist) = change.persist_reminders {
            said.push(match persist {
                true => say.pick(
                    "Your reminders will keep at it until you answer.",
                    "Tes rappels insisteront jusqu'à ta réponse.",
                ),
                false => say.pick(
                    "Your reminders will be sent once.",
                    "Tes rappels seront envoyés une seule fois.",
                ),
            });
        }
        if change.nudge_interval_minutes.is_some() || change.nudge_max.is_some() {
            let stored = FollowThrough::load(ctx.tx).await?;
            let every = change
                .nudge_interval_minutes
                .unwrap_or((stored.nudge_interval_secs / 60.0).round() as i64);
            let times = change.nudge_max.unwrap_or(stored.nudge_max);
            said.push(say.pick(
                &format!("Nudges: every {every} min, up to {times} times."),
                &format!("Relances : toutes les {every} min, jusqu'à {times} fois."),
            ));
        }
        for kind in &change.turn_off {
            let name = kind_name(*kind, say);
            said.push(say.pick(
                &format!("Turned off: {name}."),
                &format!("Désactivé : {name}."),
            ));
        }
        for kind in &change.turn_on {
            let name = kind_name(*kind, say);
            said.push(say.pick(&format!("Turned on: {name}."), &format!("Activé : {name}.")));
        }
        if said.is_empty() {
            return Err(ToolError::Invalid("nothing to change".into()));
        }
        let settings = FollowThrough::update(ctx.tx, &change).await?;
        Ok(json!({
            "confirmation": said.join(" "),
            "settings": settings,
        }))
    })
}
