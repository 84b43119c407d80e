//! The `llm_circuit_breaker_state` gauge on the app's `/metrics` after a
//! Gemini 503 storm. The metrics recorder is one per process and every chain
//! sets its providers' gauges when it is built, so this test has a process of
//! its own: beside other tests building chains in parallel, the gauge would
//! show whichever chain was built last.

mod common;

use wiremock::MockServer;

use common::TestDb;
use common::gemini::{agent, chain, overloaded};

#[tokio::test]
async fn an_open_gemini_breaker_shows_as_1_on_the_metrics_endpoint() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let metrics_url = common::metrics_url(&db).await;

    let server = MockServer::start().await;
    overloaded(&server).await;
    let llm = chain(&server);
    let agent = agent(&db, llm.clone());
    let gauge = || async {
        let metrics = common::scrape(&metrics_url).await;
        metrics
            .lines()
            .find(|l| {
                l.starts_with("llm_circuit_breaker_state") && l.contains("provider=\"gemini\"")
            })
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no breaker gauge in:\n{metrics}"))
    };
    assert!(gauge().await.ends_with(" 0"), "closed before the storm");

    for text in ["add milk and eggs", "what's on my list?", "add bread"] {
        agent.handle_text(user, text).await.unwrap();
    }
    assert!(llm.is_open("gemini"));
    let line = gauge().await;
    assert!(line.ends_with(" 1"), "{line}");
}
