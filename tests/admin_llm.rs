//! `nudge admin llm check` as an operator runs it (the real binary), here
//! pointed at local servers speaking Gemini's and an OpenAI-compatible
//! server's wire formats; an operator runs it against the real APIs.

use std::process::Output;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MODEL: &str = "gemini-3.5-flash-lite";

fn check(server: &MockServer, extra: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["admin", "llm", "check"])
        .args(extra)
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("GEMINI_API_KEY", "AIza-test-key-do-not-print")
        .env("GEMINI_BASE_URL", server.uri())
        .env("LLM_FALLBACK_BASE_URL", format!("{}/v1", server.uri()))
        .env("LLM_FALLBACK_MODEL", "llama-3.2-1b-instruct")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn openai_peer(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"id": "llama-3.2-1b-instruct", "object": "model", "owned_by": "llamacpp"}]
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1764400000,
            "model": "llama-3.2-1b-instruct",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "OK"}}],
            "usage": {"prompt_tokens": 25, "completion_tokens": 2, "total_tokens": 27}
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn every_provider_answers_with_latency_tokens_and_cost() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1beta/models/{MODEL}")))
        .and(header("x-goog-api-key", "AIza-test-key-do-not-print"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": format!("models/{MODEL}"), "displayName": "Gemini 3.5 Flash-Lite",
            "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:generateContent")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "OK"}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 20000, "candidatesTokenCount": 1, "thoughtsTokenCount": 3999, "totalTokenCount": 24000},
            "modelVersion": MODEL
        })))
        .mount(&server)
        .await;
    openai_peer(&server).await;

    let out = check(&server, &[]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let gemini = stdout
        .lines()
        .find(|l| l.starts_with("gemini"))
        .unwrap_or_else(|| panic!("{stdout}"));
    // 20,000 × $0.30/M + 4,000 × $2.50/M = $0.016.
    for expected in [MODEL, "served", "ok", "20000", "4000", "$0.016000"] {
        assert!(
            gemini.contains(expected),
            "{expected} missing from: {gemini}"
        );
    }
    let openai = stdout
        .lines()
        .find(|l| l.starts_with("openai"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        openai.contains("llama-3.2-1b-instruct") && openai.contains("unknown"),
        "{openai}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("offline")), "{stdout}");
    assert!(!format!("{stdout}{stderr}").contains("do-not-print"));

    let out = check(&server, &["--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["provider"], "gemini");
    assert_eq!(report[0]["ok"], true);
    assert_eq!(report[0]["estimated_cost_micros"], 16_000);
    assert_eq!(report[1]["input_tokens"], 25);
}

#[tokio::test]
async fn a_retired_first_model_fails_the_check_with_a_reason() {
    let server = MockServer::start().await;
    let not_found = json!({"error": {"code": 404, "status": "NOT_FOUND",
        "message": format!("models/{MODEL} is not found for API version v1beta, or is not supported for generateContent.")}});
    Mock::given(method("GET"))
        .and(path(format!("/v1beta/models/{MODEL}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(not_found.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:generateContent")))
        .respond_with(ResponseTemplate::new(404).set_body_json(not_found))
        .mount(&server)
        .await;
    openai_peer(&server).await;

    let out = check(&server, &[]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let gemini = stdout
        .lines()
        .find(|l| l.starts_with("gemini"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        gemini.contains("NOT SERVED") && gemini.contains("FAILED"),
        "{gemini}"
    );
    assert!(
        stderr.contains("the first provider (gemini) failed"),
        "{stderr}"
    );
    // The fallback is still reported.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("openai") && l.contains(" ok ")),
        "{stdout}"
    );
    assert!(!format!("{stdout}{stderr}").contains("do-not-print"));
}
