//! Named-list tools (shopping by default).

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::{BuiltinTool, Removes};
use super::limits::TextField;
use super::{Effect, Tool, ToolContext, ToolError, Wording, arg_str};
use crate::store::{ListItem, normalise_list_name};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    let items = || {
        json!({
            "type": "object",
            "properties": {
                "list": {"type": "string", "description": "List name; shopping when omitted."},
                "items": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            },
            "required": ["items"]
        })
    };
    let list = || json!({"type": "object", "properties": {"list": {"type": "string"}}});
    vec![
        Arc::new(BuiltinTool {
            name: "add_list_items",
            description: "Add items to a named list (shopping by default).",
            parameters: items,
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: add,
        }),
        Arc::new(BuiltinTool {
            name: "remove_list_items",
            description: "Remove items from a named list.",
            parameters: items,
            effect: Effect::Write,
            confirm: None,
            removes: Some(Removes {
                count: |args| {
                    let n = args
                        .get("items")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    u32::try_from(n).unwrap_or(u32::MAX)
                },
                describe: |args, say| {
                    let list = normalise_list_name(arg_str(args, "list"));
                    let items: Vec<&str> = args
                        .get("items")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    say.pick(
                        &format!("remove from your {list} list: {}", items.join(", ")),
                        &format!("retirer de ta liste {list} : {}", items.join(", ")),
                    )
                },
            }),
            preview: None,
            handler: remove,
        }),
        Arc::new(BuiltinTool {
            name: "show_list",
            description: "Show the items on a named list.",
            parameters: list,
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: show,
        }),
        Arc::new(BuiltinTool {
            name: "clear_list",
            description: "Delete every item of a named list (asks the person to confirm first).",
            parameters: list,
            effect: Effect::Write,
            confirm: Some(|args, say| {
                let name = normalise_list_name(arg_str(args, "list"));
                say.pick(
                    &format!("empty your {name} list"),
                    &format!("vider ta liste {name}"),
                )
            }),
            removes: None,
            preview: Some(|ctx, args| {
                Box::pin(async move {
                    let list = list_arg(args, ctx.say)?;
                    let items = ListItem::show(ctx.tx, &list).await?;
                    let names: Vec<&str> = items.iter().map(|i| i.item.as_str()).collect();
                    Ok(ctx.say.pick(
                        &format!(
                            "empty your {list} list ({}: {})",
                            names.len(),
                            names.join(", ")
                        ),
                        &format!(
                            "vider ta liste {list} ({} : {})",
                            names.len(),
                            names.join(", ")
                        ),
                    ))
                })
            }),
            handler: clear,
        }),
    ]
}

/// The list named in `args` (shopping by default), within the schema's limit.
fn list_arg(args: &Value, say: Wording) -> Result<String, ToolError> {
    // Checked after lowercasing, which can lengthen a name.
    let name = normalise_list_name(arg_str(args, "list"));
    TextField::ListName.check(&name, say)?;
    Ok(name)
}

/// The non-blank items of `args`, each within the schema's limit.
fn items_arg(args: &Value, say: Wording) -> Result<Vec<String>, ToolError> {
    let items: Vec<String> = args
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for item in &items {
        TextField::ListItem.check(item, say)?;
    }
    Ok(items)
}

fn add<'a>(ctx: &'a mut ToolContext<'_>, args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let list = list_arg(&args, ctx.say)?;
        let wanted = items_arg(&args, ctx.say)?;
        if wanted.is_empty() {
            return Err(ToolError::Invalid("items is empty".into()));
        }
        let added = ListItem::add(ctx.tx, &list, &wanted).await?;
        let confirmation = if added.is_empty() {
            ctx.say.pick(
                &format!("Already on your {list} list."),
                &format!("Déjà sur ta liste {list}."),
            )
        } else {
            ctx.say.pick(
                &format!("Added to your {list} list: {}.", added.join(", ")),
                &format!("Ajouté à ta liste {list} : {}.", added.join(", ")),
            )
        };
        Ok(json!({"confirmation": confirmation, "list": list, "added": added}))
    })
}

fn remove<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let list = list_arg(&args, ctx.say)?;
        let removed = ListItem::remove(ctx.tx, &list, &items_arg(&args, ctx.say)?).await?;
        let confirmation = if removed.is_empty() {
            ctx.say.pick(
                &format!("None of that was on your {list} list."),
                &format!("Rien de tout ça n'était sur ta liste {list}."),
            )
        } else {
            ctx.say.pick(
                &format!("Removed from your {list} list: {}.", removed.join(", ")),
                &format!("Retiré de ta liste {list} : {}.", removed.join(", ")),
            )
        };
        Ok(json!({"confirmation": confirmation, "list": list, "removed": removed}))
    })
}

fn show<'a>(ctx: &'a mut ToolContext<'_>, args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let list = list_arg(&args, ctx.say)?;
        let items = ListItem::show(ctx.tx, &list).await?;
        let names: Vec<&str> = items.iter().map(|i| i.item.as_str()).collect();
        let confirmation = if names.is_empty() {
            ctx.say.pick(
                &format!("Your {list} list is empty."),
                &format!("Ta liste {list} est vide."),
            )
        } else {
            ctx.say.pick(
                &format!("{list}: {}.", names.join(", ")),
                &format!("{list} : {}.", names.join(", ")),
            )
        };
        Ok(json!({"confirmation": confirmation, "list": list, "items": names}))
    })
}

fn clear<'a>(ctx: &'a mut ToolContext<'_>, args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let list = list_arg(&args, ctx.say)?;
        let n = ListItem::clear(ctx.tx, &list).await?;
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Emptied your {list} list ({n} items)."), &format!("Liste {list} vidée ({n} éléments).")),
            "removed": n,
        }))
    })
}
