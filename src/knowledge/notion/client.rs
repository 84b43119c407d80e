//! A small Notion API client: `POST /v1/search`, `GET /v1/blocks/{id}/children`
//! and `POST /v1/databases/{id}/query`, with the `Notion-Version` header,
//! `429`/`Retry-After` honoured and an average request rate per connection
//! (Notion documents about three requests per second). A person's
//! connection goes through `Integrations::notion` (their OAuth token,
//! Notion's breaker, one forced refresh on a 401); a bare token (tests,
//! tools) is sent as it is.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::integrations::Integrations;
use crate::integrations::client::IntegrationError;
use crate::store::UserId;

/// How many times one call waits out a 429 (or a 5xx) before giving up.
const MAX_ATTEMPTS: u32 = 6;
/// The wait when a 429 carries no `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// The longest `Retry-After` honoured inline; longer fails the run, which
/// the queue retries later.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum NotionError {
    #[error("Notion is unreachable")]
    Unreachable,
    #[error("Notion refused the token")]
    Unauthorized,
    /// The person must reconnect Notion (or never connected it).
    #[error("Notion needs to be reconnected")]
    NeedsReconnect,
    #[error("Notion answered {0}")]
    Status(u16),
    #[error("Notion is rate limiting us for too long")]
    RateLimited,
    #[error("Notion answered something unexpected")]
    Malformed,
}

/// One page of a paginated Notion list.
#[derive(Debug, Deserialize)]
pub struct List {
    pub results: Vec<Value>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_more: bool,
}

/// Paces requests: one every `interval` on average for this connection.
struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = Instant::now().max(*next) + self.interval;
    }
}

/// How requests are authorized.
enum Auth {
    /// A bare token, sent as it is.
    Token(reqwest::Client, SecretString),
    /// A person's OAuth connection, healed on a 401 (see `integrations`).
    Connection(Box<Integrations>, UserId),
}

/// What one attempt came to.
enum Step {
    Done(Value),
    Wait(Duration),
    Fail(NotionError),
}

/// A Notion connection (one person's workspace token).
pub struct NotionClient {
    auth: Auth,
    base_url: String,
    version: String,
    pace: Pace,
    requests: AtomicU32,
}

impl NotionClient {
    /// `requests_per_second` is the average this connection stays under.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        version: &str,
        token: SecretString,
        requests_per_second: f64,
    ) -> Self {
        Self::with_auth(
            Auth::Token(http, token),
            base_url,
            version,
            requests_per_second,
        )
    }

    /// `user`'s connection: their OAuth token, refreshed once on a 401.
    pub fn for_connection(
        integrations: Integrations,
        user: UserId,
        base_url: &str,
        version: &str,
        requests_per_second: f64,
    ) -> Self {
        Self::with_auth(
            Auth::Connection(Box::new(integrations), user),
            base_url,
            version,
            requests_per_second,
        )
    }

    fn with_auth(auth: Auth, base_url: &str, version: &str, requests_per_second: f64) -> Self {
        let rate = requests_per_second.clamp(0.01, 1000.0);
        NotionClient {
            auth,
            base_url: base_url.trim_end_matches('/').to_string(),
            version: version.to_string(),
            pace: Pace {
                interval: Duration::from_secs_f64(1.0 / rate),
                next: Mutex::new(Instant::now()),
            },
            requests: AtomicU32::new(0),
        }
    }

    /// Requests sent so far (429s included).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, NotionError> {
        let url = format!("{}{path}", self.base_url);
        for _ in 0..MAX_ATTEMPTS {
            self.pace.wait().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let step = match &self.auth {
                Auth::Token(http, token) => {
                    self.with_token(http, token, method.clone(), &url, body)
                        .await
                }
                Auth::Connection(integrations, user) => {
                    let answer = integrations
                        .notion(*user, method.clone(), &url, &self.version, body)
                        .await;
                    connection_step(answer)
                }
            };
            match step {
                Step::Done(value) => return Ok(value),
                Step::Fail(e) => return Err(e),
                Step::Wait(wait) if wait > MAX_RETRY_AFTER => {
                    return Err(NotionError::RateLimited);
                }
                Step::Wait(wait) => {
                    tracing::debug!(wait_ms = wait.as_millis() as u64, "Notion asked us to wait");
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Err(NotionError::RateLimited)
    }

    async fn with_token(
        &self,
        http: &reqwest::Client,
        token: &SecretString,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Step {
        let mut request = http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .header("Notion-Version", &self.version)
            .timeout(TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let Ok(response) = request.send().await else {
            return Step::Fail(NotionError::Unreachable);
        };
        match response.status().as_u16() {
            200..=299 => match response.json().await {
                Ok(value) => Step::Done(value),
                Err(_) => Step::Fail(NotionError::Malformed),
            },
            401 => Step::Fail(NotionError::Unauthorized),
            429 | 502 | 503 | 504 => Step::Wait(
                crate::http_client::retry_after(response.headers()).unwrap_or(DEFAULT_RETRY_AFTER),
            ),
            other => Step::Fail(NotionError::Status(other)),
        }
    }

    fn list(value: Value) -> Result<List, NotionError> {
        serde_json::from_value(value).map_err(|_| NotionError::Malformed)
    }

    /// Pages shared with the integration, most recently edited first.
    pub async fn search_pages(&self, cursor: Option<&str>) -> Result<List, NotionError> {
        let mut body = json!({
            "filter": {"property": "object", "value": "page"},
            "sort": {"direction": "descending", "timestamp": "last_edited_time"},
            "page_size": 100,
        });
        if let Some(cursor) = cursor {
            body["start_cursor"] = json!(cursor);
        }
        Self::list(
            self.call(reqwest::Method::POST, "/v1/search", Some(&body))
                .await?,
        )
    }

    /// One page of a block's children.
    pub async fn children(&self, block: &str, cursor: Option<&str>) -> Result<List, NotionError> {
        let mut path = format!("/v1/blocks/{}/children?page_size=100", encode(block));
        if let Some(cursor) = cursor {
            path.push_str(&format!("&start_cursor={}", encode(cursor)));
        }
        Self::list(self.call(reqwest::Method::GET, &path, None).await?)
    }

    /// One page of a database's rows.
    pub async fn query_database(
        &self,
        database: &str,
        cursor: Option<&str>,
    ) -> Result<List, NotionError> {
        let mut body = json!({"page_size": 100});
        if let Some(cursor) = cursor {
            body["start_cursor"] = json!(cursor);
        }
        let path = format!("/v1/databases/{}/query", encode(database));
        Self::list(self.call(reqwest::Method::POST, &path, Some(&body)).await?)
    }
}

/// An answer through the person's connection as the next step: a 429
/// waited out (the shared request already waited once when short), a
/// dead grant or a second 401 as "reconnect".
fn connection_step(answer: Result<Vec<u8>, IntegrationError>) -> Step {
    match answer {
        Ok(body) => match serde_json::from_slice(&body) {
            Ok(value) => Step::Done(value),
            Err(_) => Step::Fail(NotionError::Malformed),
        },
        Err(IntegrationError::RateLimited { retry_after, .. }) => {
            Step::Wait(retry_after.unwrap_or(DEFAULT_RETRY_AFTER))
        }
        Err(IntegrationError::NotConnected(_) | IntegrationError::NeedsReauth(_)) => {
            Step::Fail(NotionError::NeedsReconnect)
        }
        Err(IntegrationError::Unauthorized(_)) => Step::Fail(NotionError::Unauthorized),
        Err(IntegrationError::Unavailable { .. } | IntegrationError::Internal(_)) => {
            Step::Fail(NotionError::Unreachable)
        }
        Err(IntegrationError::NotFound(_)) => Step::Fail(NotionError::Status(404)),
        Err(IntegrationError::MissingScope(_)) => Step::Fail(NotionError::Status(403)),
        Err(IntegrationError::Rejected { status, .. }) => Step::Fail(NotionError::Status(status)),
        Err(IntegrationError::Malformed(_)) => Step::Fail(NotionError::Malformed),
    }
}

/// RFC 3986's unreserved characters stay as they are (Notion ids are
/// UUIDs with dashes); everything else in a path segment or query value
/// is escaped.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}
