//! Wall-clock time of one model call through the chain when remote
//! providers hang: real Gemini and OpenAI-compatible clients with their
//! default settings, against local servers that accept the request and
//! never answer, then the offline planner. This is what a person waits
//! before the offline planner's answer (plus the turn's own few
//! milliseconds, see `agent_turn`).
//!
//! `cargo bench --bench llm_chain` prints min / median / max per scenario
//! over a few calls (each takes seconds: that is the point).

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::gemini::{GeminiClient, GeminiSettings};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::openai::{OpenAiCompatibleClient, OpenAiSettings};
use nudge::agent::llm::{CallScope, LlmClient, LlmRequest, Message, TurnContext};
use nudge::store::Locale;

const MODEL: &str = "gemini-3.5-flash-lite";

async fn hung(route: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(Duration::from_secs(600)),
        )
        .mount(&server)
        .await;
    server
}

async fn answering(route: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1764400000,
            "model": "llama-3.2-1b-instruct",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Hi!"}}],
            "usage": {"prompt_tokens": 600, "completion_tokens": 2, "total_tokens": 602}
        })))
        .mount(&server)
        .await;
    server
}

/// Default settings throughout, as production runs. A fresh chain per call
/// so no breaker opens between samples.
fn chain(gemini: &MockServer, fallback: &MockServer) -> LlmChain {
    let gemini: Arc<dyn LlmClient> = Arc::new(
        GeminiClient::new(
            GeminiSettings::new(gemini.uri(), SecretString::from("bench-key"), MODEL),
            reqwest::Client::new(),
        )
        .unwrap(),
    );
    let openai: Arc<dyn LlmClient> = Arc::new(
        OpenAiCompatibleClient::new(
            OpenAiSettings::new(
                format!("{}/v1", fallback.uri()),
                None,
                "llama-3.2-1b-instruct",
            ),
            reqwest::Client::new(),
        )
        .unwrap(),
    );
    LlmChain::new(
        vec![gemini, openai],
        Arc::new(OfflinePlanner::new()),
        &BreakerSettings::default(),
    )
}

fn request() -> LlmRequest {
    LlmRequest {
        system: "You are Nudge.".into(),
        messages: vec![Message::user_text("add milk and eggs")],
        tools: Vec::new(),
        context: TurnContext {
            now: chrono::Utc::now(),
            timezone: chrono_tz::America::Montreal,
            locale: Locale::En,
        },
    }
}

async fn sample(gemini: &MockServer, fallback: &MockServer, expect: &str) -> Duration {
    let chain = chain(gemini, fallback);
    let scope = CallScope {
        // A fresh 20 s turn, as the runner gives.
        deadline: Some(Instant::now() + Duration::from_secs(20)),
        answered_by: None,
    };
    let started = Instant::now();
    let answer = chain.generate_scoped(&request(), scope).await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.provider, expect);
    took
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} min={:?} median={:?} max={:?}",
        samples.len(),
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    );
}

fn main() {
    // `cargo test` runs benches once as a smoke test; `cargo bench` passes --bench.
    let runs = if std::env::args().any(|a| a == "--bench") {
        5
    } else {
        1
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let gemini_route = format!("/v1beta/models/{MODEL}:generateContent");
        let hung_gemini = hung(&gemini_route).await;
        let hung_fallback = hung("/v1/chat/completions").await;
        let good_fallback = answering("/v1/chat/completions").await;

        let mut both = Vec::new();
        let mut first = Vec::new();
        for _ in 0..runs {
            both.push(sample(&hung_gemini, &hung_fallback, "offline").await);
            first.push(sample(&hung_gemini, &good_fallback, "openai").await);
        }
        report("gemini and fallback hung -> offline answers", both);
        report("gemini hung -> fallback answers", first);
    });
}
