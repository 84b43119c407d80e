//! `nudge worker`: apalis workers over PostgreSQL, one file per job.
//!
//! Jobs live in `apalis.jobs`, enqueued in the same transaction as the row
//! they work on. Scheduled maintenance runs on apalis-cron.
//!
//! Connection budget at the defaults (`DATABASE_MAX_CONNECTIONS=10`): one
//! LISTEN connection shared by every queue ([`wake`]), and at most one
//! connection per job in flight at any moment — jobs run short
//! transactions one after another and never hold one while waiting for
//! another (no session locks, no transaction across a network call). The
//! rest of the pool serves apalis' own fetches, acknowledgements and
//! heartbeats. Jobs in flight can outnumber connections (8 turns, 8
//! deliveries, 4 nudges, 2 onboarding texts, and the batch loops: 2
//! reminder hand-offs and 2 reminder senders, each holding one connection
//! only while its batch's transaction runs, never while texts wait for
//! the pacer or Twilio): a job then waits a few milliseconds for a
//! connection, it never deadlocks, since no one waits while holding one.
//!
//! Reminder hand-offs and reminder deliveries are not run job by job but
//! drained in batches (see [`batch`]), so a burst at the top of the hour
//! costs one commit per hundred occurrences.

pub mod agent_turn;
mod batch;
pub mod bookmark_offer;
mod daily;
pub mod deliver_sms;
pub mod erase_account;
pub mod evening_checkin;
pub mod focus_checkin;
pub mod maintenance;
pub mod morning_checkin;
pub mod notion_sync;
pub mod onboarding_sms;
mod perform;
mod proactive;
pub mod refresh_tokens;
pub mod reminder_due;
pub mod reminder_nudge;
mod retry;
pub mod sweeper;
pub mod wake;

pub use perform::Perform;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;
use apalis_postgres::PostgresStorage;

use crate::app::AppState;
use crate::db::queue;

/// How long a shutdown waits for running jobs before giving up on them
/// (they are then re-queued as orphans by the next worker).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What can be tuned when starting the workers.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Cron expression (seconds first) for the maintenance job.
    pub maintenance_schedule: String,
    /// Cron expression for the stranded-message sweeper.
    pub sweeper_schedule: String,
    /// Agent turns in flight at once in this process.
    pub agent_concurrency: usize,
    /// Deliveries in flight at once in this process.
    pub delivery_concurrency: usize,
    /// How often an idle worker looks for scheduled or retried jobs
    /// (new jobs wake it at once through LISTEN/NOTIFY).
    pub poll_interval: Duration,
    /// Workers prove they are alive this often...
    pub heartbeat: Duration,
    /// ...and a worker silent for this many heartbeats is dead: its running
    /// jobs go back to the queue.
    pub missed_heartbeats: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            maintenance_schedule: maintenance::SCHEDULE.into(),
            sweeper_schedule: sweeper::SCHEDULE.into(),
            agent_concurrency: 8,
            delivery_concurrency: 8,
            poll_interval: Duration::from_millis(250),
            heartbeat: Duration::from_secs(5),
            missed_heartbeats: 3,
        }
    }
}

/// A job queue on PostgreSQL, woken through the process's shared listener
/// and polled for scheduled and retried jobs (which send no NOTIFY). A
/// macro: the backend's type is a stack of adapters better left unnamed.
macro_rules! storage {
    ($state:expr, $wakes:expr, $job:ty, $queue:expr, $options:expr) => {
        PollWith::new(
            PostgresStorage::<$job>::new(&$state.db).with_config(
                apalis_postgres::Config::default()
                    .queue($queue)
                    .batch_size(<$job as Perform>::batch_size())
                    .heartbeat_interval($options.heartbeat)
                    .missed_heartbeats($options.missed_heartbeats),
            ),
            StreamStrategy::new($wakes.subscribe($queue)),
        )
        .poll_with_interval(<$job as Perform>::poll_interval(&$options))
    };
}

/// The factory of one job kind's worker: its storage, shared state,
/// concurrency and handler, under a process-unique name. A restarted
/// worker takes a new name: the jobs its previous life had fetched then
/// belong to a worker whose heartbeat has stopped, and orphan recovery
/// re-queues them instead of leaving them stranded.
macro_rules! queue_worker {
    ($state:expr, $wakes:expr, $options:expr, $suffix:expr, $job:path) => {{
        let state = $state.clone();
        let wakes = $wakes.clone();
        let options = $options.clone();
        let name = format!("{}-{}", <$job as queue::Job>::QUEUE, $suffix);
        let concurrency = <$job as Perform>::concurrency(&options);
        move |restarts: usize| {
            WorkerBuilder::new(format!("{name}-{restarts}").as_str())
                .backend(storage!(
                    state,
                    wakes,
                    $job,
                    <$job as queue::Job>::QUEUE,
                    options
                ))
                .data(state.clone())
                .concurrency(concurrency)
                .build(perform::handle::<$job>)
        }
    }};
}

/// Registers a worker for every job kind of [`queue::one_by_one_jobs!`].
macro_rules! register_jobs {
    ($monitor:expr, $state:expr, $wakes:expr, $options:expr, $suffix:expr ; $($job:path),*) => {
        $monitor $(.register(queue_worker!($state, $wakes, $options, $suffix, $job)))*
    };
}

/// Runs every worker until `shutdown` resolves; running jobs finish first.
pub async fn run(
    state: AppState,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let worker_suffix = worker_suffix();
    let wakes = wake::WakeHub::start(state.db.clone());
    let schedule = cron::Schedule::from_str(&options.maintenance_schedule)?;
    let sweep_schedule = cron::Schedule::from_str(&options.sweeper_schedule)?;
    // The batched queues' loops stop with the monitor, between batches;
    // dropping the set (this future aborted, as a crash) aborts them.
    let (stop_batches, batches_stopped) = tokio::sync::watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    reminder_due::spawn(&state, &wakes, &batches_stopped, &mut loops);
    deliver_sms::spawn_reminder_senders(&state, &wakes, &batches_stopped, &mut loops);
    let monitor = queue::one_by_one_jobs!(
        register_jobs,
        Monitor::new(),
        state,
        wakes,
        options,
        worker_suffix
    )
    .register({
        let state = state.clone();
        let name = format!("sweeper-{worker_suffix}");
        move |_restarts| {
            WorkerBuilder::new(name.as_str())
                .backend(CronScheduler::new(sweep_schedule.clone()))
                .data(state.clone())
                .build(sweeper::on_tick)
        }
    })
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
        metrics::counter!("worker_restarts_total").increment(1);
        tracing::error!(%error, "worker stopped; restarting");
        true
    })
    .shutdown_timeout(SHUTDOWN_GRACE);
    tracing::info!("worker started");
    let stopped = monitor
        .run_with_signal(async move {
            shutdown.await;
            stop_batches.send_replace(true);
            Ok(())
        })
        .await;
    if tokio::time::timeout(SHUTDOWN_GRACE, loops.join_all())
        .await
        .is_err()
    {
        tracing::warn!("a batch was still running at the end of the grace period");
    }
    stopped?;
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
