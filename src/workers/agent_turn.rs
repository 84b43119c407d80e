//! `agent_turn`: answer a person's oldest unanswered message and deliver
//! the reply.
//!
//! Turns of one person run one at a time, in arrival order: a job takes
//! that person's advisory lock (without waiting) and drains their mailbox,
//! oldest unanswered message first. A job that finds the lock taken simply
//! ends: the holder answers its message too, and re-checks the mailbox
//! after releasing the lock, so a message that arrives at that moment is
//! not left behind. Waiting jobs hold no connection and no worker slot.
//! Replies left unsent by an earlier crash go out first.
//! A retried job never runs the model twice for one message: the reply is
//! stored with the key `reply:<message id>` before anything is sent.

use apalis::prelude::{Attempt, BoxDynError, Data, TaskId};
use sqlx::PgPool;

use crate::agent::AgentError;
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::AgentTurnJob;
use crate::sms_router::outbound::{self, DeliveryError};
use crate::store::{SmsMessage, UserId};

/// The apalis handler.
pub async fn handle(
    job: AgentTurnJob,
    state: Data<AppState>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    super::retry::or_defer(run(&state, &job).await, &state.db, &task_id, &attempt).await
}

#[derive(Debug, thiserror::Error)]
pub enum TurnJobError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("agent: {0}")]
    Agent(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<crate::store::StoreError> for TurnJobError {
    fn from(e: crate::store::StoreError) -> Self {
        TurnJobError::Delivery(DeliveryError::Store(e))
    }
}

/// One job's work; see the module docs.
#[tracing::instrument(name = "job.agent_turn", skip_all, fields(user_id = %job.user_id))]
pub async fn run(state: &AppState, job: &AgentTurnJob) -> Result<(), TurnJobError> {
    let user = UserId(job.user_id);
    loop {
        let Some(lock) = PersonLock::try_acquire(&state.db, user).await? else {
            metrics::counter!("agent_turn_jobs_total", "end" => "handed_to_holder").increment(1);
            return Ok(());
        };
        let drained = drain(state, user).await;
        lock.release().await;
        drained?;
        if next_unanswered(state, user).await?.is_none() {
            return Ok(());
        }
    }
}

async fn next_unanswered(
    state: &AppState,
    user: UserId,
) -> Result<Option<SmsMessage>, TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    let next = SmsMessage::oldest_unanswered(&mut tx).await?;
    tx.commit().await?;
    Ok(next)
}

/// Answers every waiting message, oldest first.
async fn drain(state: &AppState, user: UserId) -> Result<(), TurnJobError> {
    deliver_unsent(state, user).await?;
    while let Some(message) = next_unanswered(state, user).await? {
        answer(state, user, message).await?;
    }
    Ok(())
}

async fn answer(state: &AppState, user: UserId, message: SmsMessage) -> Result<(), TurnJobError> {
    // How long the message waited for a worker: queueing, not thinking.
    let waited = (chrono::Utc::now() - message.created_at)
        .to_std()
        .unwrap_or_default();
    metrics::histogram!("agent_turn_pickup_seconds").record(waited.as_secs_f64());
    let text = with_media_note(&message.body, &message.media);
    let outcome = match state
        .agent
        .answer(user, message.id, &text, message.created_at)
        .await
    {
        Ok(o) => o,
        Err(AgentError::DisabledUser | AgentError::UnknownUser) => {
            let mut tx = UserTx::begin(&state.db, user).await?;
            SmsMessage::set_status(&mut tx, message.id, "ignored").await?;
            tx.commit().await?;
            return Ok(());
        }
        Err(e) => return Err(TurnJobError::Agent(e.to_string())),
    };
    metrics::counter!("agent_turn_jobs_total", "end" => format!("{:?}", outcome.end)).increment(1);
    outbound::deliver(state, user, outcome.reply_message_id).await?;
    Ok(())
}

/// Replies stored but never handed to the provider (a crash, a provider
/// outage) leave before anything newer, keeping the person's order.
async fn deliver_unsent(state: &AppState, user: UserId) -> Result<(), TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    let unsent = SmsMessage::unsent_replies(&mut tx).await?;
    tx.commit().await?;
    for message in unsent {
        outbound::deliver(state, user, message.id).await?;
    }
    Ok(())
}

/// The agent is told when a picture came with the text.
fn with_media_note(body: &str, media: &serde_json::Value) -> String {
    let count = media.as_array().map(Vec::len).unwrap_or(0);
    match count {
        0 => body.to_string(),
        1 => format!("{body}\n[The person also sent an image.]"),
        n => format!("{body}\n[The person also sent {n} images.]"),
    }
}

/// A session-level advisory lock on a dedicated connection: held across the
/// model calls of a turn without holding a transaction open, and released
/// by PostgreSQL itself if this worker dies.
struct PersonLock {
    /// `None` once released.
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    key: String,
}

impl PersonLock {
    /// `None` when another job holds it.
    async fn try_acquire(pool: &PgPool, user: UserId) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        let key = format!("turn:{user}");
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock(hashtextextended($1, 0))")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(got.then_some(PersonLock {
            conn: Some(conn),
            key,
        }))
    }

    async fn release(mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let released = sqlx::query("select pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&self.key)
            .execute(&mut *conn)
            .await;
        if released.is_err() {
            // Never hand a connection that may still hold the lock back to the pool.
            drop(conn.detach());
        }
    }
}

impl Drop for PersonLock {
    /// A turn cancelled mid-way (shutdown timeout, aborted task) must not
    /// return a locked connection to the pool: closing it releases the lock.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
