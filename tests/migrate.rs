//! `nudge migrate` from an empty database: schema, job queue, application
//! role and its grants; idempotent; refuses roles that would defeat RLS.

mod common;

use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use common::server_url;

struct EmptyDb {
    name: String,
}

impl EmptyDb {
    async fn new() -> Self {
        let name = format!("nudge_test_empty_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&server_url()).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        EmptyDb { name }
    }

    fn url_as(&self, role: &str) -> String {
        let base: url::Url = server_url().parse().unwrap();
        format!(
            "postgres://{role}@{}:{}/{}",
            base.host_str().unwrap(),
            base.port().unwrap_or(5432),
            self.name
        )
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    if let Ok(mut c) = PgConnection::connect(&server_url()).await {
                        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                            "drop database if exists {name} with (force)"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                })
        })
        .join();
    }
}

fn migrate_cmd(db: &EmptyDb, app_role: &str) -> std::process::Output {
    let owner: url::Url = server_url().parse().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("migrate")
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", db.url_as(app_role))
        .env("DATABASE_ADMIN_URL", db.url_as(owner.username()))
        .output()
        .unwrap()
}

#[tokio::test]
async fn migrate_builds_everything_and_is_idempotent() {
    let db = EmptyDb::new().await;
    let role = "nudge_test_migrate_app";
    for run in 0..2 {
        let out = migrate_cmd(&db, role);
        assert!(
            out.status.success(),
            "run {run}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The application role connects, sees the schema, owns nothing.
    let app = PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.url_as(role))
        .await
        .unwrap();
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app)
        .await
        .unwrap();
    assert_eq!(users, 0);
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&app)
        .await
        .unwrap();
    assert_eq!(jobs, 0);
    let owned: i64 = sqlx::query_scalar(
        "select count(*) from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = current_user",
    )
    .fetch_one(&app)
    .await
    .unwrap();
    assert_eq!(owned, 0);
    // Migration history is not the application's business.
    assert!(
        sqlx::query("select 1 from _sqlx_migrations")
            .fetch_all(&app)
            .await
            .is_err()
    );
    app.close().await;
}

#[tokio::test]
async fn migrate_refuses_an_application_role_that_bypasses_rls() {
    let db = EmptyDb::new().await;
    let mut conn = PgConnection::connect(&server_url()).await.unwrap();
    let _ = sqlx::raw_sql("create role nudge_test_too_powerful login superuser")
        .execute(&mut conn)
        .await;
    let out = migrate_cmd(&db, "nudge_test_too_powerful");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("defeat row-level security"), "{err}");
}

/// Forwards TCP to PostgreSQL and records every byte the client sent.
async fn recording_proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server: url::Url = server_url().parse().unwrap();
    let target = format!(
        "{}:{}",
        server.host_str().unwrap(),
        server.port().unwrap_or(5432)
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(upstream) = tokio::net::TcpStream::connect(&target).await else {
                continue;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = upstream.into_split();
                let up = async {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = client_read.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = server_write.shutdown().await;
                };
                let down = tokio::io::copy(&mut server_read, &mut client_write);
                let _ = tokio::join!(up, down);
            });
        }
    });
    (port, seen)
}

/// The password never travels to the server: what `nudge migrate` sends
/// (recorded on the wire, TLS off) holds a SCRAM-SHA-256 verifier, and
/// PostgreSQL stores exactly what we derive from the stored salt.
#[tokio::test]
async fn the_application_password_is_sent_as_a_scram_verifier() {
    let db = EmptyDb::new().await;
    let role = format!("nudge_test_scram_{}", &db.name[db.name.len() - 8..]);
    let password = "pä55 w0rd:with@odd/chars";
    let owner: url::Url = server_url().parse().unwrap();
    let mut app_url: url::Url = db.url_as(&role).parse().unwrap();
    app_url.set_password(Some(password)).unwrap();
    let (port, wire) = recording_proxy().await;
    let admin_url = format!(
        "postgres://{}@127.0.0.1:{port}/{}?sslmode=disable",
        owner.username(),
        db.name
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("migrate")
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", app_url.as_str())
        .env("DATABASE_ADMIN_URL", admin_url)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = String::from_utf8_lossy(&wire.lock().unwrap()).into_owned();
    assert!(
        sent.contains("SCRAM-SHA-256$4096:"),
        "no verifier on the wire"
    );
    assert!(!sent.contains(password), "the password went to the server");

    let mut conn = PgConnection::connect(&server_url()).await.unwrap();
    let stored: String = sqlx::query_scalar("select rolpassword from pg_authid where rolname = $1")
        .bind(&role)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let salt_b64 = stored.split(['$', ':']).nth(2).unwrap();
    use base64::Engine as _;
    let salt = base64::engine::general_purpose::STANDARD
        .decode(salt_b64)
        .unwrap();
    assert_eq!(
        stored,
        nudge::db::scram::verifier_with(password, &salt, nudge::db::scram::ITERATIONS)
    );
    // The role holds grants in the database: drop that first.
    drop(db);
    let _ = sqlx::raw_sql(AssertSqlSafe(format!("drop role {role}")))
        .execute(&mut conn)
        .await;
}
