//! The Gemini and OpenAI-compatible clients against wiremock servers that
//! answer with the real JSON shapes of each API. No database.

use std::time::{Duration, Instant};

use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::gemini::{GeminiClient, GeminiSettings};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::openai::{OpenAiCompatibleClient, OpenAiSettings};
use nudge::agent::llm::{
    CallScope, FunctionResponse, LlmClient, LlmError, LlmRequest, Message, ModelState, Part,
    RetryPolicy, Role, ToolDeclaration, TurnContext, Usage,
};
use nudge::store::Locale;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GEMINI_KEY: &str = "AIzaSyTEST-not-a-real-key-0123456789";
const GEMINI_PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
const OPENAI_KEY: &str = "sk-test-not-a-real-key-abcdef";
const SIGNATURE_1: &str = "CiQBVKhc7n2c3Jq0m1mRZb0aBZ5o7f2Qm0y1Yk+3m0tq1hVgJh4SZQp6AQ==";
const SIGNATURE_2: &str = "EpUBCpIBAVKhc7kZ6wzWq8c1H3T0m0nH9pR2+qkQ9f8z1l3nQ0u8sYb5Yg==";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(10),
    }
}

fn gemini(server: &MockServer) -> GeminiClient {
    let mut settings = GeminiSettings::new(
        server.uri(),
        SecretString::from(GEMINI_KEY),
        "gemini-2.5-flash",
    );
    settings.retry = fast_retries();
    GeminiClient::new(settings, reqwest::Client::new()).unwrap()
}

fn openai(server: &MockServer) -> OpenAiCompatibleClient {
    let mut settings = OpenAiSettings::new(
        format!("{}/v1", server.uri()),
        Some(SecretString::from(OPENAI_KEY)),
        "gpt-4o-mini",
    );
    settings.retry = fast_retries();
    OpenAiCompatibleClient::new(settings, reqwest::Client::new()).unwrap()
}

fn tools() -> Vec<ToolDeclaration> {
    vec![
        ToolDeclaration {
            name: "create_reminder".into(),
            description: "Remind the person of something at a given time.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "What to remind."},
                    "at": {"type": "string", "format": "date-time"}
                },
                "required": ["text", "at"]
            }),
        },
        ToolDeclaration {
            name: "list_events".into(),
            description: "The person's calendar events on a day.".into(),
            parameters: json!({
                "type": "object",
                "properties": {"day": {"type": "string", "description": "YYYY-MM-DD"}},
                "required": ["day"]
            }),
        },
    ]
}

fn request(messages: Vec<Message>) -> LlmRequest {
    LlmRequest {
        system: "You are Nudge, a helpful assistant reached by SMS.".into(),
        messages,
        tools: tools(),
        context: TurnContext {
            now: chrono::Utc::now(),
            timezone: chrono_tz::Europe::Paris,
            locale: Locale::En,
        },
    }
}

fn first_turn() -> LlmRequest {
    request(vec![Message::user_text(
        "Remind me to call mum at 6pm and tell me what I have today",
    )])
}

/// Two parallel calls, as Gemini sends them: only the first part carries
/// a signature.
fn gemini_two_calls() -> Value {
    json!({
        "candidates": [{
            "content": {
                "parts": [
                    {
                        "functionCall": {
                            "id": "fc-7f3a",
                            "name": "create_reminder",
                            "args": {"text": "call mum", "at": "2025-06-01T18:00:00+02:00"}
                        },
                        "thoughtSignature": SIGNATURE_1
                    },
                    {
                        "functionCall": {
                            "id": "fc-9b21",
                            "name": "list_events",
                            "args": {"day": "2025-06-01"}
                        }
                    }
                ],
                "role": "model"
            },
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {
            "promptTokenCount": 412,
            "candidatesTokenCount": 38,
            "totalTokenCount": 514,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 412}],
            "thoughtsTokenCount": 64
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "x1Y9aN3lFoKcz7IP0Z2l8Qk"
    })
}

fn gemini_text(text: &str) -> Value {
    json!({
        "candidates": [{
            "content": {
                "parts": [{"text": text, "thoughtSignature": SIGNATURE_2}],
                "role": "model"
            },
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {
            "promptTokenCount": 530,
            "candidatesTokenCount": 21,
            "totalTokenCount": 551,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 530}]
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "yFY9aKf3Ld6Bz7IPxK3g0Qc"
    })
}

fn google_error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json::<Value>().unwrap())
        .collect()
}

fn function_responses(message: &Message) -> Message {
    Message {
        role: Role::User,
        parts: message
            .function_calls()
            .into_iter()
            .map(|c| {
                Part::FunctionResponse(FunctionResponse {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    response: json!({"ok": true, "tool": c.name}),
                })
            })
            .collect(),
    }
}

#[tokio::test]
async fn gemini_request_shape_and_parallel_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .and(header("x-goog-api-key", GEMINI_KEY))
        .and(body_partial_json(json!({
            "systemInstruction": {"parts": [{"text": "You are Nudge, a helpful assistant reached by SMS."}]},
            "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 512}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_two_calls()))
        .expect(1)
        .mount(&server)
        .await;

    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    let sent = &bodies(&server).await[0];
    let names: Vec<&str> = sent["tools"][0]["functionDeclarations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["create_reminder", "list_events"]);
    assert_eq!(
        sent["tools"][0]["functionDeclarations"][0]["parameters"]["required"],
        json!(["text", "at"])
    );
    assert_eq!(
        sent["contents"],
        json!([{"role": "user", "parts": [{"text": "Remind me to call mum at 6pm and tell me what I have today"}]}])
    );
    assert!(sent["generationConfig"]["thinkingConfig"]["thinkingLevel"].is_null());

    assert_eq!(response.provider, "gemini");
    assert_eq!(response.model, "gemini-2.5-flash");
    assert_eq!(response.message.role, Role::Model);
    let calls = response.message.function_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id.as_deref(), Some("fc-7f3a"));
    assert_eq!(calls[0].name, "create_reminder");
    assert_eq!(
        calls[0].args,
        json!({"text": "call mum", "at": "2025-06-01T18:00:00+02:00"})
    );
    assert_eq!(calls[0].thought_signature.as_deref(), Some(SIGNATURE_1));
    assert_eq!(calls[1].id.as_deref(), Some("fc-9b21"));
    assert_eq!(calls[1].args, json!({"day": "2025-06-01"}));
    assert_eq!(calls[1].thought_signature, None);
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 412,
            output_tokens: 38 + 64,
            total_tokens: 514
        }
    );
}

#[tokio::test]
async fn gemini_echoes_signatures_and_sends_function_responses() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_two_calls()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_text(
            "Done: I'll remind you at 6 pm. Today: dentist at 3.",
        )))
        .mount(&server)
        .await;
    let client = gemini(&server);

    let mut turn = first_turn();
    let first = client.generate(&turn).await.unwrap();
    turn.messages.push(first.message.clone());
    turn.messages.push(function_responses(&first.message));
    let second = client.generate(&turn).await.unwrap();

    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    let contents = &sent[1]["contents"];
    assert_eq!(contents.as_array().unwrap().len(), 3);
    // The model's turn goes back exactly as Gemini sent it.
    assert_eq!(contents[1], gemini_two_calls()["candidates"][0]["content"]);
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"id": "fc-7f3a", "name": "create_reminder",
                "response": {"ok": true, "tool": "create_reminder"}}},
            {"functionResponse": {"id": "fc-9b21", "name": "list_events",
                "response": {"ok": true, "tool": "list_events"}}}
        ]})
    );

    // The final answer is text only, its signature kept for the next turn.
    assert!(second.message.function_calls().is_empty());
    assert_eq!(
        second.message.text(),
        "Done: I'll remind you at 6 pm. Today: dentist at 3."
    );
    assert_eq!(
        second.message.parts,
        vec![Part::Text {
            text: "Done: I'll remind you at 6 pm. Today: dentist at 3.".into(),
            thought_signature: Some(SIGNATURE_2.into())
        }]
    );
    assert_eq!(
        second.usage,
        Usage {
            input_tokens: 530,
            output_tokens: 21,
            total_tokens: 551
        }
    );

    // And the next turn echoes that text signature too.
    turn.messages.push(second.message);
    turn.messages.push(Message::user_text("thanks"));
    client.generate(&turn).await.unwrap();
    let sent = bodies(&server).await;
    assert_eq!(
        sent[2]["contents"][3]["parts"],
        json!([{"text": "Done: I'll remind you at 6 pm. Today: dentist at 3.",
            "thoughtSignature": SIGNATURE_2}])
    );
}

#[tokio::test]
async fn gemini_honours_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(google_error(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "Resource has been exhausted (e.g. check quota).",
                )),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_text("Hello!")))
        .mount(&server)
        .await;

    let started = Instant::now();
    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    assert_eq!(response.message.text(), "Hello!");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // The backoff alone is a few milliseconds: the wait came from the header.
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn gemini_gives_up_after_three_unavailable_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_json(google_error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        )))
        .mount(&server)
        .await;

    let err = gemini(&server).generate(&first_turn()).await.unwrap_err();

    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    match &err {
        LlmError::Unavailable {
            provider,
            status,
            message,
            ..
        } => {
            assert_eq!(provider, "gemini");
            assert_eq!(*status, Some(503));
            assert!(message.contains("The model is overloaded"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn gemini_long_retry_after_is_not_waited_for() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3600")
                .set_body_json(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.")),
        )
        .mount(&server)
        .await;

    let err = gemini(&server).generate(&first_turn()).await.unwrap_err();

    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    match err {
        LlmError::Unavailable {
            status: Some(429),
            retry_after,
            ..
        } => assert_eq!(retry_after, Some(Duration::from_secs(3600))),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn gemini_bad_request_is_rejected_at_once_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(google_error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
        )))
        .mount(&server)
        .await;

    let err = gemini(&server).generate(&first_turn()).await.unwrap_err();

    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(
        matches!(err, LlmError::Rejected { status: 400, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let shown = format!("{err} | {err:?}");
    assert!(shown.contains("API key not valid"), "{shown}");
    assert!(!shown.contains(GEMINI_KEY), "{shown}");
}

#[tokio::test]
async fn gemini_key_echoed_by_the_server_is_scrubbed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_json(google_error(
            403,
            "PERMISSION_DENIED",
            &format!("Permission denied: consumer 'api_key:{GEMINI_KEY}' has been suspended."),
        )))
        .mount(&server)
        .await;

    let err = gemini(&server).generate(&first_turn()).await.unwrap_err();

    assert!(
        matches!(err, LlmError::Rejected { status: 403, .. }),
        "{err:?}"
    );
    let shown = format!("{err} | {err:?}");
    assert!(shown.contains("has been suspended"), "{shown}");
    assert!(!shown.contains(GEMINI_KEY), "{shown}");
}

#[tokio::test]
async fn gemini_timeouts_are_retried_then_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(gemini_text("too late"))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let mut settings = GeminiSettings::new(
        server.uri(),
        SecretString::from(GEMINI_KEY),
        "gemini-2.5-flash",
    );
    settings.retry = fast_retries();
    settings.timeout = Duration::from_millis(100);
    let client = GeminiClient::new(settings, reqwest::Client::new()).unwrap();

    let err = client.generate(&first_turn()).await.unwrap_err();

    assert!(
        matches!(err, LlmError::Unavailable { status: None, .. }),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn gemini_blocked_prompt_is_a_kind_refusal_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
            "modelVersion": "gemini-2.5-flash"
        })))
        .mount(&server)
        .await;

    // An answer, not an error: the chain must not hand the request to a
    // planner that would carry it out.
    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    assert!(
        response
            .message
            .text()
            .starts_with("Sorry, I can't help with that one."),
        "{}",
        response.message.text()
    );
    assert!(response.message.function_calls().is_empty());
    assert_eq!(response.usage.input_tokens, 12);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn gemini_honours_retry_info_in_a_429_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {
            "code": 429,
            "message": "You exceeded your current quota. Please retry in 1.2s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count",
                     "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.200s"}
            ]
        }})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_text("Hello!")))
        .mount(&server)
        .await;

    let started = Instant::now();
    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    assert_eq!(response.message.text(), "Hello!");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // The backoff alone is a few milliseconds: the wait came from RetryInfo.
    assert!(
        started.elapsed() >= Duration::from_millis(1_150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn gemini_long_retry_info_is_not_waited_for_and_gemini_is_left_alone_meanwhile() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]
        }})))
        .mount(&server)
        .await;
    let client = gemini(&server);

    let started = Instant::now();
    let err = client.generate(&first_turn()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match &err {
        LlmError::Unavailable {
            status: Some(429),
            retry_after: Some(wait),
            ..
        } => assert_eq!(*wait, Duration::from_secs(30)),
        other => panic!("expected a 429, got {other:?}"),
    }

    // Within the 30 s it asked for, no request is sent at all.
    let again = client.generate(&first_turn()).await.unwrap_err();
    assert!(again.is_retryable(), "{again:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn gemini_stops_retrying_at_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(gemini_text("too late"))
                .set_delay(Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let client = gemini(&server);
    let scope = CallScope {
        deadline: Some(Instant::now() + Duration::from_millis(700)),
        answered_by: None,
    };

    let started = Instant::now();
    let err = client
        .generate_scoped(&first_turn(), scope)
        .await
        .unwrap_err();

    assert!(matches!(err, LlmError::Unavailable { .. }), "{err:?}");
    // One attempt cut at the deadline, not three 15 s timeouts.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(650) && took < Duration::from_millis(1_500),
        "{took:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn gemini_max_tokens_is_asked_again_with_a_tighter_instruction() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Sure! I'll remind you to call the den"}]},
                            "finishReason": "MAX_TOKENS", "index": 0}],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10, "thoughtsTokenCount": 2038, "totalTokenCount": 2148}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_two_calls()))
        .mount(&server)
        .await;

    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    // The half sentence is never passed on; the retry's calls are.
    assert_eq!(response.message.text(), "");
    assert_eq!(response.message.function_calls().len(), 2);
    assert_eq!(response.usage.input_tokens, 100 + 412);
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    let system = |b: &Value| {
        b["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(!system(&bodies[0]).contains("cut off"));
    assert!(system(&bodies[1]).contains("was cut off because it was too long"));
}

#[tokio::test]
async fn gemini_cut_twice_admits_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Sure! I'll remind you to"}]},
                            "finishReason": "MAX_TOKENS", "index": 0}]
        })))
        .expect(2)
        .mount(&server)
        .await;

    let response = gemini(&server).generate(&first_turn()).await.unwrap();

    assert_eq!(
        response.message.text(),
        "Sorry, my answer ran too long and was cut off, so I did nothing. Could you ask again in fewer words?"
    );
    assert!(response.message.function_calls().is_empty());
}

#[tokio::test]
async fn gemini_3_answer_with_thoughts_and_signatures_round_trips() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-3.5-flash-lite:generateContent"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "**Planning** The person wants a reminder.", "thought": true},
                    {"functionCall": {"id": "fc-1", "name": "create_reminder",
                                      "args": {"text": "call mum", "at": "2025-06-01T18:00:00+02:00"}},
                     "thoughtSignature": SIGNATURE_1}
                ]},
                "finishReason": "STOP", "index": 0
            }],
            "usageMetadata": {"promptTokenCount": 1523, "candidatesTokenCount": 41,
                              "thoughtsTokenCount": 187, "totalTokenCount": 1751},
            "modelVersion": "gemini-3.5-flash-lite",
            "responseId": "aBcDeFgHiJkLmNoP"
        })))
        .mount(&server)
        .await;
    let settings = GeminiSettings::new(
        server.uri(),
        SecretString::from(GEMINI_KEY),
        "gemini-3.5-flash-lite",
    );
    let client = GeminiClient::new(settings, reqwest::Client::new()).unwrap();

    let response = client.generate(&first_turn()).await.unwrap();
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 1523,
            output_tokens: 41 + 187,
            total_tokens: 1751
        }
    );
    assert_eq!(response.message.text(), "");
    let follow_up = request(vec![
        Message::user_text("Remind me to call mum at 6pm"),
        response.message.clone(),
        function_responses(&response.message),
    ]);
    client.generate(&follow_up).await.unwrap();

    let bodies = bodies(&server).await;
    let model_turn = &bodies[1]["contents"][1];
    assert_eq!(
        model_turn["parts"],
        json!([
            {"text": "**Planning** The person wants a reminder.", "thought": true},
            {"functionCall": {"id": "fc-1", "name": "create_reminder",
                              "args": {"text": "call mum", "at": "2025-06-01T18:00:00+02:00"}},
             "thoughtSignature": SIGNATURE_1}
        ])
    );
}

#[tokio::test]
async fn gemini_3_gets_a_thinking_level() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-3-flash-preview:generateContent",
        ))
        .and(body_partial_json(json!({
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_text("Hi")))
        .expect(1)
        .mount(&server)
        .await;
    let settings = GeminiSettings::new(
        format!("{}/", server.uri()),
        SecretString::from(GEMINI_KEY),
        "gemini-3-flash-preview",
    );
    let client = GeminiClient::new(settings, reqwest::Client::new()).unwrap();

    let response = client.generate(&first_turn()).await.unwrap();

    assert_eq!(response.message.text(), "Hi");
}

fn openai_tool_calls() -> Value {
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                    {
                        "id": "call_Vh3GkQ8T1mZ0",
                        "type": "function",
                        "function": {
                            "name": "create_reminder",
                            "arguments": "{\"text\":\"call mum\",\"at\":\"2025-06-01T18:00:00+02:00\"}"
                        }
                    },
                    {
                        "id": "call_X9pLr2Ee7sQa",
                        "type": "function",
                        "function": {"name": "list_events", "arguments": "{\"day\": \"2025-06-01\""}
                    }
                ],
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "tool_calls"
        }],
        "usage": {
            "prompt_tokens": 182,
            "completion_tokens": 57,
            "total_tokens": 239,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306"
    })
}

fn openai_text(text: &str) -> Value {
    json!({
        "id": "chatcmpl-B9MHEo2Jm5Xq1",
        "object": "chat.completion",
        "created": 1741570285,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 260, "completion_tokens": 14, "total_tokens": 274},
        "system_fingerprint": "fp_06737a9306"
    })
}

#[tokio::test]
async fn openai_tools_calls_and_tool_results() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {OPENAI_KEY}")))
        .and(body_partial_json(
            json!({"model": "gpt-4o-mini", "tool_choice": "auto"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_tool_calls()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {OPENAI_KEY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_text("All set.")))
        .mount(&server)
        .await;
    let client = openai(&server);

    let mut turn = first_turn();
    let first = client.generate(&turn).await.unwrap();

    assert_eq!(first.provider, "openai");
    let calls = first.message.function_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id.as_deref(), Some("call_Vh3GkQ8T1mZ0"));
    assert_eq!(
        calls[0].args,
        json!({"text": "call mum", "at": "2025-06-01T18:00:00+02:00"})
    );
    // Truncated JSON reaches the registry as `_raw`, for it to refuse.
    assert_eq!(calls[1].args, json!({"_raw": "{\"day\": \"2025-06-01\""}));
    assert_eq!(
        first.usage,
        Usage {
            input_tokens: 182,
            output_tokens: 57,
            total_tokens: 239
        }
    );

    turn.messages.push(first.message.clone());
    turn.messages.push(function_responses(&first.message));
    let second = client.generate(&turn).await.unwrap();
    assert_eq!(second.message.text(), "All set.");

    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["tools"][0],
        json!({"type": "function", "function": {
            "name": "create_reminder",
            "description": "Remind the person of something at a given time.",
            "parameters": tools()[0].parameters
        }})
    );
    assert_eq!(sent[0]["tools"][1]["function"]["name"], "list_events");
    assert_eq!(
        sent[0]["messages"],
        json!([
            {"role": "system", "content": "You are Nudge, a helpful assistant reached by SMS."},
            {"role": "user", "content": "Remind me to call mum at 6pm and tell me what I have today"}
        ])
    );

    let messages = sent[1]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 5);
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], Value::Null);
    let call = &messages[2]["tool_calls"][0];
    assert_eq!(call["id"], "call_Vh3GkQ8T1mZ0");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "create_reminder");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        arguments,
        json!({"text": "call mum", "at": "2025-06-01T18:00:00+02:00"})
    );
    // Unparseable arguments go back wrapped, so the history stays valid
    // JSON for servers that parse it.
    let arguments: Value = serde_json::from_str(
        messages[2]["tool_calls"][1]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(arguments, json!({"_raw": "{\"day\": \"2025-06-01\""}));
    for (message, (id, tool)) in messages[3..].iter().zip([
        ("call_Vh3GkQ8T1mZ0", "create_reminder"),
        ("call_X9pLr2Ee7sQa", "list_events"),
    ]) {
        assert_eq!(message["role"], "tool");
        assert_eq!(message["tool_call_id"], id);
        let content: Value = serde_json::from_str(message["content"].as_str().unwrap()).unwrap();
        assert_eq!(content, json!({"ok": true, "tool": tool}));
    }
}

#[tokio::test]
async fn openai_retries_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"message": "The server had an error while processing your request.",
                "type": "server_error", "param": null, "code": null}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_text("Hello!")))
        .mount(&server)
        .await;

    let response = openai(&server).generate(&first_turn()).await.unwrap();

    assert_eq!(response.message.text(), "Hello!");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn openai_without_a_key_sends_no_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_text("Hi")))
        .mount(&server)
        .await;
    let settings = OpenAiSettings::new(format!("{}/v1/", server.uri()), None, "llama3.1");
    let client = OpenAiCompatibleClient::new(settings, reqwest::Client::new()).unwrap();

    client.generate(&first_turn()).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn openai_unauthorized_is_rejected_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": format!("Incorrect API key provided: {OPENAI_KEY}."),
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}
        })))
        .mount(&server)
        .await;

    let err = openai(&server).generate(&first_turn()).await.unwrap_err();

    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(
        matches!(err, LlmError::Rejected { status: 401, .. }),
        "{err:?}"
    );
    let shown = format!("{err} | {err:?}");
    assert!(shown.contains("Incorrect API key provided"), "{shown}");
    assert!(!shown.contains(OPENAI_KEY), "{shown}");
}

#[tokio::test]
async fn a_model_retired_while_running_shows_as_the_start_up_check_would() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_PATH))
        .respond_with(ResponseTemplate::new(404).set_body_json(google_error(
            404,
            "NOT_FOUND",
            "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for generateContent.",
        )))
        .mount(&server)
        .await;
    let chain = LlmChain::new(
        vec![std::sync::Arc::new(gemini(&server))],
        std::sync::Arc::new(OfflinePlanner::new()),
        &BreakerSettings::default(),
    );
    assert_eq!(chain.model_status()[0].state, ModelState::Pending);

    let response = chain.generate(&first_turn()).await.unwrap();

    assert_eq!(response.provider, "offline");
    let status = chain.model_status();
    assert_eq!(status[0].provider, "gemini");
    assert_eq!(status[0].model, "gemini-2.5-flash");
    match &status[0].state {
        ModelState::Unavailable(why) => assert!(why.contains("is not found"), "{why}"),
        other => panic!("{other:?}"),
    }
}
