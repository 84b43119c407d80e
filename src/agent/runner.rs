//! The runner: one turn of conversation. It stores the person's message,
//! asks the model, runs the tools it calls (each with a timeout, each in
//! its own user-scoped transaction), feeds results back, and stops at a
//! final text or at the budget. Every turn ends with a short reply.
//!
//! Side effects that send, spend or delete in bulk never run from a model's
//! call: the runner stores a pending action and asks; only the person's
//! "yes" (or the short code) runs it, once. This is enforced here, in code,
//! whatever the model or a tool's output says.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::conversation;
use super::llm::{CallScope, FunctionResponse, LlmClient, Message, Part, Role, Usage};
use super::planner::{self, TurnFacts};
use super::reminder_replies::{self, ReminderReply};
use super::tools::{ToolContext, ToolError, ToolRegistry, Wording};
use crate::db::UserTx;
use crate::store::{
    Direction, NewReminder, PendingAction, Reminder, StoreError, StoredMessage, User, UserId,
    UserStatus, record_llm_usage,
};

/// Limits of one turn.
#[derive(Debug, Clone)]
pub struct TurnBudget {
    pub max_llm_calls: u32,
    pub max_tool_calls: u32,
    pub wall_time: Duration,
    pub tool_timeout: Duration,
    /// Tokens per person per local day, checked before every LLM call.
    pub daily_tokens: u64,
}

impl Default for TurnBudget {
    fn default() -> Self {
        TurnBudget {
            max_llm_calls: 4,
            max_tool_calls: 8,
            wall_time: Duration::from_secs(20),
            tool_timeout: Duration::from_secs(5),
            daily_tokens: 200_000,
        }
    }
}

/// How long a pending action waits for its "yes".
pub const CONFIRMATION_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// What a message to answer is: new text, or one the SMS path stored.
enum Inbound<'a> {
    New(&'a str),
    Stored {
        id: Uuid,
        text: &'a str,
        at: DateTime<Utc>,
    },
}

/// What a turn produced, before it is stored.
struct Turn {
    reply: String,
    end: TurnEnd,
    llm_calls: u32,
    tool_calls: u32,
    providers: Vec<String>,
    usages: Vec<(String, String, Usage)>,
}

impl Turn {
    fn short(reply: String, end: TurnEnd) -> Self {
        Turn {
            reply,
            end,
            llm_calls: 0,
            tool_calls: 0,
            providers: Vec::new(),
            usages: Vec::new(),
        }
    }
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// The model gave its final text.
    Answered,
    /// A side effect waits for the person's confirmation.
    AwaitingConfirmation,
    /// A pending action was confirmed and ran.
    Confirmed,
    /// A pending action was declined.
    Declined,
    /// The turn's call, tool or time budget ran out.
    BudgetExhausted,
    /// The person's daily token budget is spent.
    TokenBudgetExhausted,
    /// Every provider failed.
    ProvidersFailed,
    /// "done"/"snooze" acted on the reminder just delivered.
    ReminderReply,
}

#[derive(Debug, Clone)]
pub struct TurnOutcome {
    pub reply: String,
    pub reply_message_id: Uuid,
    pub inbound_message_id: Uuid,
    pub end: TurnEnd,
    pub llm_calls: u32,
    pub tool_calls: u32,
    /// The providers that answered, in order.
    pub providers: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("user not found")]
    UnknownUser,
    #[error("user is disabled")]
    DisabledUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AgentError {
    fn from(e: sqlx::Error) -> Self {
        AgentError::Store(StoreError::Database(e))
    }
}

/// The agent: everything a turn needs, cheap to clone.
#[derive(Clone)]
pub struct Agent {
    pool: PgPool,
    llm: Arc<dyn LlmClient>,
    registry: Arc<ToolRegistry>,
    budget: TurnBudget,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl Agent {
    pub fn new(
        pool: PgPool,
        llm: Arc<dyn LlmClient>,
        registry: Arc<ToolRegistry>,
        budget: TurnBudget,
    ) -> Self {
        Agent {
            pool,
            llm,
            registry,
            budget,
            clock: Arc::new(Utc::now),
        }
    }

    /// Replaces the clock (tests pin "now").
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn llm(&self) -> &Arc<dyn LlmClient> {
        &self.llm
    }

    /// Stores `text` as the person's message and answers it.
    #[tracing::instrument(name = "agent.turn", skip_all, fields(user_id = %user_id))]
    pub async fn handle_text(
        &self,
        user_id: UserId,
        text: &str,
    ) -> Result<TurnOutcome, AgentError> {
        self.timed(user_id, Inbound::New(text)).await
    }

    /// Answers a message already stored (the SMS path stores it first).
    #[tracing::instrument(name = "agent.turn", skip_all, fields(user_id = %user_id))]
    pub async fn answer(
        &self,
        user_id: UserId,
        inbound_id: Uuid,
        text: &str,
        received_at: DateTime<Utc>,
    ) -> Result<TurnOutcome, AgentError> {
        self.timed(
            user_id,
            Inbound::Stored {
                id: inbound_id,
                text,
                at: received_at,
            },
        )
        .await
    }

    async fn timed(
        &self,
        user_id: UserId,
        inbound: Inbound<'_>,
    ) -> Result<TurnOutcome, AgentError> {
        let started = Instant::now();
        let outcome = self.run_turn(user_id, inbound).await;
        let label = match &outcome {
            Ok(o) => format!("{:?}", o.end),
            Err(_) => "Error".into(),
        };
        metrics::counter!("agent_turns_total", "outcome" => label).increment(1);
        metrics::histogram!("agent_turn_duration_seconds").record(started.elapsed().as_secs_f64());
        outcome
    }

    async fn run_turn(
        &self,
        user_id: UserId,
        inbound: Inbound<'_>,
    ) -> Result<TurnOutcome, AgentError> {
        let started = Instant::now();
        let now = (self.clock)();
        // Deferred durability: the reply's commit, at the end of the turn,
        // flushes this one too; nothing is acknowledged before it.
        let mut tx = UserTx::begin_deferred(&self.pool, user_id).await?;
        // A new message is stored in the transaction that loads the
        // context: one commit, and it is durable before any model call.
        let (inbound_id, text, received_at) = match inbound {
            Inbound::New(text) => {
                let stored =
                    StoredMessage::insert(&mut tx, Direction::Inbound, text, "received", None)
                        .await?;
                (stored.id, text, stored.created_at)
            }
            Inbound::Stored { id, text, at } => (id, text, at),
        };
        let facts = TurnFacts::load(&mut tx, now)
            .await?
            .ok_or(AgentError::UnknownUser)?;
        let user = &facts.user;
        if user.status == UserStatus::Disabled {
            return Err(AgentError::DisabledUser);
        }
        let say = Wording::new(user.locale());

        let pending = match facts.has_pending_action {
            true => PendingAction::awaiting(&mut tx, now).await?,
            false => None,
        };
        if let Some(pending) = pending {
            if is_yes(text) || text.trim().eq_ignore_ascii_case(&pending.short_code) {
                PendingAction::resolve(&mut tx, pending.id, true).await?;
                let reply = self.run_confirmed(&mut tx, user, &pending, now, say).await;
                return self
                    .finish(tx, inbound_id, Turn::short(reply, TurnEnd::Confirmed))
                    .await
                    .map(|(outcome, _)| outcome);
            }
            PendingAction::resolve(&mut tx, pending.id, false).await?;
            if is_no(text) {
                let reply = say.pick(
                    "OK, cancelled. Nothing was changed.",
                    "D'accord, annulé. Rien n'a changé.",
                );
                return self
                    .finish(tx, inbound_id, Turn::short(reply, TurnEnd::Declined))
                    .await
                    .map(|(outcome, _)| outcome);
            }
        }

        if let Some(reply) = reminder_replies::parse(text)
            && let Some(reminder) =
                Reminder::delivered_since(&mut tx, now - reminder_replies::REPLY_WINDOW).await?
        {
            let answer = act_on_reminder(&mut tx, &reminder, reply, now, user, say).await?;
            return self
                .finish(tx, inbound_id, Turn::short(answer, TurnEnd::ReminderReply))
                .await
                .map(|(outcome, _)| outcome);
        }

        let mut request =
            planner::build_request(&mut tx, &facts, &self.registry, text, received_at, now).await?;
        let mut tokens_today = facts.tokens_today;
        tx.commit().await?;

        let connected = &facts.connected;
        let mut llm_calls = 0u32;
        let mut tool_calls = 0u32;
        let mut providers = Vec::new();
        let mut usages = Vec::new();
        let mut confirmations: Vec<String> = Vec::new();
        let deadline = started + self.budget.wall_time;

        let (reply, end) = loop {
            if llm_calls >= self.budget.max_llm_calls || Instant::now() >= deadline {
                break (budget_reply(&confirmations, say), TurnEnd::BudgetExhausted);
            }
            if tokens_today >= self.budget.daily_tokens {
                break (
                    say.pick(
                        "I've hit today's thinking limit for your account. Your message is saved; I'll be able to help again tomorrow.",
                        "J'ai atteint ma limite de réflexion pour aujourd'hui. Ton message est enregistré ; je pourrai t'aider à nouveau demain.",
                    ),
                    TurnEnd::TokenBudgetExhausted,
                );
            }
            llm_calls += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            // The chain cuts each provider's share from this deadline and
            // keeps the turn on the provider that answered last.
            let scope = CallScope {
                deadline: Some(deadline),
                answered_by: providers.last().map(String::as_str),
            };
            let call = self.llm.generate_scoped(&request, scope);
            let response = match tokio::time::timeout(remaining, call).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "every LLM provider failed");
                    break (
                        providers_failed_reply(&confirmations, say),
                        TurnEnd::ProvidersFailed,
                    );
                }
                Err(_) => break (budget_reply(&confirmations, say), TurnEnd::BudgetExhausted),
            };
            providers.push(response.provider.clone());
            tokens_today += u64::from(response.usage.total_tokens);
            usages.push((
                response.provider.clone(),
                response.model.clone(),
                response.usage,
            ));

            let calls: Vec<_> = response
                .message
                .function_calls()
                .into_iter()
                .cloned()
                .collect();
            let final_text = response.message.text();
            request.messages.push(response.message);
            if calls.is_empty() {
                let text = final_text.trim().to_string();
                break if text.is_empty() {
                    (budget_reply(&confirmations, say), TurnEnd::Answered)
                } else {
                    (text, TurnEnd::Answered)
                };
            }

            let mut responses = Vec::new();
            let mut question = None;
            for call in calls {
                let result = if tool_calls >= self.budget.max_tool_calls {
                    json!({"error": "tool call budget for this turn is spent; answer with what you have"})
                } else {
                    tool_calls += 1;
                    match self.registry.validate(&call.name, &call.args, connected) {
                        Err(e) => json!({"error": e.to_string()}),
                        Ok(tool) if tool.needs_confirmation() => {
                            let asked = self
                                .ask_confirmation(
                                    user_id,
                                    &call.name,
                                    &call.args,
                                    tool.describe_call(&call.args, say),
                                    now,
                                    say,
                                )
                                .await?;
                            question = Some(asked);
                            json!({"status": "awaiting the person's confirmation"})
                        }
                        Ok(tool) => {
                            let result = self
                                .run_tool(
                                    user_id,
                                    user,
                                    &call.name,
                                    tool,
                                    call.args.clone(),
                                    now,
                                    say,
                                )
                                .await?;
                            if let Some(c) = result.get("confirmation").and_then(Value::as_str) {
                                confirmations.push(c.to_string());
                            }
                            result
                        }
                    }
                };
                responses.push(Part::FunctionResponse(FunctionResponse {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    response: result,
                }));
                if question.is_some() {
                    break;
                }
            }
            if let Some(question) = question {
                let reply = match confirmations.is_empty() {
                    true => question,
                    false => format!("{} {question}", confirmations.join(" ")),
                };
                break (reply, TurnEnd::AwaitingConfirmation);
            }
            request.messages.push(Message {
                role: Role::User,
                parts: responses,
            });
        };

        let tx = UserTx::begin(&self.pool, user_id).await?;
        let turn = Turn {
            reply,
            end,
            llm_calls,
            tool_calls,
            providers,
            usages,
        };
        let (outcome, summary_due) = self.finish(tx, inbound_id, turn).await?;
        if summary_due {
            conversation::maybe_summarise(&self.pool, user_id, self.llm.as_ref(), &request).await;
        }
        Ok(outcome)
    }

    /// Stores the reply and the turn's token usage in one transaction.
    /// Returns whether the conversation is due for a new summary.
    async fn finish(
        &self,
        mut tx: UserTx,
        inbound_id: Uuid,
        turn: Turn,
    ) -> Result<(TurnOutcome, bool), AgentError> {
        for (provider, model, usage) in &turn.usages {
            record_llm_usage(
                &mut tx,
                provider,
                model,
                usage.input_tokens,
                usage.output_tokens,
                usage.total_tokens,
            )
            .await?;
        }
        let stored = StoredMessage::store_reply(&mut tx, inbound_id, &turn.reply).await?;
        let summary_due = conversation::summary_due(&mut tx).await?;
        tx.commit_durably().await?;
        Ok((
            TurnOutcome {
                reply: turn.reply,
                reply_message_id: stored.id,
                inbound_message_id: inbound_id,
                end: turn.end,
                llm_calls: turn.llm_calls,
                tool_calls: turn.tool_calls,
                providers: turn.providers,
            },
            summary_due,
        ))
    }

    /// Runs one tool in its own transaction: committed on success, rolled
    /// back on error or timeout; either way the model gets a result.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(name = "agent.tool", skip_all, fields(tool = %name))]
    async fn run_tool(
        &self,
        user_id: UserId,
        user: &User,
        name: &str,
        tool: Arc<dyn super::tools::Tool>,
        args: Value,
        now: DateTime<Utc>,
        say: Wording,
    ) -> Result<Value, AgentError> {
        let mut tx = UserTx::begin_deferred(&self.pool, user_id).await?;
        let result = {
            let mut ctx = ToolContext {
                tx: &mut tx,
                user,
                tz: user.tz(),
                now,
                say,
            };
            tokio::time::timeout(self.budget.tool_timeout, tool.call(&mut ctx, args)).await
        };
        let (value, outcome) = match result {
            Ok(Ok(value)) => {
                tx.commit().await?;
                (value, "ok")
            }
            Ok(Err(ToolError::Invalid(reason))) => {
                tx.rollback().await?;
                (json!({"error": reason}), "invalid")
            }
            Ok(Err(ToolError::Store(StoreError::NotFound))) => {
                tx.rollback().await?;
                (json!({"error": "not found"}), "invalid")
            }
            Ok(Err(ToolError::Store(StoreError::Conflict(reason)))) => {
                tx.rollback().await?;
                (json!({"error": reason}), "invalid")
            }
            Ok(Err(ToolError::Store(e))) => {
                tracing::error!(error = %e, "tool failed");
                tx.rollback().await?;
                (
                    json!({"error": "internal error while saving; nothing was changed"}),
                    "error",
                )
            }
            Err(_) => {
                tx.rollback().await?;
                (
                    json!({"error": "the tool took too long; nothing was changed"}),
                    "timeout",
                )
            }
        };
        metrics::counter!("agent_tool_calls_total", "tool" => name.to_string(), "outcome" => outcome).increment(1);
        Ok(value)
    }

    async fn ask_confirmation(
        &self,
        user_id: UserId,
        tool: &str,
        args: &Value,
        what: String,
        now: DateTime<Utc>,
        say: Wording,
    ) -> Result<String, AgentError> {
        let code = short_code();
        let mut tx = UserTx::begin(&self.pool, user_id).await?;
        PendingAction::create(&mut tx, tool, args, &what, &code, now + CONFIRMATION_WINDOW).await?;
        tx.commit().await?;
        Ok(say.pick(
            &format!("To confirm: {what}? Reply YES (or {code}) within 10 minutes; anything else cancels."),
            &format!("Pour confirmer : {what} ? Réponds OUI (ou {code}) dans les 10 minutes ; toute autre réponse annule."),
        ))
    }

    /// Runs a confirmed action inside the transaction that marked it done,
    /// so it runs exactly once even if "yes" arrives twice at the same time.
    async fn run_confirmed(
        &self,
        tx: &mut UserTx,
        user: &User,
        pending: &PendingAction,
        now: DateTime<Utc>,
        say: Wording,
    ) -> String {
        let Some(tool) = self.registry.get(&pending.tool_name) else {
            return say.pick(
                "That action is no longer available.",
                "Cette action n'est plus disponible.",
            );
        };
        let mut ctx = ToolContext {
            tx,
            user,
            tz: user.tz(),
            now,
            say,
        };
        match tokio::time::timeout(
            self.budget.tool_timeout,
            tool.call(&mut ctx, pending.arguments.clone()),
        )
        .await
        {
            Ok(Ok(value)) => value
                .get("confirmation")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| say.pick("Done.", "C'est fait.")),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "confirmed action failed");
                say.pick(
                    "Sorry, that didn't work. Nothing was changed.",
                    "Désolé, ça n'a pas marché. Rien n'a changé.",
                )
            }
            Err(_) => say.pick("Sorry, that took too long.", "Désolé, c'était trop long."),
        }
    }
}

/// Marks the reminder done or snoozes it, and says so in a few words.
async fn act_on_reminder(
    tx: &mut UserTx,
    reminder: &Reminder,
    reply: ReminderReply,
    now: DateTime<Utc>,
    user: &User,
    say: Wording,
) -> Result<String, AgentError> {
    match reply {
        ReminderReply::Done => {
            Reminder::mark_done(tx, reminder.id).await?;
            Ok(say.pick(
                &format!("Nice, done: {}.", reminder.body),
                &format!("Bravo, c'est fait : {}.", reminder.body),
            ))
        }
        ReminderReply::Snooze { minutes } => {
            let until = now + chrono::Duration::minutes(minutes);
            if reminder.recurrence.is_some() {
                // The series keeps its rhythm; the snooze is a one-off copy.
                Reminder::create(
                    tx,
                    NewReminder {
                        body: reminder.body.clone(),
                        due_at: until,
                        timezone: reminder.timezone.clone(),
                        local_time: None,
                        recurrence: None,
                        explicit_time: true,
                    },
                )
                .await?;
            } else {
                Reminder::reschedule(tx, reminder.id, until).await?;
            }
            let at = say.time(until.with_timezone(&user.tz()));
            Ok(say.pick(
                &format!("OK, I'll remind you again at {at}: {}.", reminder.body),
                &format!("D'accord, je te le rappelle à {at} : {}.", reminder.body),
            ))
        }
    }
}

fn normalise(text: &str) -> String {
    text.trim().trim_end_matches(['.', '!', ' ']).to_lowercase()
}

/// "yes" in the ways people text it.
pub fn is_yes(text: &str) -> bool {
    matches!(
        normalise(text).as_str(),
        "yes"
            | "y"
            | "yep"
            | "yeah"
            | "yes please"
            | "ok"
            | "okay"
            | "confirm"
            | "sure"
            | "oui"
            | "o"
            | "ouais"
            | "confirme"
            | "confirmer"
            | "d'accord"
            | "daccord"
            | "ok go"
            | "go"
    )
}

pub fn is_no(text: &str) -> bool {
    matches!(
        normalise(text).as_str(),
        "no" | "n" | "nope" | "cancel" | "stop it" | "non" | "annule" | "annuler" | "laisse tomber"
    )
}

fn short_code() -> String {
    let mut rng = rand::rng();
    // No 0/O or 1/I: codes are read on small screens.
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!(
        "{}{}",
        LETTERS[rng.random_range(0..LETTERS.len())] as char,
        rng.random_range(2..10)
    )
}

fn budget_reply(done: &[String], say: Wording) -> String {
    if done.is_empty() {
        say.pick(
            "Sorry, that took me too long. Your message is saved; could you say it more simply?",
            "Désolé, ça m'a pris trop de temps. Ton message est enregistré ; peux-tu le dire plus simplement ?",
        )
    } else {
        done.join(" ")
    }
}

fn providers_failed_reply(done: &[String], say: Wording) -> String {
    let sorry = say.pick(
        "Sorry, I can't think right now. Your message is saved; please try again in a few minutes.",
        "Désolé, je n'arrive pas à réfléchir pour l'instant. Ton message est enregistré ; réessaie dans quelques minutes.",
    );
    if done.is_empty() {
        sorry
    } else {
        format!("{} {sorry}", done.join(" "))
    }
}
