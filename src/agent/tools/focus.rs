//! "What was I doing?" and focus tools: save a bookmark and read the
//! latest back; start a focus session (a check-in when the time is up);
//! how long a task usually takes, from the person's own done sessions and
//! bookmarks (brb → back, closed when they ask what they were doing).

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, Tool, ToolContext, ToolError, Wording, arg_str};
use crate::store::{Bookmark, FocusSession, FollowThrough, Proactive};

/// `bookmarks.doing`, `focus_sessions.task` and their next steps.
const MAX_CHARS: usize = 500;

/// A bookmark older than this is not closed by coming back: the time
/// away was not time on the task.
const BACK_WITHIN: chrono::Duration = chrono::Duration::hours(12);

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "save_bookmark",
            description: "Save what the person was doing as they step away (\"brb — doing taxes, next: find the receipt\"), to give it back on \"what was I doing?\".",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "doing": {"type": "string", "description": "What they were doing, in their words."},
                        "next": {"type": "string", "description": "The next step they named, if any."}
                    },
                    "required": ["doing"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: save_bookmark,
        }),
        Arc::new(BuiltinTool {
            name: "what_was_i_doing",
            description: "The person's latest bookmarks: what they were doing and the next step.",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: what_was_i_doing,
        }),
        Arc::new(BuiltinTool {
            name: "start_focus",
            description: "Start a focus session (\"starting 25 min on the report\"): Nudge checks in when the time is up.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "task": {"type": "string"},
                        "minutes": {"type": "integer", "minimum": 1, "maximum": 240},
                        "first_step": {"type": "string", "description": "The first concrete step, if the person named one."}
                    },
                    "required": ["task", "minutes"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: start_focus,
        }),
        Arc::new(BuiltinTool {
            name: "how_long_usually",
            description: "How long a task usually takes the person, from their own finished focus sessions.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {"task": {"type": "string"}},
                    "required": ["task"]
                })
            },
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: how_long_usually,
        }),
    ]
}

/// A text argument within the column's bounds.
fn text<'v>(args: &'v Value, key: &str, say: Wording) -> Result<Option<&'v str>, ToolError> {
    match arg_str(args, key) {
        Some(s) if s.chars().count() > MAX_CHARS => Err(ToolError::Limit(say.pick(
            &format!("That's long — could you say it in under {MAX_CHARS} characters?"),
            &format!("C'est long — peux-tu le dire en moins de {MAX_CHARS} caractères ?"),
        ))),
        other => Ok(other),
    }
}

fn save_bookmark<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let doing = text(&args, "doing", ctx.say)?
            .ok_or_else(|| ToolError::Invalid("doing is required".into()))?;
        let next = text(&args, "next", ctx.say)?;
        let follow = FollowThrough::load(ctx.tx).await?;
        let offer_at = follow
            .allows(Proactive::BookmarkOffer)
            .then(|| ctx.now + follow.bookmark_offer_after());
        let saved = Bookmark::create(ctx.tx, doing, next, offer_at).await?;
        let confirmation = match &saved.next_step {
            Some(next) => ctx.say.pick(
                &format!(
                    "Saved: {doing} — next: {next}. Ask \"what was I doing?\" when you're back."
                ),
                &format!(
                    "Noté : {doing} — ensuite : {next}. Demande « je faisais quoi ? » à ton retour."
                ),
            ),
            None => ctx.say.pick(
                &format!("Saved: {doing}. Ask \"what was I doing?\" when you're back."),
                &format!("Noté : {doing}. Demande « je faisais quoi ? » à ton retour."),
            ),
        };
        Ok(json!({"confirmation": confirmation, "bookmark": saved}))
    })
}

fn what_was_i_doing<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        // Asking is coming back: brb → back counts toward "how long does
        // it usually take me?" (a bookmark from days ago does not).
        Bookmark::mark_back(ctx.tx, ctx.now - BACK_WITHIN, ctx.now).await?;
        let latest = Bookmark::latest(ctx.tx, 3).await?;
        let Some(first) = latest.first() else {
            return Ok(json!({
                "confirmation": ctx.say.pick(
                    "No bookmark yet. Before you step away, text \"brb — doing X, next: Y\".",
                    "Aucun signet. Avant une pause, écris « je reviens — je faisais X, ensuite : Y »."),
                "bookmarks": [],
            }));
        };
        let when = ctx.say.when(first.created_at, ctx.tz, ctx.now);
        let mut confirmation = match &first.next_step {
            Some(next) => ctx.say.pick(
                &format!("You were doing: {} ({when}) — next: {next}.", first.doing),
                &format!("Tu faisais : {} ({when}) — ensuite : {next}.", first.doing),
            ),
            None => ctx.say.pick(
                &format!("You were doing: {} ({when}).", first.doing),
                &format!("Tu faisais : {} ({when}).", first.doing),
            ),
        };
        if latest.len() > 1 {
            let before: Vec<&str> = latest[1..].iter().map(|b| b.doing.as_str()).collect();
            confirmation.push_str(&ctx.say.pick(
                &format!(" Before that: {}.", before.join("; ")),
                &format!(" Avant : {}.", before.join(" ; ")),
            ));
        }
        Ok(json!({"confirmation": confirmation, "bookmarks": latest}))
    })
}

fn start_focus<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let task = text(&args, "task", ctx.say)?
            .ok_or_else(|| ToolError::Invalid("task is required".into()))?;
        let minutes = args
            .get("minutes")
            .and_then(Value::as_i64)
            .filter(|m| (1..=240).contains(m))
            .ok_or_else(|| ToolError::Invalid("minutes must be 1 to 240".into()))?;
        let first_step = text(&args, "first_step", ctx.say)?;
        let session = FocusSession::start(ctx.tx, task, first_step, minutes, ctx.now).await?;
        let at = ctx.say.time(session.ends_at.with_timezone(&ctx.tz));
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Go! {minutes} min on {task}. I'll check in at {at}."),
                &format!("C'est parti ! {minutes} min sur {task}. Je te fais signe à {at}."),
            ),
            "session": session,
        }))
    })
}

fn how_long_usually<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let task = text(&args, "task", ctx.say)?
            .ok_or_else(|| ToolError::Invalid("task is required".into()))?;
        let times = FocusSession::durations(ctx.tx, task, 3).await?;
        if times.is_empty() {
            return Ok(json!({
                "confirmation": ctx.say.pick(
                    &format!("No timed sessions of \"{task}\" yet. Next time, text \"starting 25 min on {task}\" and reply DONE when you finish."),
                    &format!("Pas encore de séance chronométrée pour « {task} ». La prochaine fois, écris « je commence 25 min sur {task} » et réponds FAIT à la fin."),
                ),
                "minutes": [],
            }));
        }
        let minutes: Vec<i64> = times.iter().map(|(_, m)| m.round() as i64).collect();
        let list = minutes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let n = minutes.len();
        let confirmation = match n {
            1 => ctx.say.pick(
                &format!("Last time, {task} took you {list} min."),
                &format!("La dernière fois, {task} t'a pris {list} min."),
            ),
            _ => ctx.say.pick(
                &format!("{task}, last {n} times: {list} min."),
                &format!("{task}, les {n} dernières fois : {list} min."),
            ),
        };
        Ok(json!({"confirmation": confirmation, "minutes": minutes}))
    })
}
