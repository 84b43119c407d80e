//! Reminder tools: create (one-off or recurring, in the person's
//! timezone), list, cancel, cancel all (confirmed), snooze.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::{BuiltinTool, Removes};
use super::limits::{TextField, bounded_arg, check_horizon};
use super::{Effect, Tool, ToolContext, ToolError, arg_str, arg_uuid};
use crate::store::recurrence::{Recurrence, next_occurrence, resolve_local};
use crate::store::{NewReminder, Reminder};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "create_reminder",
            description: "Create a reminder at a local date and time (due_local) or after a delay (in_minutes), optionally recurring.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "description": "What to remind about, in the person's words."},
                        "due_local": {"type": "string", "description": "Local wall-clock time YYYY-MM-DDTHH:MM in the person's timezone; the first occurrence for a recurring reminder."},
                        "in_minutes": {"type": "integer", "minimum": 1, "maximum": 525600, "description": "Delay from now, instead of due_local."},
                        "persist": {"type": "boolean", "description": "Text it again until the person answers (\"keep at it until I answer\", \"insiste\"); omit to follow their default."},
                        "recurrence": {
                            "type": "object",
                            "properties": {
                                "frequency": {"type": "string", "enum": ["daily", "weekdays", "weekly", "monthly"]},
                                "days": {"type": "array", "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
                                "day_of_month": {"type": "integer", "minimum": 1, "maximum": 31}
                            },
                            "required": ["frequency"]
                        }
                    },
                    "required": ["text"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: create,
        }),
        Arc::new(BuiltinTool {
            name: "list_reminders",
            description: "List the person's upcoming reminders.",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: list,
        }),
        Arc::new(BuiltinTool {
            name: "cancel_reminder",
            description: "Cancel one upcoming reminder, found by words of its text (query) or by id.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "reminder_id": {"type": "string"}
                    }
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: Some(Removes {
                count: |_| 1,
                describe: describe_cancel,
            }),
            preview: Some(preview_cancel),
            handler: cancel,
        }),
        Arc::new(BuiltinTool {
            name: "cancel_all_reminders",
            description: "Cancel every upcoming reminder (asks the person to confirm first).",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Write,
            confirm: Some(|_, say| {
                say.pick("cancel ALL your reminders", "annuler TOUS tes rappels")
            }),
            removes: None,
            preview: Some(preview_cancel_all),
            handler: cancel_all,
        }),
        Arc::new(BuiltinTool {
            name: "snooze_reminder",
            description: "Postpone a reminder by some minutes; without an id, the one delivered last.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "minutes": {"type": "integer", "minimum": 1, "maximum": 10080},
                        "reminder_id": {"type": "string"}
                    },
                    "required": ["minutes"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: snooze,
        }),
    ]
}

/// "cancel the reminder "dentist"": what a held cancellation would do.
fn describe_cancel(args: &Value, say: super::Wording) -> String {
    match (arg_str(args, "query"), arg_str(args, "reminder_id")) {
        (Some(query), _) => say.pick(
            &format!("cancel the reminder \"{query}\""),
            &format!("annuler le rappel « {query} »"),
        ),
        (None, Some(id)) => say.pick(
            &format!("cancel the reminder with id {id}"),
            &format!("annuler le rappel d'identifiant {id}"),
        ),
        (None, None) => say.pick("cancel a reminder", "annuler un rappel"),
    }
}

fn describe(r: &Reminder, ctx: &ToolContext<'_>) -> String {
    let when = ctx.say.when(r.due_at, ctx.tz, ctx.now);
    match &r.recurrence {
        Some(rule) => format!(
            "{} — {} ({})",
            r.body,
            rule.0.describe(ctx.say.french),
            when
        ),
        None => format!("{} — {when}", r.body),
    }
}

fn reminder_json(r: &Reminder, ctx: &ToolContext<'_>) -> Value {
    json!({
        "id": r.id,
        "text": r.body,
        "due_local": r.due_at.with_timezone(&ctx.tz).format("%Y-%m-%dT%H:%M").to_string(),
        "recurrence": r.recurrence.as_ref().map(|j| &j.0),
    })
}

fn create<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let text = bounded_arg(&args, "text", TextField::ReminderText, ctx.say)?
            .ok_or_else(|| ToolError::Invalid("text is required".into()))?
            .to_string();
        let recurrence: Option<Recurrence> = match args.get("recurrence") {
            None | Some(Value::Null) => None,
            Some(r) => Some(parse_recurrence(r)?),
        };
        let in_minutes = args.get("in_minutes").and_then(Value::as_i64);
        let due_local = arg_str(&args, "due_local");
        let (due_at, local_time, explicit) = match (due_local, in_minutes) {
            (Some(_), Some(_)) => {
                return Err(ToolError::Invalid(
                    "give due_local or in_minutes, not both".into(),
                ));
            }
            (None, None) => {
                return Err(ToolError::Invalid(
                    "due_local or in_minutes is required".into(),
                ));
            }
            (None, Some(minutes)) => {
                // The schema bounds it; checked anyway, as a stored pending
                // action or a future caller may not have gone through it.
                let at = Duration::try_minutes(minutes)
                    .filter(|_| (1..=525_600).contains(&minutes))
                    .and_then(|d| ctx.now.checked_add_signed(d))
                    .ok_or_else(|| ToolError::Invalid("in_minutes must be 1 to 525600".into()))?;
                let local = at.with_timezone(&ctx.tz).time();
                (at, recurrence.as_ref().map(|_| local), false)
            }
            (Some(raw), None) => {
                let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
                    .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
                    .map_err(|_| {
                        ToolError::Invalid("due_local must look like 2026-11-22T08:00".into())
                    })?;
                // Before any arithmetic: a far-future year is refused here,
                // with a short answer, instead of overflowing later.
                check_horizon(local.date(), ctx.tz, ctx.now, ctx.say)?;
                let at = resolve_local(ctx.tz, local);
                (at, Some(local.time()), true)
            }
        };
        let due_at = match (&recurrence, local_time) {
            // The first occurrence must follow the rule, whatever date was given.
            (Some(rule), Some(time)) => {
                let from = if due_at > ctx.now {
                    due_at
                        .checked_sub_signed(Duration::seconds(1))
                        .unwrap_or(due_at)
                } else {
                    ctx.now
                };
                next_occurrence(rule, ctx.tz, time, from)
                    .ok_or_else(|| ToolError::Invalid("that recurrence never happens".into()))?
            }
            _ => {
                if due_at < ctx.now - Duration::minutes(1) {
                    return Err(ToolError::Invalid(format!(
                        "that time ({}) has already passed",
                        ctx.say.when(due_at, ctx.tz, ctx.now)
                    )));
                }
                due_at
            }
        };
        let reminder = Reminder::create(
            ctx.tx,
            NewReminder {
                body: text,
                due_at,
                timezone: ctx.tz.name().to_string(),
                local_time,
                recurrence,
                explicit_time: explicit,
            },
        )
        .await?;
        let persist = args.get("persist").and_then(Value::as_bool);
        if persist.is_some() {
            Reminder::set_persist(ctx.tx, reminder.id, persist).await?;
        }
        let what = describe(&reminder, ctx);
        let until_answer = match persist {
            Some(true) => ctx.say.pick(
                " I'll keep at it until you answer.",
                " J'insisterai jusqu'à ta réponse.",
            ),
            _ => String::new(),
        };
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Reminder set: {what}.{until_answer}"), &format!("Rappel créé : {what}.{until_answer}")),
            "reminder": reminder_json(&reminder, ctx),
        }))
    })
}

fn parse_recurrence(raw: &Value) -> Result<Recurrence, ToolError> {
    let rule: Recurrence = serde_json::from_value(raw.clone())
        .map_err(|_| ToolError::Invalid("recurrence is not valid".into()))?;
    if let Recurrence::Weekly { days } = &rule
        && days.is_empty()
    {
        return Err(ToolError::Invalid("a weekly recurrence needs days".into()));
    }
    if let Recurrence::Monthly { day_of_month } = rule
        && !(1..=31).contains(&day_of_month)
    {
        return Err(ToolError::Invalid("day_of_month must be 1 to 31".into()));
    }
    Ok(rule)
}

fn list<'a>(ctx: &'a mut ToolContext<'_>, _args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let upcoming = Reminder::upcoming(ctx.tx, 10).await?;
        if upcoming.is_empty() {
            return Ok(json!({
                "confirmation": ctx.say.pick("You have no upcoming reminders.", "Tu n'as aucun rappel à venir."),
                "reminders": [],
            }));
        }
        let lines: Vec<String> = upcoming
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{}) {}", i + 1, describe(r, ctx)))
            .collect();
        let head = ctx.say.pick("Your reminders:", "Tes rappels :");
        Ok(json!({
            "confirmation": format!("{head} {}", lines.join("; ")),
            "reminders": upcoming.iter().map(|r| reminder_json(r, ctx)).collect::<Vec<_>>(),
        }))
    })
}

/// "cancel "dentist" — tomorrow at 9:00 AM": the reminder a held
/// cancellation would cancel, and when it is due.
fn preview_cancel<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: &'a Value,
) -> BoxFuture<'a, Result<String, ToolError>> {
    Box::pin(async move {
        let r = find_one(ctx, args).await?;
        let when = ctx.say.when(r.due_at, ctx.tz, ctx.now);
        Ok(ctx.say.pick(
            &format!("cancel \"{}\" — {when}", r.body),
            &format!("annuler « {} » — {when}", r.body),
        ))
    })
}

/// "cancel ALL your reminders (3: dentist, meds, gym)".
fn preview_cancel_all<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: &'a Value,
) -> BoxFuture<'a, Result<String, ToolError>> {
    Box::pin(async move {
        const SHOWN: usize = 5;
        let upcoming = Reminder::upcoming(ctx.tx, 1000).await?;
        let mut names: Vec<&str> = upcoming
            .iter()
            .take(SHOWN)
            .map(|r| r.body.as_str())
            .collect();
        if upcoming.len() > SHOWN {
            names.push("…");
        }
        let n = upcoming.len();
        Ok(ctx.say.pick(
            &format!("cancel ALL your reminders ({n}: {})", names.join(", ")),
            &format!("annuler TOUS tes rappels ({n} : {})", names.join(", ")),
        ))
    })
}

/// One scheduled reminder named by id or by words, or a helpful error.
async fn find_one(ctx: &mut ToolContext<'_>, args: &Value) -> Result<Reminder, ToolError> {
    if let Some(id) = arg_uuid(args, "reminder_id")? {
        let r = Reminder::get(ctx.tx, id).await?;
        return Ok(r);
    }
    let query = arg_str(args, "query").unwrap_or("");
    let mut found = Reminder::find_scheduled(ctx.tx, query).await?;
    match found.len() {
        0 => Err(ToolError::Invalid(ctx.say.pick(
            &format!("no upcoming reminder matches '{query}'"),
            &format!("aucun rappel ne correspond à « {query} »"),
        ))),
        1 => Ok(found.remove(0)),
        n => Err(ToolError::Invalid(format!(
            "{n} reminders match '{query}': {}; ask which one",
            found
                .iter()
                .map(|r| r.body.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn cancel<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let reminder = find_one(ctx, &args).await?;
        Reminder::cancel(ctx.tx, reminder.id).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Cancelled: {}.", reminder.body),
                &format!("Rappel annulé : {}.", reminder.body)),
            "cancelled": reminder.id,
        }))
    })
}

fn cancel_all<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let n = Reminder::cancel_all(ctx.tx).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Cancelled all {n} reminders."),
                &format!("{n} rappels annulés.")),
            "cancelled": n,
        }))
    })
}

fn snooze<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let minutes = args
            .get("minutes")
            .and_then(Value::as_i64)
            .unwrap_or(10)
            .clamp(1, 10_080);
        let reminder = match arg_uuid(&args, "reminder_id")? {
            Some(id) => Reminder::get(ctx.tx, id).await?,
            None => Reminder::last_delivered(ctx.tx).await?.ok_or_else(|| {
                ToolError::Invalid(ctx.say.pick(
                    "there is no recent reminder to snooze",
                    "aucun rappel récent à reporter",
                ))
            })?,
        };
        let until = ctx.now + Duration::minutes(minutes);
        if reminder.recurrence.is_some() {
            // The series keeps its rhythm; the snooze is a one-off copy.
            Reminder::create(
                ctx.tx,
                NewReminder {
                    body: reminder.body.clone(),
                    due_at: until,
                    timezone: ctx.tz.name().to_string(),
                    local_time: None,
                    recurrence: None,
                    explicit_time: false,
                },
            )
            .await?;
        } else {
            Reminder::reschedule(ctx.tx, reminder.id, until).await?;
        }
        let when = ctx.say.time(until.with_timezone(&ctx.tz));
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Snoozed {minutes} min: {} at {when}.", reminder.body),
                &format!("Reporté de {minutes} min : {} à {when}.", reminder.body)),
            "reminder_id": reminder.id,
        }))
    })
}
