//! `nudge serve` on port 0: health, readiness, metrics on their own
//! listener, request ids.

mod common;

use common::TestDb;
use nudge::startup::Application;
use secrecy::SecretString;

struct TestApp {
    base: String,
    metrics_base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn spawn(config: nudge::config::Config) -> TestApp {
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = format!("http://127.0.0.1:{}", app.metrics_port());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        metrics_base,
        stop: Some(tx),
        handle,
    }
}

impl TestApp {
    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.handle.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_everything_is_up() {
    let db = TestDb::new().await;
    let mut config = db.config();
    config.redis_url = Some(SecretString::from(common::redis_url()));
    let app = spawn(config).await;
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
    app.shutdown().await;
}

#[tokio::test]
async fn readyz_is_503_and_names_what_failed_when_postgres_is_unreachable() {
    let db = TestDb::new().await;
    let mut config = db.config();
    // Nothing listens on port 1.
    config.database_url = Some(SecretString::from(
        "postgres://nobody@127.0.0.1:1/nudge".to_string(),
    ));
    let app = spawn(config).await;
    let client = reqwest::Client::new();

    // The process itself is alive.
    let health = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["postgres"], "unreachable");
    assert!(
        !body.to_string().contains("127.0.0.1:1"),
        "leaks internals: {body}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn readyz_reports_redis_down_when_configured() {
    let db = TestDb::new().await;
    let mut config = db.config();
    config.redis_url = Some(SecretString::from("redis://127.0.0.1:1".to_string()));
    let app = spawn(config).await;
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "unreachable");
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_live_on_their_own_listener_only() {
    let db = TestDb::new().await;
    let app = spawn(db.config()).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
    }
    client
        .get(format!("{}/no-such-page", app.base))
        .send()
        .await
        .unwrap();

    let public = client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "metrics must not be public");

    let metrics = client
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("nudge_build_info"), "{text}");
    let healthz_line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains("route=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no healthz counter in:\n{text}"));
    let count: f64 = healthz_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{healthz_line}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\"") && !text.contains("no-such-page"),
        "raw paths must not become labels"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn request_ids_are_generated_or_propagated() {
    let db = TestDb::new().await;
    let app = spawn(db.config()).await;
    let client = reqwest::Client::new();

    let given = client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");

    let generated = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let other = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight() {
    let db = TestDb::new().await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn(db.config()).await;
    // A request whose headers have arrived and whose body has not: it is
    // in flight for as long as we hold the rest back, however loaded the
    // machine (a fixed 20 ms sleep raced the client under load).
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 8\r\n\r\nFrom=+1",
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stop = tokio::spawn(app.shutdown());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stream.write_all(b"5").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    // Answered (the unsigned webhook is refused), not cut off.
    assert!(response.starts_with("HTTP/1.1 403"), "{response:?}");
    stop.await.unwrap();
}

#[tokio::test]
async fn one_address_flooding_the_edge_gets_429_and_others_do_not() {
    let db = TestDb::new().await;
    let mut config = db.config();
    config.edge_requests_per_second = 1;
    config.edge_burst = 3;
    // The test client stands in for nginx: its X-Forwarded-For is believed.
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = spawn(config).await;
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = client
            .get(format!("{}/healthz", app.base))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap();
        codes.push(r.status().as_u16());
    }
    assert_eq!(&codes[..3], &[200, 200, 200]);
    assert_eq!(codes[4], 429, "{codes:?}");
    let other = client
        .get(format!("{}/healthz", app.base))
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", app.metrics_base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Every queue has its gauges, the reminder queues included.
    for queue in nudge::db::queue::QUEUES {
        for gauge in ["jobs_queue_depth", "jobs_oldest_age_seconds"] {
            assert!(
                metrics.contains(&format!("{gauge}{{queue=\"{queue}\"}} 0")),
                "{gauge} for {queue}:\n{metrics}"
            );
        }
    }
    assert!(nudge::db::queue::QUEUES.contains(&"reminder_due"));
    app.shutdown().await;
}

/// Runs `nudge <command>` with only `vars` set; it must exit by itself.
async fn exits_with(command: &str, vars: &[(&str, String)]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nudge"));
    cmd.arg(command)
        .env_clear()
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .kill_on_drop(true);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("nudge {command} did not exit within 30 s"))
        .unwrap()
}

fn assert_exit_2_one_line(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

#[tokio::test]
async fn serve_and_worker_refuse_a_role_that_bypasses_rls() {
    let db = TestDb::new().await;
    for command in ["serve", "worker"] {
        let out = exits_with(
            command,
            &[
                ("NUDGE_ENV", "development".into()),
                ("DATABASE_URL", db.owner_url()),
            ],
        )
        .await;
        assert_exit_2_one_line(
            &out,
            "which is a superuser and so bypasses row-level security",
        );
    }
    // `nudge dev` with a separate owner URL keeps DATABASE_URL's role as
    // given, and so refuses it too.
    let out = exits_with(
        "dev",
        &[
            ("NUDGE_ENV", "development".into()),
            ("DATABASE_URL", db.owner_url()),
            ("DATABASE_ADMIN_URL", db.owner_url()),
        ],
    )
    .await;
    assert_exit_2_one_line(&out, "bypasses row-level security");
    // BYPASSRLS alone is refused too.
    let role = format!("bypass_{}", &db.name["nudge_test_".len()..]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create role {role} login bypassrls in role {}",
        common::TEST_APP_ROLE
    )))
    .execute(&db.owner)
    .await
    .unwrap();
    let url = db.app_url().replacen(common::TEST_APP_ROLE, &role, 1);
    let out = exits_with(
        "serve",
        &[("NUDGE_ENV", "development".into()), ("DATABASE_URL", url)],
    )
    .await;
    assert_exit_2_one_line(&out, "has BYPASSRLS");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop role {role}")))
        .execute(&db.owner)
        .await
        .unwrap();
}

#[tokio::test]
async fn serve_and_worker_require_nudge_env() {
    let db = TestDb::new().await;
    for command in ["serve", "worker"] {
        let out = exits_with(command, &[("DATABASE_URL", db.app_url())]).await;
        assert_exit_2_one_line(&out, "NUDGE_ENV is required");
    }
}

#[tokio::test]
async fn the_edge_limit_believes_forwarded_headers_only_from_trusted_proxies() {
    let db = TestDb::new().await;
    let client = reqwest::Client::new();
    let burst_of_two = |trusted: &str| {
        let mut config = db.config();
        config.edge_requests_per_second = 1;
        config.edge_burst = 2;
        config.trusted_proxies = if trusted.is_empty() {
            Vec::new()
        } else {
            vec![trusted.parse().unwrap()]
        };
        config
    };
    // No trusted proxy: a client rotating X-Forwarded-For still has one
    // bucket, its own address.
    let app = spawn(burst_of_two("")).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = client
            .get(format!("{}/healthz", app.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    app.shutdown().await;

    // Behind a trusted proxy (loopback here), each forwarded client has
    // its own bucket, and a client forging the left of the header gains
    // nothing: the proxy's appended entry is what counts.
    let app = spawn(burst_of_two("127.0.0.1/32")).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = client
            .get(format!("{}/healthz", app.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200]);
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = client
            .get(format!("{}/healthz", app.base))
            .header("x-forwarded-for", format!("10.9.9.{i}, 203.0.113.5"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    app.shutdown().await;
}
