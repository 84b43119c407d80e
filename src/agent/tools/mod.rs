//! Tools the agent can call: the [`Tool`] trait, the [`ToolRegistry`] that
//! validates arguments and offers each person only the tools they can use,
//! and the built-in tools over `store/`.
//!
//! Every tool returns a JSON object with a `confirmation` sentence for the
//! person (in their language) plus structured data, or an error that goes
//! back to the model as `{"error": …}` — never a crash.

mod builtin;
mod expenses;
mod lists;
mod memory;
mod profile;
mod registry;
mod reminders;
mod tasks;
mod wording;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::db::UserTx;
use crate::store::{StoreError, User};

pub use registry::{ToolRegistry, ValidationError};
pub use wording::Wording;

/// What running a tool does to the world; decides whether it needs the
/// person's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Read,
    Write,
    /// Sends, spends or acts outside Nudge on the person's behalf.
    External,
}

/// The third-party account a tool needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Integration {
    Google,
    Microsoft,
    Notion,
}

/// Everything a tool may use while it runs: one person's transaction and
/// the facts of the moment.
pub struct ToolContext<'a> {
    pub tx: &'a mut UserTx,
    pub user: &'a User,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub say: Wording,
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments make no sense here; the model may try again.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ToolError {
    fn from(e: sqlx::Error) -> Self {
        ToolError::Store(StoreError::Database(e))
    }
}

#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON schema of the arguments (the OpenAPI subset Gemini accepts).
    fn parameters(&self) -> Value;
    fn integration(&self) -> Option<Integration> {
        None
    }
    fn effect(&self) -> Effect;
    /// Whether the runner must ask the person first. External effects
    /// always do; bulk destructive built-ins say so too.
    fn needs_confirmation(&self) -> bool {
        self.effect() == Effect::External
    }
    /// A one-line description of what a call would do, for the question
    /// asked before running it.
    fn describe_call(&self, _args: &Value, say: Wording) -> String {
        say.pick(self.description(), self.description())
    }
    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError>;
}

/// Reads a string argument, trimmed; empty counts as missing.
pub(crate) fn arg_str<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads an optional UUID argument; a malformed one is the model's mistake.
pub(crate) fn arg_uuid(args: &Value, key: &str) -> Result<Option<uuid::Uuid>, ToolError> {
    match arg_str(args, key) {
        None => Ok(None),
        Some(s) => uuid::Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ToolError::Invalid(format!("{key} is not a valid id"))),
    }
}
