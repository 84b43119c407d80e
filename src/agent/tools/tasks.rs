//! Task and goal tools.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::limits::{TextField, bounded_arg};
use super::{Effect, Tool, ToolContext, ToolError, arg_str, arg_uuid};
use crate::store::{Goal, Task};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    let title = || json!({"type": "object", "properties": {"title": {"type": "string", "minLength": 1}}, "required": ["title"]});
    let find = || json!({"type": "object", "properties": {"query": {"type": "string"}, "task_id": {"type": "string"}}});
    vec![
        Arc::new(BuiltinTool {
            name: "add_task",
            description: "Add a task to the person's to-do list.",
            parameters: title,
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: add_task,
        }),
        Arc::new(BuiltinTool {
            name: "list_tasks",
            description: "List open tasks.",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: list_tasks,
        }),
        Arc::new(BuiltinTool {
            name: "complete_task",
            description: "Mark one open task done, found by words of its title (query) or id.",
            parameters: find,
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: complete_task,
        }),
        Arc::new(BuiltinTool {
            name: "add_goal",
            description: "Record a longer-term goal.",
            parameters: title,
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: add_goal,
        }),
        Arc::new(BuiltinTool {
            name: "list_goals",
            description: "List active goals with their latest progress.",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: list_goals,
        }),
        Arc::new(BuiltinTool {
            name: "add_goal_progress",
            description: "Add a progress note to a goal, found by words of its title (query) or id.",
            parameters: || json!({"type": "object", "properties": {"query": {"type": "string"}, "goal_id": {"type": "string"}, "note": {"type": "string", "minLength": 1}}, "required": ["note"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: add_goal_progress,
        }),
    ]
}

fn title_arg(args: &Value, field: TextField, say: super::Wording) -> Result<String, ToolError> {
    bounded_arg(args, "title", field, say)?
        .map(str::to_string)
        .ok_or_else(|| ToolError::Invalid("title is required".into()))
}

fn add_task<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let task = Task::add(ctx.tx, &title_arg(&args, TextField::TaskTitle, ctx.say)?).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Added to your tasks: {}.", task.title), &format!("Tâche ajoutée : {}.", task.title)),
            "task": task,
        }))
    })
}

fn list_tasks<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let tasks = Task::open(ctx.tx).await?;
        let confirmation = if tasks.is_empty() {
            ctx.say.pick("No open tasks.", "Aucune tâche en cours.")
        } else {
            let items: Vec<String> = tasks
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{}) {}", i + 1, t.title))
                .collect();
            format!(
                "{} {}",
                ctx.say.pick("Your tasks:", "Tes tâches :"),
                items.join("; ")
            )
        };
        Ok(json!({"confirmation": confirmation, "tasks": tasks}))
    })
}

fn complete_task<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let task = one_open(ctx, &args).await?;
        Task::complete(ctx.tx, task.id).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Done: {}. Nice!", task.title), &format!("Terminé : {}. Bravo !", task.title)),
            "task_id": task.id,
        }))
    })
}

/// The one open task that `task_id` or every word of `query` names.
pub(super) async fn one_open(ctx: &mut ToolContext<'_>, args: &Value) -> Result<Task, ToolError> {
    let id = arg_uuid(args, "task_id")?;
    let query = arg_str(args, "query").unwrap_or("");
    let found = Task::find_open(ctx.tx, id, query).await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ToolError::Invalid(format!(
            "no open task matches '{query}'"
        ))),
        many => Err(ToolError::Invalid(format!(
            "{} tasks match '{query}': {}; ask which one",
            many.len(),
            many.iter()
                .map(|t| t.title.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn add_goal<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let goal = Goal::add(ctx.tx, &title_arg(&args, TextField::GoalTitle, ctx.say)?).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("New goal: {}.", goal.title), &format!("Nouvel objectif : {}.", goal.title)),
            "goal": goal,
        }))
    })
}

fn list_goals<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let goals = Goal::active(ctx.tx).await?;
        let confirmation = if goals.is_empty() {
            ctx.say
                .pick("No goals yet.", "Aucun objectif pour l'instant.")
        } else {
            let items: Vec<String> = goals
                .iter()
                .map(|g| {
                    let last = g
                        .progress
                        .as_array()
                        .and_then(|p| p.last())
                        .and_then(|n| n["note"].as_str());
                    match last {
                        Some(note) => format!("{} (last: {note})", g.title),
                        None => g.title.clone(),
                    }
                })
                .collect();
            format!(
                "{} {}",
                ctx.say.pick("Your goals:", "Tes objectifs :"),
                items.join("; ")
            )
        };
        Ok(json!({"confirmation": confirmation, "goals": goals}))
    })
}

fn add_goal_progress<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let note = arg_str(&args, "note")
            .ok_or_else(|| ToolError::Invalid("note is required".into()))?
            .to_string();
        let id = arg_uuid(&args, "goal_id")?;
        let query = arg_str(&args, "query").unwrap_or("");
        let found = Goal::find_active(ctx.tx, id, query).await?;
        let goal = match found.as_slice() {
            [one] => one.clone(),
            [] => return Err(ToolError::Invalid(format!("no goal matches '{query}'"))),
            _ => {
                return Err(ToolError::Invalid(format!(
                    "several goals match '{query}'; ask which one"
                )));
            }
        };
        Goal::add_progress(ctx.tx, goal.id, &note).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Progress noted on {}.", goal.title), &format!("Progrès noté pour {}.", goal.title)),
            "goal_id": goal.id,
        }))
    })
}
