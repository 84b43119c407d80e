//! Every minute: inbound messages with no reply and no live job for five
//! minutes (a job that died for good) get a new `agent_turn` job; live
//! knowledge runs whose job is gone are resumed or failed
//! (`knowledge::schedule`).

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;

use crate::app::AppState;
use crate::db::queue::{self, AgentTurnJob, JobOptions};
use crate::store::{StoreError, cross_user};

pub const SCHEDULE: &str = "30 * * * * *";
pub const STRANDED_AFTER: Duration = Duration::from_secs(5 * 60);

/// One pass; returns how many messages were re-enqueued.
#[tracing::instrument(name = "job.sweeper", skip_all)]
pub async fn sweep(state: &AppState, older_than: Duration) -> Result<usize, StoreError> {
    let stranded = cross_user::stranded_inbound(&state.db, older_than, 500).await?;
    for cross_user::Stranded {
        message_id,
        user_id,
    } in &stranded
    {
        let mut tx = state.db.begin().await?;
        queue::enqueue(
            &mut tx,
            &AgentTurnJob {
                user_id: user_id.0,
                message_id: *message_id,
            },
            JobOptions::default(),
        )
        .await?;
        tx.commit().await?;
    }
    if !stranded.is_empty() {
        tracing::warn!(
            count = stranded.len(),
            "re-enqueued stranded inbound messages"
        );
    }
    metrics::counter!("sweeper_requeued_total").increment(stranded.len() as u64);
    Ok(stranded.len())
}

pub async fn on_tick(_tick: Tick, state: Data<AppState>) -> Result<(), BoxDynError> {
    sweep(&state, STRANDED_AFTER).await?;
    crate::knowledge::schedule::recover_stranded_runs(
        &state.db,
        crate::knowledge::schedule::STRANDED_AFTER,
    )
    .await?;
    Ok(())
}
