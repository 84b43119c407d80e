//! Per-user data. Every function here that touches a person's rows takes a
//! [`UserTx`](crate::db::UserTx), so row-level security scopes it; the few
//! cross-user lookups call `SECURITY DEFINER` functions that return ids only.

pub mod account_deletions;
pub mod admin_views;
mod agent_steps;
mod audit;
mod bookmarks;
mod conversation;
pub mod cross_user;
mod expenses;
mod focus;
pub mod follow_through;
pub mod integrations;
pub mod knowledge;
mod knowledge_runs;
mod lists;
mod llm_usage;
mod memories;
mod message_status;
// Its `sms_columns!` serves `message_sending`, declared after it, too.
#[macro_use]
mod messages;
mod message_sending;
pub mod nudges;
mod oauth_states;
mod pending_actions;
pub mod person_data;
mod phones;
pub mod recurrence;
mod reminders;
pub mod resealing;
mod tasks;
mod turn_facts;
mod turn_leases;
mod users;

pub use agent_steps::{AgentStep, InboundContent, StepKind};
pub use audit::{Actor, Outcome, record_audit, record_audit_outcome};
pub use bookmarks::Bookmark;
pub use conversation::ConversationSummary;
pub use cross_user::user_id_for_phone;
pub use expenses::{CategoryTotal, Expense};
pub use focus::{FocusSession, FocusStatus};
pub use follow_through::{FollowThrough, FollowThroughChange, Proactive};
pub use knowledge_runs::{KnowledgeRun, RunCounts, RunStatus};
pub use lists::{DEFAULT_LIST, ListItem, normalise_list_name};
pub use llm_usage::{ModelUsage, record_llm_usage};
pub use memories::Memory;
pub use message_sending::{Claim, Handover, Recipient, RecipientNumber};
pub use message_status::{Direction, MessageStatus, UnknownStatus};
pub use messages::{SmsMessage, StoredMessage};
pub use nudges::NudgeEnd;
pub use pending_actions::PendingAction;
pub use phones::{PhoneError, PhoneNumber, PhoneRecord};
pub use reminders::{NewReminder, Reminder, ReminderStatus};
pub use tasks::{Goal, Task};
pub use turn_facts::StoredTurnFacts;
pub use turn_leases::TurnLease;
pub use users::{Locale, Timezone, User, UserId, UserStatus};

/// Errors of the store that callers act on; anything else is a database error.
///
/// A database error displays (and debugs) in its redacted form and exposes
/// no source: the driver's own `Debug` carries the failing row, and an
/// error chain printed by a caller must not reach it.
#[derive(thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("{}", crate::db::redact(.0))]
    Database(sqlx::Error),
    /// A job that goes with the row could not be enqueued.
    #[error(transparent)]
    Queue(#[from] crate::db::queue::QueueError),
}

impl StoreError {
    /// True when the database connection went away under the work.
    pub fn connection_lost(&self) -> bool {
        match self {
            StoreError::Database(e) => crate::db::connection_lost(e),
            StoreError::Queue(e) => e.connection_lost(),
            StoreError::Conflict(_) | StoreError::NotFound => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl std::fmt::Debug for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(why) => f.debug_tuple("Conflict").field(why).finish(),
            StoreError::NotFound => f.write_str("NotFound"),
            StoreError::Database(e) => f
                .debug_tuple("Database")
                .field(&crate::db::redact(e))
                .finish(),
            StoreError::Queue(e) => f.debug_tuple("Queue").field(e).finish(),
        }
    }
}

/// True when `e` is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
