//! The language models' settings: Gemini, the OpenAI-compatible fallback,
//! budgets and deadlines.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::{redact_opt_url, redact_url};

pub const DEFAULT_GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// Gemini 3.5 Flash-Lite: stable, no shutdown date announced (late 2026),
/// the fastest and cheapest current Gemini with function calling; see the
/// README's model table.
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-3.5-flash-lite";
/// The models, their deadlines and the daily budgets. No `Default`: a
/// zero budget would silently switch the models off.
#[derive(Clone)]
pub struct LlmConfig {
    pub gemini_api_key: Option<SecretString>,
    pub gemini_base_url: String,
    pub gemini_model: String,
    pub gemini_thinking_level: String,
    pub fallback_base_url: Option<String>,
    pub fallback_api_key: Option<SecretString>,
    pub fallback_model: Option<String>,
    /// The longest answer asked of the fallback, in tokens.
    pub fallback_max_tokens: u32,
    pub daily_token_budget: u64,
    /// Estimated spend per person per local day, in millionths of a US
    /// dollar (`LLM_DAILY_COST_BUDGET_USD`), from the price table.
    pub daily_cost_budget_micros: u64,
    /// What all remote providers together may take for one model call,
    /// retries included, before the offline planner answers.
    pub remote_budget: Duration,
    /// The most one remote provider may take within that budget (`None`:
    /// what is left of the budget, less a reserve for the next provider).
    pub provider_deadline: Option<Duration>,
}

/// What all remote models together may take for one call, retries
/// included (`LLM_REMOTE_BUDGET_SECONDS`; shared out by
/// `agent::llm::chain`). Flash-class Gemini models answer one call of an
/// SMS turn in 1–2 s, so the primary's 3 s window is ample; with every
/// remote model hung, the offline planner still answers within the 5 s that
/// 99 % of turns take.
pub const DEFAULT_LLM_REMOTE_BUDGET: Duration = Duration::from_secs(4);

/// The longest answer asked of the OpenAI-compatible fallback, in tokens
/// (`LLM_FALLBACK_MAX_TOKENS`): an SMS reply of three segments is about 120
/// tokens and a round of function calls a few hundred. Without a cap a
/// local model may write until its context is full, which on a CPU takes
/// minutes.
pub const DEFAULT_LLM_FALLBACK_MAX_TOKENS: u32 = 512;

/// $0.20 per person and local day: about 100 one-tool turns on the
/// default model, so the token budget (about 50 such turns) binds first
/// there and this one on pricier models.
pub const DEFAULT_DAILY_COST_BUDGET_MICROS: u64 = 200_000;

/// Fields added later are left out (`..`) rather than printed unredacted.
impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("gemini_api_key", &self.gemini_api_key)
            .field("gemini_base_url", &redact_url(&self.gemini_base_url))
            .field("gemini_model", &self.gemini_model)
            .field("gemini_thinking_level", &self.gemini_thinking_level)
            .field(
                "fallback_base_url",
                &redact_opt_url(&self.fallback_base_url),
            )
            .field("fallback_api_key", &self.fallback_api_key)
            .field("fallback_model", &self.fallback_model)
            .field("fallback_max_tokens", &self.fallback_max_tokens)
            .field("daily_token_budget", &self.daily_token_budget)
            .field("daily_cost_budget_micros", &self.daily_cost_budget_micros)
            .field("remote_budget", &self.remote_budget)
            .field("provider_deadline", &self.provider_deadline)
            .finish_non_exhaustive()
    }
}
