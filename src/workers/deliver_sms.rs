//! `deliver_sms` and `deliver_reminder`: send one stored outbound message.
//! Reminders have a queue of their own so that a burst of them never
//! delays replies.

use apalis::prelude::TaskId;

use super::{Perform, WorkerOptions};

use crate::app::AppState;
use crate::db::queue::{DeliverReminderJob, DeliverSmsJob};
use crate::sms_router::outbound::{self, Delivery, DeliveryError};
use crate::store::UserId;

/// Reminder deliveries in flight per process. Each books its pacing slot
/// only when about to send, so a reply waits behind at most this many
/// reminders, however long the reminder queue.
const REMINDER_SENDERS: usize = 4;

impl Perform for DeliverSmsJob {
    type Error = DeliveryError;

    fn concurrency(options: &WorkerOptions) -> usize {
        options.delivery_concurrency
    }

    async fn perform(self, state: &AppState, task: &TaskId) -> Result<(), DeliveryError> {
        run(state, &self, &task.to_string()).await.map(drop)
    }
}

/// Few at a time, in due order: see `sms_router::pacing`.
impl Perform for DeliverReminderJob {
    type Error = DeliveryError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        REMINDER_SENDERS
    }

    /// A burst's deliveries are claimed 100 at a time (see
    /// `Perform::batch_size`); still sent `REMINDER_SENDERS` at a time.
    fn batch_size() -> usize {
        100
    }

    async fn perform(self, state: &AppState, task: &TaskId) -> Result<(), DeliveryError> {
        run(state, &self.0, &task.to_string()).await.map(drop)
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
