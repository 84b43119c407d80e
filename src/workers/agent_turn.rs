//! `agent_turn`: answer a person's oldest unanswered message and deliver
//! the reply.
//!
//! Turns of one person run one at a time, in arrival order: a job takes
//! that person's turn lease (a row in `turn_leases`, without waiting) and
//! drains their mailbox, oldest unanswered message first. A job that finds
//! the lease taken simply ends: the holder answers its message too, and
//! re-checks the mailbox after releasing the lease, so a message that
//! arrives at that moment is not left behind. Waiting jobs hold no
//! connection and no worker slot, and neither does the holder between its
//! steps: each step is a short transaction of its own, so eight turns in
//! flight need at most eight connections, never sixteen.
//!
//! The lease is held by the job's task id: a job that crashed and is
//! retried takes its own lease back at once; anyone else waits for it to
//! expire ([`LEASE_TTL`]), renewed before every message and delivery.
//!
//! Replies left unsent by an earlier crash or a provider outage go out
//! first. A retried job never runs the model twice for one message: the
//! reply is stored with the key `reply:<message id>` before anything is
//! sent. A message whose turn panics (a poison message) is answered with a
//! short apology and not retried; everyone else's turns go on.
//! A message kept while its sender was over the rate limit is released by
//! its own, delayed job.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use apalis::prelude::TaskId;
use futures::FutureExt;

use super::retry::{RetryHint, panic_text};
use super::{Perform, WorkerOptions};
use crate::agent::AgentError;
use crate::agent::tools::Wording;
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::AgentTurnJob;
use crate::sms_router::outbound::{self, DeliveryError};
use crate::store::{MessageStatus, SmsMessage, StoredMessage, TurnLease, User, UserId};

/// How long a lease outlives its last renewal: longer than one turn's
/// budget plus one delivery with the sender's own retries.
pub const LEASE_TTL: Duration = Duration::from_secs(120);

impl Perform for AgentTurnJob {
    type Error = TurnJobError;

    fn concurrency(options: &WorkerOptions) -> usize {
        options.agent_concurrency
    }

    async fn perform(self, state: &AppState, task: &TaskId) -> Result<(), TurnJobError> {
        run(state, &self, &task.to_string()).await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TurnJobError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("agent: {0}")]
    Agent(#[source] AgentError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<crate::store::StoreError> for TurnJobError {
    fn from(e: crate::store::StoreError) -> Self {
        TurnJobError::Delivery(DeliveryError::Store(e))
    }
}

impl RetryHint for TurnJobError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            TurnJobError::Delivery(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// One job's work; see the module docs. `holder` names the lease owner
/// (the job's task id).
#[tracing::instrument(name = "job.agent_turn", skip_all, fields(user_id = %job.user_id))]
pub async fn run(state: &AppState, job: &AgentTurnJob, holder: &str) -> Result<(), TurnJobError> {
    let user = UserId(job.user_id);
    release_rate_limited(state, user, job).await?;
    loop {
        if !take_lease(state, user, holder).await? {
            metrics::counter!("agent_turn_jobs_total", "end" => "handed_to_holder").increment(1);
            return Ok(());
        }
        let drained = drain(state, user, holder).await;
        let released = release_lease(state, user, holder).await;
        drained?;
        released?;
        if next_unanswered(state, user).await?.is_none() {
            return Ok(());
        }
    }
}

/// A message kept over the rate limit waits for its own job, scheduled for
/// when the sender is back under the limit; other jobs leave it alone.
async fn release_rate_limited(
    state: &AppState,
    user: UserId,
    job: &AgentTurnJob,
) -> Result<(), TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    if SmsMessage::release_rate_limited(&mut tx, job.message_id).await? {
        metrics::counter!("sms_rate_limited_released_total").increment(1);
    }
    tx.commit().await?;
    Ok(())
}

async fn take_lease(state: &AppState, user: UserId, holder: &str) -> Result<bool, TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    let taken = TurnLease::take(&mut tx, holder, LEASE_TTL).await?;
    tx.commit().await?;
    Ok(taken)
}

async fn release_lease(state: &AppState, user: UserId, holder: &str) -> Result<(), TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    TurnLease::release(&mut tx, holder).await?;
    tx.commit().await?;
    Ok(())
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

/// Answers every waiting message, oldest first, renewing the lease before
/// each step; a lease lost (it expired and someone else took it) ends the
/// drain, since the new holder carries on.
async fn drain(state: &AppState, user: UserId, holder: &str) -> Result<(), TurnJobError> {
    deliver_unsent(state, user, holder).await?;
    loop {
        if !take_lease(state, user, holder).await? {
            return Ok(());
        }
        let Some(message) = next_unanswered(state, user).await? else {
            return Ok(());
        };
        answer(state, user, message, holder).await?;
    }
}

async fn answer(
    state: &AppState,
    user: UserId,
    message: SmsMessage,
    holder: &str,
) -> Result<(), TurnJobError> {
    // How long the message waited for a worker: queueing, not thinking.
    let waited = (chrono::Utc::now() - message.created_at)
        .to_std()
        .unwrap_or_default();
    metrics::histogram!("agent_turn_pickup_seconds").record(waited.as_secs_f64());
    let text = with_media_note(&message.body, &message.media);
    let turn = state
        .agent
        .answer(user, message.id, &text, message.created_at);
    let reply_id = match AssertUnwindSafe(turn).catch_unwind().await {
        Ok(Ok(outcome)) => {
            metrics::counter!("agent_turn_jobs_total", "end" => format!("{:?}", outcome.end))
                .increment(1);
            outcome.reply_message_id
        }
        Ok(Err(AgentError::DisabledUser | AgentError::UnknownUser)) => {
            let mut tx = UserTx::begin(&state.db, user).await?;
            SmsMessage::set_status(&mut tx, message.id, MessageStatus::Ignored).await?;
            tx.commit().await?;
            return Ok(());
        }
        Ok(Err(e)) => return Err(TurnJobError::Agent(e)),
        Err(panic) => {
            // A poison message: retrying would panic again and hold up
            // everything behind it. The person hears that it failed.
            metrics::counter!("agent_turn_poison_total").increment(1);
            tracing::error!(
                message_id = %message.id,
                panic = panic_text(panic.as_ref()),
                "agent turn panicked; answering with an apology"
            );
            apologise(state, user, message.id).await?
        }
    };
    outbound::deliver_as(&state.outbound, user, reply_id, holder).await?;
    Ok(())
}

/// Stores the fixed "that failed" reply to `inbound`, in the person's language.
async fn apologise(
    state: &AppState,
    user: UserId,
    inbound: uuid::Uuid,
) -> Result<uuid::Uuid, TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    let say = Wording::new(User::current(&mut tx).await?.locale());
    let text = say.pick(
        "Sorry, something went wrong with that message and I couldn't act on it. Could you say it another way?",
        "Désolé, quelque chose n'a pas marché avec ce message et je n'ai rien pu faire. Peux-tu le formuler autrement ?",
    );
    let reply = StoredMessage::store_reply(&mut tx, inbound, &text).await?;
    tx.commit().await?;
    Ok(reply.id)
}

/// Replies stored but never handed to the provider (a crash, a provider
/// outage) leave before anything newer, keeping the person's order.
async fn deliver_unsent(state: &AppState, user: UserId, holder: &str) -> Result<(), TurnJobError> {
    let mut tx = UserTx::begin(&state.db, user).await?;
    let unsent = SmsMessage::unsent_replies(&mut tx).await?;
    tx.commit().await?;
    for message in unsent {
        if !take_lease(state, user, holder).await? {
            return Ok(());
        }
        outbound::deliver_as(&state.outbound, user, message.id, holder).await?;
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
