//! `onboarding_sms`: the one short reply a number nobody owns may get.
//! Nothing about the sender is stored beyond the identification log.

use apalis::prelude::{Attempt, BoxDynError, Data, TaskId};

use crate::app::AppState;
use crate::db::queue::OnboardingSmsJob;
use crate::sms_router::keywords::ONBOARDING_TEXT;
use crate::sms_router::sender::{OutboundSms, SendError};

pub async fn handle(
    job: OnboardingSmsJob,
    state: Data<AppState>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    super::retry::guarded(
        crate::db::queue::ONBOARDING_SMS,
        run(&state, &job),
        &state.db,
        &task_id,
        &attempt,
    )
    .await
}

#[tracing::instrument(name = "job.onboarding_sms", skip_all)]
pub async fn run(state: &AppState, job: &OnboardingSmsJob) -> Result<(), SendError> {
    let sms = OutboundSms {
        to: job.phone.clone(),
        body: ONBOARDING_TEXT.to_string(),
    };
    match state.sender.send(&sms).await {
        Ok(_) => {
            metrics::counter!("sms_onboarding_total", "outcome" => "sent").increment(1);
            Ok(())
        }
        // Refusals are final: an unsubscribed or invalid number gets nothing.
        Err(SendError::Unsubscribed | SendError::Rejected { .. }) => {
            metrics::counter!("sms_onboarding_total", "outcome" => "refused").increment(1);
            Ok(())
        }
        Err(e) => Err(e),
    }
}
