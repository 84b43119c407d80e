//! Knowledge tools: keep a note in the person's knowledge base, and search
//! their notes and Notion, answering with the passage and its source.
//! Passages are the person's own data but may come from shared pages:
//! they go back to the model as labelled data, never as instructions.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, RemoteContext, Tool, ToolContext, ToolError, Wording, arg_str};
use crate::knowledge::notes::MAX_NOTE_CHARS;
use crate::knowledge::online::{QueryEmbedder, find};
use crate::knowledge::{save_note, search};
use crate::store::Locale;
use crate::store::knowledge::Passage;

/// Passages returned to the model; the offline planner uses the first.
const TOP: usize = 3;
/// A passage as quoted in an SMS answer.
const QUOTE_CHARS: usize = 300;

/// `search_knowledge` with the configured query embedder (hybrid
/// retrieval), in place of the full-text one [`tools`] declares.
pub fn search_tool(embedder: Option<QueryEmbedder>) -> Arc<dyn Tool> {
    Arc::new(SearchKnowledge(embedder))
}

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "save_note",
            description: "Keep a note (longer text: codes, instructions, what someone said) in the person's notes, searchable later.",
            parameters: || json!({"type": "object", "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_CHARS}}, "required": ["text"]}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: note,
        }),
        Arc::new(SearchKnowledge(None)),
        Arc::new(BuiltinTool {
            name: "sync_notion",
            description: "Sync the person's connected Notion now (new and edited pages become searchable).",
            parameters: || json!({"type": "object", "properties": {}}),
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: sync_notion,
        }),
    ]
}

fn sync_notion<'a>(
    ctx: &'a mut ToolContext<'_>,
    _args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let connected = crate::store::integrations::token_state(ctx.tx, "notion")
            .await?
            .is_some_and(|t| t.status == "connected");
        if !connected {
            return Ok(json!({"confirmation": ctx.say.pick(
                "Notion isn't connected yet. Text \"connect notion\" to link it.",
                "Notion n'est pas encore connecté. Écris « connecter notion » pour le relier.",
            ), "queued": false}));
        }
        let (run, new) = crate::knowledge::notion::request_sync(ctx.tx).await?;
        let confirmation = match new {
            true => ctx.say.pick("Syncing your Notion now; new pages will be searchable in a few minutes.", "Je mets à jour Notion ; les nouvelles pages seront consultables dans quelques minutes."),
            false => ctx.say.pick("A Notion sync is already under way.", "Une mise à jour de Notion est déjà en cours."),
        };
        Ok(json!({"confirmation": confirmation, "queued": new, "run_id": run.id}))
    })
}

fn note<'a>(ctx: &'a mut ToolContext<'_>, args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let text =
            arg_str(&args, "text").ok_or_else(|| ToolError::Invalid("text is required".into()))?;
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(ToolError::Limit(ctx.say.pick(
                "That note is too long to keep; send a shorter one.",
                "Cette note est trop longue ; envoie-en une plus courte.",
            )));
        }
        let language = ctx.say.french.then_some(Locale::Fr);
        let stored = save_note(ctx.tx, text, language).await?;
        Ok(json!({
            "confirmation": ctx.say.pick("Saved to your notes.", "C'est dans tes notes."),
            "document_id": stored.document,
        }))
    })
}

/// "'Doctor visits' (Notion)" / "your note 'wifi at mum's'".
fn source_label(p: &Passage, french: bool) -> String {
    match (p.source.as_str(), french) {
        ("notion", _) => format!("'{}' (Notion)", p.title),
        (_, false) => format!("your note '{}'", p.title),
        (_, true) => format!("ta note « {} »", p.title),
    }
}

fn quote(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(QUOTE_CHARS) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

/// Runs remotely: the query is embedded with no transaction open, then
/// searched in a short one of its own (see `knowledge::online`).
struct SearchKnowledge(Option<QueryEmbedder>);

#[async_trait::async_trait]
impl Tool for SearchKnowledge {
    fn name(&self) -> &'static str {
        "search_knowledge"
    }

    fn description(&self) -> &'static str {
        "Search the person's notes and connected Notion pages. Returns the best passages with title and URL; answer from them only and name the source, or say it is not in their notes."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 500}}, "required": ["query"]})
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn remote(&self) -> bool {
        true
    }

    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("search_knowledge runs remotely".into()))
    }

    #[tracing::instrument(name = "tool.search_knowledge", skip_all)]
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let query = arg_str(&args, "query")
            .ok_or_else(|| ToolError::Invalid("query is required".into()))?;
        let found = find(ctx.pool, ctx.user.id, self.0.as_ref(), query, TOP).await?;
        Ok(answer(&found.passages, ctx.say))
    }
}

/// The best passages for `query` by full text, in the person's open
/// transaction (`recall`'s fallback when no fact matches), and a one-line
/// answer naming the source, or "I didn't find that in your notes".
pub(super) async fn answer_from_notes(
    ctx: &mut ToolContext<'_>,
    query: &str,
) -> Result<Value, ToolError> {
    // Full text here: a local tool runs inside the person's transaction,
    // and no provider is called while one is open (DESIGN.md §5).
    let found = search(ctx.tx, query, None, TOP).await?;
    Ok(answer(&found, ctx.say))
}

fn answer(found: &[Passage], say: Wording) -> Value {
    let confirmation = match found.first() {
        None => say.pick(
            "I didn't find that in your notes.",
            "Je n'ai pas trouvé ça dans tes notes.",
        ),
        Some(best) => {
            let from = source_label(best, say.french);
            let text = quote(&best.body);
            say.pick(
                &format!("From {from}: {text}"),
                &format!("D'après {from} : {text}"),
            )
        }
    };
    let passages: Vec<Value> = found
        .iter()
        .map(|p| {
            json!({
                "title": p.title,
                "url": p.url,
                "source": p.source,
                "section": p.heading_path,
                "untrusted_text": quote(&p.body),
            })
        })
        .collect();
    json!({"confirmation": confirmation, "found": !found.is_empty(), "passages": passages})
}
