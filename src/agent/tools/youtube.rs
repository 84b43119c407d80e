//! `youtube_search`: "find me a 10-minute yoga video". Offered when the
//! operator set `YOUTUBE_API_KEY`. Titles are written by strangers
//! (untrusted content), and the query leaves for Google (a disclosing
//! call: after untrusted content was read, it asks first).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::calendar::provider_error;
use super::{Effect, Integration, RemoteContext, Tool, ToolContext, ToolError, arg_str};
use crate::integrations::Integrations;

pub fn tools(integrations: &Integrations) -> Vec<Arc<dyn Tool>> {
    vec![Arc::new(YouTube(integrations.clone()))]
}

struct YouTube(Integrations);

#[async_trait::async_trait]
impl Tool for YouTube {
    fn name(&self) -> &'static str {
        "youtube_search"
    }

    fn description(&self) -> &'static str {
        "Find YouTube videos; returns title, channel and link of a few."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 200},
                "minutes": {"type": "integer", "minimum": 1, "maximum": 600, "description": "about how long the video should be"},
            },
            "required": ["query"],
        })
    }

    fn effect(&self) -> Effect {
        Effect::Read
    }

    fn available(&self, _connected: &HashSet<Integration>) -> bool {
        self.0.youtube_enabled()
    }

    fn reads_untrusted(&self) -> Option<&'static str> {
        Some("YouTube search results")
    }

    fn discloses(&self) -> bool {
        true
    }

    fn remote(&self) -> bool {
        true
    }

    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("youtube_search runs remotely".into()))
    }

    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let query = arg_str(&args, "query")
            .ok_or_else(|| ToolError::Invalid("query is required".into()))?;
        let minutes = args.get("minutes").and_then(Value::as_i64);
        let lang = if ctx.say.french { "fr" } else { "en" };
        let videos = self
            .0
            .youtube_search(query, minutes, lang)
            .await
            .map_err(provider_error)?;
        let confirmation = match videos.first() {
            Some(v) => format!("{} ({}) {}", v.title, v.channel, v.url),
            None => ctx.say.pick(
                &format!("No video found for \"{query}\"."),
                &format!("Aucune vidéo trouvée pour « {query} »."),
            ),
        };
        Ok(json!({
            "videos": videos,
            "confirmation": crate::http_client::shorten(&confirmation, 300),
        }))
    }
}
