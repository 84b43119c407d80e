//! An SMS harness: the app on port 0, the workers in-process, Twilio's REST
//! API replaced by wiremock (checking Basic auth), webhooks signed as Twilio
//! signs them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestDb;
use nudge::app::AppState;
use nudge::startup::{Application, build_state};
use nudge::workers::{self, WorkerOptions};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
pub const AUTH_TOKEN: &str = "test-auth-token";
pub const FROM: &str = "+15005550006";
pub const PUBLIC_URL: &str = "https://nudge.example";

/// Twilio's create-message answer, with a fresh SID each time.
struct Created(AtomicUsize);

impl Respond for Created {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(201).set_body_json(json!({
            "account_sid": ACCOUNT_SID,
            "sid": format!("SM{n:032}"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "error_code": null,
            "error_message": null,
        }))
    }
}

pub struct SmsHarness {
    pub db: TestDb,
    pub twilio: MockServer,
    pub state: AppState,
    pub base: String,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    worker: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn fast_workers() -> WorkerOptions {
    WorkerOptions {
        poll_interval: Duration::from_millis(
            std::env::var("NUDGE_BENCH_POLL_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(200),
        ),
        heartbeat: Duration::from_secs(
            std::env::var("NUDGE_BENCH_HEARTBEAT_S")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
        ),
        missed_heartbeats: 2,
        agent_concurrency: std::env::var("NUDGE_BENCH_AGENT_CONCURRENCY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8),
        ..WorkerOptions::default()
    }
}

/// Twilio's Messages resource on `twilio`: 201 with a fresh sid for every
/// request with the test account's credentials.
pub async fn mount_twilio(twilio: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        )))
        .and(header(
            "authorization",
            format!(
                "Basic {}",
                base64_encode(&format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
            )
            .as_str(),
        ))
        .respond_with(Created(AtomicUsize::new(0)))
        .mount(twilio)
        .await;
}

impl SmsHarness {
    /// App and workers; `tweak` adjusts the configuration first.
    pub async fn start(tweak: impl FnOnce(&mut nudge::config::Config)) -> SmsHarness {
        Self::start_with(tweak, |_| {}, true).await
    }

    pub async fn start_with(
        tweak: impl FnOnce(&mut nudge::config::Config),
        tweak_state: impl FnOnce(&mut AppState),
        run_workers: bool,
    ) -> SmsHarness {
        let db = TestDb::new().await;
        let twilio = MockServer::start().await;
        mount_twilio(&twilio).await;

        let mut config = db.config();
        config.public_base_url = PUBLIC_URL.into();
        config.redis_url = Some(SecretString::from(super::redis_url()));
        // Tests share one Redis; each app gets its own keys.
        config.redis_key_prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        config.twilio.account_sid = Some(ACCOUNT_SID.into());
        config.twilio.auth_token = Some(SecretString::from(AUTH_TOKEN));
        config.twilio.from_number = Some(FROM.into());
        config.twilio.api_base = twilio.uri();
        // Pacing has its own test; elsewhere it would only slow tests down.
        config.twilio.max_mps = 1000.0;
        tweak(&mut config);
        let mut state = build_state(config).unwrap();
        tweak_state(&mut state);
        let app = Application::build_with_state(state.clone()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until(std::future::pending()));
        let mut harness = SmsHarness {
            db,
            twilio,
            state,
            base,
            http: reqwest::Client::new(),
            server,
            worker: None,
        };
        if run_workers {
            harness.start_workers();
        }
        harness
    }

    pub fn start_workers(&mut self) {
        self.worker = Some(tokio::spawn(workers::run(
            self.state.clone(),
            fast_workers(),
            std::future::pending(),
        )));
    }

    /// Aborts the in-process workers, as a crash would.
    pub fn kill_workers(&mut self) {
        if let Some(w) = self.worker.take() {
            w.abort();
        }
    }

    /// Posts a webhook signed with our signer.
    pub async fn post(&self, route: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = format!("{PUBLIC_URL}{route}");
        let signature = nudge::sms_router::signature::compute_signature(AUTH_TOKEN, &url, &owned);
        self.post_signed(route, params, &signature).await
    }

    pub async fn post_signed(
        &self,
        route: &str,
        params: &[(&str, &str)],
        signature: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{route}", self.base))
            .header("x-twilio-signature", signature)
            .form(params)
            .send()
            .await
            .unwrap()
    }

    /// An inbound SMS as Twilio posts it.
    pub async fn text(&self, from: &str, body: &str, sid: &str) -> reqwest::Response {
        self.post("/twilio/sms", &inbound_params(from, body, sid))
            .await
    }

    /// Every message posted to the fake Twilio: (To, From, Body, StatusCallback).
    pub async fn sent(&self) -> Vec<SentForm> {
        self.twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let form: Vec<(String, String)> =
                    url::form_urlencoded::parse(&r.body).into_owned().collect();
                let get = |k: &str| {
                    form.iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                SentForm {
                    to: get("To"),
                    from: get("From"),
                    body: get("Body"),
                    status_callback: get("StatusCallback"),
                }
            })
            .collect()
    }

    /// Waits until `n` messages reached the fake Twilio (or fails after 20 s).
    pub async fn wait_sent(&self, n: usize) -> Vec<SentForm> {
        for _ in 0..200 {
            let sent = self.sent().await;
            if sent.len() >= n {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} messages, got {:?}", self.sent().await);
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.db.owner)
            .await
            .unwrap()
    }
}

impl Drop for SmsHarness {
    fn drop(&mut self) {
        self.server.abort();
        self.kill_workers();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentForm {
    pub to: String,
    pub from: String,
    pub body: String,
    pub status_callback: String,
}

/// The parameters Twilio posts for an inbound SMS.
pub fn inbound_params<'a>(from: &'a str, body: &'a str, sid: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", "QC"),
        ("SmsStatus", "received"),
        ("FromCity", "MONTREAL"),
        ("Body", body),
        ("FromCountry", "CA"),
        ("To", FROM),
        ("MessagingServiceSid", ""),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every message body that reached the fake Twilio, with its arrival time.
pub type Arrivals = std::sync::Arc<std::sync::Mutex<Vec<(String, chrono::DateTime<chrono::Utc>)>>>;

/// A fake Twilio create-message answer that records each body and when it
/// arrived (lateness and pacing are measured at this hand-off).
pub struct Recorder(pub Arrivals);

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = url::form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        self.0.lock().unwrap().push((body, chrono::Utc::now()));
        ResponseTemplate::new(201).set_body_json(json!({
            "sid": format!("SM{}", uuid::Uuid::new_v4().simple()), "status": "queued"
        }))
    }
}

/// Signs with Twilio's own Python library (`pip install twilio`).
pub fn python_twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let script = "import json,sys\n\
        from twilio.request_validator import RequestValidator\n\
        a=json.loads(sys.argv[1])\n\
        print(RequestValidator(a['token']).compute_signature(a['url'], a['params']))";
    let arg = json!({"token": AUTH_TOKEN, "url": url, "params": map}).to_string();
    let out = std::process::Command::new("python3")
        .args(["-c", script, &arg])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "Twilio's Python library is needed (pip install twilio): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
