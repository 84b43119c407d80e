//! The agent through a wiremock'd Gemini speaking its real JSON: function
//! calling end to end, and a 503 storm that opens the breaker and falls
//! through to the offline planner.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use common::TestDb;
use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::gemini::{GeminiClient, GeminiSettings};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{LlmClient, RetryPolicy};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget, TurnEnd};

const MODEL: &str = "gemini-2.5-flash";
const GENERATE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
}

fn chain(server: &MockServer) -> Arc<LlmChain> {
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

fn agent(db: &TestDb, llm: Arc<LlmChain>) -> Agent {
    Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    )
    .with_clock(now)
}

/// Gemini's answers in order: a function call (with a thought signature),
/// then the final text.
struct Conversation(AtomicUsize);

impl Respond for Conversation {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let body = match self.0.fetch_add(1, Ordering::SeqCst) {
            0 => json!({
                "candidates": [{
                    "content": {"role": "model", "parts": [{
                        "functionCall": {"name": "create_reminder", "args": {
                            "text": "take my meds", "due_local": "2026-11-22T08:00",
                            "recurrence": {"frequency": "daily"}}},
                        "thoughtSignature": "c2lnbmF0dXJlLW9uZQ=="
                    }]},
                    "finishReason": "STOP", "index": 0
                }],
                "usageMetadata": {"promptTokenCount": 812, "candidatesTokenCount": 31, "totalTokenCount": 843},
                "modelVersion": MODEL
            }),
            _ => json!({
                "candidates": [{
                    "content": {"role": "model", "parts": [{"text": "Done! I'll text you every day at 8:00 AM to take your meds."}]},
                    "finishReason": "STOP", "index": 0
                }],
                "usageMetadata": {"promptTokenCount": 901, "candidatesTokenCount": 18, "totalTokenCount": 919},
                "modelVersion": MODEL
            }),
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

#[tokio::test]
async fn function_calling_through_gemini_creates_the_reminder() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GENERATE))
        .and(header("x-goog-api-key", "test-key-123"))
        .respond_with(Conversation(AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;

    let outcome = agent(&db, chain(&server))
        .handle_text(user, "remind me to take my meds every day at 8am")
        .await
        .unwrap();
    assert_eq!(
        outcome.reply,
        "Done! I'll text you every day at 8:00 AM to take your meds."
    );
    assert_eq!(outcome.providers, ["gemini", "gemini"]);

    let requests = server.received_requests().await.unwrap();
    let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let declared: Vec<&str> = first["tools"][0]["functionDeclarations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        declared.contains(&"create_reminder") && declared.contains(&"recall"),
        "{declared:?}"
    );
    assert_eq!(first["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
    let system = first["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        system.contains("2026-11-21 10:00") && system.contains("America/Montreal"),
        "{system}"
    );

    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let contents = second["contents"].as_array().unwrap();
    let model_turn = &contents[contents.len() - 2];
    assert_eq!(model_turn["role"], "model");
    assert_eq!(
        model_turn["parts"][0]["thoughtSignature"],
        "c2lnbmF0dXJlLW9uZQ=="
    );
    let result_turn = &contents[contents.len() - 1];
    assert_eq!(result_turn["role"], "user");
    assert_eq!(
        result_turn["parts"][0]["functionResponse"]["name"],
        "create_reminder"
    );
    assert!(
        result_turn["parts"][0]["functionResponse"]["response"]["confirmation"]
            .as_str()
            .unwrap()
            .contains("every day")
    );

    let due: Vec<DateTime<Utc>> =
        sqlx::query_scalar("select due_at from reminders where user_id = $1")
            .bind(user.0)
            .fetch_all(&db.owner)
            .await
            .unwrap();
    assert_eq!(
        due,
        vec!["2026-11-22T13:00:00Z".parse::<DateTime<Utc>>().unwrap()]
    );
    let tokens: i64 = sqlx::query_scalar(
        "select sum(total_tokens)::bigint from llm_usage where provider = 'gemini'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(tokens, 843 + 919);
}

#[tokio::test]
async fn a_503_storm_opens_the_breaker_and_the_offline_planner_answers() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let app = nudge::startup::Application::build(db.config())
        .await
        .unwrap();
    let metrics_url = format!("http://127.0.0.1:{}/metrics", app.metrics_port());
    tokio::spawn(app.run_until(std::future::pending()));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GENERATE))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}
        })))
        .mount(&server)
        .await;
    let llm = chain(&server);
    let agent = agent(&db, llm.clone());

    for text in ["add milk and eggs", "what's on my list?", "add bread"] {
        let outcome = agent.handle_text(user, text).await.unwrap();
        assert_eq!(outcome.end, TurnEnd::Answered, "{text}: {}", outcome.reply);
        assert!(
            outcome.providers.iter().all(|p| p == "offline"),
            "{:?}",
            outcome.providers
        );
    }
    assert!(
        llm.is_open("gemini"),
        "breaker should be open after the storm"
    );
    let hits = server.received_requests().await.unwrap().len();

    let outcome = agent.handle_text(user, "what's on my list?").await.unwrap();
    assert!(
        outcome.reply.contains("milk") && outcome.reply.contains("bread"),
        "{}",
        outcome.reply
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        hits,
        "an open breaker makes no call"
    );

    let metrics = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("llm_circuit_breaker_state") && l.contains("provider=\"gemini\""))
        .unwrap_or_else(|| panic!("no breaker gauge in:\n{metrics}"));
    assert!(line.ends_with(" 1"), "{line}");
}
