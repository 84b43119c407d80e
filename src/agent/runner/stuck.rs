//! "STUCK" after a focus check-in, with a model configured: one concrete
//! next step from the model, short. Asked after the session's end is
//! committed (no transaction is held across the call), within the turn's
//! tool timeout and the person's daily budget; when no model answers (none
//! configured, the offline planner, a failure, an empty or long answer)
//! the reply is the one made without it (the first step the person wrote,
//! or a two-minute start).

use chrono::{DateTime, Utc};

use super::Agent;
use super::daily_budget::DailySpend;
use super::turn::Turn;
use crate::agent::llm::{CallScope, LlmRequest, LlmResponse, Message, TurnContext, offline};
use crate::agent::planner::TurnFacts;
use crate::agent::tools::Wording;
use crate::store::{FocusSession, Locale};

/// Longest suggestion kept: one step, not a plan.
const MAX_STEP_CHARS: usize = 160;

impl Agent {
    /// Replaces the turn's reply with the model's next step for
    /// `session`, when a model gives a usable one; records its usage.
    pub(super) async fn suggest_next_step(
        &self,
        facts: &TurnFacts,
        session: &FocusSession,
        now: DateTime<Utc>,
        say: Wording,
        turn: &mut Turn,
    ) {
        let spend = DailySpend::new(facts.tokens_today, facts.cost_today_micros);
        if spend.over(&self.budget).is_some() {
            return;
        }
        let request = next_step_request(facts, session, now);
        let deadline = std::time::Instant::now() + self.budget.tool_timeout;
        let scope = CallScope {
            deadline: Some(deadline),
            answered_by: None,
        };
        let asked = self.llm.generate_scoped(&request, scope);
        let response = match tokio::time::timeout(self.budget.tool_timeout, asked).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "no model for the STUCK suggestion");
                return;
            }
            Err(_) => return,
        };
        let Some(step) = usable_step(&response) else {
            return;
        };
        turn.llm_calls += 1;
        turn.providers.push(response.provider.clone());
        turn.usages
            .push((response.provider, response.model, response.usage));
        let task = &session.task;
        turn.reply = say.pick(
            &format!("Stuck is normal. One small step: {step} Then text \"starting 10 min on {task}\"."),
            &format!("Bloquer, c'est normal. Un petit pas : {step} Puis écris « je commence 10 min sur {task} »."),
        );
    }
}

fn next_step_request(facts: &TurnFacts, session: &FocusSession, now: DateTime<Utc>) -> LlmRequest {
    let user = &facts.user;
    let language = match user.locale() {
        Locale::Fr => "French",
        _ => "English",
    };
    let system = format!(
        "The person has ADHD and is stuck on a task. Reply with ONE concrete next step \
         they can start right now and finish in two to five minutes: a single sentence \
         of at most 20 words, in {language}, no preamble, no list, no questions."
    );
    let asked = match &session.first_step {
        Some(first) => format!(
            "Task: {}. The first step they had named: {first}. They are stuck.",
            session.task
        ),
        None => format!("Task: {}. They are stuck.", session.task),
    };
    LlmRequest {
        system,
        messages: vec![Message::user_text(asked)],
        tools: Vec::new(),
        context: TurnContext {
            now,
            timezone: user.tz(),
            locale: user.locale(),
        },
    }
}

/// The suggestion, one line ending in a full stop, when the answer is a
/// real model's short text.
fn usable_step(response: &LlmResponse) -> Option<String> {
    if response.provider == offline::PROVIDER || !response.message.function_calls().is_empty() {
        return None;
    }
    let text = response.message.text();
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() > MAX_STEP_CHARS {
        return None;
    }
    Some(match line.ends_with(['.', '!', '?']) {
        true => line.to_string(),
        false => format!("{line}."),
    })
}
