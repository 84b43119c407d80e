//! `nudge worker`: apalis workers over PostgreSQL, one file per job.
//!
//! Jobs live in `apalis.jobs`, enqueued in the same transaction as the row
//! they work on. Scheduled maintenance runs on apalis-cron.

pub mod maintenance;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;

use crate::app::AppState;

/// How long a shutdown waits for running jobs before giving up on them
/// (they are then re-queued as orphans by the next worker).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What can be tuned when starting the workers.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Cron expression (seconds first) for the maintenance job.
    pub maintenance_schedule: String,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            maintenance_schedule: maintenance::SCHEDULE.into(),
        }
    }
}

/// Runs every worker until `shutdown` resolves; running jobs finish first.
pub async fn run(
    state: AppState,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let worker_suffix = worker_suffix();
    let schedule = cron::Schedule::from_str(&options.maintenance_schedule)?;
    let monitor = Monitor::new()
        .register({
            let state = state.clone();
            let name = format!("maintenance-{worker_suffix}");
            move |_restarts| {
                WorkerBuilder::new(name.as_str())
                    .backend(CronScheduler::new(schedule.clone()))
                    .data(state.clone())
                    .build(maintenance::on_tick)
            }
        })
        .should_restart(|_ctx, error| {
            tracing::error!(%error, "worker stopped; restarting");
            true
        })
        .shutdown_timeout(SHUTDOWN_GRACE);
    tracing::info!("worker started");
    monitor
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await?;
    tracing::info!("worker stopped");
    Ok(())
}

/// Unique per process: apalis refuses two live workers with one name.
fn worker_suffix() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}
