//! The chain's time: how the remote budget is shared between providers
//! that hang, fail fast or are known to be down, read from the chain's own
//! timings (the windows it granted are exact; elapsed times are only
//! bounded loosely). In-process providers, no network, no database; the
//! wall-clock numbers are in `benches/llm_chain.rs`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nudge::agent::llm::chain::{
    BreakerSettings, ChainCall, DEFAULT_LLM_REMOTE_BUDGET, HANDOVER_RESERVE, LinkOutcome, LlmChain,
};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{
    CallScope, LlmClient, LlmError, LlmRequest, LlmResponse, Message, TurnContext, Usage,
};
use nudge::store::Locale;

#[derive(Debug, Clone, Copy)]
enum Act {
    Answer,
    Fail,
    Hang,
}

/// A remote provider that does what it is told, call after call (the last
/// act repeats).
struct Provider {
    name: &'static str,
    acts: Mutex<VecDeque<Act>>,
}

impl Provider {
    fn new(name: &'static str, acts: &[Act]) -> Arc<Self> {
        Arc::new(Provider {
            name,
            acts: Mutex::new(acts.iter().copied().collect()),
        })
    }
}

#[async_trait::async_trait]
impl LlmClient for Provider {
    fn provider(&self) -> &str {
        self.name
    }

    async fn generate(&self, _: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let act = {
            let mut acts = self.acts.lock().unwrap();
            match acts.len() {
                1 => acts[0],
                _ => acts.pop_front().unwrap(),
            }
        };
        match act {
            Act::Answer => Ok(LlmResponse {
                message: Message::model_text(format!("from {}", self.name)),
                usage: Usage::default(),
                provider: self.name.into(),
                model: "m".into(),
            }),
            Act::Fail => Err(LlmError::Unavailable {
                provider: self.name.into(),
                status: Some(503),
                message: "down".into(),
                retry_after: None,
            }),
            Act::Hang => std::future::pending().await,
        }
    }
}

fn request() -> LlmRequest {
    LlmRequest {
        system: "You are Nudge.".into(),
        messages: vec![Message::user_text("hello")],
        tools: Vec::new(),
        context: TurnContext {
            now: "2026-11-21T15:00:00Z".parse().unwrap(),
            timezone: chrono_tz::America::Montreal,
            locale: Locale::En,
        },
    }
}

/// The chain over `remote` and the offline planner, with every call's
/// timings collected.
fn chain(remote: Vec<Arc<Provider>>) -> (LlmChain, Arc<Mutex<Vec<ChainCall>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let remote = remote
        .into_iter()
        .map(|p| p as Arc<dyn LlmClient>)
        .collect();
    let chain = LlmChain::new(
        remote,
        Arc::new(OfflinePlanner::new()),
        &BreakerSettings {
            window: Duration::from_secs(60),
            minimum_calls: 3,
            failure_rate: 0.5,
            open_for: Duration::from_secs(300),
        },
    )
    .with_observer(move |call| seen.lock().unwrap().push(call.clone()));
    (chain, calls)
}

/// One call with a turn of 20 s ahead, as the runner makes it.
async fn call(chain: &LlmChain) -> LlmResponse {
    let scope = CallScope {
        deadline: Some(Instant::now() + Duration::from_secs(20)),
        answered_by: None,
    };
    chain.generate_scoped(&request(), scope).await.unwrap()
}

fn last(calls: &Mutex<Vec<ChainCall>>) -> ChainCall {
    calls.lock().unwrap().last().cloned().unwrap()
}

#[tokio::test]
async fn with_every_remote_provider_hung_the_offline_planner_answers_once_the_budget_is_spent() {
    let budget = Duration::from_millis(1_200);
    let (chain, calls) = chain(vec![
        Provider::new("gemini", &[Act::Hang]),
        Provider::new("openai", &[Act::Hang]),
    ]);
    let chain = chain.with_remote_budget(budget);

    let answer = call(&chain).await;

    assert_eq!(answer.provider, "offline");
    let timings = last(&calls);
    let links: Vec<(&str, LinkOutcome)> = timings
        .links
        .iter()
        .map(|l| (l.provider.as_str(), l.outcome))
        .collect();
    assert_eq!(
        links,
        [
            ("gemini", LinkOutcome::Failed),
            ("openai", LinkOutcome::Failed),
            ("offline", LinkOutcome::Answered)
        ]
    );
    // The windows are cut from one budget: the last closes by its end.
    assert!(timings.remote_span() <= budget, "{timings:?}");
    // A budget this small is shared evenly: the primary leaves half.
    let primary = timings.links[0].window.unwrap();
    assert!(
        primary <= budget / 2 && primary > budget / 2 - Duration::from_millis(50),
        "{timings:?}"
    );
    // Each hung provider was cut at the end of its window, not earlier.
    for link in &timings.links[..2] {
        assert!(link.elapsed >= link.window.unwrap(), "{timings:?}");
    }
    assert_eq!(timings.answered_by(), Some("offline"));
}

#[tokio::test]
async fn by_default_a_hung_primary_gets_the_budget_less_one_second_for_the_fallback() {
    let (chain, calls) = chain(vec![
        Provider::new("gemini", &[Act::Hang]),
        Provider::new("openai", &[Act::Answer]),
    ]);

    let answer = call(&chain).await;

    assert_eq!(answer.provider, "openai");
    let timings = last(&calls);
    let primary = timings.links[0].window.unwrap();
    let expected = DEFAULT_LLM_REMOTE_BUDGET - HANDOVER_RESERVE;
    assert!(
        primary <= expected && primary > expected - Duration::from_millis(50),
        "{timings:?}"
    );
    let fallback = timings.links[1].window.unwrap();
    assert!(
        fallback <= HANDOVER_RESERVE && fallback > Duration::from_millis(500),
        "{timings:?}"
    );
    assert_eq!(timings.links[1].outcome, LinkOutcome::Answered);
    assert!(timings.remote_span() <= DEFAULT_LLM_REMOTE_BUDGET);
}

#[tokio::test]
async fn a_primary_that_fails_fast_leaves_the_fallback_the_rest_of_the_budget() {
    let budget = Duration::from_secs(2);
    let (chain, calls) = chain(vec![
        Provider::new("gemini", &[Act::Fail]),
        Provider::new("openai", &[Act::Hang]),
    ]);
    let chain = chain.with_remote_budget(budget);

    assert_eq!(call(&chain).await.provider, "offline");

    let timings = last(&calls);
    assert_eq!(timings.links[0].outcome, LinkOutcome::Failed);
    // The fallback gets what the primary did not use, not a fixed share.
    let fallback = timings.links[1].window.unwrap();
    assert!(
        fallback > budget - Duration::from_millis(100),
        "{timings:?}"
    );
    assert!(timings.remote_span() <= budget, "{timings:?}");
}

#[tokio::test]
async fn nothing_is_kept_for_a_fallback_whose_breaker_is_open() {
    let budget = Duration::from_millis(800);
    // Gemini answers five calls and hangs from the ninth; the fallback
    // fails the three calls Gemini failed, which opens its breaker while
    // Gemini's (3 failures in 8) stays closed.
    let gemini = Provider::new(
        "gemini",
        &[
            Act::Answer,
            Act::Answer,
            Act::Answer,
            Act::Answer,
            Act::Answer,
            Act::Fail,
            Act::Fail,
            Act::Fail,
            Act::Hang,
        ],
    );
    let (chain, calls) = chain(vec![gemini, Provider::new("openai", &[Act::Fail])]);
    let chain = chain.with_remote_budget(budget);
    for _ in 0..8 {
        call(&chain).await;
    }
    assert!(chain.is_open("openai"));
    assert!(!chain.is_open("gemini"));

    assert_eq!(call(&chain).await.provider, "offline");

    let timings = last(&calls);
    let primary = timings.links[0].window.unwrap();
    assert!(primary > budget - Duration::from_millis(50), "{timings:?}");
    // Nothing was left for it, and nothing was lost by that.
    assert_eq!(timings.links[1].outcome, LinkOutcome::NoTime);
}

#[tokio::test]
async fn a_turn_near_its_end_gives_the_remote_providers_only_what_leaves_the_planner_its_second() {
    let (chain, calls) = chain(vec![Provider::new("gemini", &[Act::Hang])]);
    let scope = CallScope {
        deadline: Some(Instant::now() + Duration::from_millis(1_600)),
        answered_by: None,
    };

    let answer = chain.generate_scoped(&request(), scope).await.unwrap();

    assert_eq!(answer.provider, "offline");
    let window = last(&calls).links[0].window.unwrap();
    assert!(window <= Duration::from_millis(600), "{window:?}");

    // With less than a second left, no remote provider is tried at all.
    let scope = CallScope {
        deadline: Some(Instant::now() + Duration::from_millis(900)),
        answered_by: None,
    };
    assert_eq!(
        chain
            .generate_scoped(&request(), scope)
            .await
            .unwrap()
            .provider,
        "offline"
    );
    assert_eq!(last(&calls).links[0].outcome, LinkOutcome::NoTime);
}

#[tokio::test]
async fn a_provider_cap_tightens_a_window_but_never_widens_it() {
    let (chain, calls) = chain(vec![Provider::new("gemini", &[Act::Hang])]);
    let chain = chain
        .with_remote_budget(Duration::from_secs(2))
        .with_provider_cap(Duration::from_millis(300));

    call(&chain).await;

    assert_eq!(
        last(&calls).links[0].window,
        Some(Duration::from_millis(300))
    );
}
