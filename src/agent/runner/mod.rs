//! The runner: one turn of conversation. It stores the person's message,
//! asks the model, runs the tools it calls (each with a timeout, each in
//! its own user-scoped transaction), feeds results back, and stops at a
//! final text or at the budget. Every turn ends with a short reply.
//!
//! Side effects that send, spend or delete in bulk never run from a model's
//! call: the runner stores a pending action and asks; only the person's
//! "yes" (or the short code) runs it, once. This is enforced here, in code,
//! whatever the model or a tool's output says, and judged by effect (see
//! `confirm`).
//!
//! The parts: this file runs the turn and the model loop; `round` answers
//! one round of tool calls; `execute` runs one tool call;
//! `journal` records and replays a turn's steps so a crash never repeats
//! a tool; `confirm` decides which calls wait for a "yes", holds them and
//! runs them once confirmed; `replies` answers what needs no model
//! (a pending action's "yes", a reminder's "done", canned replies); `turn`
//! holds the turn's types;
//! `stuck` asks a model for one next step after a focus check-in's STUCK;
//! `daily_budget` hands the turn to the free offline planner once the
//! person's daily tokens or money are spent.

mod confirm;
mod daily_budget;
mod execute;
mod journal;
mod remote;
mod replies;
mod round;
mod stuck;
mod turn;

pub use confirm::{MAX_UNCONFIRMED_REMOVALS, is_no, is_yes};
pub use turn::{AgentError, CONFIRMATION_WINDOW, TurnBudget, TurnEnd, TurnOutcome};

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::conversation;
use super::llm::{CallScope, FunctionCall, LlmClient, Message, Role};
use super::planner::{self, TurnFacts};
use super::tools::{ToolRegistry, Wording};
use crate::db::UserTx;
use crate::store::{
    AgentStep, InboundContent, StoredMessage, UserId, UserStatus, record_llm_usage,
};
use daily_budget::{DailySpend, Spent};
use journal::Journal;
use round::{Round, RoundEnd};
use turn::{Inbound, Turn};

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

    /// The provider clients behind the integration tools, when wired.
    pub fn integrations(&self) -> Option<&crate::integrations::Integrations> {
        self.registry.integrations()
    }

    /// Stores `text` as the person's message on the console channel
    /// (`nudge admin chat`, tests) and answers it; neither is ever texted.
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
        let (inbound_id, text, received_at, stored) = match inbound {
            Inbound::New(text) => {
                let stored = StoredMessage::insert_console(&mut tx, text).await?;
                (stored.id, text, stored.created_at, None)
            }
            Inbound::Stored { id, text, at } => {
                (id, text, at, InboundContent::load(&mut tx, id).await?)
            }
        };
        let facts = TurnFacts::load(&mut tx, now)
            .await?
            .ok_or(AgentError::UnknownUser)?;
        let user = &facts.user;
        if user.status == UserStatus::Disabled {
            return Err(AgentError::DisabledUser);
        }
        let say = Wording::new(user.locale());

        if let Some(reply) = replies::refuse_input(text, stored.as_ref(), say) {
            return self
                .finish(tx, inbound_id, Turn::short(reply, TurnEnd::InputRefused))
                .await
                .map(|(outcome, _)| outcome);
        }

        let mut journal = Journal::load(&mut tx, inbound_id, stored.is_some()).await?;
        if let Some(mut quick) = self
            .answer_without_model(&mut tx, &facts, &journal, text, now, say)
            .await?
        {
            if let Some(pending) = quick.run_after_commit.take() {
                // The "yes" commits before any provider is called: no
                // transaction is held across the call, and a retried
                // message finds the action done (at most once).
                tx.commit().await?;
                quick.reply = self
                    .run_confirmed_remote(&facts.user, &pending, &facts.connected, now, say)
                    .await?;
                tx = UserTx::begin(&self.pool, user_id).await?;
            }
            if let Some(session) = quick.stuck_on.take() {
                // The session's end commits before the model is asked.
                tx.commit().await?;
                self.suggest_next_step(&facts, &session, now, say, &mut quick)
                    .await;
                tx = UserTx::begin(&self.pool, user_id).await?;
            }
            return self
                .finish(tx, inbound_id, quick)
                .await
                .map(|(outcome, _)| outcome);
        }

        let mut request =
            planner::build_request(&mut tx, &facts, &self.registry, text, received_at, now).await?;
        tx.commit().await?;

        let mut turn = Turn::short(String::new(), TurnEnd::Answered);
        let mut spend = DailySpend::new(facts.tokens_today, facts.cost_today_micros);
        // Set once a daily budget ran out and the free planner took over.
        let mut spent: Option<Spent> = None;
        let mut removed = 0u32;
        let mut confirmations: Vec<String> = Vec::new();
        let deadline = started + self.budget.wall_time;

        let (reply, end) = loop {
            if turn.llm_calls >= self.budget.max_llm_calls || Instant::now() >= deadline {
                break (
                    replies::budget_reply(&confirmations, say),
                    TurnEnd::BudgetExhausted,
                );
            }
            let llm = match spend.over(&self.budget) {
                None => self.llm.clone(),
                Some(limit) => match self.llm.spends_nothing() {
                    Some(free) => {
                        spent.get_or_insert(limit);
                        free
                    }
                    None => {
                        limit.count();
                        break (daily_budget::spent_reply(say), limit.turn_end());
                    }
                },
            };
            let round = turn.llm_calls;
            turn.llm_calls += 1;
            let response = match journal.replayed_response(round) {
                // A retried turn: the model already answered this, and
                // tools may have acted on it.
                Some(recorded) => recorded,
                None => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    // The chain cuts each provider's share from this deadline
                    // and keeps the turn on the provider that answered last.
                    let scope = CallScope {
                        deadline: Some(deadline),
                        answered_by: turn.providers.last().map(String::as_str),
                    };
                    let generate = llm.generate_scoped(&request, scope);
                    match tokio::time::timeout(remaining, generate).await {
                        Ok(Ok(r)) => {
                            journal.remember_response(round, &r);
                            r
                        }
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "every LLM provider failed");
                            break (
                                replies::providers_failed_reply(&confirmations, say),
                                TurnEnd::ProvidersFailed,
                            );
                        }
                        Err(_) => {
                            break (
                                replies::budget_reply(&confirmations, say),
                                TurnEnd::BudgetExhausted,
                            );
                        }
                    }
                }
            };
            turn.providers.push(response.provider.clone());
            spend.add(&response);
            turn.usages.push((
                response.provider.clone(),
                response.model.clone(),
                response.usage,
            ));

            let calls: Vec<FunctionCall> = response
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
                    (
                        replies::budget_reply(&confirmations, say),
                        TurnEnd::Answered,
                    )
                } else {
                    (text, TurnEnd::Answered)
                };
            }

            let round = Round {
                user_id,
                facts: &facts,
                now,
                say,
                index: round,
            };
            let responses = match self
                .run_round(
                    round,
                    &calls,
                    &mut turn,
                    &mut journal,
                    &mut removed,
                    &mut confirmations,
                )
                .await?
            {
                RoundEnd::Continue(responses) => responses,
                RoundEnd::Stop(reply, end) => break (reply, end),
            };
            request.messages.push(Message {
                role: Role::User,
                parts: responses,
            });
        };

        turn.reply = match spent {
            Some(limit) => {
                limit.count();
                format!("{reply} {}", daily_budget::simple_mode_note(say))
            }
            None => reply,
        };
        turn.end = end;
        turn.forget_steps = journal.touched();
        let tx = UserTx::begin(&self.pool, user_id).await?;
        let (outcome, summary_due) = self.finish(tx, inbound_id, turn).await?;
        if summary_due {
            // Past a daily budget the summary is made without a paid model
            // too (the offline planner's answer means "keep their words").
            let summariser = match spend.over(&self.budget) {
                Some(_) => self
                    .llm
                    .spends_nothing()
                    .unwrap_or_else(|| self.llm.clone()),
                None => self.llm.clone(),
            };
            conversation::maybe_summarise(&self.pool, user_id, summariser.as_ref(), &request).await;
        }
        Ok(outcome)
    }

    /// Stores the reply and the turn's token usage in one transaction, and
    /// forgets the turn's journal: with its reply stored, it is never
    /// retried. Returns whether the conversation is due for a new summary.
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
        if turn.forget_steps {
            AgentStep::forget(&mut tx, inbound_id).await?;
        }
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
}
