//! Tasks that roll forward quietly: `move_task` puts an open task at the
//! top of a day's texts ("move 'renew passport' to tomorrow? YES"), and
//! `archive_task` takes one the person no longer wants off every list
//! ("still want 'X'? ARCHIVE"). The evening wrap-up asks; these run on
//! the person's answer (or when they ask the model directly).

use std::sync::Arc;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::tasks::one_open;
use super::{Effect, Tool, ToolContext, ToolError, arg_str};
use crate::store::Task;
use crate::store::recurrence::resolve_local;

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "move_task",
            description: "Move one open task to a local day (YYYY-MM-DD): it comes first in that day's texts. Found by words of its title (query) or id.",
            parameters: || json!({"type": "object", "properties": {"query": {"type": "string"}, "task_id": {"type": "string"}, "date": {"type": "string", "description": "YYYY-MM-DD, local"}}, "required": ["date"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: move_task,
        }),
        Arc::new(BuiltinTool {
            name: "archive_task",
            description: "Archive one open task the person no longer wants: it leaves every list. Found by words of its title (query) or id.",
            parameters: || json!({"type": "object", "properties": {"query": {"type": "string"}, "task_id": {"type": "string"}}}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: archive_task,
        }),
    ]
}

fn move_task<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let day = arg_str(&args, "date")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| ToolError::Invalid("date must look like 2026-11-22".into()))?;
        super::limits::check_horizon(day, ctx.tz, ctx.now, ctx.say)?;
        let task = one_open(ctx, &args).await?;
        let start = resolve_local(ctx.tz, day.and_time(chrono::NaiveTime::MIN));
        let moved = Task::move_to(ctx.tx, task.id, start)
            .await?
            .ok_or_else(|| ToolError::Invalid("that task is no longer open".into()))?;
        let today = ctx.now.with_timezone(&ctx.tz).date_naive();
        let title = &moved.title;
        let confirmation = if today.succ_opt() == Some(day) {
            ctx.say.pick(
                &format!("Moved to tomorrow: {title}."),
                &format!("Déplacé à demain : {title}."),
            )
        } else {
            let shown = day.format("%Y-%m-%d");
            ctx.say.pick(
                &format!("Moved to {shown}: {title}."),
                &format!("Déplacé au {shown} : {title}."),
            )
        };
        Ok(json!({"confirmation": confirmation, "task": moved}))
    })
}

fn archive_task<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let task = one_open(ctx, &args).await?;
        let archived = Task::archive(ctx.tx, task.id)
            .await?
            .ok_or_else(|| ToolError::Invalid("that task is no longer open".into()))?;
        let title = &archived.title;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Archived: {title}. It's off your lists."),
                &format!("Archivé : {title}. Retiré de tes listes."),
            ),
            "task": archived,
        }))
    })
}
