//! Per-user data. Every function here that touches a person's rows takes a
//! [`UserTx`](crate::db::UserTx), so row-level security scopes it; the few
//! cross-user lookups call `SECURITY DEFINER` functions that return ids only.

mod audit;
mod phones;
mod users;

pub use audit::{Actor, record_audit};
pub use phones::{PhoneError, PhoneNumber, PhoneRecord, user_id_for_phone};
pub use users::{Locale, Timezone, User, UserId, UserStatus};

/// Errors of the store that callers act on; anything else is a database error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// True when `e` is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
