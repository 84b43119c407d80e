//! Long-term memory tools: remember a fact, recall by words.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, Tool, ToolContext, ToolError, arg_str};
use crate::store::{Locale, Memory};

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "remember",
            description: "Keep a fact the person wants remembered. When it updates a fact told before (\"my new gate code is 4411\"), name what it is about in `replaces` (\"gate code\"): the old fact is replaced, not kept beside the new one.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "fact": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "replaces": {"type": "string", "minLength": 1, "maxLength": 200, "description": "A few words naming what the fact is about, when it updates an earlier one."}
                    },
                    "required": ["fact"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: remember,
        }),
        Arc::new(BuiltinTool {
            name: "recall",
            description: "Search the facts the person asked to remember.",
            parameters: || json!({"type": "object", "properties": {"query": {"type": "string", "minLength": 1}}, "required": ["query"]}),
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: recall,
        }),
    ]
}

fn remember<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let fact =
            super::limits::bounded_arg(&args, "fact", super::limits::TextField::Memory, ctx.say)?
                .ok_or_else(|| ToolError::Invalid("fact is required".into()))?;
        let language = if ctx.say.french {
            Locale::Fr
        } else {
            Locale::En
        };
        let (memory, old) = match arg_str(&args, "replaces") {
            Some(about) => Memory::replace(ctx.tx, about, fact, language).await?,
            None => (Memory::remember(ctx.tx, fact, language).await?, None),
        };
        let fact = memory.content.trim_end_matches(['.', '!']);
        let confirmation = match &old {
            Some(old) => {
                // The old fact is only a reminder of what changed.
                let old = super::shorten(old.trim_end_matches(['.', '!']), 80);
                ctx.say.pick(
                    &format!("Updated: {fact} (was: {old})."),
                    &format!("Mis à jour : {fact} (avant : {old})."),
                )
            }
            None => ctx.say.pick(
                &format!("Got it, I'll remember: {fact}."),
                &format!("C'est noté : {fact}."),
            ),
        };
        Ok(json!({
            "confirmation": confirmation,
            "memory_id": memory.id,
            "replaced": old.is_some(),
        }))
    })
}

fn recall<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let query = arg_str(&args, "query")
            .ok_or_else(|| ToolError::Invalid("query is required".into()))?;
        let found = Memory::recall_ranked(ctx.tx, query, 3).await?;
        // A fact matching half as well as the best (one word of two)
        // shares a word by chance: "code" in "gate code" for a question
        // about the wifi password.
        let best = found.first().map_or(0.0, |(_, rank)| *rank);
        let facts: Vec<&str> = found
            .iter()
            .filter(|(_, rank)| *rank > best * 0.5)
            .map(|(m, _)| m.content.as_str())
            .collect();
        if facts.is_empty() {
            // "what's the wifi at mum's": not a fact, maybe a note or a page.
            return super::knowledge::answer_from_notes(ctx, query).await;
        }
        let confirmation = match facts.as_slice() {
            [] => ctx.say.pick(
                "I don't have anything saved about that.",
                "Je n'ai rien de noté là-dessus.",
            ),
            [one] => ctx.say.pick(
                &format!("You told me: {one}."),
                &format!("Tu m'as dit : {one}."),
            ),
            many => ctx.say.pick(
                &format!("You told me: {}.", many.join("; ")),
                &format!("Tu m'as dit : {}.", many.join(" ; ")),
            ),
        };
        Ok(json!({"confirmation": confirmation, "facts": facts}))
    })
}
