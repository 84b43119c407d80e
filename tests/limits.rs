//! Limits checked where input enters, against real PostgreSQL: the
//! numbers match the schema's CHECKs, a person who sends too much gets a
//! short answer in their language (never "internal error"), a violation
//! that slips past the tools still reads as one, and a picture without
//! text gets "I can only read text for now".

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use common::TestDb;
use common::scripted_llm::{ScriptedLlm, Step};
use nudge::agent::llm::LlmClient;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::tools::limits::{MAX_MESSAGE_CHARS, TextField};
use nudge::agent::tools::{Effect, Tool, ToolContext, ToolError, ToolRegistry};
use nudge::agent::{Agent, TurnBudget, TurnEnd};
use nudge::store::{NewReminder, Reminder, UserId};

const TOO_LONG_EN: &str =
    "That's long for a reminder — can you shorten it to under 1,000 characters?";

fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
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

async fn french(db: &TestDb, user: UserId) {
    sqlx::query("update users set locale = 'fr' where id = $1")
        .bind(user.0)
        .execute(&db.owner)
        .await
        .unwrap();
}

async fn reminders(db: &TestDb, user: UserId) -> i64 {
    sqlx::query_scalar("select count(*) from reminders where user_id = $1")
        .bind(user.0)
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

/// A 1,558-character request, as a phone joins a long SMS.
fn long_request() -> String {
    let head = "remind me tomorrow at 9am to ";
    let mut what = String::new();
    while head.len() + what.len() < 1558 {
        what.push_str("bring the blue folder ");
    }
    let text = format!("{head}{what}");
    text.chars().take(1558).collect()
}

#[tokio::test]
async fn the_limits_in_code_are_the_limits_in_the_schema() {
    let db = TestDb::new().await;
    let cases = [
        ("reminders_body_check", TextField::ReminderText),
        ("tasks_title_check", TextField::TaskTitle),
        ("goals_title_check", TextField::GoalTitle),
        ("list_items_list_name_check", TextField::ListName),
        ("list_items_item_check", TextField::ListItem),
        ("memories_content_check", TextField::Memory),
        ("users_display_name_check", TextField::DisplayName),
    ];
    for (constraint, field) in cases {
        let def: String = sqlx::query_scalar(
            "select pg_get_constraintdef(oid) from pg_constraint where conname = $1",
        )
        .bind(constraint)
        .fetch_one(&db.owner)
        .await
        .unwrap();
        assert!(
            def.contains(&format!("<= {})", field.max_chars())),
            "{constraint}: {def} vs {}",
            field.max_chars()
        );
        assert_eq!(TextField::from_constraint(constraint), Some(field));
    }
}

#[tokio::test]
async fn a_1558_character_reminder_gets_a_short_answer_not_internal_error() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let text = long_request();
    assert_eq!(text.chars().count(), 1558);

    // The offline planner: the reply is the limit's own sentence.
    let outcome = agent(&db, Arc::new(OfflinePlanner::new()))
        .handle_text(user, &text)
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::InputRefused);
    assert_eq!(outcome.reply, TOO_LONG_EN);
    assert_eq!(reminders(&db, user).await, 0);

    // A remote model passing the whole text: the same answer, and the
    // model is not asked to paraphrase it.
    let body: String = text.chars().skip(29).collect();
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
        "create_reminder",
        json!({"text": body, "due_local": "2026-11-22T09:00"}),
    )])]));
    let outcome = agent(&db, llm.clone())
        .handle_text(user, &text)
        .await
        .unwrap();
    assert_eq!(outcome.reply, TOO_LONG_EN);
    assert_eq!(llm.calls(), 1);
    assert_eq!(reminders(&db, user).await, 0);
}

#[tokio::test]
async fn limits_answer_in_french_for_a_french_speaker() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    french(&db, user).await;
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
        "add_list_items",
        json!({"items": ["x".repeat(501)]}),
    )])]));
    let outcome = agent(&db, llm)
        .handle_text(user, "ajoute ça")
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::InputRefused);
    assert_eq!(
        outcome.reply,
        "C'est long pour un élément de liste — peux-tu faire plus court, moins de 500 caractères ?"
    );
}

#[tokio::test]
async fn a_message_longer_than_one_sms_can_be_is_answered_without_the_model() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let llm = Arc::new(ScriptedLlm::new(vec![]));
    let outcome = agent(&db, llm.clone())
        .handle_text(user, &"a".repeat(MAX_MESSAGE_CHARS + 1))
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::InputRefused);
    assert!(outcome.reply.contains("1,600"), "{}", outcome.reply);
    assert_eq!(llm.calls(), 0);
}

/// A tool that skips the checks, so the schema's CHECK is what refuses.
struct Unchecked;

#[async_trait::async_trait]
impl Tool for Unchecked {
    fn name(&self) -> &'static str {
        "unchecked_reminder"
    }
    fn description(&self) -> &'static str {
        "Creates a reminder without checking its length."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"text": {"type": "string"}}})
    }
    fn effect(&self) -> Effect {
        Effect::Write
    }
    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError> {
        let body = args["text"].as_str().unwrap_or_default().to_string();
        Reminder::create(
            ctx.tx,
            NewReminder {
                body,
                due_at: ctx.now + chrono::Duration::hours(1),
                timezone: "UTC".into(),
                local_time: None,
                recurrence: None,
                explicit_time: false,
            },
        )
        .await?;
        Ok(json!({"confirmation": "Saved."}))
    }
}

#[tokio::test]
async fn a_constraint_violation_that_slips_through_reads_as_the_limit() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
        "unchecked_reminder",
        json!({"text": "y".repeat(1001)}),
    )])]));
    let a = Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::new(vec![Arc::new(Unchecked)])),
        TurnBudget::default(),
    )
    .with_clock(now);
    let outcome = a.handle_text(user, "save it").await.unwrap();
    assert_eq!(outcome.reply, TOO_LONG_EN);
    assert!(!outcome.reply.contains("internal error"));
    assert_eq!(reminders(&db, user).await, 0);
}

async fn picture(db: &TestDb, user: UserId, body: &str, images: usize) -> Uuid {
    let media: Vec<Value> = (0..images)
        .map(|i| json!({"url": format!("https://api.twilio.com/media/{i}"), "content_type": "image/jpeg"}))
        .collect();
    sqlx::query_scalar(
        "insert into messages (user_id, direction, body, status, media) values ($1, 'inbound', $2, 'received', $3) returning id",
    )
    .bind(user.0)
    .bind(body)
    .bind(json!(media))
    .fetch_one(&db.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_picture_without_text_gets_i_can_only_read_text_not_the_menu() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let llm = Arc::new(ScriptedLlm::new(vec![]));
    let a = agent(&db, llm.clone());
    let id = picture(&db, user, "", 1).await;
    // What the worker passes: the body and a note about the picture.
    let outcome = a
        .answer(user, id, "\n[The person also sent an image.]", now())
        .await
        .unwrap();
    assert_eq!(outcome.end, TurnEnd::InputRefused);
    assert!(
        outcome.reply.starts_with("I can only read text for now"),
        "{}",
        outcome.reply
    );
    assert!(!outcome.reply.contains("remind"), "no capabilities menu");
    assert_eq!(llm.calls(), 0);

    french(&db, user).await;
    let id = picture(&db, user, "  ", 2).await;
    let outcome = a
        .answer(user, id, "\n[The person also sent 2 images.]", now())
        .await
        .unwrap();
    assert!(
        outcome.reply.starts_with("Je ne sais lire que du texte"),
        "{}",
        outcome.reply
    );

    // With text, the picture is only a note and the model answers.
    llm.push(Step::Text("Nice cat!".into()));
    let id = picture(&db, user, "look at my cat", 1).await;
    let outcome = a
        .answer(
            user,
            id,
            "look at my cat\n[The person also sent an image.]",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.reply, "Nice cat!");
}
