//! The real binaries as an operator runs them: `nudge serve` and `nudge
//! worker` processes with the default configuration (only addresses and
//! credentials set), a Twilio-shaped server on loopback that can be told to
//! fail, and helpers to text them as Twilio does and to read the outcome.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestDb;

pub const ACCOUNT_SID: &str = "ACfaults000000000000000000000000001";
pub const AUTH_TOKEN: &str = "faults-auth-token";
pub const FROM: &str = "+15005550006";
pub const PUBLIC_URL: &str = "https://nudge.example";

/// How the fake Twilio answers a create-message request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TwilioMode {
    Up = 0,
    /// 503 with `Retry-After` (seconds), as Twilio answers when overloaded.
    Down = 1,
    /// Accepts the request and never answers in time.
    Hang = 2,
}

/// One request that reached the fake Twilio.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub to: String,
    pub body: String,
    pub at: DateTime<Utc>,
    /// Whether it was accepted (a 201): a delivered text.
    pub accepted: bool,
}

/// Twilio's Messages API on loopback, switchable between up, down and hung.
pub struct FakeTwilio {
    pub server: MockServer,
    mode: Arc<AtomicU8>,
    /// Messages a second the account may send (0: no limit).
    limit: Arc<AtomicUsize>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
}

/// The answer to a request over the account's rate (not a mode one sets).
const TOO_MANY: u8 = 3;

/// The `Retry-After` the fake sends while down, in seconds.
pub const RETRY_AFTER_SECS: u64 = 2;

struct Answer {
    mode: Arc<AtomicU8>,
    limit: Arc<AtomicUsize>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
}

impl Respond for Answer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut mode = self.mode.load(Ordering::SeqCst);
        let now = Utc::now();
        let mut attempts = self.attempts.lock().unwrap();
        // Over the account's rate: as many accepted in the last second as
        // it may send in one.
        let limit = self.limit.load(Ordering::SeqCst);
        if mode == TwilioMode::Up as u8 && limit > 0 {
            let second_ago = now - chrono::Duration::seconds(1);
            let recent = attempts
                .iter()
                .rev()
                .take_while(|a| a.at > second_ago)
                .filter(|a| a.accepted)
                .count();
            if recent >= limit {
                mode = TOO_MANY;
            }
        }
        attempts.push(Attempt {
            to: get("To"),
            body: get("Body"),
            at: now,
            accepted: mode == TwilioMode::Up as u8,
        });
        drop(attempts);
        match mode {
            0 => ResponseTemplate::new(201).set_body_json(json!({
                "account_sid": ACCOUNT_SID,
                "sid": format!("SM{}", uuid::Uuid::new_v4().simple()),
                "status": "queued",
                "num_segments": "1",
            })),
            1 => ResponseTemplate::new(503)
                .insert_header("Retry-After", RETRY_AFTER_SECS.to_string().as_str())
                .set_body_json(json!({
                    "code": 20503, "message": "Service unavailable", "status": 503,
                    "more_info": "https://www.twilio.com/docs/errors/20503"
                })),
            TOO_MANY => ResponseTemplate::new(429).set_body_json(json!({
                "code": 20429, "message": "Too Many Requests", "status": 429,
                "more_info": "https://www.twilio.com/docs/errors/20429"
            })),
            _ => ResponseTemplate::new(201).set_delay(Duration::from_secs(120)),
        }
    }
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        let server = MockServer::start().await;
        let mode = Arc::new(AtomicU8::new(TwilioMode::Up as u8));
        let limit = Arc::new(AtomicUsize::new(0));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        Mock::given(method("POST"))
            .respond_with(Answer {
                mode: mode.clone(),
                limit: limit.clone(),
                attempts: attempts.clone(),
            })
            .mount(&server)
            .await;
        FakeTwilio {
            server,
            mode,
            limit,
            attempts,
        }
    }

    /// Answers 429 (Twilio's 20429) to a message that would make more than
    /// `per_second` accepted within one second.
    pub fn limit_rate(&self, per_second: usize) {
        self.limit.store(per_second, Ordering::SeqCst);
    }

    pub fn set(&self, mode: TwilioMode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    /// The texts Twilio accepted: (to, body).
    pub fn delivered(&self) -> Vec<(String, String)> {
        self.attempts()
            .into_iter()
            .filter(|a| a.accepted)
            .map(|a| (a.to, a.body))
            .collect()
    }
}

/// A `nudge serve` and a `nudge worker` against one test database.
pub struct Stack {
    pub db: TestDb,
    pub twilio: FakeTwilio,
    pub base: String,
    pub http: reqwest::Client,
    pub redis_url: String,
    prefix: String,
    /// Settings besides the defaults (see [`Stack::start_with_env`]).
    extra_env: Vec<(String, String)>,
    serve: Option<Child>,
    worker: Option<Child>,
    pub worker_log: PathBuf,
    pub serve_log: PathBuf,
    _logs: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Stack {
    /// Both binaries with the default configuration.
    pub async fn start() -> Stack {
        Self::start_with_redis(super::redis_url()).await
    }

    /// Both binaries, Redis at `redis_url` (a stand-in that hangs, say).
    pub async fn start_with_redis(redis_url: String) -> Stack {
        Self::start_full(redis_url, &[]).await
    }

    /// Both binaries with these settings besides the defaults.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Stack {
        Self::start_full(super::redis_url(), env).await
    }

    async fn start_full(redis_url: String, env: &[(&str, &str)]) -> Stack {
        let db = TestDb::new().await;
        let twilio = FakeTwilio::start().await;
        let logs = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut stack = Stack {
            db,
            twilio,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(200)
                .build()
                .unwrap(),
            redis_url,
            prefix: format!("faults:{}:", uuid::Uuid::new_v4().simple()),
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            serve: None,
            worker: None,
            worker_log: logs.path().join("worker.log"),
            serve_log: logs.path().join("serve.log"),
            _logs: logs,
        };
        stack.serve = Some(stack.spawn("serve", port));
        stack.start_worker();
        stack.wait_ready().await;
        stack
    }

    /// The environment an operator sets: addresses and credentials, and
    /// nothing that tunes behaviour — except the account's sending rate:
    /// the default `TWILIO_MAX_MPS=1` is a single long code's carrier
    /// limit, and these accounts stand for a messaging service that may
    /// send 100 segments a second (otherwise 150 replies take 150 s to
    /// leave, whatever the workers do).
    pub fn command(&self, role: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nudge"));
        cmd.arg(role)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NUDGE_ENV", "production")
            .env("DATABASE_URL", self.db.app_url())
            .env("DATABASE_ADMIN_URL", self.db.owner_url())
            .env("REDIS_URL", &self.redis_url)
            .env("REDIS_KEY_PREFIX", &self.prefix)
            .env("PUBLIC_BASE_URL", PUBLIC_URL)
            .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
            .env("TWILIO_FROM_NUMBER", FROM)
            .env("TWILIO_API_BASE", self.twilio.server.uri())
            .env("TWILIO_MAX_MPS", "100")
            .env("RUST_LOG", "info")
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn spawn(&self, role: &str, port: u16) -> Child {
        let log = match role {
            "serve" => &self.serve_log,
            _ => &self.worker_log,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        self.command(role)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{}", free_port()))
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap()
    }

    pub fn start_worker(&mut self) {
        let port = free_port();
        self.worker = Some(self.spawn("worker", port));
    }

    pub fn kill_worker(&mut self) {
        if let Some(mut child) = self.worker.take() {
            sigkill(&mut child);
        }
    }

    async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "nudge serve did not start: {}",
            std::fs::read_to_string(&self.serve_log).unwrap_or_default()
        );
    }

    /// An inbound SMS as Twilio posts it, signed; returns the status and
    /// how long the acknowledgement took.
    pub async fn text(&self, from: &str, body: &str) -> (u16, Duration) {
        let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
        let params = super::sms::inbound_params(from, body, &sid);
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = format!("{PUBLIC_URL}/twilio/sms");
        let signature = nudge::sms_router::signature::compute_signature(AUTH_TOKEN, &url, &owned);
        let started = Instant::now();
        let status = match self
            .http
            .post(format!("{}/twilio/sms", self.base))
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        (status, started.elapsed())
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.db.owner)
            .await
            .unwrap()
    }

    /// Waits until `sql` counts at least `n`, or `timeout` passes; returns the last count.
    pub async fn wait_count(&self, sql: &str, n: i64, timeout: Duration) -> i64 {
        let until = Instant::now() + timeout;
        loop {
            let c = self.count(sql).await;
            if c >= n || Instant::now() >= until {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the fake Twilio accepted `n` texts, or `timeout` passes.
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Vec<(String, String)> {
        let until = Instant::now() + timeout;
        loop {
            let d = self.twilio.delivered();
            if d.len() >= n || Instant::now() >= until {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn worker_log(&self) -> String {
        std::fs::read_to_string(&self.worker_log).unwrap_or_default()
    }

    pub fn serve_log(&self) -> String {
        std::fs::read_to_string(&self.serve_log).unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for child in [self.serve.take(), self.worker.take()]
            .into_iter()
            .flatten()
        {
            let mut child = child;
            sigkill(&mut child);
        }
    }
}

pub fn sigkill(child: &mut Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
}

/// The 99th percentile of `samples` (nearest rank).
pub fn p99(samples: &mut [Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let rank = ((samples.len() as f64) * 0.99).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// A Redis stand-in that accepts connections and never answers.
pub async fn hanging_redis() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("redis://{addr}")
}

/// Sizes for the suite, raised by `bench/faults.sh` through `NUDGE_FAULTS_*`.
pub fn size(name: &str, default: usize) -> usize {
    std::env::var(format!("NUDGE_FAULTS_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One line per scenario, the same in the suite and in `bench/faults.sh`.
pub fn report(
    scenario: &str,
    messages_in: usize,
    replies_out: usize,
    lost: usize,
    duplicated: usize,
    p99: Duration,
) {
    println!(
        "FAULTS scenario={scenario} messages_in={messages_in} replies_out={replies_out} \
         lost={lost} duplicated={duplicated} p99_ms={}",
        p99.as_millis()
    );
}
