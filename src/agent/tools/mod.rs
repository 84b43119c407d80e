//! Tools the agent can call: the [`Tool`] trait, the [`ToolRegistry`] that
//! validates arguments and offers each person only the tools they can use,
//! and the built-in tools over `store/`.
//!
//! Every tool returns a JSON object with a `confirmation` sentence for the
//! person (in their language) plus structured data, or an error that goes
//! back to the model as `{"error": …}` — never a crash.

mod builtin;
mod calendar;
mod expenses;
mod focus;
mod follow_through;
mod integrations;
mod knowledge;
mod leave_by;
pub mod limits;
mod lists;
mod mail;
mod memory;
mod privacy;
mod profile;
mod registry;
mod reminders;
mod rolling;
mod tasks;
pub mod untrusted;
mod web_search;
mod wording;
mod youtube;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use std::collections::HashSet;

use crate::db::UserTx;
use crate::store::{StoreError, User};

pub use builtin::Removes;
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
    /// Google connected with the Gmail scopes granted.
    GoogleMail,
    /// Microsoft connected with the Graph mail scopes granted.
    MicrosoftMail,
}

/// What a tool that calls a provider gets instead of a [`ToolContext`]: no
/// transaction (none may be held across a provider call; a tool that must
/// write opens a short scoped one on `pool` after the call), and the facts
/// of the moment.
pub struct RemoteContext<'a> {
    pub pool: &'a sqlx::PgPool,
    pub user: &'a User,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub say: Wording,
    pub connected: &'a HashSet<Integration>,
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
    /// The person's input exceeds a limit (too long, too far ahead): the
    /// message is a short answer for the person, in their language, and the
    /// turn replies with it rather than letting a model paraphrase it.
    #[error("{0}")]
    Limit(String),
    /// A provider could not serve the call (down, refusing, needs
    /// reconnecting): the reason goes to the model, nothing was changed.
    #[error("{0}")]
    Provider(String),
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
    /// Whether this person may use it, given their connected integrations
    /// (a calendar tool takes whichever calendar is connected).
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        self.integration().is_none_or(|i| connected.contains(&i))
    }
    /// Whether the runner must ask the person first. External effects
    /// always do; bulk destructive built-ins say so too.
    fn needs_confirmation(&self) -> bool {
        self.effect() == Effect::External
    }
    /// As [`Tool::needs_confirmation`], for these arguments (creating an
    /// event asks only when it invites someone).
    fn needs_confirmation_for(&self, _args: &Value) -> bool {
        self.needs_confirmation()
    }
    /// Whether its result carries text written by others (mail, event
    /// descriptions, web pages): the runner wraps it as untrusted data,
    /// and the rest of the turn asks before anything but a read.
    fn reads_untrusted(&self) -> Option<&'static str> {
        None
    }
    /// Whether its arguments leave for a third party that is not the
    /// person's own account (a web search query): after untrusted content
    /// was read, such a call asks first, so nothing private is sent out
    /// on a stranger's instructions.
    fn discloses(&self) -> bool {
        false
    }
    /// Whether it calls a provider: then it runs through
    /// [`Tool::call_remote`], with no transaction open.
    fn remote(&self) -> bool {
        false
    }
    async fn call_remote(
        &self,
        _ctx: &RemoteContext<'_>,
        _args: Value,
    ) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("this tool runs locally".into()))
    }
    /// What a held remote call would do, read from the provider (with no
    /// transaction open); `None` falls back to [`Tool::describe_call`].
    async fn describe_remote(&self, _ctx: &RemoteContext<'_>, _args: &Value) -> Option<String> {
        None
    }
    /// How many of the person's items a call would remove or cancel; the
    /// runner adds these up over a turn and asks first above its threshold.
    fn removals(&self, _args: &Value) -> u32 {
        0
    }
    /// A one-line description of what a call would do, for the question
    /// asked before running it. It must show the arguments that matter
    /// (who, what, when): the default shows every argument, so a tool that
    /// sends mail is never confirmed without its recipient and content.
    fn describe_call(&self, args: &Value, _say: Wording) -> String {
        describe_arguments(self.description(), args)
    }
    /// What a call held for confirmation would do, for the question: may
    /// read the person's data to name the items and when they are due.
    async fn describe_effect(&self, ctx: &mut ToolContext<'_>, args: &Value) -> String {
        self.describe_call(args, ctx.say)
    }
    /// Runs a local tool in the person's transaction (a remote tool's
    /// `call` is never used: see [`Tool::remote`]).
    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError>;
}

/// "Send an email (to: ana@example.com; subject: Hi; body: …)": a tool's
/// description followed by every argument, each value shortened.
pub fn describe_arguments(description: &str, args: &Value) -> String {
    const MAX_VALUE_CHARS: usize = 160;
    let shown: Vec<String> = args
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.trim().to_string(),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", "),
                        other => other.to_string(),
                    };
                    format!("{k}: {}", shorten(&value, MAX_VALUE_CHARS))
                })
                .collect()
        })
        .unwrap_or_default();
    let head = description.trim().trim_end_matches('.');
    match shown.is_empty() {
        true => head.to_string(),
        false => format!("{head} ({})", shown.join("; ")),
    }
}

/// At most `max` characters, with "…" when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
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
