//! `nudge dev`: everything in one process for a laptop, with a private
//! PostgreSQL when `DATABASE_URL` is not set, and no API keys needed.

use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use super::migrate::{migration_urls, run_migrations};
use super::{refuse_privileged_role, session_role};
use crate::config::Config;
use crate::db::{self, DevPostgres};
use crate::startup::{Application, shutdown_signal};
use crate::workers;

pub(super) async fn dev(mut config: Config) -> anyhow::Result<()> {
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
        pg.create_database().await?;
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
