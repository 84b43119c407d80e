//! What a turn is made of: its limits, how it ended, what it produced,
//! and how it can fail.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::llm::Usage;
use crate::store::StoreError;

/// Limits of one turn.
#[derive(Debug, Clone)]
pub struct TurnBudget {
    pub max_llm_calls: u32,
    pub max_tool_calls: u32,
    pub wall_time: Duration,
    pub tool_timeout: Duration,
    /// Tokens per person per local day, checked before every LLM call.
    pub daily_tokens: u64,
    /// Estimated spend per person per local day, in millionths of a
    /// dollar, checked with the tokens.
    pub daily_cost_micros: u64,
}

impl Default for TurnBudget {
    fn default() -> Self {
        TurnBudget {
            max_llm_calls: 4,
            max_tool_calls: 8,
            wall_time: Duration::from_secs(20),
            tool_timeout: Duration::from_secs(5),
            daily_tokens: 200_000,
            daily_cost_micros: crate::config::DEFAULT_DAILY_COST_BUDGET_MICROS,
        }
    }
}

/// How long a pending action waits for its "yes".
pub const CONFIRMATION_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// What a message to answer is: new console text, or one the SMS path stored.
pub(super) enum Inbound<'a> {
    New(&'a str),
    Stored {
        id: Uuid,
        text: &'a str,
        at: DateTime<Utc>,
    },
}

/// What a turn produced, before it is stored.
pub(super) struct Turn {
    pub reply: String,
    pub end: TurnEnd,
    pub llm_calls: u32,
    pub tool_calls: u32,
    pub providers: Vec<String>,
    pub usages: Vec<(String, String, Usage)>,
    /// The turn has journal steps to forget once its reply is stored.
    pub forget_steps: bool,
    /// A tool read untrusted content in an earlier round: from now on
    /// anything but a private read waits for the person's "yes".
    pub read_untrusted: bool,
    /// A confirmed action that calls a provider: it runs after the "yes"
    /// is committed, with no transaction open (see `remote`).
    pub run_after_commit: Option<crate::store::PendingAction>,
    /// "STUCK" ended this session: once that is committed, a model (if
    /// any) is asked for one next step (see `stuck`).
    pub stuck_on: Option<crate::store::FocusSession>,
}

impl Turn {
    pub fn short(reply: String, end: TurnEnd) -> Self {
        Turn {
            reply,
            end,
            llm_calls: 0,
            tool_calls: 0,
            providers: Vec::new(),
            usages: Vec::new(),
            forget_steps: false,
            read_untrusted: false,
            run_after_commit: None,
            stuck_on: None,
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
    /// The person's daily token budget is spent and nothing free could
    /// answer (with the offline planner in the chain, it answers instead).
    TokenBudgetExhausted,
    /// The same for the daily budget in money.
    CostBudgetExhausted,
    /// Every provider failed.
    ProvidersFailed,
    /// "done"/"snooze" acted on the reminder just delivered.
    ReminderReply,
    /// "done"/"10 more"/"stuck" answered a focus check-in.
    FocusReply,
    /// The input cannot be taken as it is (pictures only, over a limit);
    /// the reply says what would work.
    InputRefused,
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
