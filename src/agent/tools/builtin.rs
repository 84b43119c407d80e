//! The shape every built-in tool shares: a name, a description, a schema,
//! an effect and an async handler over the person's transaction.

use futures::future::BoxFuture;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, Wording};

pub type Handler =
    for<'a, 'b> fn(&'a mut ToolContext<'b>, Value) -> BoxFuture<'a, Result<Value, ToolError>>;

/// Reads the person's data to say exactly what a held call would change.
pub type Preview =
    for<'a, 'b> fn(&'a mut ToolContext<'b>, &'a Value) -> BoxFuture<'a, Result<String, ToolError>>;

/// How a removing tool counts and describes what one call would remove.
#[derive(Clone, Copy)]
pub struct Removes {
    pub count: fn(&Value) -> u32,
    pub describe: fn(&Value, Wording) -> String,
}

pub struct BuiltinTool {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: fn() -> Value,
    pub effect: Effect,
    /// Bulk destructive whatever its arguments: always asks the person
    /// first, with this description of the call.
    pub confirm: Option<fn(&Value, Wording) -> String>,
    /// Removes or cancels items: how many a call would, and what it would
    /// do in words. The runner asks first when a turn's total goes over
    /// its threshold, however the removals are split across calls.
    pub removes: Option<Removes>,
    /// For a call held for confirmation: which items, due when — read from
    /// the person's data; falls back to `describe_call` if it fails.
    pub preview: Option<Preview>,
    pub handler: Handler,
}

#[async_trait::async_trait]
impl Tool for BuiltinTool {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn parameters(&self) -> Value {
        (self.parameters)()
    }

    fn effect(&self) -> Effect {
        self.effect
    }

    fn needs_confirmation(&self) -> bool {
        self.confirm.is_some() || self.effect == Effect::External
    }

    fn removals(&self, args: &Value) -> u32 {
        self.removes.map_or(0, |r| (r.count)(args))
    }

    fn describe_call(&self, args: &Value, say: Wording) -> String {
        match (self.confirm, self.removes) {
            (Some(describe), _) => describe(args, say),
            (None, Some(removes)) => (removes.describe)(args, say),
            (None, None) => super::describe_arguments(self.description, args),
        }
    }

    async fn describe_effect(&self, ctx: &mut ToolContext<'_>, args: &Value) -> String {
        let previewed = match self.preview {
            Some(preview) => preview(ctx, args).await,
            None => return self.describe_call(args, ctx.say),
        };
        previewed.unwrap_or_else(|e| {
            tracing::debug!(tool = self.name, error = %e, "preview failed; describing the arguments");
            self.describe_call(args, ctx.say)
        })
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError> {
        (self.handler)(ctx, args).await
    }
}
