//! `onboarding_sms`: the one short reply a number nobody owns may get.
//! Nothing about the sender is stored beyond the identification log.

use apalis::prelude::TaskId;

use super::{Perform, WorkerOptions};

use crate::app::AppState;
use crate::db::queue::OnboardingSmsJob;
use crate::sms_router::keywords::ONBOARDING_TEXT;
use crate::sms_router::sender::{OutboundSms, SendError};

impl Perform for OnboardingSmsJob {
    type Error = SendError;

    fn concurrency(_options: &WorkerOptions) -> usize {
        2
    }

    async fn perform(self, state: &AppState, _task: &TaskId) -> Result<(), SendError> {
        run(state, &self).await
    }
}

#[tracing::instrument(name = "job.onboarding_sms", skip_all)]
pub async fn run(state: &AppState, job: &OnboardingSmsJob) -> Result<(), SendError> {
    let sms = OutboundSms {
        to: job.phone.clone(),
        body: ONBOARDING_TEXT.to_string(),
    };
    match state.outbound.sender.send(&sms).await {
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
