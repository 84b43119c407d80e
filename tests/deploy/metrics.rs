//! Every metric an alert or a dashboard names must exist: checked against a
//! live scrape of the real `nudge serve` (after webhooks and a status
//! callback through it) and of Debian's PostgreSQL, Redis and node
//! exporters (the exporters the compose file runs, older versions).
//!
//! `nudge worker` has no /metrics listener yet, so the worker's side is
//! scraped from `nudge dev` (the same workers and server in one process,
//! which does serve /metrics) after texts are answered through the fake
//! Twilio. Names no short run records (reminders firing, model calls,
//! panics) are checked against the application's own registrations in
//! `src/` (a `counter!`, `gauge!` or `histogram!` with that name); the test
//! prints them.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use crate::common::stack::{self, Stack};
use crate::support::{free_port, read, repo, tool, yaml};

/// The dashboards, by file name.
pub fn dashboards() -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(repo("deploy/grafana/dashboards")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let json: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.insert(
                path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            );
        }
    }
    found
}

/// (where, expression) for every alert, recording rule and panel query,
/// and the names recording rules define.
fn expressions() -> (Vec<(String, String)>, BTreeSet<String>) {
    let mut exprs = Vec::new();
    let mut recorded = BTreeSet::new();
    let rules = yaml(&repo("deploy/prometheus/rules/nudge.yml"));
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["alert"].as_str().or(rule["record"].as_str()).unwrap();
            if let Some(r) = rule["record"].as_str() {
                recorded.insert(r.to_string());
            }
            exprs.push((
                format!("rule {name}"),
                rule["expr"].as_str().unwrap().to_string(),
            ));
        }
    }
    for (file, dashboard) in dashboards() {
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                exprs.push((
                    format!("{file} / {}", panel["title"].as_str().unwrap()),
                    target["expr"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    (exprs, recorded)
}

/// Metric names in a Prometheus text exposition.
fn exposed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect()
}

/// Names the application registers in src/, histograms with their series.
fn registered_in_source() -> BTreeSet<String> {
    let call = Regex::new(r#"(counter|gauge|histogram)!\(\s*"([a-z_:][a-z0-9_:]*)""#).unwrap();
    let mut names = BTreeSet::new();
    let mut stack = vec![repo("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for c in call.captures_iter(&text) {
                    let name = c[2].to_string();
                    if &c[1] == "histogram" {
                        for suffix in ["_bucket", "_sum", "_count"] {
                            names.insert(format!("{name}{suffix}"));
                        }
                    } else {
                        names.insert(name);
                    }
                }
            }
        }
    }
    names
}

/// A Debian exporter on a spare port, scraped once it answers.
struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        stack::sigkill(&mut self.0);
    }
}

async fn scrape_exporter(
    binary: &str,
    args: &[String],
    env: &[(&str, String)],
) -> (Exporter, String) {
    let port = free_port();
    let mut cmd = tool(binary);
    cmd.args(args)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Exporter(cmd.spawn().unwrap());
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await
            && r.status().is_success()
        {
            return (child, r.text().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{binary} did not answer");
}

/// A `nudge dev` process (stopped on drop).
struct Dev(tokio::process::Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

static SIGNED: LazyLock<String> = LazyLock::new(|| format!("{}/twilio/sms", stack::PUBLIC_URL));

/// The worker's metrics: `nudge dev` on the stack's database, Redis and fake
/// Twilio (the stack's own worker stopped, so dev's takes every job), two
/// texts answered and a delivery callback with a carrier error.
async fn worker_side_metrics(stack: &mut Stack, phone: &str) -> String {
    stack.kill_worker();
    // Gemini as Google answers: the model check at start, then a short text.
    let gemini = wiremock::MockServer::start().await;
    let model = nudge::config::DEFAULT_GEMINI_MODEL;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!("/v1beta/models/{model}")))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "name": format!("models/{model}"), "version": "001",
                "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"]
            })),
        )
        .mount(&gemini)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(format!("/v1beta/models/{model}:generateContent")))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Noted."}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 812, "candidatesTokenCount": 3, "totalTokenCount": 815},
            "modelVersion": model
        })))
        .mount(&gemini)
        .await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("dev")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", stack.db.app_url())
        .env("DATABASE_ADMIN_URL", stack.db.owner_url())
        .env("REDIS_URL", &stack.redis_url)
        .env(
            "REDIS_KEY_PREFIX",
            format!("deploy:{}:", uuid::Uuid::new_v4().simple()),
        )
        .env("PUBLIC_BASE_URL", stack::PUBLIC_URL)
        .env("TWILIO_ACCOUNT_SID", stack::ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", stack::AUTH_TOKEN)
        .env("TWILIO_FROM_NUMBER", stack::FROM)
        .env("TWILIO_API_BASE", stack.twilio.server.uri())
        // Pacing has its own tests; here it would only slow the replies.
        .env("TWILIO_MAX_MPS", "100")
        .env("GEMINI_API_KEY", "deploy-test-key")
        .env("GEMINI_BASE_URL", gemini.uri())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let _dev = Dev(child);
    let (base, metrics) = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("nudge dev: listening on ") {
                let mut words = rest.split_whitespace();
                let base = words.next().unwrap().to_string();
                let metrics = words.nth(2).unwrap().trim_end_matches(')').to_string();
                return (base, metrics);
            }
        }
        panic!("nudge dev exited before listening");
    })
    .await
    .expect("nudge dev listens within 60 s");

    let http = reqwest::Client::new();
    for text in ["add milk to my list", "HELP"] {
        let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
        let params = crate::common::sms::inbound_params(phone, text, &sid);
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signature =
            nudge::sms_router::signature::compute_signature(stack::AUTH_TOKEN, &SIGNED, &owned);
        let resp = http
            .post(format!("{base}/twilio/sms"))
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // One at a time: the person's turns are answered in order.
        let before = stack.twilio.delivered().len();
        let got = stack
            .wait_delivered(before + 1, Duration::from_secs(30))
            .await;
        assert!(got.len() > before, "nudge dev answered no text");
    }
    // A carrier error on one of the replies, as Twilio reports it.
    let sid: String = sqlx::query_scalar(
        "select provider_message_id from messages where direction = 'outbound' \
         and provider_message_id is not null limit 1",
    )
    .fetch_one(&stack.db.owner)
    .await
    .unwrap();
    let callback = vec![
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30007"),
        ("AccountSid", stack::ACCOUNT_SID),
    ];
    let url = format!("{}/twilio/status", stack::PUBLIC_URL);
    let owned: Vec<(String, String)> = callback
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signature =
        nudge::sms_router::signature::compute_signature(stack::AUTH_TOKEN, &url, &owned);
    let resp = http
        .post(format!("{base}/twilio/status"))
        .header("x-twilio-signature", signature)
        .form(&callback)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    http.get(&metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_an_alert_or_a_dashboard_names_exists() {
    let mut stack = Stack::start().await;
    let logs = tempfile::tempdir().unwrap();
    let served = crate::edge::Served::start(&stack, stack::PUBLIC_URL, logs.path()).await;
    let base = format!("http://127.0.0.1:{}", served.port);

    // A short run: texts from a person and a stranger, a delivery callback
    // with a carrier error, health checks.
    // Two people: one texts `nudge serve` now (the stack's worker answers),
    // the other `nudge dev` later (its turn must not wait on a lease the
    // stopped worker held).
    let phone = "+15145550177";
    let phone_dev = "+15145550178";
    crate::common::create_user(&stack.db, "Metrics", phone).await;
    crate::common::create_user(&stack.db, "Metrics dev", phone_dev).await;
    let http = reqwest::Client::new();
    let post = |route: &str, params: Vec<(&str, &str)>| {
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = format!("{}{route}", stack::PUBLIC_URL);
        let signature =
            nudge::sms_router::signature::compute_signature(stack::AUTH_TOKEN, &url, &owned);
        http.post(format!("{base}{route}"))
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
    };
    for (from, text) in [
        (phone, "remind me to stretch in 2 hours"),
        ("+15145550111", "hello?"),
    ] {
        let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
        let resp = post(
            "/twilio/sms",
            crate::common::sms::inbound_params(from, text, &sid),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let callback = vec![
        ("MessageSid", "SM00000000000000000000000000000000"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30007"),
        ("AccountSid", stack::ACCOUNT_SID),
    ];
    assert!(
        post("/twilio/status", callback)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let text = http
        .get(format!("http://127.0.0.1:{}/metrics", served.metrics_port))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut live = exposed(&text);
    // The serve-side names the alerts stand on, and the bucket the
    // "over 10 s" rules divide by.
    for name in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_count",
        "sms_webhooks_total",
        "sms_webhook_ack_seconds_bucket",
        "jobs_queue_depth",
        "jobs_oldest_age_seconds",
        "nudge_build_info",
    ] {
        assert!(
            live.contains(name),
            "nudge serve does not expose {name}:\n{text}"
        );
    }
    assert!(
        text.contains(r#"le="10""#),
        "the 10 s bucket is written le=\"10\""
    );
    assert!(text.contains(r#"queue="agent_turn""#));
    drop(served);

    let worker_text = worker_side_metrics(&mut stack, phone_dev).await;
    let worker_live = exposed(&worker_text);
    for name in [
        "agent_turns_total",
        "agent_turn_duration_seconds_bucket",
        "sms_outbound_total",
        "sms_outbound_requests_total",
        "sms_segments_total",
        "sms_delivery_errors_total",
        "sms_keywords_total",
        "llm_requests_total",
        "llm_request_duration_seconds_bucket",
        "llm_tokens_total",
        "llm_estimated_cost_micros_total",
        "llm_model_available",
    ] {
        assert!(
            worker_live.contains(name),
            "nudge dev does not expose {name}:\n{worker_text}"
        );
    }
    assert!(worker_text.contains(r#"sms_delivery_errors_total{code="30007"}"#));
    live.extend(worker_live);

    // The exporters the stack scrapes.
    let (_pg, pg_text) = scrape_exporter(
        "prometheus-postgres-exporter",
        &[],
        &[(
            "DATA_SOURCE_NAME",
            format!("{}?sslmode=disable", stack.db.owner_url()),
        )],
    )
    .await;
    let redis_addr = crate::common::redis_url();
    let (_redis, redis_text) = scrape_exporter(
        "prometheus-redis-exporter",
        &[format!("--redis.addr={redis_addr}")],
        &[],
    )
    .await;
    let textfile = tempfile::tempdir().unwrap();
    // What deploy/backup/backup.sh writes, in the directory node-exporter reads.
    std::fs::write(
        textfile.path().join("nudge_backup_full_repo1.prom"),
        "nudge_backup_last_success_timestamp_seconds{type=\"full\",repo=\"1\"} 1.7e9\n",
    )
    .unwrap();
    let (_node, node_text) = scrape_exporter(
        "prometheus-node-exporter",
        &[format!(
            "--collector.textfile.directory={}",
            textfile.path().display()
        )],
        &[],
    )
    .await;
    assert!(
        read("deploy/backup/backup.sh")
            .contains("nudge_backup_last_success_timestamp_seconds{type=")
    );

    let exporters: BTreeSet<String> = [pg_text, redis_text, node_text]
        .iter()
        .flat_map(|t| exposed(t))
        .collect();
    let source = registered_in_source();
    let (exprs, recorded) = expressions();
    let mut missing = Vec::new();
    let mut source_only = BTreeSet::new();
    for (place, expr) in &exprs {
        for name in crate::promql::metric_names(expr) {
            // `up` is Prometheus's own; recording rules define their names.
            if name == "up"
                || recorded.contains(&name)
                || live.contains(&name)
                || exporters.contains(&name)
            {
                continue;
            }
            if source.contains(&name) {
                source_only.insert(name);
                continue;
            }
            missing.push(format!("{place}: {name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "metrics nobody exports:\n{}",
        missing.join("\n")
    );
    println!(
        "checked {} expressions; not recorded in the short run, confirmed by their registration in src/: {}",
        exprs.len(),
        source_only.into_iter().collect::<Vec<_>>().join(", ")
    );
}
