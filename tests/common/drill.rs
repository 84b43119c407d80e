//! Crash drills: a `nudge worker` PROCESS against a test database and a
//! wiremock Twilio, killed with SIGKILL and restarted during the run.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use wiremock::MockServer;

use super::TestDb;
use nudge::store::UserId;

/// `n` people in a few statements, each with a primary number
/// `+15145000001`, `+15145000002`… in creation order.
pub async fn bulk_people(db: &TestDb, n: usize) -> Vec<UserId> {
    let users: Vec<UserId> = sqlx::query_scalar(
        "with u as (insert into users (display_name, timezone) \
           select 'p' || n, 'UTC' from generate_series(0, $1 - 1) n returning id) \
         select id from u",
    )
    .bind(n as i64)
    .fetch_all(&db.owner)
    .await
    .unwrap()
    .into_iter()
    .map(UserId)
    .collect();
    sqlx::query(
        "insert into user_phone_numbers (user_id, e164, verified, is_primary) \
         select id, '+1514' || lpad((5000000 + row_number() over (order by id))::text, 7, '0'), true, true \
         from users where id = any($1)",
    )
    .bind(users.iter().map(|u| u.0).collect::<Vec<_>>())
    .execute(&db.owner)
    .await
    .unwrap();
    users
}

/// `total` one-off reminders `drill 00000`, `drill 00001`… spread evenly
/// over `window` from `start`, round-robin over `users`: the same rows and
/// jobs `Reminder::create` writes, inserted in one statement. Returns each
/// text as it will arrive (`Reminder: drill 00042`) with its due instant.
pub async fn bulk_reminders(
    db: &TestDb,
    users: &[UserId],
    total: usize,
    start: DateTime<Utc>,
    window: Duration,
) -> HashMap<String, DateTime<Utc>> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    sqlx::query(
        "with r as (insert into reminders (user_id, body, due_at, timezone, explicit_time) \
           select ($1::uuid[])[1 + (n % array_length($1, 1))], 'drill ' || lpad(n::text, 5, '0'), \
                  $2 + make_interval(secs => $3 * n / $4), 'UTC', true \
           from generate_series(0, $4 - 1) n returning id, user_id, due_at) \
         insert into apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
         select apalis.generate_ulid(), 'reminder_due', \
                convert_to(json_build_object('user_id', user_id, 'reminder_id', id)::text, 'UTF8'), \
                'Pending', 0, 10, due_at, 0 from r",
    )
    .bind(&ids)
    .bind(start)
    .bind(window.as_secs_f64())
    .bind(total as i64)
    .execute(&db.owner)
    .await
    .unwrap();
    (0..total)
        .map(|i| {
            let at = start
                + chrono::Duration::microseconds(
                    (window.as_secs_f64() * 1e6 * i as f64 / total as f64) as i64,
                );
            (format!("Reminder: drill {i:05}"), at)
        })
        .collect()
}

/// A size from the environment (the bench scripts raise them).
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn spawn_worker(db: &TestDb, twilio: &MockServer, prefix: &str) -> std::process::Child {
    spawn_worker_with(
        db,
        prefix,
        &[
            ("TWILIO_ACCOUNT_SID", "ACdrill"),
            ("TWILIO_AUTH_TOKEN", "drill-token"),
            ("TWILIO_FROM_NUMBER", "+15005550006"),
            ("TWILIO_API_BASE", &twilio.uri()),
            ("TWILIO_MAX_MPS", "100000"),
        ],
    )
}

/// A `nudge worker` with these settings besides the database and Redis.
/// `NUDGE_BENCH_NUDGE` names another build's binary to run instead, for a
/// before/after comparison in one time window (bench/all.sh).
pub fn spawn_worker_with(db: &TestDb, prefix: &str, env: &[(&str, &str)]) -> std::process::Child {
    let nudge =
        std::env::var("NUDGE_BENCH_NUDGE").unwrap_or_else(|_| env!("CARGO_BIN_EXE_nudge").into());
    std::process::Command::new(nudge)
        .arg("worker")
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", db.app_url())
        .env("REDIS_URL", super::redis_url())
        .env("REDIS_KEY_PREFIX", prefix)
        .envs(env.iter().copied())
        .env("WORKER_HEARTBEAT_SECONDS", "1")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

pub fn sigkill(child: &mut std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();
}
