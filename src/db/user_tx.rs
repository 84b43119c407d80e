//! The user-scoped transaction: the only way per-user rows are read or written.
//!
//! `set_config('app.user_id', …, true)` is transaction-local, so a pooled
//! connection never carries one person's scope into the next transaction.
//! Row-level security policies compare every row's `user_id` with it.

use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::store::UserId;

/// A transaction in which PostgreSQL sees exactly one person's rows.
pub struct UserTx {
    tx: Transaction<'static, Postgres>,
    user_id: UserId,
}

impl UserTx {
    /// Begins a transaction scoped to `user_id`.
    pub async fn begin(pool: &PgPool, user_id: UserId) -> Result<Self, sqlx::Error> {
        // One round trip: BEGIN and the scope travel together. A `Uuid`
        // formats as hex digits and dashes only, so inlining it is safe.
        let statement = format!(
            "begin; select set_config('app.user_id', '{}', true)",
            user_id.0.hyphenated()
        );
        let tx = pool.begin_with(AssertSqlSafe(statement)).await?;
        Ok(Self { tx, user_id })
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The user's id as a raw `Uuid`, for binding in queries.
    pub fn uuid(&self) -> Uuid {
        self.user_id.0
    }

    /// The connection to run this user's queries on.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}
