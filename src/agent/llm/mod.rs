//! Language models behind one trait, [`LlmClient`]: Gemini, an
//! OpenAI-compatible endpoint, and the offline rules planner. They are
//! chained (primary → fallback → offline), each remote one behind a circuit
//! breaker, so a turn always gets an answer.
//!
//! The conversation model is provider-neutral: messages of parts (text,
//! function calls, function responses). Model messages are kept exactly as
//! received — including Gemini's `thoughtSignature`s, which must be echoed
//! back verbatim or Gemini 3 rejects the turn.

pub mod chain;
pub mod gemini;
mod http;
pub mod models;
pub mod offline;
pub mod openai;
pub mod prices;

pub use http::{DEFAULT_TIMEOUT, RetryPolicy};
pub use models::{ModelCheck, ModelCheckError, ModelInfo, ModelState, ModelStatus};

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::Locale;

/// Who said a message. Function responses travel in a `User` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Model,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
        /// Opaque; echoed back exactly as received.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thought_signature: Option<String>,
    },
    FunctionCall(FunctionCall),
    FunctionResponse(FunctionResponse),
    /// The model's own reasoning (Gemini's `thought: true` parts): never
    /// shown to the person, echoed back with its flag and signature.
    Thought {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thought_signature: Option<String>,
    },
}

/// The model asks for a tool to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Provider-assigned id (Gemini 3, OpenAI); matched by the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    /// A JSON object of arguments.
    pub args: Value,
    /// Opaque; echoed back exactly as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

/// A tool's result, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionResponse {
    /// The id of the call it answers, when the call had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    /// A JSON object: the tool's output, or `{"error": "..."}`.
    pub response: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn user_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            parts: vec![Part::Text {
                text: text.into(),
                thought_signature: None,
            }],
        }
    }

    pub fn model_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::Model,
            parts: vec![Part::Text {
                text: text.into(),
                thought_signature: None,
            }],
        }
    }

    /// The text parts joined, ignoring calls and responses.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }

    pub fn function_calls(&self) -> Vec<&FunctionCall> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::FunctionCall(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    pub fn function_responses(&self) -> Vec<&FunctionResponse> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::FunctionResponse(r) => Some(r),
                _ => None,
            })
            .collect()
    }
}

/// A tool as the model sees it. `parameters` is the tool's full JSON
/// schema; each client translates it into what its API accepts (Gemini:
/// see `gemini::schema`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDeclaration {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Facts about the person and the moment, for planners that reason about
/// time without a model (the offline planner) and for the system prompt.
#[derive(Debug, Clone)]
pub struct TurnContext {
    pub now: DateTime<Utc>,
    pub timezone: chrono_tz::Tz,
    pub locale: Locale,
}

#[derive(Debug, Clone)]
pub struct LlmRequest {
    pub system: String,
    /// Oldest first; ends with the user's message or with function responses.
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDeclaration>,
    pub context: TurnContext,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub total_tokens: u32,
}

impl Usage {
    /// Two calls' usage together (a retried answer is paid twice).
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LlmResponse {
    /// Role `Model`: text and/or function calls, exactly as received.
    pub message: Message,
    pub usage: Usage,
    /// Provider name for metrics and `llm_usage` ("gemini", "openai", "offline").
    pub provider: String,
    pub model: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Worth trying again later (429, 500, 503, 504, timeouts).
    #[error("{provider} is unavailable (status {status:?}): {message}")]
    Unavailable {
        provider: String,
        status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The request itself is wrong or refused (400, 401, 403, 404).
    #[error("{provider} refused the request (status {status}): {message}")]
    Rejected {
        provider: String,
        status: u16,
        message: String,
    },
    /// The answer could not be understood.
    #[error("{provider} sent an unreadable answer: {message}")]
    Malformed { provider: String, message: String },
    /// The circuit breaker is open: not called.
    #[error("{provider} is skipped: its circuit breaker is open")]
    CircuitOpen { provider: String },
}

impl LlmError {
    /// Whether the same request may succeed if sent again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LlmError::Unavailable { .. })
    }
}

/// Where one model call stands in its turn.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallScope<'a> {
    /// When the answer is needed by: the turn's own deadline when the
    /// runner calls the chain, a slice of it when the chain calls a
    /// provider. Requests and retries stop there. `None`: the client's own
    /// timeouts only.
    pub deadline: Option<Instant>,
    /// The provider that answered the turn's previous call. The chain keeps
    /// the rest of the turn on it, so a conversation that fell back never
    /// goes back to a provider that cannot read the other's function calls
    /// (Gemini 3 refuses calls without its thought signatures).
    pub answered_by: Option<&'a str>,
}

impl CallScope<'_> {
    /// Time left before the deadline, `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// A language model that plans with function calling.
#[async_trait::async_trait]
pub trait LlmClient: Send + Sync {
    /// Low-cardinality name for metrics and logs.
    fn provider(&self) -> &str;

    /// The model name, for metrics, costs and `admin llm check`.
    fn model(&self) -> &str {
        self.provider()
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError>;

    /// [`generate`](Self::generate) inside a turn: remote clients stop at
    /// the scope's deadline, the chain also keeps the turn on the provider
    /// that answered. Clients without a notion of time ignore the scope.
    async fn generate_scoped(
        &self,
        request: &LlmRequest,
        scope: CallScope<'_>,
    ) -> Result<LlmResponse, LlmError> {
        let _ = scope;
        self.generate(request).await
    }

    /// What may still answer when the person's daily budget is spent: a
    /// client that costs nothing (the chain's offline planner). `None`:
    /// nothing, the turn says the budget is spent.
    fn spends_nothing(&self) -> Option<std::sync::Arc<dyn LlmClient>> {
        None
    }

    /// Asks the provider whether it serves the configured model (the chain:
    /// every remote provider, recording the outcome). Nothing to check by
    /// default.
    async fn check_models(&self) -> Vec<ModelCheck> {
        Vec::new()
    }

    /// The outcome of the last [`check_models`](Self::check_models), for
    /// `/readyz`; empty when there is nothing to check.
    fn model_status(&self) -> Vec<ModelStatus> {
        Vec::new()
    }
}
