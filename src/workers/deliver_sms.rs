//! `deliver_sms`: send one stored outbound message (HELP replies, "slow
//! down", and later reminders).

use apalis::prelude::{Attempt, BoxDynError, Data, TaskId};

use crate::app::AppState;
use crate::db::queue::DeliverSmsJob;
use crate::sms_router::outbound::{self, Delivery, DeliveryError};
use crate::store::UserId;

pub async fn handle(
    job: DeliverSmsJob,
    state: Data<AppState>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    // One handler for both delivery queues; the label is the job's kind.
    super::retry::guarded(
        "deliver_sms",
        run(&state, &job),
        &state.db,
        &task_id,
        &attempt,
    )
    .await
}

#[tracing::instrument(name = "job.deliver_sms", skip_all, fields(message_id = %job.message_id))]
pub async fn run(state: &AppState, job: &DeliverSmsJob) -> Result<Delivery, DeliveryError> {
    outbound::deliver(state, UserId(job.user_id), job.message_id).await
}
