//! The `nudge` command line: one binary, several roles.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, PgConnection};

use crate::admin::{self, AdminCommand};
use crate::config::{Config, Environment};
use crate::db::{self, DevPostgres, SessionRole};
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
                    Command::Dev => dev(config).await,
                    Command::Migrate => migrate(&config).await,
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
    refuse_privileged_role(&config).await?;
    let app = Application::build(config).await?;
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
async fn refuse_privileged_role(config: &Config) -> anyhow::Result<()> {
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
async fn session_role(url: &SecretString) -> Result<SessionRole, sqlx::Error> {
    let mut conn = PgConnection::connect_with(&db::connect_options(url)?).await?;
    let role = SessionRole::current(&mut conn).await;
    let _ = conn.close().await;
    role
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let (admin_url, app_url) = migration_urls(config)?;
    run_migrations(&admin_url, &app_url).await?;
    println!("migrations applied");
    Ok(())
}

/// Owner and application URLs. In development the owner URL may be omitted,
/// in which case the application URL is used for both.
fn migration_urls(config: &Config) -> anyhow::Result<(SecretString, SecretString)> {
    let app = config
        .database_url
        .clone()
        .context("DATABASE_URL is not set")?;
    let admin = match (&config.database_admin_url, config.env) {
        (Some(url), _) => url.clone(),
        (None, Environment::Development) => app.clone(),
        (None, _) => anyhow::bail!("DATABASE_ADMIN_URL is not set"),
    };
    Ok((admin, app))
}

async fn run_migrations(admin_url: &SecretString, app_url: &SecretString) -> anyhow::Result<()> {
    let admin_pool = db::connect_pool(db::connect_options(admin_url)?, 2)
        .await
        .context("cannot connect with DATABASE_ADMIN_URL")?;
    let app_options = db::connect_options(app_url)?;
    let role = db::app_role_from_url(&app_options);
    let password = url::Url::parse(app_url.expose_secret())
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
        .map(|p| {
            percent_encoding::percent_decode_str(&p)
                .decode_utf8_lossy()
                .into_owned()
        });
    db::migrate(&admin_pool, &role, password.as_deref()).await?;
    admin_pool.close().await;
    Ok(())
}

async fn dev(mut config: Config) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.env.is_development(),
        "nudge dev runs only with NUDGE_ENV=development"
    );
    let mut private_pg = None;
    if config.database_url.is_none() {
        let root = std::env::current_dir()?;
        let pg = tokio::task::spawn_blocking(move || DevPostgres::start(&root))
            .await
            .context("the PostgreSQL starter panicked")??;
        create_dev_database(&pg).await?;
        config.database_url = Some(pg.app_url().into());
        config.database_admin_url = Some(pg.admin_url().into());
        write_dev_env(Path::new(".nudge/dev.env"), &pg)?;
        println!(
            "private PostgreSQL on 127.0.0.1:{} (data in ./.nudge/pg)",
            pg.port()
        );
        private_pg = Some(pg);
    } else if let (Some(url), None) = (&config.database_url, &config.database_admin_url) {
        // Given one URL whose role walks through RLS (a superuser, as on
        // most laptops): it becomes the owner, and the process runs as a
        // plain application role, exactly as with the private cluster.
        let role = session_role(url)
            .await
            .context("cannot connect with DATABASE_URL")?;
        if role.bypasses_rls() {
            let app_url = with_user(url, db::DEV_APP_ROLE, &random_password())?;
            println!(
                "DATABASE_URL connects as '{}', which bypasses row-level security: \
                 using it as the owner and running as the plain role '{}'",
                role.name,
                db::DEV_APP_ROLE
            );
            config.database_admin_url = Some(url.clone());
            config.database_url = Some(app_url);
        }
    }
    // Before migrating (which would refuse such a role less clearly) when
    // the role is the operator's, and again after: the private cluster's
    // application role exists only once migrations have created it.
    if private_pg.is_none() {
        refuse_privileged_role(&config).await?;
    }
    let (admin_url, app_url) = migration_urls(&config)?;
    run_migrations(&admin_url, &app_url).await?;
    refuse_privileged_role(&config).await?;

    let app = Application::build(config).await?;
    let state = app.state().clone();
    println!(
        "nudge dev: listening on http://{} (metrics on http://{}/metrics)",
        local(state.config.bind_addr, app.port()),
        local(state.config.metrics_addr, app.metrics_port()),
    );
    println!(
        "add yourself: nudge admin user add --name \"Your Name\" --phone +15145550101 --timezone America/Montreal"
    );
    println!("stop: Ctrl-C");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = tokio::spawn(app.run_until(stopped(stop_rx.clone())));
    let worker = tokio::spawn(workers::run(
        state,
        workers::WorkerOptions::default(),
        stopped(stop_rx),
    ));
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    let (server, worker) = tokio::join!(server, worker);
    server.context("server task panicked")??;
    worker.context("worker task panicked")??;

    if let Some(mut pg) = private_pg {
        tokio::task::spawn_blocking(move || pg.stop())
            .await
            .context("stopping PostgreSQL panicked")??;
        println!("private PostgreSQL stopped");
    }
    Ok(())
}

/// `url` with another user and password (the application role's).
fn with_user(url: &SecretString, user: &str, password: &str) -> anyhow::Result<SecretString> {
    let mut parsed = url::Url::parse(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid URL"))?;
    parsed
        .set_username(user)
        .and_then(|()| parsed.set_password(Some(password)))
        .map_err(|()| anyhow::anyhow!("DATABASE_URL cannot carry a user name"))?;
    Ok(parsed.to_string().into())
}

/// A fresh password for the development application role; `nudge migrate`
/// stores only its SCRAM verifier.
fn random_password() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn local(addr: std::net::SocketAddr, port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::new(addr.ip(), port)
}

async fn create_dev_database(pg: &DevPostgres) -> anyhow::Result<()> {
    let url: SecretString = pg.bootstrap_url().into();
    let pool = db::connect_pool(db::connect_options(&url)?, 1).await?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(db::DEV_DATABASE)
            .fetch_one(&pool)
            .await?;
    if !exists {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "create database {}",
            db::DEV_DATABASE
        )))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(())
}

/// Lets `nudge admin` find the private cluster while `nudge dev` runs.
fn write_dev_env(path: &Path, pg: &DevPostgres) -> std::io::Result<()> {
    std::fs::write(
        path,
        format!(
            "# written by `nudge dev`; read by `nudge admin` in development\nDATABASE_URL={}\nDATABASE_ADMIN_URL={}\n",
            pg.app_url(),
            pg.admin_url()
        ),
    )
}
