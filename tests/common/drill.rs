//! Crash drills: a `nudge worker` PROCESS against a test database and a
//! wiremock Twilio, killed with SIGKILL and restarted during the run.

use wiremock::MockServer;

use super::TestDb;

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
pub fn spawn_worker_with(db: &TestDb, prefix: &str, env: &[(&str, &str)]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
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
