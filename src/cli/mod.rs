//! The `nudge` command line: one binary, several roles. `serve` and
//! `worker` are here; `migrate` and `dev` have files of their own.

mod dev;
mod migrate;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};

use crate::admin::{self, AdminCommand};
use crate::config::Config;
use crate::db::{self, SessionRole};
use crate::startup::{Application, build_state, shutdown_signal};
use crate::{telemetry, workers};

#[derive(Debug, Parser)]
#[command(
    name = "nudge",
    version,
    about = "Nudge: a personal assistant reached by SMS"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// HTTP server: Twilio webhooks, OAuth connect flow, health.
    Serve,
    /// Background jobs: agent turns, outbound SMS, reminders, maintenance.
    Worker,
    /// Everything in one process for a laptop, with a private PostgreSQL
    /// when DATABASE_URL is not set.
    Dev,
    /// Apply database migrations and grant the application role its rights.
    Migrate,
    /// Operator commands (owner connection; every change is audited).
    Admin(AdminCommand),
}

/// Runs a parsed command line; the binary's `main` is only this.
pub fn run(cli: Cli) -> ExitCode {
    // A silent default would run production as development (a fixed
    // webhook-signing token, relaxed checks): serve and worker must be told.
    if matches!(cli.command, Command::Serve | Command::Worker)
        && std::env::var("NUDGE_ENV").map_or(true, |v| v.trim().is_empty())
    {
        eprintln!(
            "nudge: NUDGE_ENV is required for `nudge serve` and `nudge worker` \
             (development, staging or production); only `nudge dev` implies development"
        );
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nudge: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nudge: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Admin(cmd) => {
            init_admin_logging();
            runtime.block_on(admin::run(config, cmd))
        }
        command => {
            let _telemetry = match telemetry::init(&config) {
                Ok(guard) => guard,
                Err(e) => {
                    eprintln!("nudge: cannot set up telemetry: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(async move {
                match command {
                    Command::Serve => serve(config).await,
                    Command::Worker => worker(config).await,
                    Command::Dev => dev::dev(config).await,
                    Command::Migrate => migrate::migrate(&config).await,
                    Command::Admin(_) => unreachable!("handled above"),
                }
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.downcast_ref::<db::RoleError>().is_some() => {
                    tracing::error!(error = %e, "refusing to start");
                    eprintln!("nudge: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "nudge stopped on an error");
                    eprintln!("nudge: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Admin commands print their results on stdout; their logs (warnings and
/// errors by default, `RUST_LOG` to change it) go to stderr, so a failing
/// provider or a retired model is explained, not silent.
fn init_admin_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Already set (a test harness): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Start-up costs the slowest of these, not their sum: the role check
    // (its own connection), building the state (TLS roots), and opening
    // the pool's first connection and Redis's for the readiness probe.
    // Nothing is served before the role check has passed.
    let role_check = {
        let config = config.clone();
        tokio::spawn(async move { refuse_privileged_role(&config).await })
    };
    let app = Application::build(config).await?;
    let warm = crate::startup::warm_up(app.state());
    role_check.await.context("the role check panicked")??;
    warm.settle().await;
    tracing::info!(
        port = app.port(),
        metrics_port = app.metrics_port(),
        "serving"
    );
    app.run_until(shutdown_signal()).await
}

async fn worker(config: Config) -> anyhow::Result<()> {
    let options = workers::WorkerOptions {
        heartbeat: config.worker_heartbeat,
        ..workers::WorkerOptions::default()
    };
    refuse_privileged_role(&config).await?;
    let state = build_state(config)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Best effort: a worker that refused to run over a taken monitoring
    // port (e.g. `serve` on the same host with the same default) would stop
    // reminders, which matters more than its metrics.
    let served = match crate::startup::MetricsListener::bind(&state).await {
        Ok(metrics) => {
            tracing::info!(metrics_port = metrics.port(), "worker metrics listening");
            Some(tokio::spawn(metrics.run_until(async move {
                let mut stop = stop_rx;
                let _ = stop.wait_for(|stopped| *stopped).await;
            })))
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "worker metrics unavailable; jobs run without /metrics");
            None
        }
    };
    let worked = workers::run(state, options, shutdown_signal()).await;
    let _ = stop_tx.send(true);
    if let Some(served) = served {
        served.await.context("metrics listener panicked")??;
    }
    worked
}

/// Reads the attributes of the role `DATABASE_URL` connects as and refuses
/// one that bypasses row-level security (superuser or BYPASSRLS). When the
/// database cannot be reached yet the process starts anyway (so `/readyz`
/// can say so): the pool checks every connection it opens the same way.
pub(crate) async fn refuse_privileged_role(config: &Config) -> anyhow::Result<()> {
    let url = config
        .database_url
        .as_ref()
        .context("DATABASE_URL is not set")?;
    match tokio::time::timeout(Duration::from_secs(10), session_role(url)).await {
        Ok(Ok(role)) => {
            role.ensure_bound_by_rls()?;
            Ok(())
        }
        Ok(Err(e)) => {
            tracing::warn!(
                error = %db::redact(&e),
                "cannot read the database role at start; each new connection is checked instead"
            );
            Ok(())
        }
        Err(_) => {
            tracing::warn!(
                "the database did not answer within 10 s; each new connection is checked instead"
            );
            Ok(())
        }
    }
}

/// The role a URL really connects as, read from `pg_roles`.
pub(crate) async fn session_role(url: &SecretString) -> Result<SessionRole, sqlx::Error> {
    let mut conn = PgConnection::connect_with(&db::connect_options(url)?).await?;
    let role = SessionRole::current(&mut conn).await;
    let _ = conn.close().await;
    role
}
