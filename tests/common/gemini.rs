//! A Gemini chain and an agent over it for tests that talk to a wiremock'd
//! Gemini: a small breaker (three calls, half failing) and quick retries.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::TestDb;
use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::gemini::{GeminiClient, GeminiSettings};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{LlmClient, RetryPolicy};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget};

pub const MODEL: &str = "gemini-2.5-flash";
pub const GENERATE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

pub fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
}

pub fn chain(server: &MockServer) -> Arc<LlmChain> {
    let mut settings = GeminiSettings::new(server.uri(), SecretString::from("test-key-123"), MODEL);
    settings.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(1),
    };
    settings.timeout = Duration::from_secs(5);
    let gemini: Arc<dyn LlmClient> =
        Arc::new(GeminiClient::new(settings, reqwest::Client::new()).unwrap());
    Arc::new(LlmChain::new(
        vec![gemini],
        Arc::new(OfflinePlanner::new()),
        &BreakerSettings {
            window: Duration::from_secs(60),
            minimum_calls: 3,
            failure_rate: 0.5,
            open_for: Duration::from_secs(300),
        },
    ))
}

pub fn agent(db: &TestDb, llm: Arc<LlmChain>) -> Agent {
    Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    )
    .with_clock(now)
}

/// Gemini answering every call with its documented 503 "overloaded" error.
pub async fn overloaded(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(GENERATE))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}
        })))
        .mount(server)
        .await;
}
