//! The user-scoped transaction: the only way per-user rows are read or written.
//!
//! `set_config('app.user_id', …, true)` is transaction-local, so a pooled
//! connection never carries one person's scope into the next transaction.
//! Row-level security policies compare every row's `user_id` with it.
//!
//! A batch transaction ([`UserTx::begin_batch`]) visits people one at a
//! time: [`UserTx::visit`] opens a savepoint and moves the scope to the next
//! person, so at every moment PostgreSQL still sees exactly one person's
//! rows, one person's failure is undone alone, and a hundred people's work
//! costs one commit instead of a hundred.

use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::UserId;
use super::role::AppRole;

/// A transaction in which PostgreSQL sees exactly one person's rows.
pub struct UserTx {
    tx: Transaction<'static, Postgres>,
    user_id: UserId,
    /// Began with `begin_deferred`: its commit does not wait for the disk.
    deferred: bool,
    /// How the last visit ended, not yet said to PostgreSQL: the next
    /// visit (or [`Self::end_visits`], or the commit) says it in the same
    /// round trip, so a visit costs one round trip instead of two.
    visit_ending: Option<&'static str>,
}

impl UserTx {
    /// Begins a transaction scoped to `user_id`.
    pub async fn begin(pool: &PgPool, user_id: UserId) -> Result<Self, sqlx::Error> {
        Self::begin_with(pool, user_id, false).await
    }

    /// Begins a scoped transaction whose commit does not wait for the disk.
    ///
    /// Use it only for a step that a later, ordinary commit of the same flow
    /// acknowledges: WAL is flushed in order, so that later commit makes
    /// this one durable too, and nothing is acknowledged before it. An
    /// agent turn's intermediate steps are such steps; its stored reply is
    /// the acknowledging commit.
    pub async fn begin_deferred(pool: &PgPool, user_id: UserId) -> Result<Self, sqlx::Error> {
        Self::begin_with(pool, user_id, true).await
    }

    /// Begins a scoped transaction that also drops to `role`'s rights
    /// (`SET LOCAL ROLE`): for an operator on the owner connection, which
    /// would otherwise bypass row-level security. Inside it the operator
    /// sees and changes exactly what the application would for this person.
    pub async fn begin_as(
        pool: &PgPool,
        user_id: UserId,
        role: &AppRole,
    ) -> Result<Self, sqlx::Error> {
        let mut tx = Self::begin_with(pool, user_id, false).await?;
        // `set_config('role', …, true)` is `SET LOCAL ROLE` with the name
        // bound, not spliced into the statement; it ends with the
        // transaction, so the pooled owner connection gets its rights back.
        sqlx::query("select set_config('role', $1, true)")
            .bind(role.as_str())
            .execute(tx.conn())
            .await?;
        Ok(tx)
    }

    /// Begins a transaction scoped to nobody (row-level security shows no
    /// rows) until [`Self::visit`] names the first person.
    pub async fn begin_batch(pool: &PgPool) -> Result<Self, sqlx::Error> {
        Self::begin_with(pool, UserId(Uuid::nil()), false).await
    }

    /// Moves the scope to `user_id` behind a fresh savepoint, in one round
    /// trip that also ends the previous visit as [`Self::leave`] said.
    /// End the visit with [`Self::leave`]: a failed visit's work is undone
    /// alone and the transaction goes on.
    pub async fn visit(&mut self, user_id: UserId) -> Result<(), sqlx::Error> {
        // A `Uuid` formats as hex digits and dashes only: safe to inline.
        let statement = format!(
            "{}savepoint person_visit; select set_config('app.user_id', '{}', true)",
            self.visit_ending.take().unwrap_or_default(),
            user_id.0.hyphenated()
        );
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *self.tx)
            .await?;
        self.user_id = user_id;
        Ok(())
    }

    /// Ends the visit [`Self::visit`] began: keeps its work, or undoes it
    /// when `keep` is false. Said to PostgreSQL with the next visit; call
    /// [`Self::end_visits`] before any other statement.
    pub fn leave(&mut self, keep: bool) {
        self.visit_ending = Some(if keep {
            "release savepoint person_visit; "
        } else {
            "rollback to savepoint person_visit; release savepoint person_visit; "
        });
        self.user_id = UserId(Uuid::nil());
    }

    /// Says how the last visit ended, and moves the scope back to nobody:
    /// for the batch's own statements after its visits.
    pub async fn end_visits(&mut self) -> Result<(), sqlx::Error> {
        if let Some(ending) = self.visit_ending.take() {
            let statement = format!("{ending}select set_config('app.user_id', '', true)");
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn begin_with(
        pool: &PgPool,
        user_id: UserId,
        deferred: bool,
    ) -> Result<Self, sqlx::Error> {
        let extra = if deferred {
            "; set local synchronous_commit = off"
        } else {
            ""
        };
        // One round trip: BEGIN and the scope travel together. A `Uuid`
        // formats as hex digits and dashes only, so inlining it is safe.
        let statement = format!(
            "begin; select set_config('app.user_id', '{}', true){extra}",
            user_id.0.hyphenated()
        );
        let tx = pool.begin_with(AssertSqlSafe(statement)).await?;
        Ok(Self {
            tx,
            user_id,
            deferred,
            visit_ending: None,
        })
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
        debug_assert!(
            self.visit_ending.is_none(),
            "a statement after `leave` and before `end_visits` would run in the last person's scope"
        );
        &mut self.tx
    }

    /// Commits; a visit left undone is undone first.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.end_visits().await?;
        self.tx.commit().await
    }

    /// Commits and waits for the disk, even when begun deferred: this is
    /// the commit that acknowledges. A visit left undone is undone first.
    pub async fn commit_durably(mut self) -> Result<(), sqlx::Error> {
        self.end_visits().await?;
        if self.deferred {
            sqlx::query("set local synchronous_commit = on")
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }

    /// Marks a savepoint: what follows can be undone alone
    /// ([`Self::rollback_to_savepoint`]) while the transaction and the work
    /// before it stay. Savepoints nest; a release or rollback applies to the
    /// most recent one still open.
    pub async fn savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("savepoint user_tx_step")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Keeps the work since the most recent [`Self::savepoint`].
    pub async fn release_savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("release savepoint user_tx_step")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Undoes the work since the most recent [`Self::savepoint`]; the
    /// transaction goes on. The savepoint itself stays (as in SQL) and ends
    /// with the transaction; a later savepoint nests inside it.
    pub async fn rollback_to_savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("rollback to savepoint user_tx_step")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
