//! Google Gemini through the `generateContent` REST API.
//!
//! Gemini 3 validates `thoughtSignature`s: every signature comes back on
//! the same part it arrived with, so parts are mapped one to one and the
//! model's messages are resent exactly as received, thought parts with
//! their `thought: true`. A function call Gemini did not write (the turn
//! fell back to another provider; the chain normally keeps such a turn
//! away from Gemini) carries Google's documented placeholder signature.
//!
//! Every answer shape is handled on purpose: a prompt or answer blocked
//! for safety becomes a short, kind refusal (an answer, so the chain does
//! not hand the request to a planner that would carry it out); an answer
//! cut at `MAX_TOKENS` is asked again once with a tighter instruction, then
//! admitted as cut, never passed on half-written; an empty or unreadable
//! answer is an error, and the chain falls back.
//!
//! Tool schemas are translated to the subset Gemini's `Schema` accepts
//! ([`schema`]).
//!
//! Thinking is set by one word or number (`GEMINI_THINKING_LEVEL`), see
//! [`Thinking`]: Gemini 3 takes a `thinkingLevel`, Gemini 2.5 only a
//! `thinkingBudget`, so a level word is translated for 2.x models.

pub mod schema;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{self, Cooldown, DEFAULT_TIMEOUT, JsonPost, RetryPolicy};
use super::models::{self, ModelCheck, Probe};
use super::{
    CallScope, FunctionCall, FunctionResponse, LlmClient, LlmError, LlmRequest, LlmResponse,
    Message, Part, Role, ToolDeclaration, Usage,
};
use crate::config::{ConfigError, LlmConfig};
use crate::store::Locale;

const PROVIDER: &str = "gemini";

/// Google's documented stand-in for a thought signature, for function
/// calls Gemini 3 did not generate ("skip_thought_signature_validator",
/// see the Gemini API's thought-signatures page).
pub const PLACEHOLDER_SIGNATURE: &str = "skip_thought_signature_validator";

/// Added to the system instruction when an answer was cut at `MAX_TOKENS`.
const TIGHTER: &str = "Your previous answer was cut off because it was too long. Answer again in at most two short sentences, or call exactly the tools needed.";

/// How much the model may think before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thinking {
    /// Sent as `thinkingLevel` to Gemini 3 and later; translated into a
    /// budget for Gemini 2.x (see [`ThinkingLevel::budget`]).
    Level(ThinkingLevel),
    /// Sent as `thinkingBudget` to any model, as is (`-1` lets the model
    /// decide, `0` turns thinking off where the model allows it).
    Budget(i32),
}

impl Default for Thinking {
    fn default() -> Self {
        Thinking::Level(ThinkingLevel::Low)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingLevel {
    Minimal,
    Low,
    Medium,
    High,
}

impl ThinkingLevel {
    fn as_str(self) -> &'static str {
        match self {
            ThinkingLevel::Minimal => "minimal",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
        }
    }

    /// The Gemini 2.5 budget standing in for this level. 512 is the
    /// smallest budget every 2.5 model accepts (Pro cannot switch thinking
    /// off, Flash-Lite's floor is 512), so `minimal` and `low` share it.
    pub fn budget(self) -> i32 {
        match self {
            ThinkingLevel::Minimal | ThinkingLevel::Low => 512,
            ThinkingLevel::Medium => 2048,
            ThinkingLevel::High => 8192,
        }
    }
}

impl FromStr for Thinking {
    type Err = String;

    /// A level word (`minimal`, `low`, `medium`, `high`, any case) or an
    /// integer budget.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(budget) = s.parse::<i32>() {
            return Ok(Thinking::Budget(budget));
        }
        let level = match s.to_ascii_lowercase().as_str() {
            "minimal" => ThinkingLevel::Minimal,
            "low" => ThinkingLevel::Low,
            "medium" => ThinkingLevel::Medium,
            "high" => ThinkingLevel::High,
            _ => {
                return Err(format!(
                    "GEMINI_THINKING_LEVEL must be minimal, low, medium, high or an integer budget, not {s:?}"
                ));
            }
        };
        Ok(Thinking::Level(level))
    }
}

impl Thinking {
    /// The `thinkingConfig` for `model`. The rule, by model name:
    /// `gemini-1*` and `gemini-2.0*` do not think, so a level sends
    /// nothing; other `gemini-2*` (2.5) get the level's budget; everything
    /// else gets the level itself. A budget is always sent as is.
    fn config_for(self, model: &str) -> Option<ThinkingConfig> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        match self {
            Thinking::Budget(budget) => Some(ThinkingConfig {
                thinking_budget: Some(budget),
                thinking_level: None,
            }),
            Thinking::Level(_) if model.starts_with("gemini-1") => None,
            Thinking::Level(_) if model.starts_with("gemini-2.0") => None,
            Thinking::Level(level) if model.starts_with("gemini-2") => Some(ThinkingConfig {
                thinking_budget: Some(level.budget()),
                thinking_level: None,
            }),
            Thinking::Level(level) => Some(ThinkingConfig {
                thinking_budget: None,
                thinking_level: Some(level.as_str()),
            }),
        }
    }
}

/// Everything a [`GeminiClient`] needs besides the HTTP client.
#[derive(Debug, Clone)]
pub struct GeminiSettings {
    /// e.g. `https://generativelanguage.googleapis.com`, without `/v1beta`.
    pub base_url: String,
    pub api_key: SecretString,
    /// e.g. `gemini-3.5-flash-lite`.
    pub model: String,
    pub thinking: Thinking,
    /// Per HTTP request, not per `generate` call.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl GeminiSettings {
    /// Defaults for everything but the endpoint, key and model.
    pub fn new(
        base_url: impl Into<String>,
        api_key: SecretString,
        model: impl Into<String>,
    ) -> Self {
        GeminiSettings {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            thinking: Thinking::default(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// `None` when no `GEMINI_API_KEY` is configured.
    pub fn from_config(config: &LlmConfig) -> Result<Option<Self>, ConfigError> {
        let Some(api_key) = config.gemini_api_key.clone() else {
            return Ok(None);
        };
        let thinking = config
            .gemini_thinking_level
            .parse::<Thinking>()
            .map_err(|problem| ConfigError {
                problems: vec![problem],
            })?;
        Ok(Some(GeminiSettings {
            thinking,
            ..GeminiSettings::new(
                config.gemini_base_url.clone(),
                api_key,
                config.gemini_model.clone(),
            )
        }))
    }
}

/// Gemini as an [`LlmClient`] (provider `"gemini"`).
#[derive(Clone)]
pub struct GeminiClient {
    http: reqwest::Client,
    url: String,
    /// `…/v1beta/models/{model}`: the model check.
    model_url: String,
    model: String,
    headers: HeaderMap,
    api_key: SecretString,
    thinking: Thinking,
    timeout: Duration,
    retry: RetryPolicy,
    cooldown: Arc<Cooldown>,
}

impl fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .field("thinking", &self.thinking)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl GeminiClient {
    /// Fails only when the key cannot be sent as a header value.
    pub fn new(settings: GeminiSettings, http: reqwest::Client) -> Result<Self, ConfigError> {
        let mut key =
            HeaderValue::from_str(settings.api_key.expose_secret()).map_err(|_| ConfigError {
                problems: vec!["GEMINI_API_KEY contains characters not allowed in a header".into()],
            })?;
        // Keeps the key out of any debug output of the request.
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-api-key", key);
        let model = settings
            .model
            .strip_prefix("models/")
            .unwrap_or(&settings.model)
            .to_owned();
        let model_url = format!(
            "{}/v1beta/models/{}",
            settings.base_url.trim_end_matches('/'),
            model
        );
        let url = format!("{model_url}:generateContent");
        Ok(GeminiClient {
            http,
            url,
            model_url,
            model,
            headers,
            api_key: settings.api_key,
            thinking: settings.thinking,
            timeout: settings.timeout,
            retry: settings.retry,
            cooldown: Arc::default(),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    async fn call(
        &self,
        request: &LlmRequest,
        deadline: Option<Instant>,
    ) -> Result<LlmResponse, LlmError> {
        let locale = request.context.locale;
        let (message, usage) = match self.exchange(request, None, deadline).await? {
            Answer::Complete(message, usage) => (message, usage),
            Answer::Blocked { reason, usage } => (refusal(&reason, locale), usage),
            Answer::Truncated { usage } => {
                tracing::warn!(
                    provider = PROVIDER,
                    "answer cut at MAX_TOKENS; asking again, shorter"
                );
                metrics::counter!("llm_truncated_answers_total", "provider" => PROVIDER)
                    .increment(1);
                match self.exchange(request, Some(TIGHTER), deadline).await? {
                    Answer::Complete(message, again) => (message, usage.plus(again)),
                    Answer::Blocked {
                        reason,
                        usage: again,
                    } => (refusal(&reason, locale), usage.plus(again)),
                    Answer::Truncated { usage: again } => {
                        tracing::warn!(
                            provider = PROVIDER,
                            "answer cut at MAX_TOKENS twice; admitting it"
                        );
                        (cut_off(locale), usage.plus(again))
                    }
                }
            }
        };
        Ok(LlmResponse {
            message,
            usage,
            provider: PROVIDER.to_owned(),
            model: self.model.clone(),
        })
    }

    /// One request (retries included) and what its answer is.
    async fn exchange(
        &self,
        request: &LlmRequest,
        extra_instruction: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Answer, LlmError> {
        let body = build_request(request, self.thinking, &self.model, extra_instruction);
        let body = serde_json::to_vec(&body).map_err(|e| http::malformed(PROVIDER, e))?;
        let text = JsonPost {
            provider: PROVIDER,
            http: &self.http,
            url: &self.url,
            headers: &self.headers,
            body,
            timeout: self.timeout,
            policy: &self.retry,
            secret: Some(self.api_key.expose_secret()),
            deadline,
            cooldown: &self.cooldown,
        }
        .send()
        .await?;
        parse_response(&text)
    }
}

/// The short, kind answer to a request Gemini blocked. The reason is
/// logged, never the person's words.
fn refusal(reason: &str, locale: Locale) -> Message {
    tracing::warn!(
        provider = PROVIDER,
        reason,
        "answer blocked by the model's safety filters"
    );
    metrics::counter!("llm_blocked_answers_total", "provider" => PROVIDER).increment(1);
    Message::model_text(match locale {
        Locale::Fr => {
            "Désolé, je ne peux pas t'aider avec ça. Je reste là pour tes rappels, tes listes et le reste."
        }
        _ => {
            "Sorry, I can't help with that one. I'm still here for your reminders, lists and the rest."
        }
    })
}

/// What is said when even the tighter retry was cut off: nothing was done.
fn cut_off(locale: Locale) -> Message {
    Message::model_text(match locale {
        Locale::Fr => {
            "Désolé, ma réponse était trop longue et a été coupée ; je n'ai rien fait. Peux-tu le redemander en plus court ?"
        }
        _ => {
            "Sorry, my answer ran too long and was cut off, so I did nothing. Could you ask again in fewer words?"
        }
    })
}

#[async_trait::async_trait]
impl LlmClient for GeminiClient {
    fn provider(&self) -> &str {
        PROVIDER
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        self.generate_scoped(request, CallScope::default()).await
    }

    fn model(&self) -> &str {
        &self.model
    }

    #[tracing::instrument(
        name = "llm.generate",
        skip_all,
        fields(
            provider = "gemini",
            model = %self.model,
            input_tokens = tracing::field::Empty,
            output_tokens = tracing::field::Empty,
        )
    )]
    async fn generate_scoped(
        &self,
        request: &LlmRequest,
        scope: CallScope<'_>,
    ) -> Result<LlmResponse, LlmError> {
        let started = Instant::now();
        let result = self.call(request, scope.deadline).await;
        http::record(PROVIDER, started, &result);
        result
    }

    async fn check_models(&self) -> Vec<ModelCheck> {
        let probe = Probe {
            provider: PROVIDER,
            http: &self.http,
            headers: &self.headers,
            secret: Some(self.api_key.expose_secret()),
        };
        vec![models::check_gemini(&probe, &self.model_url, &self.model).await]
    }
}

// ---- Wire types (our own, camelCase as the REST API spells them) ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Content>,
    contents: Vec<Content>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_config: Option<GenerationConfig>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default)]
    parts: Vec<WirePart>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// Marks the model's own reasoning; echoed back as received.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    thought: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_call: Option<WireFunctionCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_response: Option<WireFunctionResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thought_signature: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireFunctionCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Value,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireFunctionResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    response: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tool {
    function_declarations: Vec<FunctionDeclaration>,
}

#[derive(Debug, Serialize)]
struct FunctionDeclaration {
    name: String,
    description: String,
    /// Absent for a tool without arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig {
    function_calling_config: FunctionCallingConfig,
}

#[derive(Debug, Serialize)]
struct FunctionCallingConfig {
    mode: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    thinking_config: ThinkingConfig,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ThinkingConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_budget: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_level: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    candidates_token_count: Option<u64>,
    #[serde(default)]
    thoughts_token_count: Option<u64>,
    #[serde(default)]
    total_token_count: Option<u64>,
}

// ---- Mapping ----

/// What an answer amounts to.
#[derive(Debug)]
enum Answer {
    /// Text and/or function calls to act on.
    Complete(Message, Usage),
    /// The prompt or the answer was blocked (safety, recitation…).
    Blocked { reason: String, usage: Usage },
    /// Cut at `MAX_TOKENS`: whatever came is incomplete and is dropped.
    Truncated { usage: Usage },
}

/// Finish reasons that mean Gemini refused to answer, not that it failed.
const BLOCKED_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
];

/// Whether `model` validates thought signatures (Gemini 3 and later).
fn validates_signatures(model: &str) -> bool {
    let model = model.strip_prefix("models/").unwrap_or(model);
    !(model.starts_with("gemini-1") || model.starts_with("gemini-2"))
}

fn build_request(
    request: &LlmRequest,
    thinking: Thinking,
    model: &str,
    extra_instruction: Option<&str>,
) -> GenerateContentRequest {
    let system = match extra_instruction {
        Some(extra) if request.system.is_empty() => extra.to_owned(),
        Some(extra) => format!("{}\n\n{extra}", request.system),
        None => request.system.clone(),
    };
    let system_instruction = (!system.is_empty()).then(|| Content {
        role: None,
        parts: vec![WirePart {
            text: Some(system),
            ..WirePart::default()
        }],
    });
    let placeholder = validates_signatures(model);
    let contents = request
        .messages
        .iter()
        .map(|m| to_content(m, placeholder))
        // Gemini refuses a content without parts.
        .filter(|c| !c.parts.is_empty())
        .collect();
    let (tools, tool_config) = if request.tools.is_empty() {
        (Vec::new(), None)
    } else {
        (
            vec![Tool {
                function_declarations: request.tools.iter().map(to_declaration).collect(),
            }],
            Some(ToolConfig {
                function_calling_config: FunctionCallingConfig { mode: "AUTO" },
            }),
        )
    };
    GenerateContentRequest {
        system_instruction,
        contents,
        tools,
        tool_config,
        generation_config: thinking
            .config_for(model)
            .map(|thinking_config| GenerationConfig { thinking_config }),
    }
}

fn to_declaration(tool: &ToolDeclaration) -> FunctionDeclaration {
    FunctionDeclaration {
        name: tool.name.clone(),
        description: tool.description.clone(),
        parameters: schema::parameters(&tool.parameters),
    }
}

/// One message as a Gemini `Content`. With `placeholder`, a model message
/// whose function calls carry no signature at all (written by another
/// provider) gets Google's placeholder on its first call, which Gemini 3
/// requires.
fn to_content(message: &Message, placeholder: bool) -> Content {
    let role = match message.role {
        Role::User => "user",
        Role::Model => "model",
    };
    let unsigned_calls = message.role == Role::Model
        && !message.function_calls().is_empty()
        && message
            .function_calls()
            .iter()
            .all(|c| c.thought_signature.is_none());
    let mut placeholder_left = placeholder && unsigned_calls;
    let parts = message
        .parts
        .iter()
        .map(|part| match part {
            Part::Text {
                text,
                thought_signature,
            } => WirePart {
                text: Some(text.clone()),
                thought_signature: thought_signature.clone(),
                ..WirePart::default()
            },
            Part::FunctionCall(call) => {
                let signature = match &call.thought_signature {
                    Some(s) => Some(s.clone()),
                    None if placeholder_left => {
                        placeholder_left = false;
                        Some(PLACEHOLDER_SIGNATURE.to_owned())
                    }
                    None => None,
                };
                WirePart {
                    function_call: Some(WireFunctionCall {
                        id: call.id.clone(),
                        name: call.name.clone(),
                        args: call.args.clone(),
                    }),
                    thought_signature: signature,
                    ..WirePart::default()
                }
            }
            Part::Thought {
                text,
                thought_signature,
            } => WirePart {
                text: Some(text.clone()),
                thought: true,
                thought_signature: thought_signature.clone(),
                ..WirePart::default()
            },
            Part::FunctionResponse(response) => WirePart {
                function_response: Some(WireFunctionResponse {
                    id: response.id.clone(),
                    name: response.name.clone(),
                    response: response.response.clone(),
                }),
                ..WirePart::default()
            },
        })
        .collect();
    Content {
        role: Some(role.to_owned()),
        parts,
    }
}

fn parse_response(body: &str) -> Result<Answer, LlmError> {
    let response: GenerateContentResponse =
        serde_json::from_str(body).map_err(|e| http::malformed(PROVIDER, e))?;
    let usage = response
        .usage_metadata
        .as_ref()
        .map(to_usage)
        .unwrap_or_default();
    if let Some(reason) = response
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_deref())
    {
        return Ok(Answer::Blocked {
            reason: format!("prompt {reason}"),
            usage,
        });
    }
    let Some(candidate) = response.candidates.into_iter().next() else {
        return Err(http::malformed(PROVIDER, "no candidate in the answer"));
    };
    let finish = candidate.finish_reason.as_deref().unwrap_or("unknown");
    if BLOCKED_FINISH_REASONS.contains(&finish) {
        return Ok(Answer::Blocked {
            reason: format!("answer {finish}"),
            usage,
        });
    }
    if finish == "MAX_TOKENS" {
        return Ok(Answer::Truncated { usage });
    }
    let parts: Vec<Part> = candidate
        .content
        .map(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter_map(from_wire_part)
        .collect();
    // An empty answer (or thoughts alone) gives the runner nothing to say
    // or do.
    let meaningful = parts.iter().any(|p| match p {
        Part::Text { text, .. } => !text.trim().is_empty(),
        Part::Thought { .. } => false,
        _ => true,
    });
    if !meaningful {
        return Err(http::malformed(
            PROVIDER,
            format!("empty answer (finishReason {finish})"),
        ));
    }
    Ok(Answer::Complete(
        Message {
            role: Role::Model,
            parts,
        },
        usage,
    ))
}

fn from_wire_part(part: WirePart) -> Option<Part> {
    let signature = part.thought_signature;
    if let Some(call) = part.function_call {
        let args = match call.args {
            // A call without arguments may omit them.
            Value::Null => Value::Object(Default::default()),
            args => args,
        };
        return Some(Part::FunctionCall(FunctionCall {
            id: call.id,
            name: call.name,
            args,
            thought_signature: signature,
        }));
    }
    if let Some(response) = part.function_response {
        return Some(Part::FunctionResponse(FunctionResponse {
            id: response.id,
            name: response.name,
            response: response.response,
        }));
    }
    let text = part.text.unwrap_or_default();
    // An empty text is kept only to carry its signature back; Gemini
    // refuses empty text parts otherwise.
    if text.is_empty() && signature.is_none() {
        return None;
    }
    Some(match part.thought {
        true => Part::Thought {
            text,
            thought_signature: signature,
        },
        false => Part::Text {
            text,
            thought_signature: signature,
        },
    })
}

fn to_usage(meta: &UsageMetadata) -> Usage {
    let input = http::tokens(meta.prompt_token_count);
    let output = http::tokens(meta.candidates_token_count)
        .saturating_add(http::tokens(meta.thoughts_token_count));
    let total = match meta.total_token_count {
        Some(total) => http::tokens(Some(total)),
        None => input.saturating_add(output),
    };
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thinking_parses_words_and_budgets() {
        assert_eq!(
            "low".parse::<Thinking>(),
            Ok(Thinking::Level(ThinkingLevel::Low))
        );
        assert_eq!(
            " HIGH ".parse::<Thinking>(),
            Ok(Thinking::Level(ThinkingLevel::High))
        );
        assert_eq!("1024".parse::<Thinking>(), Ok(Thinking::Budget(1024)));
        assert_eq!("-1".parse::<Thinking>(), Ok(Thinking::Budget(-1)));
        assert!("lots".parse::<Thinking>().is_err());
    }

    #[test]
    fn thinking_config_follows_the_model_generation() {
        let low = Thinking::default();
        assert_eq!(
            low.config_for("gemini-2.5-flash"),
            Some(ThinkingConfig {
                thinking_budget: Some(512),
                thinking_level: None
            })
        );
        assert_eq!(
            low.config_for("gemini-3-flash-preview"),
            Some(ThinkingConfig {
                thinking_budget: None,
                thinking_level: Some("low")
            })
        );
        assert_eq!(low.config_for("gemini-2.0-flash"), None);
        assert_eq!(
            Thinking::Budget(0).config_for("gemini-3-pro-preview"),
            Some(ThinkingConfig {
                thinking_budget: Some(0),
                thinking_level: None
            })
        );
    }

    fn complete(body: &Value) -> (Message, Usage) {
        match parse_response(&body.to_string()).unwrap() {
            Answer::Complete(message, usage) => (message, usage),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn thought_parts_are_kept_apart_and_echoed_with_their_flag() {
        let body = json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "pondering…", "thought": true},
                    {"text": "", "thought": true, "thoughtSignature": "sig-thought"},
                    {"text": "Done."},
                    {"text": ""}
                ]},
                "finishReason": "STOP"
            }]
        });
        let (message, usage) = complete(&body);
        assert_eq!(usage, Usage::default());
        assert_eq!(message.text(), "Done.");
        assert_eq!(
            message.parts,
            vec![
                Part::Thought {
                    text: "pondering…".into(),
                    thought_signature: None
                },
                Part::Thought {
                    text: String::new(),
                    thought_signature: Some("sig-thought".into())
                },
                Part::Text {
                    text: "Done.".into(),
                    thought_signature: None
                },
            ]
        );
        let echoed = serde_json::to_value(to_content(&message, true)).unwrap();
        assert_eq!(
            echoed,
            json!({"role": "model", "parts": [
                {"text": "pondering…", "thought": true},
                {"text": "", "thought": true, "thoughtSignature": "sig-thought"},
                {"text": "Done."}
            ]})
        );
    }

    #[test]
    fn thoughts_alone_are_not_an_answer() {
        let body = r#"{"candidates": [{"content": {"parts": [{"text": "hmm", "thought": true}]}, "finishReason": "STOP"}]}"#;
        assert!(matches!(
            parse_response(body),
            Err(LlmError::Malformed { .. })
        ));
    }

    #[test]
    fn blocked_and_cut_answers_are_told_apart() {
        for body in [
            r#"{"promptFeedback": {"blockReason": "SAFETY"}}"#,
            r#"{"promptFeedback": {"blockReason": "OTHER"}, "candidates": []}"#,
            r#"{"candidates": [{"finishReason": "SAFETY"}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "Sure, here is how"}]}, "finishReason": "PROHIBITED_CONTENT"}]}"#,
        ] {
            assert!(
                matches!(parse_response(body), Ok(Answer::Blocked { .. })),
                "{body}"
            );
        }
        for body in [
            r#"{"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "Sure! I'll remind you to call the den"}]}, "finishReason": "MAX_TOKENS"}]}"#,
        ] {
            assert!(
                matches!(parse_response(body), Ok(Answer::Truncated { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn calls_from_another_provider_get_the_placeholder_signature_on_gemini_3() {
        let call = |name: &str, signature: Option<&str>| {
            Part::FunctionCall(FunctionCall {
                id: None,
                name: name.into(),
                args: json!({}),
                thought_signature: signature.map(Into::into),
            })
        };
        let foreign = Message {
            role: Role::Model,
            parts: vec![call("list_reminders", None), call("list_tasks", None)],
        };
        let wire = serde_json::to_value(to_content(&foreign, true)).unwrap();
        assert_eq!(wire["parts"][0]["thoughtSignature"], PLACEHOLDER_SIGNATURE);
        assert!(wire["parts"][1].get("thoughtSignature").is_none());
        // Gemini 2.x does not validate signatures: nothing is invented.
        let wire = serde_json::to_value(to_content(&foreign, false)).unwrap();
        assert!(wire["parts"][0].get("thoughtSignature").is_none());
        // Gemini's own parallel calls keep exactly what they had.
        let own = Message {
            role: Role::Model,
            parts: vec![
                call("list_reminders", Some("real")),
                call("list_tasks", None),
            ],
        };
        let wire = serde_json::to_value(to_content(&own, true)).unwrap();
        assert_eq!(wire["parts"][0]["thoughtSignature"], "real");
        assert!(wire["parts"][1].get("thoughtSignature").is_none());
        assert!(validates_signatures("gemini-3.5-flash-lite"));
        assert!(!validates_signatures("models/gemini-2.5-flash"));
    }

    #[test]
    fn unusable_answers_are_malformed_not_panics() {
        let bodies = [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"candidates": []}"#,
            r#"{"candidates": [{"finishReason": "STOP"}]}"#,
            r#"{"candidates": [{"content": {"role": "model"}, "finishReason": "MALFORMED_FUNCTION_CALL"}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {}}]}}]}"#,
            r#"{"candidates": [{"content": {"parts": "nope"}}]}"#,
        ];
        for body in bodies {
            match parse_response(body) {
                Err(LlmError::Malformed { .. }) => {}
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn usage_counts_thoughts_as_output() {
        let usage = to_usage(&UsageMetadata {
            prompt_token_count: Some(100),
            candidates_token_count: Some(20),
            thoughts_token_count: Some(30),
            total_token_count: Some(150),
        });
        assert_eq!(
            usage,
            Usage {
                input_tokens: 100,
                output_tokens: 50,
                total_tokens: 150
            }
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let settings = GeminiSettings::new(
            "http://localhost",
            SecretString::from("AIza-very-secret"),
            "models/gemini-2.5-flash",
        );
        let client = GeminiClient::new(settings.clone(), reqwest::Client::new()).unwrap();
        assert_eq!(client.model(), "gemini-2.5-flash");
        let shown = format!("{client:?} {settings:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
