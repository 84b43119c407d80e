//! Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama,
//! vLLM, llama.cpp server…), the fallback behind Gemini.
//!
//! The conversation may have started on Gemini, whose 2.5 models give
//! function calls no ids, while this API pairs every tool result with its
//! call by id. Calls lacking one get a synthetic id when the history is
//! sent, and id-less results are matched to them in order, by name.

mod request;
mod response;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::http::{self, Cooldown, DEFAULT_TIMEOUT, JsonPost, RetryPolicy};
use super::models::{self, ModelCheck, Probe};
use super::{CallScope, LlmClient, LlmError, LlmRequest, LlmResponse};
use crate::config::{ConfigError, LlmConfig};
use request::build_request;
use response::parse_response;

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

#[cfg(test)]
mod tests {
    use super::request::to_chat_messages;
    use super::response::parse_arguments;
    use super::*;
    use crate::agent::llm::FunctionResponse;
    use crate::agent::llm::{FunctionCall, Message, Part, Role, Usage};
    use serde_json::Value;
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
