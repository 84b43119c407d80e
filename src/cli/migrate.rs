//! `nudge migrate`: applies the migrations as the owner and grants the
//! application role (named by `DATABASE_URL`) what it needs.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, Environment};
use crate::db;

pub(super) async fn migrate(config: &Config) -> anyhow::Result<()> {
    let (admin_url, app_url) = migration_urls(config)?;
    run_migrations(&admin_url, &app_url).await?;
    println!("migrations applied");
    Ok(())
}

/// Owner and application URLs. In development the owner URL may be omitted,
/// in which case the application URL is used for both.
pub(super) fn migration_urls(config: &Config) -> anyhow::Result<(SecretString, SecretString)> {
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

pub(super) async fn run_migrations(
    admin_url: &SecretString,
    app_url: &SecretString,
) -> anyhow::Result<()> {
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
