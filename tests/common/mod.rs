//! Test helpers: a fresh database per test, cloned from a migrated template,
//! with an owner pool and an application-role pool; an app on port 0.
#![allow(dead_code)]

pub mod drill;
pub mod follow;
pub mod gemini;
pub mod integrations;
pub mod mail;
pub mod notion;
pub mod oauth;
pub mod person_rows;
pub mod scripted_llm;
pub mod sms;
pub mod stack;

use std::sync::Once;

use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

use nudge::config::Config;

/// The application role tests connect as: no superuser, no BYPASSRLS.
pub const TEST_APP_ROLE: &str = "nudge_test_app";

/// A superuser connection to the test cluster.
pub fn server_url() -> String {
    std::env::var("NUDGE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("NUDGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn server_options() -> PgConnectOptions {
    server_url()
        .parse()
        .expect("NUDGE_TEST_DATABASE_URL is a valid URL")
}

pub fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
                .with_test_writer()
                .try_init();
        }
    });
}

/// A database of its own, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    /// Superuser connection to this database (stands in for the owner role).
    pub owner: PgPool,
    /// Application-role connection: subject to row-level security.
    pub app: PgPool,
}

impl TestDb {
    pub async fn new() -> TestDb {
        init_tracing();
        let template = ensure_template().await;
        let name = format!("nudge_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&server_options()).await.unwrap();
        exec(
            &mut conn,
            format!("create database {name} template {template}"),
        )
        .await
        .unwrap();
        conn.close().await.unwrap();
        let owner = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(server_options().database(&name))
            .await
            .unwrap();
        let app = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self_app_options(&name))
            .await
            .unwrap();
        TestDb { name, owner, app }
    }

    /// An application-role URL for this database.
    pub fn app_url(&self) -> String {
        url_for(TEST_APP_ROLE, &self.name)
    }

    /// An owner-role URL for this database.
    pub fn owner_url(&self) -> String {
        let base = server_options();
        format!(
            "postgres://{}@{}:{}/{}",
            base.get_username(),
            base.get_host(),
            base.get_port(),
            self.name
        )
    }

    /// A pool as the application role with exactly `n` connections.
    pub async fn app_pool(&self, n: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(n)
            .min_connections(n)
            .connect_with(self_app_options(&self.name))
            .await
            .unwrap()
    }

    /// A development configuration wired to this database, listening on port 0.
    pub fn config(&self) -> Config {
        let mut config = Config::development();
        config.bind_addr = "127.0.0.1:0".parse().unwrap();
        config.metrics_addr = "127.0.0.1:0".parse().unwrap();
        config.database_url = Some(SecretString::from(self.app_url()));
        config.database_admin_url = Some(SecretString::from(self.owner_url()));
        config
    }
}

fn url_for(role: &str, db: &str) -> String {
    let base = server_options();
    format!(
        "postgres://{role}@{}:{}/{db}",
        base.get_host(),
        base.get_port()
    )
}

fn self_app_options(db: &str) -> PgConnectOptions {
    server_options().username(TEST_APP_ROLE).database(db)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread
        // removes the database even when the test panicked.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&server_options()).await {
                    let _ = exec(
                        &mut conn,
                        format!("drop database if exists {name} with (force)"),
                    )
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The migrated template, built once per migration set (name carries a hash
/// of the migrations), under an advisory lock so parallel test binaries agree.
async fn ensure_template() -> String {
    let hash = migrations_hash();
    let template = format!("nudge_test_tpl_{hash:016x}");
    let mut conn = PgConnection::connect_with(&server_options()).await.unwrap();
    exec(&mut conn, "select pg_advisory_lock(727274)".into())
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !exists {
        // Other branches' test runs share this cluster with templates of
        // their own: keep the newest few, so none is dropped under a run
        // that is still cloning it.
        let stale: Vec<String> = sqlx::query_scalar(
            "select datname::text from pg_database where datname like 'nudge_test_tpl_%' \
             order by oid desc offset 7",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for old in stale {
            let _ = exec(&mut conn, format!("alter database {old} is_template false")).await;
            let _ = exec(
                &mut conn,
                format!("drop database if exists {old} with (force)"),
            )
            .await;
        }
        let building = format!("{template}_building");
        exec(
            &mut conn,
            format!("drop database if exists {building} with (force)"),
        )
        .await
        .unwrap();
        exec(&mut conn, format!("create database {building}"))
            .await
            .unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(server_options().database(&building))
            .await
            .unwrap();
        nudge::db::migrate(&pool, TEST_APP_ROLE, None)
            .await
            .expect("migrations apply to an empty database");
        pool.close().await;
        exec(
            &mut conn,
            format!("alter database {building} rename to {template}"),
        )
        .await
        .unwrap();
        exec(
            &mut conn,
            format!("alter database {template} is_template true"),
        )
        .await
        .unwrap();
    }
    exec(&mut conn, "select pg_advisory_unlock(727274)".into())
        .await
        .unwrap();
    conn.close().await.unwrap();
    template
}

fn migrations_hash() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        path.file_name().hash(&mut hasher);
        std::fs::read(&path).unwrap().hash(&mut hasher);
    }
    // Grants are part of the template too.
    include_str!("../../src/db/migrate.rs").hash(&mut hasher);
    hasher.finish()
}

/// A one-off reminder at `due` (local time in `timezone`), its time asked
/// for, written as the agent writes one (`Reminder::create`).
pub async fn one_off_reminder(
    pool: &PgPool,
    user: nudge::store::UserId,
    body: &str,
    due: chrono::DateTime<chrono::Utc>,
    timezone: &str,
) -> nudge::store::Reminder {
    let mut tx = nudge::db::UserTx::begin(pool, user).await.unwrap();
    let reminder = nudge::store::Reminder::create(
        &mut tx,
        nudge::store::NewReminder {
            body: body.into(),
            due_at: due,
            timezone: timezone.into(),
            local_time: None,
            recurrence: None,
            explicit_time: true,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    reminder
}

/// Creates a person with one number; returns their id.
pub async fn create_user(db: &TestDb, name: &str, phone: &str) -> nudge::store::UserId {
    let id = nudge::store::UserId(Uuid::new_v4());
    let mut tx = nudge::db::UserTx::begin(&db.owner, id).await.unwrap();
    nudge::store::User::insert(
        &mut tx,
        name,
        "America/Montreal".parse().unwrap(),
        nudge::store::Locale::En,
    )
    .await
    .unwrap();
    nudge::store::PhoneRecord::add(&mut tx, &phone.parse().unwrap(), true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Runs test-owned DDL (database names we generated ourselves).
async fn exec(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Runs `nudge admin <args>` against `db` as an operator would: the owner
/// URL, and the application role named by `DATABASE_URL`.
pub fn admin(db: &TestDb, args: &[&str]) -> std::process::Output {
    admin_with_env(db, args, &[])
}

/// [`admin`] with more settings in its environment (Redis, OAuth keys…).
pub fn admin_with_env(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("admin")
        .args(args)
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("DATABASE_ADMIN_URL", db.owner_url())
        // Names the application role whose rights per-person commands take.
        .env("DATABASE_URL", db.app_url())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The whole app built and running on `db`; the URL of its `/metrics`
/// (the process-wide recorder: one such test per process reads it alone).
pub async fn metrics_url(db: &TestDb) -> String {
    let app = nudge::startup::Application::build(db.config())
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/metrics", app.metrics_port());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

/// What `/metrics` shows now.
pub async fn scrape(metrics_url: &str) -> String {
    reqwest::get(metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
