//! `nudge worker`: the maintenance job, its cron wiring, clean shutdown.

mod common;

use std::time::Duration;

use common::{TestDb, create_user};
use nudge::startup::build_state;
use nudge::workers::{self, WorkerOptions, maintenance};

async fn seed_expirables(db: &TestDb) {
    let user = create_user(db, "Mo", "+15145550101").await;
    for (state, expires) in [("old", "-1 minute"), ("fresh", "10 minutes")] {
        sqlx::query(
            "insert into oauth_states (state_hash, user_id, provider, pkce_verifier_ciphertext, \
             pkce_verifier_nonce, key_id, expires_at) values ($1, $2, 'google', '\\x00', '\\x00', 1, now() + $3::interval)",
        )
        .bind(state)
        .bind(user.0)
        .bind(expires)
        .execute(&db.owner)
        .await
        .unwrap();
        sqlx::query(
            "insert into pending_actions (user_id, tool_name, arguments, summary, short_code, expires_at) \
             values ($1, 'x', '{}', $2, 'A1', now() + $3::interval)",
        )
        .bind(user.0)
        .bind(state)
        .bind(expires)
        .execute(&db.owner)
        .await
        .unwrap();
    }
    for (phone, age) in [("+15145550000", "31 days"), ("+15145550001", "1 day")] {
        sqlx::query(
            "insert into user_identification_logs (phone_e164, outcome, created_at) \
             values ($1, 'unknown', now() - $2::interval)",
        )
        .bind(phone)
        .bind(age)
        .execute(&db.owner)
        .await
        .unwrap();
    }
}

async fn remaining(db: &TestDb) -> (Vec<String>, Vec<String>, Vec<String>) {
    let states = sqlx::query_scalar("select state_hash from oauth_states")
        .fetch_all(&db.owner)
        .await
        .unwrap();
    let actions = sqlx::query_scalar("select summary from pending_actions")
        .fetch_all(&db.owner)
        .await
        .unwrap();
    let logs = sqlx::query_scalar("select phone_e164 from user_identification_logs")
        .fetch_all(&db.owner)
        .await
        .unwrap();
    (states, actions, logs)
}

#[tokio::test]
async fn maintenance_purges_only_what_expired() {
    let db = TestDb::new().await;
    seed_expirables(&db).await;
    // As the application role: the purge goes through its SECURITY DEFINER function.
    let purged = maintenance::purge_expired(&db.app, Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!(
        purged,
        maintenance::Purged {
            oauth_states: 1,
            pending_actions: 1,
            identification_logs: 1
        }
    );
    let (states, actions, logs) = remaining(&db).await;
    assert_eq!(states, ["fresh"]);
    assert_eq!(actions, ["fresh"]);
    assert_eq!(logs, ["+15145550001"]);
}

#[tokio::test]
async fn the_worker_runs_maintenance_on_its_cron_schedule_and_stops_on_signal() {
    let db = TestDb::new().await;
    seed_expirables(&db).await;
    let state = build_state(db.config()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(workers::run(
        state,
        WorkerOptions {
            maintenance_schedule: "* * * * * *".into(),
            ..WorkerOptions::default()
        },
        async {
            let _ = stopped.await;
        },
    ));
    let mut purged = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if remaining(&db).await.0 == ["fresh"] {
            purged = true;
            break;
        }
    }
    assert!(purged, "the cron job never ran");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .expect("worker did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_worker_process_exits_cleanly_on_sigterm() {
    let db = TestDb::new().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("worker")
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", db.app_url())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(child.try_wait().unwrap().is_none(), "worker exited early");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{logs}");
    assert!(logs.contains("worker stopped"), "{logs}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn worker_on(db: &TestDb, metrics_addr: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("worker")
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", db.app_url())
        .env("METRICS_ADDR", metrics_addr)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Prometheus scrapes every worker on `METRICS_ADDR`, and a container
/// healthcheck asks it: every queue's gauges are there, reminders included.
#[tokio::test]
async fn the_worker_serves_its_metrics_and_health() {
    let db = TestDb::new().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = worker_on(&db, &addr);
    let client = reqwest::Client::new();
    let mut metrics = String::new();
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("http://{addr}/metrics")).send().await {
            metrics = r.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let health = client.get(format!("http://{addr}/healthz")).send().await;
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(health.unwrap().status(), 200);
    for queue in nudge::db::queue::QUEUES {
        assert!(
            metrics.contains(&format!("jobs_queue_depth{{queue=\"{queue}\"}}")),
            "{queue}:\n{metrics}"
        );
    }
}

/// A taken monitoring port costs the metrics, never the reminders: the
/// worker says so once and runs.
#[tokio::test]
async fn a_taken_metrics_port_does_not_stop_the_worker() {
    let db = TestDb::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut child = worker_on(&db, &addr);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let running = child.try_wait().unwrap().is_none();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(running, "the worker exited:\n{logs}");
    assert!(logs.contains("worker metrics unavailable"), "{logs}");
    drop(taken);
}
