//! Requests Google accepts, proven by Google's own types: every request
//! body the Gemini client sends during a run of agent turns (function
//! calls with signatures, parallel calls, thought parts, a retry after
//! `MAX_TOKENS`, a safety block) and of direct client calls (a call written
//! by another provider, a Gemini 2.5 thinking budget) is recorded by a
//! local server, then validated by the official `google-genai` Python SDK
//! (`pip install google-genai`; its pydantic models forbid unknown fields),
//! run with `python3 -W error` so unknown enum values fail too.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use common::TestDb;
use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::gemini::{GeminiClient, GeminiSettings};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{
    FunctionCall, FunctionResponse, LlmClient, LlmRequest, Message, Part, Role, TurnContext,
};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget};
use nudge::config::DEFAULT_GEMINI_MODEL;
use nudge::store::Locale;

const SIGNATURE: &str = "c2lnbmF0dXJlLW9uZQ==";
const THOUGHT_SIGNATURE: &str = "dGhvdWdodC1zaWduYXR1cmU=";

fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
}

fn answer(parts: Value, finish: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 30, "thoughtsTokenCount": 40, "totalTokenCount": 970},
        "modelVersion": DEFAULT_GEMINI_MODEL
    })
}

/// Gemini's answers, in the order the turns below ask for them.
struct Script(AtomicUsize);

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let body = match self.0.fetch_add(1, Ordering::SeqCst) {
            // Turn 1: a thought, then a signed call; then the final text.
            0 => answer(
                json!([
                    {"text": "", "thought": true, "thoughtSignature": THOUGHT_SIGNATURE},
                    {"functionCall": {"name": "create_reminder", "args": {
                        "text": "take my meds", "due_local": "2026-11-22T08:00",
                        "recurrence": {"frequency": "daily"}}},
                     "thoughtSignature": SIGNATURE}
                ]),
                "STOP",
            ),
            1 => answer(json!([{"text": "Done: every day at 8:00."}]), "STOP"),
            // Turn 2: two parallel calls, only the first signed.
            2 => answer(
                json!([
                    {"functionCall": {"id": "fc-1", "name": "add_list_items", "args": {"items": ["milk", "eggs"]}},
                     "thoughtSignature": SIGNATURE},
                    {"functionCall": {"id": "fc-2", "name": "log_expense", "args": {"amount": 12.5, "category": "lunch"}}}
                ]),
                "STOP",
            ),
            3 => answer(json!([{"text": "Added, and logged."}]), "STOP"),
            // Turn 3: cut at MAX_TOKENS, then asked again shorter.
            4 => answer(json!([{"text": "Your list has milk and"}]), "MAX_TOKENS"),
            5 => answer(json!([{"text": "Milk and eggs."}]), "STOP"),
            // Turn 4: blocked.
            _ => json!({"promptFeedback": {"blockReason": "SAFETY"},
                        "usageMetadata": {"promptTokenCount": 900, "totalTokenCount": 900}}),
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn client(server: &MockServer, model: &str) -> GeminiClient {
    let settings = GeminiSettings::new(server.uri(), SecretString::from("test-key"), model);
    GeminiClient::new(settings, reqwest::Client::new()).unwrap()
}

/// A request whose history holds function calls another provider wrote
/// (no signatures), as after a fallback.
fn foreign_history() -> LlmRequest {
    let registry = ToolRegistry::builtin();
    LlmRequest {
        system: "You are Nudge.".into(),
        messages: vec![
            Message::user_text("what do I have to do?"),
            Message {
                role: Role::Model,
                parts: vec![
                    Part::FunctionCall(FunctionCall {
                        id: Some("offline-1".into()),
                        name: "list_tasks".into(),
                        args: json!({}),
                        thought_signature: None,
                    }),
                    Part::FunctionCall(FunctionCall {
                        id: Some("offline-2".into()),
                        name: "list_reminders".into(),
                        args: json!({}),
                        thought_signature: None,
                    }),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::FunctionResponse(FunctionResponse {
                        id: Some("offline-1".into()),
                        name: "list_tasks".into(),
                        response: json!({"tasks": []}),
                    }),
                    Part::FunctionResponse(FunctionResponse {
                        id: Some("offline-2".into()),
                        name: "list_reminders".into(),
                        response: json!({"reminders": []}),
                    }),
                ],
            },
        ],
        tools: registry.declarations_for(&Default::default()),
        context: TurnContext {
            now: now(),
            timezone: chrono_tz::America::Montreal,
            locale: Locale::En,
        },
    }
}

#[tokio::test]
async fn every_request_body_validates_against_the_google_genai_sdk() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let server = MockServer::start().await;
    let generate = format!("/v1beta/models/{DEFAULT_GEMINI_MODEL}:generateContent");
    Mock::given(method("POST"))
        .and(path(generate.as_str()))
        .respond_with(Script(AtomicUsize::new(0)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(answer(json!([{"text": "Nothing due."}]), "STOP")),
        )
        .mount(&server)
        .await;

    let gemini: Arc<dyn LlmClient> = Arc::new(client(&server, DEFAULT_GEMINI_MODEL));
    let chain = Arc::new(LlmChain::new(
        vec![gemini.clone()],
        Arc::new(OfflinePlanner::new()),
        &BreakerSettings::default(),
    ));
    let agent = Agent::new(
        db.app.clone(),
        chain,
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    )
    .with_clock(now);
    let turns = [
        (
            "remind me to take my meds every day at 8am",
            "Done: every day at 8:00.",
        ),
        (
            "add milk and eggs, and I spent 12.50 on lunch",
            "Added, and logged.",
        ),
        ("what's on my list?", "Milk and eggs."),
        (
            "something the model refuses",
            "Sorry, I can't help with that one.",
        ),
    ];
    for (text, expected) in turns {
        let outcome = agent.handle_text(user, text).await.unwrap();
        assert!(
            outcome.reply.starts_with(expected),
            "{text}: {}",
            outcome.reply
        );
        assert!(
            outcome.providers.iter().all(|p| p == "gemini"),
            "{:?}",
            outcome.providers
        );
    }
    // Straight through the clients: foreign calls (placeholder signature)
    // on Gemini 3, and a Gemini 2.5 thinking budget.
    gemini.generate(&foreign_history()).await.unwrap();
    client(&server, "gemini-2.5-flash")
        .generate(&foreign_history())
        .await
        .unwrap();

    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 9, "one request per model call");
    // What this test must have covered to mean something.
    let all = serde_json::to_string(&bodies).unwrap();
    for needle in [
        "\"thought\":true",
        "\"thoughtSignature\":\"skip_thought_signature_validator\"",
        "\"thinkingLevel\":\"low\"",
        "\"thinkingBudget\":512",
        "\"functionResponse\"",
        "\"name\":\"log_expense\"",
        "cut off because it was too long",
    ] {
        assert!(all.contains(needle), "no request contains {needle}");
    }

    let mut file = tempfile::NamedTempFile::new().unwrap();
    for body in &bodies {
        writeln!(file, "{body}").unwrap();
    }
    file.flush().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/validate_gemini_requests.py"
    );
    let output = std::process::Command::new("python3")
        .args(["-W", "error", script])
        .arg(file.path())
        .output()
        .expect("python3 is needed (scripts/test installs it with google-genai)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'google'"),
        "the google-genai SDK is missing: pip install google-genai (scripts/test does)"
    );
    assert!(
        output.status.success(),
        "Google's SDK refuses what we send:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("9 requests checked, 0 problems"),
        "{stdout}"
    );
}
