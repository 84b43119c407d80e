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

mod refusal;
mod request;
mod response;
mod thinking;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::http::{self, Cooldown, DEFAULT_TIMEOUT, JsonPost, RetryPolicy};
use super::models::{self, ModelCheck, Probe};
use super::{CallScope, LlmClient, LlmError, LlmRequest, LlmResponse};
use crate::config::{ConfigError, LlmConfig};
use refusal::{cut_off, refusal};
use request::build_request;
use response::{Answer, parse_response};

pub use thinking::{Thinking, ThinkingLevel};

const PROVIDER: &str = "gemini";

/// Google's documented stand-in for a thought signature, for function
/// calls Gemini 3 did not generate ("skip_thought_signature_validator",
/// see the Gemini API's thought-signatures page).
pub const PLACEHOLDER_SIGNATURE: &str = "skip_thought_signature_validator";

/// Added to the system instruction when an answer was cut at `MAX_TOKENS`.
const TIGHTER: &str = "Your previous answer was cut off because it was too long. Answer again in at most two short sentences, or call exactly the tools needed.";

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

#[cfg(test)]
mod tests {
    use super::request::{to_content, validates_signatures};
    use super::response::to_usage;
    use super::wire::{ThinkingConfig, UsageMetadata};
    use super::*;
    use crate::agent::llm::{FunctionCall, Message, Part, Role, Usage};
    use serde_json::Value;
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
