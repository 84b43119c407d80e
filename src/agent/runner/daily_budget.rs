//! The person's daily budgets, in tokens and in money: what they spent
//! today (from `llm_usage`, priced with the table in `llm::prices`) plus
//! what this turn spends, checked before every model call.
//!
//! Over either budget, paid models are not asked again until the person's
//! local midnight; the offline planner, which costs nothing, answers
//! instead, and the reply ends with one sentence saying so. Only when no
//! such planner is configured does the turn answer with the budget
//! sentence alone.

use super::{TurnBudget, TurnEnd};
use crate::agent::llm::{LlmResponse, prices};
use crate::agent::tools::Wording;

/// Which daily budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spent {
    Tokens,
    Money,
}

impl Spent {
    fn label(self) -> &'static str {
        match self {
            Spent::Tokens => "tokens",
            Spent::Money => "cost",
        }
    }

    /// How a turn ends when nothing free can answer it.
    pub(super) fn turn_end(self) -> TurnEnd {
        match self {
            Spent::Tokens => TurnEnd::TokenBudgetExhausted,
            Spent::Money => TurnEnd::CostBudgetExhausted,
        }
    }

    /// Counts a turn that reached the budget (`agent_daily_budget_turns_total`).
    pub(super) fn count(self) {
        metrics::counter!("agent_daily_budget_turns_total", "budget" => self.label()).increment(1);
    }
}

/// Today's spending, kept up to date through the turn.
#[derive(Debug, Clone, Copy)]
pub(super) struct DailySpend {
    tokens: u64,
    cost_micros: u64,
}

impl DailySpend {
    pub(super) fn new(tokens: u64, cost_micros: u64) -> Self {
        DailySpend {
            tokens,
            cost_micros,
        }
    }

    /// Adds one model answer (unpriced models cost nothing).
    pub(super) fn add(&mut self, response: &LlmResponse) {
        self.tokens += u64::from(response.usage.total_tokens);
        self.cost_micros += prices::cost_micros(&response.model, response.usage).unwrap_or(0);
    }

    /// The budget that ran out, if one did.
    pub(super) fn over(&self, budget: &TurnBudget) -> Option<Spent> {
        if self.tokens >= budget.daily_tokens {
            Some(Spent::Tokens)
        } else if self.cost_micros >= budget.daily_cost_micros {
            Some(Spent::Money)
        } else {
            None
        }
    }
}

/// The whole reply when nothing free can answer.
pub(super) fn spent_reply(say: Wording) -> String {
    say.pick(
        "I've hit today's thinking limit for your account. Your message is saved; I'll be able to help again tomorrow.",
        "J'ai atteint ma limite de réflexion pour aujourd'hui. Ton message est enregistré ; je pourrai t'aider à nouveau demain.",
    )
}

/// Added to a reply the offline planner made because a budget ran out.
pub(super) fn simple_mode_note(say: Wording) -> String {
    say.pick(
        "(I've hit today's thinking limit, so I'm on simple rules until tomorrow.)",
        "(J'ai atteint ma limite de réflexion du jour : je fonctionne en mode simple jusqu'à demain.)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::llm::{Message, Usage};

    fn answer(model: &str, input: u32, output: u32) -> LlmResponse {
        LlmResponse {
            message: Message::model_text("ok"),
            usage: Usage {
                input_tokens: input,
                output_tokens: output,
                total_tokens: input + output,
            },
            provider: "gemini".into(),
            model: model.into(),
        }
    }

    #[test]
    fn money_is_counted_from_the_price_table() {
        let budget = TurnBudget {
            daily_tokens: 1_000_000,
            daily_cost_micros: 10_000,
            ..TurnBudget::default()
        };
        let mut spend = DailySpend::new(0, 9_000);
        // An unpriced (local) model costs nothing.
        spend.add(&answer("llama-3.2-1b-instruct", 100_000, 10_000));
        assert_eq!(spend.over(&budget), None);
        // 2,000 in × $1.50/M + 200 out × $9.00/M = 3,000 + 1,800 micros.
        spend.add(&answer("gemini-3.5-flash", 2_000, 200));
        assert_eq!(spend.cost_micros, 13_800);
        assert_eq!(spend.over(&budget), Some(Spent::Money));
    }

    #[test]
    fn tokens_are_checked_first() {
        let budget = TurnBudget {
            daily_tokens: 100,
            daily_cost_micros: 1,
            ..TurnBudget::default()
        };
        assert_eq!(DailySpend::new(100, 5).over(&budget), Some(Spent::Tokens));
        assert_eq!(DailySpend::new(99, 5).over(&budget), Some(Spent::Money));
        assert_eq!(DailySpend::new(99, 0).over(&budget), None);
    }
}
