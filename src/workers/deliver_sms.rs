//! `deliver_sms` and `deliver_reminder`: send stored outbound messages.
//!
//! `deliver_sms` (replies, HELP, "slow down") runs one job at a time
//! through apalis. Reminders, nudges and check-ins have a queue of their
//! own, drained in batches (see `workers::batch`): a batch's send-time
//! checks and claims commit in one transaction, the texts leave a few at
//! a time under the pacer with no transaction open, and their answers are
//! recorded in a second transaction. Each message is claimed with its
//! job's id, so a batch whose process died is claimed again when its lease
//! ends and its messages sent at most once more.

use std::time::Duration;

use apalis::prelude::TaskId;
use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::batch::{self, Claimed, JobFailure};
use super::retry::RetryHint;
use super::wake::WakeHub;
use super::{Perform, WorkerOptions};
use crate::app::AppState;
use crate::db::UserTx;
use crate::db::queue::{DeliverReminderJob, DeliverSmsJob, Job};
use crate::sms_router::outbound::{self, Delivery, DeliveryError, Prepared, SENDING_STALE_AFTER};
use crate::store::UserId;

const QUEUE: &str = DeliverReminderJob::QUEUE;

/// How often the reminder sender looks for deliveries that fell due again
/// (retries); new ones wake it at once.
const POLL: Duration = Duration::from_millis(250);

/// Sender loops per process: one claims and records while the other sends.
const LOOPS: usize = 2;

/// The most deliveries claimed at once...
const MOST_PER_BATCH: usize = 100;

/// ...and no more than leave within this many seconds at the paced rate,
/// far inside the lease, so a batch is always sent before it could be
/// claimed again.
const BATCH_SECONDS: f64 = 10.0;

/// Claimed deliveries are out of others' reach this long: as long as a
/// "sending" claim takes to go stale.
const LEASE: Duration = SENDING_STALE_AFTER;

/// Texts of one batch waiting for their pacing slot at once, at most. Each
/// books its slot only when about to send, so a reply (which books the
/// next free slot) waits behind at most `LOOPS ×` this many reminders:
/// a quarter of a second's worth at the paced rate.
const MOST_IN_FLIGHT: usize = 32;

impl Perform for DeliverSmsJob {
    type Error = DeliveryError;

    fn concurrency(options: &WorkerOptions) -> usize {
        options.delivery_concurrency
    }

    async fn perform(self, state: &AppState, task: &TaskId) -> Result<(), DeliveryError> {
        run(state, &self, &task.to_string()).await.map(drop)
    }
}

#[tracing::instrument(name = "job.deliver_sms", skip_all, fields(message_id = %job.message_id))]
pub async fn run(
    state: &AppState,
    job: &DeliverSmsJob,
    holder: &str,
) -> Result<Delivery, DeliveryError> {
    outbound::deliver_as(&state.outbound, UserId(job.user_id), job.message_id, holder).await
}

/// Runs the reminder sender loops in `loops` until `shutdown` turns true.
pub fn spawn_reminder_senders(
    state: &AppState,
    wakes: &WakeHub,
    shutdown: &watch::Receiver<bool>,
    loops: &mut JoinSet<()>,
) {
    let limit = batch_limit(state.outbound.max_mps);
    for _ in 0..LOOPS {
        let state = state.clone();
        loops.spawn(batch::drain(
            QUEUE,
            wakes.subscribe(QUEUE),
            POLL,
            shutdown.clone(),
            limit,
            move || {
                let state = state.clone();
                async move { send_reminders(&state, limit).await }
            },
        ));
    }
}

/// Deliveries per batch at `max_mps`: all of them leave well within the lease.
fn batch_limit(max_mps: f64) -> usize {
    (max_mps * BATCH_SECONDS).clamp(1.0, MOST_PER_BATCH as f64) as usize
}

/// Texts waiting for their pacing slot at once at `max_mps`.
fn in_flight(max_mps: f64) -> usize {
    (max_mps / 4.0).clamp(1.0, MOST_IN_FLIGHT as f64) as usize
}

/// Sends up to `limit` due reminder deliveries; returns how many were claimed.
#[tracing::instrument(name = "job.deliver_reminders", skip_all, fields(claimed))]
pub async fn send_reminders(state: &AppState, limit: usize) -> Result<usize, DeliveryError> {
    let out = &state.outbound;
    let mut tx = UserTx::begin_batch(&state.db).await?;
    let claimed = batch::claim::<DeliverReminderJob>(tx.conn(), limit, Some(LEASE)).await?;
    let claimed_count = claimed.len();
    tracing::Span::current().record("claimed", claimed_count);
    let mut settled = Vec::new();
    let mut to_send = Vec::with_capacity(claimed_count);
    let mut failed = Vec::new();
    for job in claimed {
        let delivery = &job.job.0;
        tx.visit(UserId(delivery.user_id)).await?;
        let prepare = outbound::prepare(&mut tx, out, delivery.message_id, &job.id);
        match batch::contain(QUEUE, prepare).await {
            Ok(Prepared::Send(message)) => {
                tx.leave(true);
                to_send.push((job, message));
            }
            Ok(Prepared::Settled(_)) => {
                tx.leave(true);
                settled.push(job.id.clone());
            }
            Err(e) => {
                tx.leave(false);
                failed.push((job, e));
            }
        }
    }
    tx.end_visits().await?;
    batch::finish(tx.conn(), &settled).await?;
    fail_all(tx.conn(), failed).await?;
    // The claims are durable before any provider call.
    tx.commit().await?;

    let answers: Vec<_> = futures::stream::iter(to_send)
        .map(|(job, message)| async move {
            let answer = batch::contain(QUEUE, async {
                Ok::<_, DeliveryError>(outbound::send(out, &message).await)
            })
            .await;
            (job, message, answer)
        })
        .buffer_unordered(in_flight(out.max_mps))
        .collect()
        .await;

    let mut tx = UserTx::begin_batch(&state.db).await?;
    let mut sent = Vec::with_capacity(answers.len());
    let mut failed = Vec::new();
    for (job, message, answer) in answers {
        // Whether a send that panicked reached Twilio is unknown: the
        // message stays claimed, and the job's retry sends it again.
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                failed.push((job, e));
                continue;
            }
        };
        tx.visit(UserId(job.job.0.user_id)).await?;
        match batch::contain(QUEUE, outbound::record(&mut tx, &message, answer)).await {
            Ok(_) => {
                tx.leave(true);
                sent.push(job.id.clone());
            }
            // The claim was given back: keep that, and try again later.
            Err(e @ JobFailure::Failed(DeliveryError::Retry { .. })) => {
                tx.leave(true);
                failed.push((job, e));
            }
            Err(e) => {
                tx.leave(false);
                failed.push((job, e));
            }
        }
    }
    tx.end_visits().await?;
    batch::finish(tx.conn(), &sent).await?;
    fail_all(tx.conn(), failed).await?;
    tx.commit().await?;
    Ok(claimed_count)
}

async fn fail_all(
    conn: &mut sqlx::PgConnection,
    failed: Vec<(Claimed<DeliverReminderJob>, JobFailure<DeliveryError>)>,
) -> Result<(), sqlx::Error> {
    for (job, e) in failed {
        let retry_after = match &e {
            JobFailure::Failed(e) => e.retry_after(),
            JobFailure::Panicked(_) => None,
        };
        batch::fail(conn, QUEUE, &job, &e, retry_after).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_leaves_well_within_its_lease_and_replies_wait_little() {
        // Twilio's default for a long code: one a second.
        assert_eq!(batch_limit(1.0), 10);
        assert_eq!(in_flight(1.0), 1);
        assert_eq!(batch_limit(75.0), 100);
        assert_eq!(in_flight(75.0), 18);
        assert_eq!(batch_limit(100_000.0), 100);
        assert_eq!(in_flight(100_000.0), 32);
        assert!(batch_limit(0.5) as f64 / 0.5 < LEASE.as_secs_f64());
    }
}
