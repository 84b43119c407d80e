//! `web_search`: Brave Search when configured, Wikipedia otherwise (see
//! `integrations::web_search`). Its results are untrusted content; its
//! query leaves for a third party, so after untrusted content was read in
//! a turn it asks first (nothing private goes out on a stranger's word).

use std::sync::Arc;

use serde_json::{Value, json};

use super::calendar::provider_error;
use super::{Effect, RemoteContext, Tool, ToolContext, ToolError, arg_str};
use crate::integrations::Integrations;

pub fn tools(integrations: &Integrations) -> Vec<Arc<dyn Tool>> {
    vec![Arc::new(WebSearch(integrations.clone()))]
}

struct WebSearch(Integrations);

#[async_trait::async_trait]
impl Tool for WebSearch {
    fn name(&self) -> &'static str {
        "web_search"
    }

    fn description(&self) -> &'static str {
        "Search the web (opening hours, facts, news); returns a few results with title, snippet and link."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 200, "description": "what to search for; no personal details"},
            },
            "required": ["query"],
        })
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn reads_untrusted(&self) -> Option<&'static str> {
        Some("web search results")
    }

    fn discloses(&self) -> bool {
        true
    }

    fn remote(&self) -> bool {
        true
    }

    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("web_search runs remotely".into()))
    }

    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let query = arg_str(&args, "query")
            .ok_or_else(|| ToolError::Invalid("query is required".into()))?;
        let lang = if ctx.say.french { "fr" } else { "en" };
        let (provider, results) = self
            .0
            .web_search(query, lang)
            .await
            .map_err(provider_error)?;
        let confirmation = match results.first() {
            Some(top) => format!("{}: {} {}", top.title, top.snippet, top.url),
            None => ctx.say.pick(
                &format!("Nothing found for \"{query}\"."),
                &format!("Rien trouvé pour « {query} »."),
            ),
        };
        Ok(json!({
            "source": provider,
            "results": results,
            "confirmation": crate::http_client::shorten(&confirmation, 300),
        }))
    }
}
