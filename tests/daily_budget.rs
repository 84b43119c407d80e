//! The daily budgets, in money as well as tokens, with a scripted paid
//! model in front of the offline planner, against real PostgreSQL: what
//! the person spent today is priced from `llm_usage`; past the budget the
//! paid model is not asked, the offline planner answers, and the reply says
//! so in one sentence.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use common::TestDb;
use common::scripted_llm::{ScriptedLlm, Step};
use nudge::agent::llm::LlmClient;
use nudge::agent::llm::chain::{BreakerSettings, LlmChain};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget, TurnEnd};
use nudge::store::UserId;

/// How an offline answer given for budget reasons ends.
const NOTE: &str = "(I've hit today's thinking limit, so I'm on simple rules until tomorrow.)";

fn now() -> DateTime<Utc> {
    // Saturday 2026-11-21 10:00 in Montreal.
    "2026-11-21T15:00:00Z".parse().unwrap()
}

fn agent(db: &TestDb, llm: Arc<dyn LlmClient>, budget: TurnBudget) -> Agent {
    Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::builtin()),
        budget,
    )
    .with_clock(now)
}

/// The scripted model, then the offline planner, as production chains them.
fn chain(scripted: &Arc<ScriptedLlm>) -> Arc<dyn LlmClient> {
    Arc::new(LlmChain::new(
        vec![scripted.clone() as Arc<dyn LlmClient>],
        Arc::new(OfflinePlanner::new()),
        &BreakerSettings::default(),
    ))
}

/// Usage recorded earlier today (09:00 in Montreal).
async fn spent_today(db: &TestDb, user: UserId, model: &str, input: i32, output: i32) {
    sqlx::query(
        "insert into llm_usage (user_id, provider, model, input_tokens, output_tokens, total_tokens, created_at) \
         values ($1, 'gemini', $2, $3, $4, $3 + $4, '2026-11-21T14:00:00Z')",
    )
    .bind(user.0)
    .bind(model)
    .bind(input)
    .bind(output)
    .execute(&db.owner)
    .await
    .unwrap();
}

async fn list_items(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("select item from list_items order by item")
        .fetch_all(&db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn over_the_money_budget_the_offline_planner_answers_and_says_so() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    // 100k in × $1.50/M + 10k out × $9.00/M = $0.24, over the default
    // $0.20, while 110k tokens are under the default 200k.
    spent_today(&db, user, "gemini-3.5-flash", 100_000, 10_000).await;
    let scripted = Arc::new(ScriptedLlm::new(vec![Step::Text("from the model".into())]));

    let outcome = agent(&db, chain(&scripted), TurnBudget::default())
        .handle_text(user, "add milk to my list")
        .await
        .unwrap();

    assert_eq!(scripted.calls(), 0);
    assert_eq!(outcome.end, TurnEnd::Answered);
    assert!(
        outcome.providers.iter().all(|p| p == "offline"),
        "{:?}",
        outcome.providers
    );
    assert!(outcome.reply.ends_with(NOTE), "{}", outcome.reply);
    assert!(outcome.reply.contains("milk"), "{}", outcome.reply);
    assert_eq!(list_items(&db).await, ["milk"]);
}

#[tokio::test]
async fn usage_of_unpriced_models_costs_nothing() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    // A local model: many tokens, no price. Under the token budget.
    spent_today(&db, user, "llama-3.2-1b-instruct", 150_000, 20_000).await;
    let scripted = Arc::new(ScriptedLlm::new(vec![Step::Text("from the model".into())]));

    let outcome = agent(&db, chain(&scripted), TurnBudget::default())
        .handle_text(user, "hello")
        .await
        .unwrap();

    assert_eq!(outcome.reply, "from the model");
    assert_eq!(scripted.calls(), 1);
}

#[tokio::test]
async fn a_turn_that_crosses_the_money_budget_finishes_offline_and_so_does_the_next() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    // Each answer: 1,000 in × $1.50/M + 1,000 out × $9.00/M = 10,500 micros,
    // over a budget of 5,000 after the first call.
    let scripted = Arc::new(
        ScriptedLlm::new(vec![Step::Calls(vec![(
            "add_list_items",
            json!({"items": ["milk"]}),
        )])])
        .with_model("gemini-3.5-flash", 2_000),
    );
    let budget = TurnBudget {
        daily_cost_micros: 5_000,
        ..TurnBudget::default()
    };
    let agent = agent(&db, chain(&scripted), budget);

    let outcome = agent.handle_text(user, "add milk").await.unwrap();

    // The model's call ran; the offline planner wrote the reply from its
    // result, since the model may not be asked again today.
    assert_eq!(outcome.providers, ["scripted", "offline"]);
    assert_eq!(scripted.calls(), 1);
    assert_eq!(list_items(&db).await, ["milk"]);
    assert!(outcome.reply.ends_with(NOTE), "{}", outcome.reply);
    let (model, tokens): (String, i64) = sqlx::query_as(
        "select model, sum(total_tokens)::bigint from llm_usage where provider = 'scripted' group by model",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!((model.as_str(), tokens), ("gemini-3.5-flash", 2_000));

    // The recorded spend carries over to the next turn of the day.
    let outcome = agent.handle_text(user, "add eggs").await.unwrap();
    assert_eq!(scripted.calls(), 1);
    assert!(outcome.providers.iter().all(|p| p == "offline"));
    assert_eq!(list_items(&db).await, ["eggs", "milk"]);
}

#[tokio::test]
async fn with_nothing_free_to_answer_the_turn_says_the_budget_is_spent() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    spent_today(&db, user, "gemini-3.5-flash", 100_000, 10_000).await;
    // The scripted model alone, no offline planner behind it.
    let scripted = Arc::new(ScriptedLlm::new(vec![]));

    let outcome = agent(&db, scripted.clone(), TurnBudget::default())
        .handle_text(user, "hello")
        .await
        .unwrap();

    assert_eq!(outcome.end, TurnEnd::CostBudgetExhausted);
    assert_eq!(scripted.calls(), 0);
    assert!(
        outcome.reply.contains("thinking limit"),
        "{}",
        outcome.reply
    );
}

#[tokio::test]
async fn yesterdays_spending_does_not_count() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    // 23:30 in Montreal the day before.
    sqlx::query(
        "insert into llm_usage (user_id, provider, model, input_tokens, output_tokens, total_tokens, created_at) \
         values ($1, 'gemini', 'gemini-3.5-flash', 100000, 10000, 110000, '2026-11-21T04:30:00Z')",
    )
    .bind(user.0)
    .execute(&db.owner)
    .await
    .unwrap();
    let scripted = Arc::new(ScriptedLlm::new(vec![Step::Text("from the model".into())]));

    let outcome = agent(&db, chain(&scripted), TurnBudget::default())
        .handle_text(user, "hello")
        .await
        .unwrap();

    assert_eq!(outcome.reply, "from the model");
}

#[tokio::test]
async fn past_the_budget_the_conversation_summary_costs_nothing_either() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    spent_today(&db, user, "gemini-3.5-flash", 100_000, 10_000).await;
    let scripted = Arc::new(ScriptedLlm::new(vec![]).with_model("gemini-3.5-flash", 1_000));
    let agent = agent(&db, chain(&scripted), TurnBudget::default());

    // 15 turns are 30 messages: a summary is due.
    for i in 0..15 {
        agent
            .handle_text(user, &format!("message number {i}"))
            .await
            .unwrap();
    }

    assert_eq!(scripted.calls(), 0);
    let summary: String =
        sqlx::query_scalar("select summary from conversation_summaries where user_id = $1")
            .bind(user.0)
            .fetch_one(&db.owner)
            .await
            .unwrap();
    // Made from the person's own words, not by the model.
    assert!(summary.contains("message number 0"), "{summary}");
}
