//! One full agent turn with a scripted model and real PostgreSQL: load the
//! context, run two tools, store the turn. This is the agent's own
//! overhead, without any LLM latency.
//!
//! `cargo bench --bench agent_turn` (PostgreSQL as for the tests). Besides
//! criterion's estimate it prints p50/p99 over a fixed number of turns.
//! Turns rotate over 50 people, so no one accumulates thousands of turns in
//! a day (which would measure an unrealistic history, not the agent).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

use common::TestDb;
use common::scripted_llm::{ScriptedLlm, Step};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget};

fn script() -> Step {
    Step::Text("unused".into())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (db, users) = rt.block_on(async {
        let db = TestDb::new().await;
        let mut users = Vec::new();
        for i in 0..50 {
            users
                .push(common::create_user(&db, "Bench", &format!("+1514555{:04}", 1000 + i)).await);
        }
        (db, users)
    });
    let next = std::sync::atomic::AtomicUsize::new(0);
    let llm = Arc::new(ScriptedLlm::new(vec![]).with_fallback(script));
    let agent = Agent::new(
        db.app.clone(),
        llm.clone(),
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    );
    let turn = || {
        let llm = llm.clone();
        let agent = agent.clone();
        let user = users[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % users.len()];
        async move {
            llm.push(Step::Calls(vec![
                ("add_list_items", json!({"items": ["milk"]})),
                ("list_reminders", json!({})),
            ]));
            llm.push(Step::Text("Added milk. No reminders.".into()));
            agent
                .handle_text(user, "add milk and show my reminders")
                .await
                .unwrap();
            // Keep the recorded requests from growing without bound.
            llm.requests.lock().unwrap().clear();
        }
    };

    // Warm up, then measure percentiles over a fixed count; only under
    // `cargo bench` (`cargo test` runs benches once, as a smoke test).
    let benchmarking = std::env::args().any(|a| a == "--bench");
    rt.block_on(async {
        if !benchmarking {
            turn().await;
            return;
        }
        for _ in 0..50 {
            turn().await;
        }
        let mut samples: Vec<Duration> = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let start = Instant::now();
            turn().await;
            samples.push(start.elapsed());
        }
        samples.sort();
        let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
        println!(
            "agent_turn over {} turns: p50 {:.2} ms, p99 {:.2} ms",
            samples.len(),
            pct(0.50).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0
        );
    });

    c.bench_function("agent_turn (scripted LLM, 2 tools, real PostgreSQL)", |b| {
        b.to_async(&rt).iter(turn)
    });
    drop(db);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
