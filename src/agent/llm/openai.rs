//! Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama,
//! vLLM, llama.cpp server…), the fallback behind Gemini.
//!
//! The conversation may have started on Gemini, whose 2.5 models give
//! function calls no ids, while this API pairs every tool result with its
//! call by id. Calls lacking one get a synthetic id when the history is
//! sent, and id-less results are matched to them in order, by name.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{self, Cooldown, DEFAULT_TIMEOUT, JsonPost, RetryPolicy};
use super::models::{self, ModelCheck, Probe};
use super::{
    CallScope, FunctionCall, LlmClient, LlmError, LlmRequest, LlmResponse, Message, Part, Role,
    Usage,
};
use crate::config::{ConfigError, LlmConfig};

const PROVIDER: &str = "openai";

pub use crate::config::DEFAULT_LLM_FALLBACK_MAX_TOKENS as DEFAULT_MAX_TOKENS;

/// Everything an [`OpenAiCompatibleClient`] needs besides the HTTP client.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Up to and including the version, e.g. `https://api.openai.com/v1`
    /// or `http://localhost:11434/v1`.
    pub base_url: String,
    /// Sent as a bearer token; a local server may need none.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Sent as `max_tokens`, which llama.cpp, vLLM, Ollama and OpenAI's
    /// non-reasoning models all read (OpenAI's newer `max_completion_tokens`
    /// is not understood by every local server).
    pub max_tokens: u32,
    /// Per HTTP request, not per `generate` call.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl OpenAiSettings {
    /// Defaults for everything but the endpoint, key and model.
    pub fn new(
        base_url: impl Into<String>,
        api_key: Option<SecretString>,
        model: impl Into<String>,
    ) -> Self {
        OpenAiSettings {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            max_tokens: DEFAULT_MAX_TOKENS,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// `None` unless both `LLM_FALLBACK_BASE_URL` and `LLM_FALLBACK_MODEL`
    /// are configured.
    pub fn from_config(config: &LlmConfig) -> Option<Self> {
        let mut settings = OpenAiSettings::new(
            config.fallback_base_url.clone()?,
            config.fallback_api_key.clone(),
            config.fallback_model.clone()?,
        );
        settings.max_tokens = config.fallback_max_tokens;
        Some(settings)
    }
}

/// An OpenAI-compatible endpoint as an [`LlmClient`] (provider `"openai"`).
#[derive(Clone)]
pub struct OpenAiCompatibleClient {
    http: reqwest::Client,
    url: String,
    /// `{base}/models`: the model check.
    models_url: String,
    model: String,
    max_tokens: u32,
    headers: HeaderMap,
    api_key: Option<SecretString>,
    timeout: Duration,
    retry: RetryPolicy,
    cooldown: Arc<Cooldown>,
}

impl fmt::Debug for OpenAiCompatibleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatibleClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl OpenAiCompatibleClient {
    /// Fails only when the key cannot be sent as a header value.
    pub fn new(settings: OpenAiSettings, http: reqwest::Client) -> Result<Self, ConfigError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &settings.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                .map_err(|_| ConfigError {
                    problems: vec![
                        "LLM_FALLBACK_API_KEY contains characters not allowed in a header".into(),
                    ],
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let base = settings.base_url.trim_end_matches('/');
        let url = format!("{base}/chat/completions");
        let models_url = format!("{base}/models");
        Ok(OpenAiCompatibleClient {
            http,
            url,
            models_url,
            model: settings.model,
            max_tokens: settings.max_tokens,
            headers,
            api_key: settings.api_key,
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
        let body = build_request(request, &self.model, self.max_tokens);
        let body = serde_json::to_vec(&body).map_err(|e| http::malformed(PROVIDER, e))?;
        let text = JsonPost {
            provider: PROVIDER,
            http: &self.http,
            url: &self.url,
            headers: &self.headers,
            body,
            timeout: self.timeout,
            policy: &self.retry,
            secret: self.api_key.as_ref().map(|k| k.expose_secret()),
            deadline,
            cooldown: &self.cooldown,
        }
        .send()
        .await?;
        let (message, usage) = parse_response(&text)?;
        Ok(LlmResponse {
            message,
            usage,
            provider: PROVIDER.to_owned(),
            model: self.model.clone(),
        })
    }
}

#[async_trait::async_trait]
impl LlmClient for OpenAiCompatibleClient {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        self.generate_scoped(request, CallScope::default()).await
    }

    #[tracing::instrument(
        name = "llm.generate",
        skip_all,
        fields(
            provider = "openai",
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
            secret: self.api_key.as_ref().map(|k| k.expose_secret()),
        };
        vec![models::check_openai(&probe, &self.models_url, &self.model).await]
    }
}

// ---- Wire types ----

#[derive(Debug, Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ChatTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
    max_tokens: u32,
}

#[derive(Debug, Serialize, PartialEq)]
struct ChatMessage {
    role: &'static str,
    /// `null` for an assistant message that only calls tools.
    content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ChatToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
struct ChatToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: ChatFunctionCall,
}

#[derive(Debug, Serialize, PartialEq)]
struct ChatFunctionCall {
    name: String,
    /// A JSON document in a string, as the API wants it.
    arguments: String,
}

#[derive(Debug, Serialize)]
struct ChatTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: ChatFunction<'a>,
}

#[derive(Debug, Serialize)]
struct ChatFunction<'a> {
    name: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Value::is_null")]
    parameters: &'a Value,
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<ResponseMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResponseMessage {
    /// A string, null, or (some servers) an array of `{type, text}` parts.
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ResponseToolCall {
    #[serde(default)]
    id: Option<String>,
    function: ResponseFunction,
}

#[derive(Debug, Deserialize)]
struct ResponseFunction {
    name: String,
    /// Normally a JSON string; some servers send the object itself.
    #[serde(default)]
    arguments: Value,
}

#[derive(Debug, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

// ---- Mapping ----

fn build_request<'a>(request: &'a LlmRequest, model: &'a str, max_tokens: u32) -> ChatRequest<'a> {
    let tools: Vec<ChatTool<'a>> = request
        .tools
        .iter()
        .map(|t| ChatTool {
            kind: "function",
            function: ChatFunction {
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
            },
        })
        .collect();
    let tool_choice = (!tools.is_empty()).then_some("auto");
    ChatRequest {
        model,
        messages: to_chat_messages(&request.system, &request.messages),
        tools,
        tool_choice,
        max_tokens,
    }
}

fn plain(role: &'static str, content: String) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(content),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn to_chat_messages(system: &str, messages: &[Message]) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len() + 1);
    if !system.is_empty() {
        out.push(plain("system", system.to_owned()));
    }
    // Synthetic ids of calls that had none, waiting for their result.
    let mut pending: VecDeque<(String, String)> = VecDeque::new();
    let mut next_id = 0usize;
    let mut synthetic = || {
        next_id += 1;
        format!("call_{next_id}")
    };
    for message in messages {
        let text = message.text();
        match message.role {
            Role::Model => {
                let tool_calls: Vec<ChatToolCall> = message
                    .function_calls()
                    .into_iter()
                    .map(|call| {
                        let id = match &call.id {
                            Some(id) => id.clone(),
                            None => {
                                let id = synthetic();
                                pending.push_back((call.name.clone(), id.clone()));
                                id
                            }
                        };
                        ChatToolCall {
                            id,
                            kind: "function",
                            function: ChatFunctionCall {
                                name: call.name.clone(),
                                arguments: call.args.to_string(),
                            },
                        }
                    })
                    .collect();
                let content = match (text.is_empty(), tool_calls.is_empty()) {
                    (true, false) => None,
                    _ => Some(text),
                };
                out.push(ChatMessage {
                    role: "assistant",
                    content,
                    tool_calls,
                    tool_call_id: None,
                });
            }
            Role::User => {
                // Tool results must directly follow the assistant message
                // that asked for them, so they go before any text.
                for response in message.function_responses() {
                    let id = match &response.id {
                        Some(id) => id.clone(),
                        None => {
                            let found = pending.iter().position(|(name, _)| *name == response.name);
                            match found.and_then(|i| pending.remove(i)) {
                                Some((_, id)) => id,
                                None => synthetic(),
                            }
                        }
                    };
                    out.push(ChatMessage {
                        role: "tool",
                        content: Some(response.response.to_string()),
                        tool_calls: Vec::new(),
                        tool_call_id: Some(id),
                    });
                }
                if !text.is_empty() {
                    out.push(plain("user", text));
                }
            }
        }
    }
    out
}

/// `text` up to the end of its last complete sentence, `None` without one.
fn whole_sentences(text: &str) -> Option<String> {
    let end = text
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '…' | '\n'))
        .map(|(i, c)| i + c.len_utf8())?;
    let kept = text[..end].trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

fn parse_response(body: &str) -> Result<(Message, Usage), LlmError> {
    let response: ChatResponse =
        serde_json::from_str(body).map_err(|e| http::malformed(PROVIDER, e))?;
    let usage = response.usage.as_ref().map(to_usage).unwrap_or_default();
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(http::malformed(PROVIDER, "no choice in the answer"));
    };
    let finish = choice.finish_reason.unwrap_or_else(|| "unknown".into());
    let Some(message) = choice.message else {
        return Err(http::malformed(
            PROVIDER,
            format!("no message in the answer (finish_reason {finish})"),
        ));
    };
    let mut parts = Vec::new();
    let mut text = content_text(&message.content);
    if finish == "length" {
        // Cut at the token cap: calls may have lost arguments, and a
        // sentence cut short can promise what was not done. Whole
        // sentences of a text-only answer are kept; anything else is no
        // answer, and the chain moves on.
        let calls = message.tool_calls.as_ref().is_some_and(|c| !c.is_empty());
        match whole_sentences(&text) {
            Some(kept) if !calls => text = kept,
            _ => {
                return Err(http::malformed(
                    PROVIDER,
                    "the answer was cut at the token cap (finish_reason length)",
                ));
            }
        }
    }
    if !text.trim().is_empty() {
        parts.push(Part::Text {
            text,
            thought_signature: None,
        });
    }
    for call in message.tool_calls.unwrap_or_default() {
        parts.push(Part::FunctionCall(FunctionCall {
            id: Some(
                call.id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(new_call_id),
            ),
            name: call.function.name,
            args: parse_arguments(call.function.arguments),
            thought_signature: None,
        }));
    }
    if parts.is_empty() {
        return Err(http::malformed(
            PROVIDER,
            format!("empty answer (finish_reason {finish})"),
        ));
    }
    Ok((
        Message {
            role: Role::Model,
            parts,
        },
        usage,
    ))
}

fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// Arguments that are not a JSON object reach the tool registry as
/// `{"_raw": ...}`, which its validation refuses, so the model is told
/// its call was malformed instead of a tool running on guesswork.
fn parse_arguments(arguments: Value) -> Value {
    match arguments {
        Value::Object(_) => arguments,
        Value::Null => Value::Object(Default::default()),
        Value::String(s) if s.trim().is_empty() => Value::Object(Default::default()),
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => serde_json::json!({ "_raw": s }),
        },
        other => serde_json::json!({ "_raw": other.to_string() }),
    }
}

fn new_call_id() -> String {
    format!("call_{:016x}", rand::random::<u64>())
}

fn to_usage(usage: &ChatUsage) -> Usage {
    let input = http::tokens(usage.prompt_tokens);
    let output = http::tokens(usage.completion_tokens);
    let total = match usage.total_tokens {
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
    use crate::agent::llm::FunctionResponse;
    use serde_json::json;

    fn call(id: Option<&str>, name: &str) -> Part {
        Part::FunctionCall(FunctionCall {
            id: id.map(Into::into),
            name: name.into(),
            args: json!({"q": 1}),
            thought_signature: Some("gemini-only".into()),
        })
    }

    fn result(id: Option<&str>, name: &str) -> Part {
        Part::FunctionResponse(FunctionResponse {
            id: id.map(Into::into),
            name: name.into(),
            response: json!({"ok": true}),
        })
    }

    #[test]
    fn arguments_become_objects_or_raw() {
        assert_eq!(parse_arguments(json!("{\"a\":1}")), json!({"a": 1}));
        assert_eq!(parse_arguments(json!({"a": 1})), json!({"a": 1}));
        assert_eq!(parse_arguments(json!("")), json!({}));
        assert_eq!(parse_arguments(Value::Null), json!({}));
        assert_eq!(
            parse_arguments(json!("{\"a\":")),
            json!({"_raw": "{\"a\":"})
        );
        assert_eq!(parse_arguments(json!("[1]")), json!({"_raw": "[1]"}));
    }

    #[test]
    fn id_less_history_from_gemini_is_paired_by_name_in_order() {
        let messages = vec![
            Message::user_text("hi"),
            Message {
                role: Role::Model,
                parts: vec![call(None, "a"), call(None, "b"), call(None, "a")],
            },
            Message {
                role: Role::User,
                parts: vec![result(None, "b"), result(None, "a"), result(None, "a")],
            },
        ];
        let out = to_chat_messages("sys", &messages);
        let roles: Vec<_> = out.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            ["system", "user", "assistant", "tool", "tool", "tool"]
        );
        let call_ids: Vec<_> = out[2].tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(call_ids, ["call_1", "call_2", "call_3"]);
        assert_eq!(out[2].content, None);
        let result_ids: Vec<_> = out[3..]
            .iter()
            .map(|m| m.tool_call_id.as_deref().unwrap())
            .collect();
        assert_eq!(result_ids, ["call_2", "call_1", "call_3"]);
    }

    #[test]
    fn an_answer_cut_at_the_token_cap_keeps_whole_sentences_only() {
        let cut = |content: &str| {
            json!({"choices": [{"message": {"role": "assistant", "content": content},
                                "finish_reason": "length"}]})
            .to_string()
        };
        let (message, _) = parse_response(&cut("Sure! I'll remind you to call the den")).unwrap();
        assert_eq!(message.text(), "Sure!");
        let (message, _) = parse_response(&cut("Added milk. Anything else? I can al")).unwrap();
        assert_eq!(message.text(), "Added milk. Anything else?");
        // No whole sentence, or calls whose arguments may be cut: no answer.
        for body in [
            cut("I'll remind you to call the den"),
            json!({"choices": [{"message": {"role": "assistant", "content": "Done.",
                "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "create_reminder", "arguments": "{\"text\": \"call the d"}}]},
                "finish_reason": "length"}]})
            .to_string(),
        ] {
            match parse_response(&body) {
                Err(LlmError::Malformed { message, .. }) => {
                    assert!(message.contains("token cap"), "{message}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn requests_carry_the_token_cap() {
        let request = LlmRequest {
            system: "sys".into(),
            messages: vec![Message::user_text("hi")],
            tools: Vec::new(),
            context: crate::agent::llm::TurnContext {
                now: chrono::Utc::now(),
                timezone: chrono_tz::UTC,
                locale: crate::store::Locale::En,
            },
        };
        let body = serde_json::to_value(build_request(&request, "m", 77)).unwrap();
        assert_eq!(body["max_tokens"], 77);
    }

    #[test]
    fn unusable_answers_are_malformed_not_panics() {
        let bodies = [
            "",
            "<html>",
            "{}",
            r#"{"choices": []}"#,
            r#"{"choices": [{"finish_reason": "content_filter"}]}"#,
            r#"{"choices": [{"message": {"content": null}, "finish_reason": "stop"}]}"#,
            r#"{"choices": [{"message": {"tool_calls": [{"function": {}}]}}]}"#,
        ];
        for body in bodies {
            match parse_response(body) {
                Err(LlmError::Malformed { .. }) => {}
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn calls_without_ids_get_one() {
        let body = json!({"choices": [{"message": {"role": "assistant", "content": null,
            "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]});
        let (message, usage) = parse_response(&body.to_string()).unwrap();
        assert_eq!(usage, Usage::default());
        let id = message.function_calls()[0].id.clone().unwrap();
        assert!(id.starts_with("call_"), "{id}");
    }

    #[test]
    fn debug_hides_the_key() {
        let settings = OpenAiSettings::new(
            "http://localhost/v1",
            Some(SecretString::from("sk-very-secret")),
            "llama3.1",
        );
        let client = OpenAiCompatibleClient::new(settings.clone(), reqwest::Client::new()).unwrap();
        let shown = format!("{client:?} {settings:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
