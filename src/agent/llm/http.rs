//! What the remote clients share: one POST with bounded retries, the
//! mapping of HTTP outcomes onto [`LlmError`], and the metrics every call
//! records.
//!
//! Policy: 408, 429 and 5xx answers and transport failures (timeouts,
//! refused connections) are retried with exponential backoff and jitter; a
//! `Retry-After` (in seconds) or Google's `RetryInfo.retryDelay` (in the
//! error body) replaces the backoff delay for that attempt. A delay longer
//! than the policy allows, or past the call's deadline, ends the retries
//! at once and the provider is left alone until it is over ([`Cooldown`]),
//! so the chain hands over instead of hammering it. Every attempt's
//! timeout is cut to the deadline. Any other 4xx is final. Error texts carry the provider's own message but
//! never the API key: it travels only in headers marked sensitive, and is
//! scrubbed from any text a server might echo back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{LlmError, LlmResponse};
use crate::http_client::{error_chain, redact, retry_after, shorten};

/// How often and how patiently a client retries a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt: 2 means at most 3 requests.
    pub max_retries: usize,
    /// The first backoff delay; it doubles each retry, plus jitter.
    pub base_delay: Duration,
    /// Backoff delays never exceed this.
    pub max_delay: Duration,
    /// The longest `Retry-After` worth waiting for inside a turn. A server
    /// asking for more ends the retries at once, so the caller can move on
    /// to a fallback instead of keeping the person waiting.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// The default per-request timeout of both remote clients.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Until when a provider asked to be left alone (a 429 or 503 with a
/// delay too long to wait for inside a turn). Process-local on purpose:
/// it only saves calls that would fail, and every process learns it from
/// its own first refusal.
#[derive(Debug, Default)]
pub struct Cooldown(Mutex<Option<Instant>>);

impl Cooldown {
    /// How long the provider still asked to be left alone.
    pub fn remaining(&self) -> Option<Duration> {
        let until = (*self.0.lock().unwrap_or_else(|e| e.into_inner()))?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn start(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none_or(|current| current < until) {
            *slot = Some(until);
        }
    }
}

/// One JSON POST, ready to be sent as many times as the policy allows.
pub(crate) struct JsonPost<'a> {
    pub provider: &'static str,
    pub http: &'a reqwest::Client,
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: Vec<u8>,
    pub timeout: Duration,
    pub policy: &'a RetryPolicy,
    /// Scrubbed from every error text.
    pub secret: Option<&'a str>,
    /// No request starts, and no attempt runs, past this instant.
    pub deadline: Option<Instant>,
    pub cooldown: &'a Cooldown,
}

impl JsonPost<'_> {
    /// Sends the request, retrying per the policy; returns the body of the
    /// first successful (2xx) answer.
    pub async fn send(&self) -> Result<String, LlmError> {
        if let Some(left) = self.cooldown.remaining() {
            return Err(LlmError::Unavailable {
                provider: self.provider.to_owned(),
                status: None,
                message: format!("asked to wait; {}s left", left.as_secs() + 1),
                retry_after: Some(left),
            });
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.base_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        let cap = self.policy.max_retry_after;
        let deadline = self.deadline;
        let cooldown = self.cooldown;
        (|| self.attempt())
            .retry(backoff)
            .when(LlmError::is_retryable)
            .adjust(move |err, delay| {
                let asked = match err {
                    LlmError::Unavailable {
                        retry_after: Some(wait),
                        ..
                    } => Some(*wait),
                    _ => None,
                };
                if let Some(wait) = asked
                    && wait > cap
                {
                    cooldown.start(wait);
                    return None;
                }
                // `delay` is None once the retries are spent; a server's
                // delay must not extend them.
                let wait = asked.unwrap_or(delay?);
                if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                    // Waiting would leave no time to ask again.
                    if asked.is_some() {
                        cooldown.start(wait);
                    }
                    return None;
                }
                Some(wait)
            })
            .notify(|err, delay| {
                metrics::counter!("llm_retries_total", "provider" => self.provider).increment(1);
                tracing::warn!(provider = self.provider, error = %err, ?delay, "llm call failed; retrying");
            })
            .await
    }

    /// This attempt's timeout: the client's, cut to the deadline.
    fn attempt_timeout(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(self.timeout),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                (!left.is_zero()).then(|| left.min(self.timeout))
            }
        }
    }

    async fn attempt(&self) -> Result<String, LlmError> {
        let Some(timeout) = self.attempt_timeout() else {
            return Err(LlmError::Unavailable {
                provider: self.provider.to_owned(),
                status: None,
                message: "no time left in this turn".into(),
                retry_after: None,
            });
        };
        let response = self
            .http
            .post(self.url)
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(e, timeout))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| self.transport_error(e, timeout))?;
        let retry_after = retry_after.or_else(|| google_retry_delay(&body));
        if status.is_success() {
            Ok(body)
        } else {
            Err(classify(
                self.provider,
                status,
                retry_after,
                &body,
                self.secret,
            ))
        }
    }

    fn transport_error(&self, err: reqwest::Error, timeout: Duration) -> LlmError {
        let message = if err.is_timeout() {
            format!("no answer within {timeout:?}")
        } else {
            // The URL is left out: a base URL may carry credentials.
            error_chain(&err.without_url())
        };
        LlmError::Unavailable {
            provider: self.provider.to_owned(),
            status: None,
            message: redact(&message, self.secret),
            retry_after: None,
        }
    }
}

/// Maps an unsuccessful HTTP answer onto the error the chain acts on.
pub(crate) fn classify(
    provider: &str,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
    secret: Option<&str>,
) -> LlmError {
    let message = redact(&error_message(body), secret);
    let code = status.as_u16();
    let transient = matches!(code, 408 | 429) || status.is_server_error();
    if transient {
        LlmError::Unavailable {
            provider: provider.to_owned(),
            status: Some(code),
            message,
            retry_after,
        }
    } else if status.is_client_error() {
        LlmError::Rejected {
            provider: provider.to_owned(),
            status: code,
            message,
        }
    } else {
        // A redirect that was not followed, or some other oddity.
        LlmError::Malformed {
            provider: provider.to_owned(),
            message: format!("unexpected status {code}: {message}"),
        }
    }
}

const MAX_MESSAGE_CHARS: usize = 500;

/// Google's `RetryInfo` detail in an error body:
/// `{"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
/// "retryDelay": "37s"}]}}`; the delay is a protobuf `Duration` in its JSON
/// form (seconds with an `s`, maybe fractional).
pub(crate) fn google_retry_delay(body: &str) -> Option<Duration> {
    let parsed: Value = serde_json::from_str(body).ok()?;
    let parsed = match parsed {
        Value::Array(items) => items.into_iter().next()?,
        other => other,
    };
    parsed
        .get("error")?
        .get("details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| {
            let text = d.get("retryDelay")?.as_str()?.trim();
            let seconds: f64 = text.strip_suffix('s')?.parse().ok()?;
            (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
        })
}

/// The provider's own explanation: Google and OpenAI send
/// `{"error": {"message": ...}}`, some local servers `{"error": "..."}`;
/// anything else is quoted, shortened.
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    // Some Google endpoints wrap the error object in an array.
    let parsed = match parsed {
        Some(Value::Array(items)) => items.into_iter().next(),
        other => other,
    };
    let from_json = parsed.as_ref().and_then(|v| match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(e) => {
            let message = e.get("message").and_then(Value::as_str)?;
            match e.get("status").and_then(Value::as_str) {
                Some(status) => Some(format!("{message} ({status})")),
                None => Some(message.to_owned()),
            }
        }
        _ => None,
    });
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    if text.is_empty() {
        return "no error message".to_owned();
    }
    shorten(&text, MAX_MESSAGE_CHARS)
}

/// A malformed-answer error with a shortened excerpt of what came back.
pub(crate) fn malformed(provider: &str, what: impl std::fmt::Display) -> LlmError {
    LlmError::Malformed {
        provider: provider.to_owned(),
        message: shorten(&what.to_string(), MAX_MESSAGE_CHARS),
    }
}

/// Low-cardinality outcome label for `llm_requests_total`.
fn outcome(result: &Result<LlmResponse, LlmError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(LlmError::Unavailable { .. }) => "unavailable",
        Err(LlmError::Rejected { .. }) => "rejected",
        Err(LlmError::Malformed { .. }) => "malformed",
        Err(LlmError::CircuitOpen { .. }) => "circuit_open",
    }
}

/// Records one `generate` call (retries included) and, on success, its
/// token usage and estimated cost.
pub(crate) fn record(
    provider: &'static str,
    started: Instant,
    result: &Result<LlmResponse, LlmError>,
) {
    metrics::counter!("llm_requests_total", "provider" => provider, "outcome" => outcome(result))
        .increment(1);
    metrics::histogram!("llm_request_duration_seconds", "provider" => provider)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(response) => {
            let usage = response.usage;
            metrics::counter!("llm_tokens_total", "provider" => provider, "kind" => "input")
                .increment(u64::from(usage.input_tokens));
            metrics::counter!("llm_tokens_total", "provider" => provider, "kind" => "output")
                .increment(u64::from(usage.output_tokens));
            if let Some(cost) = super::prices::cost_micros(&response.model, usage) {
                metrics::counter!(
                    "llm_estimated_cost_micros_total",
                    "provider" => provider,
                    "model" => response.model.clone()
                )
                .increment(cost);
            }
            tracing::Span::current().record("input_tokens", usage.input_tokens);
            tracing::Span::current().record("output_tokens", usage.output_tokens);
        }
        Err(err) => tracing::warn!(provider, error = %err, "llm call failed"),
    }
}

/// Token counts arrive as JSON numbers; a nonsensical one must not fail
/// the turn.
pub(crate) fn tokens(n: Option<u64>) -> u32 {
    n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_message_with_status() {
        let body =
            r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(error_message(body), "API key not valid. (INVALID_ARGUMENT)");
        let wrapped = format!("[{body}]");
        assert_eq!(
            error_message(&wrapped),
            "API key not valid. (INVALID_ARGUMENT)"
        );
    }

    #[test]
    fn string_error_and_plain_bodies() {
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message("  Bad Gateway \n"), "Bad Gateway");
        assert_eq!(error_message(""), "no error message");
        let long = "é".repeat(2000);
        assert_eq!(error_message(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn secrets_are_scrubbed() {
        let err = classify(
            "gemini",
            StatusCode::FORBIDDEN,
            None,
            r#"{"error":{"message":"key AIzaSECRET is suspended"}}"#,
            Some("AIzaSECRET"),
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("AIzaSECRET"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn statuses_map_to_the_retry_policy() {
        let cases = [
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (408, true),
            (429, true),
            (500, true),
            (502, true),
            (503, true),
            (504, true),
        ];
        for (code, retryable) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            let err = classify("x", status, None, "", None);
            assert_eq!(err.is_retryable(), retryable, "{code}");
        }
    }

    #[test]
    fn google_retry_info_is_read_from_the_body() {
        let body = r#"{"error": {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
            ]}}"#;
        assert_eq!(google_retry_delay(body), Some(Duration::from_secs(37)));
        let fractional = r#"{"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.250s"}]}}"#;
        assert_eq!(
            google_retry_delay(fractional),
            Some(Duration::from_millis(250))
        );
        for body in [
            "",
            "{}",
            r#"{"error": {"details": []}}"#,
            r#"{"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"}]}}"#,
            r#"{"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "-3s"}]}}"#,
        ] {
            assert_eq!(google_retry_delay(body), None, "{body}");
        }
    }

    #[test]
    fn a_cooldown_only_grows_and_ends() {
        let cooldown = Cooldown::default();
        assert_eq!(cooldown.remaining(), None);
        cooldown.start(Duration::from_secs(30));
        cooldown.start(Duration::from_secs(1));
        assert!(cooldown.remaining().unwrap() > Duration::from_secs(28));
        let short = Cooldown::default();
        short.start(Duration::ZERO);
        assert_eq!(short.remaining(), None);
    }

    #[test]
    fn token_counts_saturate() {
        assert_eq!(tokens(None), 0);
        assert_eq!(tokens(Some(12)), 12);
        assert_eq!(tokens(Some(u64::MAX)), u32::MAX);
    }
}
