//! The OpenAI-compatible fallback against a real peer: llama.cpp's server
//! (`llama-cpp-python[server]`) serving Gemma 3 270M on loopback, started
//! by `scripts/test-local-model`, which sets `NUDGE_LOCAL_MODEL_URL`,
//! `NUDGE_LOCAL_MODEL_NAME` and `NUDGE_LOCAL_MODEL_PID`. Without them the
//! test says it is skipped and passes: `cargo test` alone has no model.
//!
//! A 270M model's answers are poor, so this checks the protocol, never the
//! wording: a full agent turn through `LLM_FALLBACK_BASE_URL` gets a reply
//! with its usage recorded, `nudge admin llm check` reports the server, and
//! once the server is killed its breaker opens and the offline planner
//! answers.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use common::TestDb;
use nudge::agent::llm::LlmClient;
use nudge::agent::llm::chain::{BreakerSettings, ChainCall, LinkOutcome};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget, TurnEnd};

struct Peer {
    url: String,
    model: String,
    pid: Pid,
}

/// The running server, or `None` (with a line saying so) when the script
/// did not start one.
fn peer() -> Option<Peer> {
    let Ok(url) = std::env::var("NUDGE_LOCAL_MODEL_URL") else {
        // Straight to stderr: libtest would swallow println! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "local_model skipped: NUDGE_LOCAL_MODEL_URL is not set (scripts/test-local-model starts the model and sets it)"
        );
        return None;
    };
    let model = std::env::var("NUDGE_LOCAL_MODEL_NAME").expect("NUDGE_LOCAL_MODEL_NAME");
    let pid = std::env::var("NUDGE_LOCAL_MODEL_PID")
        .expect("NUDGE_LOCAL_MODEL_PID")
        .parse()
        .expect("a process id");
    Some(Peer {
        url,
        model,
        pid: Pid::from_raw(pid),
    })
}

fn admin_llm_check(peer: &Peer) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["admin", "llm", "check", "--json"])
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("LLM_FALLBACK_BASE_URL", &peer.url)
        .env("LLM_FALLBACK_MODEL", &peer.model)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_real_local_model_answers_is_checked_and_its_death_opens_the_breaker() {
    let Some(peer) = peer() else { return };
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;

    // The chain exactly as configured with only the fallback set (no
    // Gemini key): the local server, then the offline planner.
    let mut config = db.config();
    config.llm.fallback_base_url = Some(peer.url.clone());
    config.llm.fallback_model = Some(peer.model.clone());
    // Not the defaults (4 s, 512 tokens): a CPU-only model on two shared
    // (often busy) cores writes 2–15 tokens a second, and this test is
    // about the protocol, not speed. 32 tokens hold a whole sentence, which
    // is all of an answer cut at the cap that the client keeps.
    config.llm.remote_budget = Duration::from_secs(60);
    config.llm.fallback_max_tokens = 32;
    let timings: Arc<Mutex<Vec<ChainCall>>> = Arc::default();
    let seen = timings.clone();
    let chain = Arc::new(
        nudge::agent::llm_chain_from_config(
            &config,
            reqwest::Client::new(),
            &BreakerSettings::default(),
        )
        .unwrap()
        .with_observer(move |call| seen.lock().unwrap().push(call.clone())),
    );
    assert_eq!(chain.providers(), ["openai", "offline"]);
    // The same reason: the turn may take longer than the default 20 s.
    let budget = TurnBudget {
        wall_time: Duration::from_secs(90),
        ..TurnBudget::default()
    };
    let agent = Agent::new(
        db.app.clone(),
        chain.clone() as Arc<dyn LlmClient>,
        Arc::new(ToolRegistry::builtin()),
        budget,
    );

    // The model check the start-up runs: the server lists the model.
    let checks = chain.check_models().await;
    assert!(matches!(checks.as_slice(), [Ok(_)]), "{checks:?}");

    // One full turn answered by the local model, its usage recorded.
    let started = std::time::Instant::now();
    let outcome = agent.handle_text(user, "hello!").await.unwrap();
    println!(
        "local model turn: {:?} in {:?}: {:?}",
        outcome.providers,
        started.elapsed(),
        outcome.reply
    );
    assert_eq!(outcome.end, TurnEnd::Answered, "{}", outcome.reply);
    assert_eq!(outcome.providers, ["openai"]);
    assert!(!outcome.reply.trim().is_empty());
    let (model, input, output): (String, i32, i32) = sqlx::query_as(
        "select model, input_tokens, output_tokens from llm_usage where provider = 'openai'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(model, peer.model);
    assert!(input > 0 && output > 0, "{input} in, {output} out");

    // `nudge admin llm check` reaches it too.
    let out = admin_llm_check(&peer);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report[0]["provider"], "openai");
    assert_eq!(report[0]["model"], peer.model.as_str());
    assert_eq!(report[0]["model_check"], "served");
    assert_eq!(report[0]["ok"], true);
    assert!(report[0]["input_tokens"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report[1]["provider"], "offline");

    // The server dies: the next turn is answered offline, and so are the
    // ones after it, until the breaker opens.
    kill(peer.pid, Signal::SIGKILL).unwrap();
    let before = timings.lock().unwrap().len();
    let outcome = agent
        .handle_text(user, "add milk to my list")
        .await
        .unwrap();
    assert!(outcome.providers.iter().all(|p| p == "offline"));
    assert!(outcome.reply.contains("milk"), "{}", outcome.reply);
    let failed = timings.lock().unwrap()[before].links[0].clone();
    assert_eq!(
        (failed.provider.as_str(), failed.outcome),
        ("openai", LinkOutcome::Failed)
    );
    let mut turns = 0;
    while !chain.is_open("openai") {
        turns += 1;
        assert!(turns <= 3, "the breaker stayed closed after {turns} turns");
        let outcome = agent
            .handle_text(user, &format!("add item {turns} to my list"))
            .await
            .unwrap();
        assert_eq!(outcome.providers.last().unwrap(), "offline");
    }

    // Open: the dead server is not even called; the offline planner answers.
    let before = timings.lock().unwrap().len();
    let outcome = agent.handle_text(user, "add eggs").await.unwrap();
    assert!(outcome.providers.iter().all(|p| p == "offline"));
    assert!(outcome.reply.contains("eggs"), "{}", outcome.reply);
    let calls = timings.lock().unwrap()[before..].to_vec();
    assert_eq!(calls[0].links[0].provider, "openai");
    assert_eq!(calls[0].links[0].outcome, LinkOutcome::Skipped);
}
