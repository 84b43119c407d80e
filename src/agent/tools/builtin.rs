//! The shape every built-in tool shares: a name, a description, a schema,
//! an effect and an async handler over the person's transaction.

use futures::future::BoxFuture;
use serde_json::Value;

use super::{Effect, Tool, ToolContext, ToolError, Wording};

pub type Handler =
    for<'a, 'b> fn(&'a mut ToolContext<'b>, Value) -> BoxFuture<'a, Result<Value, ToolError>>;

pub struct BuiltinTool {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: fn() -> Value,
    pub effect: Effect,
    /// Bulk destructive: asks the person first.
    pub confirm: Option<fn(&Value, Wording) -> String>,
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

    fn describe_call(&self, args: &Value, say: Wording) -> String {
        match self.confirm {
            Some(describe) => describe(args, say),
            None => self.description.to_string(),
        }
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError> {
        (self.handler)(ctx, args).await
    }
}
