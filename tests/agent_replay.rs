//! A crash after a tool ran never repeats the tool: each tool call and its
//! result are recorded with the tool's own effect, keyed by the inbound
//! message, and the retried turn replays them. Real PostgreSQL, a scripted
//! model that panics where a worker would die.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use common::TestDb;
use common::scripted_llm::{ScriptedLlm, Step};
use nudge::agent::llm::{LlmClient, LlmError, LlmRequest, LlmResponse, Part};
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget, TurnEnd};
use nudge::store::UserId;

fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
}

/// A model that behaves like a real one for this request: asked by the
/// person, it calls `create_reminder`; shown the tool's result, it answers.
/// With `die_on`, the worker dies on that call (0-based), after whatever
/// the earlier calls' tools committed.
struct Sensible {
    die_on: Option<usize>,
    inner: ScriptedLlm,
    seen: AtomicUsize,
}

impl Sensible {
    fn new(die_on: Option<usize>) -> Self {
        Sensible {
            die_on,
            inner: ScriptedLlm::new(vec![]),
            seen: AtomicUsize::new(0),
        }
    }
}

#[async_trait::async_trait]
impl LlmClient for Sensible {
    fn provider(&self) -> &str {
        "scripted"
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        if Some(n) == self.die_on {
            panic!("worker dies mid-turn");
        }
        let answered = request
            .messages
            .last()
            .is_some_and(|m| !m.function_responses().is_empty());
        self.inner.push(match answered {
            true => Step::Text("Reminder set for tomorrow at 9:00 AM.".into()),
            false => Step::Calls(vec![(
                "create_reminder",
                json!({"text": "call mom", "due_local": "2026-11-22T09:00"}),
            )]),
        });
        self.inner.generate(request).await
    }
}

fn agent(db: &TestDb, llm: Arc<dyn LlmClient>) -> Agent {
    Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    )
    .with_clock(now)
}

/// An inbound SMS as the webhook stores it.
async fn inbound(db: &TestDb, user: UserId, body: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into messages (user_id, direction, body, status) values ($1, 'inbound', $2, 'received') returning id",
    )
    .bind(user.0)
    .bind(body)
    .fetch_one(&db.owner)
    .await
    .unwrap()
}

async fn count(db: &TestDb, sql: &'static str, user: UserId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user.0)
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

/// Runs a turn that is expected to die; the panic stays in its task, as
/// it does in a worker that catches panics per job.
async fn crashing_turn(agent: Agent, user: UserId, id: Uuid, text: &'static str) {
    let died = tokio::spawn(async move { agent.answer(user, id, text, now()).await }).await;
    assert!(died.unwrap_err().is_panic(), "the turn was meant to die");
}

#[tokio::test]
async fn a_turn_that_dies_after_a_tool_ran_is_replayed_not_repeated() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let text = "remind me to call mom tomorrow at 9";
    let id = inbound(&db, user, text).await;

    // First run: the model asks for the reminder, the tool commits, and
    // the worker dies on the next model call, before any reply is stored.
    crashing_turn(agent(&db, Arc::new(Sensible::new(Some(1)))), user, id, text).await;
    let reminders = "select count(*) from reminders where user_id = $1";
    let replies = "select count(*) from messages where user_id = $1 and direction = 'outbound'";
    assert_eq!(count(&db, reminders, user).await, 1);
    assert_eq!(count(&db, replies, user).await, 0);
    assert_eq!(
        count(
            &db,
            "select count(*) from agent_steps where user_id = $1",
            user
        )
        .await,
        2,
        "the model response and the tool call are recorded with the reminder"
    );

    // The retry: a fresh model would ask for the reminder again; instead
    // the recorded call and result are replayed, and the model is asked
    // only for what is left.
    let retry = Arc::new(Sensible::new(None));
    let outcome = agent(&db, retry.clone())
        .answer(user, id, text, now())
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::Answered);
    assert_eq!(outcome.reply, "Reminder set for tomorrow at 9:00 AM.");
    assert_eq!(outcome.llm_calls, 2);
    assert_eq!(retry.inner.calls(), 1, "the first model call is replayed");
    let seen = retry.inner.request(0);
    let replayed: Vec<_> = seen
        .messages
        .last()
        .unwrap()
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::FunctionResponse(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].name, "create_reminder");
    assert!(
        replayed[0].response["confirmation"]
            .as_str()
            .unwrap()
            .contains("call mom")
    );

    assert_eq!(count(&db, reminders, user).await, 1, "exactly one reminder");
    assert_eq!(count(&db, replies, user).await, 1, "exactly one reply");
    assert_eq!(
        count(
            &db,
            "select count(*) from apalis.jobs where job_type = 'reminder_due' and convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $1::text",
            user
        )
        .await,
        1,
        "one delivery job"
    );
    // Both model calls' tokens are counted once, and the journal is gone
    // with the stored reply.
    assert_eq!(
        count(
            &db,
            "select count(*) from llm_usage where user_id = $1",
            user
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from agent_steps where user_id = $1",
            user
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_turn_that_fails_after_asking_asks_the_same_question_once() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    sqlx::query("insert into reminders (user_id, body, due_at, timezone) values ($1, 'keep', now() + interval '1 day', 'UTC')")
        .bind(user.0)
        .execute(&db.owner)
        .await
        .unwrap();
    let text = "cancel all my reminders";
    let id = inbound(&db, user, text).await;

    // The reply cannot be stored: the turn fails after the question and
    // its pending action were committed, as if the worker died there.
    sqlx::raw_sql(
        "create function fail_replies() returns trigger language plpgsql as \
           $$ begin raise exception 'disk full'; end $$; \
         create trigger fail_replies before insert on messages for each row \
           when (new.direction = 'outbound') execute function fail_replies();",
    )
    .execute(&db.owner)
    .await
    .unwrap();
    let first = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
        "cancel_all_reminders",
        json!({}),
    )])]));
    assert!(
        agent(&db, first.clone())
            .answer(user, id, text, now())
            .await
            .is_err()
    );
    let pending = "select count(*) from pending_actions where user_id = $1";
    assert_eq!(count(&db, pending, user).await, 1);
    let asked: String =
        sqlx::query_scalar("select short_code from pending_actions where user_id = $1")
            .bind(user.0)
            .fetch_one(&db.owner)
            .await
            .unwrap();

    sqlx::raw_sql("drop trigger fail_replies on messages")
        .execute(&db.owner)
        .await
        .unwrap();
    let retry = Arc::new(ScriptedLlm::new(vec![]));
    let outcome = agent(&db, retry.clone())
        .answer(user, id, text, now())
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::AwaitingConfirmation);
    assert_eq!(retry.calls(), 0, "the recorded model response is replayed");
    assert!(
        outcome.reply.contains(&asked),
        "the same question, with the same code: {}",
        outcome.reply
    );
    assert_eq!(
        count(&db, pending, user).await,
        1,
        "one pending action, still pending"
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from pending_actions where user_id = $1 and status = 'pending'",
            user
        )
        .await,
        1
    );

    // And "yes" runs it once.
    let yes = inbound(&db, user, "yes").await;
    let done = agent(&db, retry)
        .answer(user, yes, "yes", now())
        .await
        .unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed, "{}", done.reply);
    assert_eq!(
        count(
            &db,
            "select count(*) from reminders where user_id = $1 and status = 'scheduled'",
            user
        )
        .await,
        0
    );
}
