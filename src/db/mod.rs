//! Database access: connection pools, user-scoped transactions, migrations
//! and the private PostgreSQL that `nudge dev` runs.
//!
//! Two roles reach the database. The application role (`DATABASE_URL`) owns
//! nothing and is subject to row-level security; everything per-user goes
//! through a [`UserTx`]. The owner role (`DATABASE_ADMIN_URL`) runs
//! migrations and the admin CLI.

mod dev_postgres;
mod ids;
mod lost_connection;
mod migrate;
pub mod queue;
pub mod queue_admin;
pub mod queue_batches;
mod redact;
mod role;
pub mod scram;
mod user_tx;

pub use dev_postgres::{DEV_APP_ROLE, DEV_DATABASE, DEV_OWNER_ROLE, DevPostgres, DevPostgresError};
pub use ids::UserId;
pub use lost_connection::connection_lost;
pub use migrate::{MigrateError, app_role_from_url, migrate};
pub use redact::{RedactedDbError, redact};
pub use role::{AppRole, AppRoleError, RoleError, SessionRole, refuse_privileged_connection};
pub use user_tx::UserTx;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Connect options from a URL, without ever echoing the URL (it may hold a
/// password) in an error.
pub fn connect_options(url: &SecretString) -> Result<PgConnectOptions, sqlx::Error> {
    url.expose_secret()
        .parse::<PgConnectOptions>()
        .map_err(|_| sqlx::Error::Configuration("the database URL is not valid".into()))
}

/// How long work waits for a pooled connection. Twilio waits 15 s for a
/// webhook's answer and does not retry a 500: in a burst (500 people at
/// once on the default pool of 10) waiting in line is better than failing
/// at 3 s and losing the text.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool that connects on first use, so a process starts (and `/readyz`
/// can report 503) while the database is still unreachable.
pub fn lazy_pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // Fail closed: no connection as a role that bypasses RLS is ever used.
        .after_connect(|conn, _| Box::pin(refuse_privileged_connection(conn)))
        .connect_lazy_with(options)
}

/// A pool that has proved it can connect.
pub async fn connect_pool(
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// One round trip: proves the pool can reach PostgreSQL (readiness).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(pool)
        .await?;
    Ok(())
}
