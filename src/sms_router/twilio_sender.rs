//! Sends texts through Twilio's Programmable Messaging REST API
//! (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`).
//!
//! Retry policy: 408, 429 and 5xx answers and transport failures are
//! retried a few times with exponential backoff and jitter; a
//! `Retry-After` in seconds replaces the backoff delay, capped so that a
//! worker is never parked for long. What is still failing afterwards is
//! [`SendError::Unavailable`], for the caller's durable queue to retry much
//! later. Every other 4xx is final; error 21610 (the recipient texted STOP)
//! becomes [`SendError::Unsubscribed`] so the number can be marked opted out.
//!
//! Twilio's Messages API has no idempotency key, so a request that timed
//! out after Twilio took it may, when retried, send the text twice. That is
//! accepted: a rare duplicate reply is better than a lost one.
//!
//! The auth token travels only in the `Authorization` header (marked
//! sensitive by reqwest), is never formatted by `Debug`, and is scrubbed
//! from any text a server might echo back into an error.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::carrier_errors::CarrierError;
use super::sender::{OutboundSms, SendError, SentSms, SmsSender};
use crate::config::TwilioConfig;
use crate::http_client::{error_chain, redact, retry_after, shorten};
use crate::store::MessageStatus;

/// Twilio's error code for "Attempt to send to unsubscribed recipient".
pub const TWILIO_UNSUBSCRIBED: i64 = 21610;

pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_RETRIES: usize = 3;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured; longer requests are shortened to it,
/// and the remaining retries (if any) then find out whether Twilio meant it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Backoff delays stop doubling here.
const MAX_BACKOFF_DELAY: Duration = Duration::from_secs(8);
const MAX_MESSAGE_CHARS: usize = 300;

/// Which Twilio sender the messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioFrom {
    /// A phone number in E.164 form, sent as `From`.
    Number(String),
    /// A Messaging Service (`MG…`), sent as `MessagingServiceSid`; Twilio
    /// then picks the number from the service's sender pool.
    MessagingService(String),
}

/// Everything [`TwilioSender`] needs. `Debug` shows the token as redacted
/// (it is a [`SecretString`]).
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// `https://api.twilio.com` in production; a mock server in tests.
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: SecretString,
    pub from: TwilioFrom,
    /// Where Twilio posts delivery status updates.
    pub status_callback: Option<String>,
    /// The first backoff delay; it doubles each retry, plus jitter.
    pub retry_base_delay: Duration,
    /// Retries after the first attempt: 3 means at most 4 requests.
    pub max_retries: usize,
    /// Per request, not for the whole send.
    pub timeout: Duration,
}

impl TwilioSettings {
    /// Settings from the process configuration: `Ok(None)` when Twilio is
    /// not configured (no account sid or auth token), so the caller can fall
    /// back to the console in development; an error text when credentials
    /// are present but there is nothing to send from. A Messaging Service
    /// wins over a plain number when both are set, since the service is
    /// what carries sender pools and compliance settings.
    pub fn from_config(
        twilio: &TwilioConfig,
        public_base_url: &str,
    ) -> Result<Option<Self>, String> {
        let (Some(account_sid), Some(auth_token)) = (&twilio.account_sid, &twilio.auth_token)
        else {
            return Ok(None);
        };
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let from = match (
            non_empty(&twilio.messaging_service_sid),
            non_empty(&twilio.from_number),
        ) {
            (Some(service), _) => TwilioFrom::MessagingService(service),
            (None, Some(number)) => TwilioFrom::Number(number),
            (None, None) => {
                return Err(
                    "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required when \
                     TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set"
                        .to_owned(),
                );
            }
        };
        let base = public_base_url.trim().trim_end_matches('/');
        // Without a public URL there is nowhere Twilio could call back.
        let status_callback = (!base.is_empty()).then(|| format!("{base}/twilio/status"));
        Ok(Some(TwilioSettings {
            api_base: twilio.api_base.clone(),
            account_sid: account_sid.clone(),
            auth_token: auth_token.clone(),
            from,
            status_callback,
            retry_base_delay: DEFAULT_RETRY_BASE_DELAY,
            max_retries: DEFAULT_MAX_RETRIES,
            timeout: DEFAULT_TIMEOUT,
        }))
    }
}

/// The production [`SmsSender`].
pub struct TwilioSender {
    settings: TwilioSettings,
    http: reqwest::Client,
    url: String,
}

impl std::fmt::Debug for TwilioSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSender")
            .field("api_base", &self.settings.api_base)
            .field("account_sid", &self.settings.account_sid)
            .field("from", &self.settings.from)
            .finish_non_exhaustive()
    }
}

impl TwilioSender {
    pub fn new(settings: TwilioSettings, http: reqwest::Client) -> Self {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.api_base.trim_end_matches('/'),
            settings.account_sid
        );
        TwilioSender {
            settings,
            http,
            url,
        }
    }

    async fn send_with_retries(&self, sms: &OutboundSms) -> Result<SentSms, SendError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_base_delay)
            .with_max_delay(MAX_BACKOFF_DELAY.max(self.settings.retry_base_delay))
            .with_max_times(self.settings.max_retries)
            .with_jitter();
        (|| self.attempt(sms))
            .retry(backoff)
            .when(|failure: &Failure| failure.error.is_retryable())
            .adjust(|failure, delay| {
                // `delay` is None once the retries are spent; a Retry-After
                // must not add one more.
                let delay = delay?;
                Some(
                    failure
                        .retry_after
                        .map_or(delay, |w| w.min(MAX_RETRY_AFTER)),
                )
            })
            .notify(|failure, delay| {
                metrics::counter!("sms_outbound_retries_total", "provider" => "twilio")
                    .increment(1);
                tracing::warn!(error = %failure.error, ?delay, "twilio send failed; retrying");
            })
            .await
            .map_err(Failure::into_error)
    }

    async fn attempt(&self, sms: &OutboundSms) -> Result<SentSms, Failure> {
        let mut form: Vec<(&str, &str)> = vec![("To", &sms.to)];
        match &self.settings.from {
            TwilioFrom::Number(number) => form.push(("From", number)),
            TwilioFrom::MessagingService(sid) => form.push(("MessagingServiceSid", sid)),
        }
        form.push(("Body", &sms.body));
        if let Some(callback) = &self.settings.status_callback {
            form.push(("StatusCallback", callback));
        }
        let response = self
            .http
            .post(&self.url)
            .basic_auth(
                &self.settings.account_sid,
                Some(self.settings.auth_token.expose_secret()),
            )
            .timeout(self.settings.timeout)
            .form(&form)
            .send()
            .await
            .map_err(|e| self.transport_failure(e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response
            .text()
            .await
            .map_err(|e| self.transport_failure(e))?;
        if status.is_success() {
            parse_created(&body).map_err(|error| Failure {
                error,
                retry_after: None,
            })
        } else {
            Err(Failure {
                error: self.classify(status, &body),
                retry_after,
            })
        }
    }

    fn transport_failure(&self, err: reqwest::Error) -> Failure {
        // A request that could not even be built (a malformed api_base)
        // fails the same way every time.
        let error = if err.is_builder() {
            SendError::Rejected {
                code: None,
                message: self.scrub(&format!("invalid request: {}", error_chain(&err))),
            }
        } else if err.is_timeout() {
            SendError::Unavailable {
                message: format!("no answer from Twilio within {:?}", self.settings.timeout),
                retry_after: None,
            }
        } else {
            SendError::Unavailable {
                message: self.scrub(&error_chain(&err.without_url())),
                retry_after: None,
            }
        };
        Failure {
            error,
            retry_after: None,
        }
    }

    /// Maps an unsuccessful answer onto what the caller must do.
    fn classify(&self, status: StatusCode, body: &str) -> SendError {
        let parsed: Option<TwilioError> = serde_json::from_str(body).ok();
        let code = parsed.as_ref().and_then(|e| e.code);
        let message = parsed
            .and_then(|e| e.message)
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| match body.trim() {
                "" => format!("HTTP {}", status.as_u16()),
                text => text.to_owned(),
            });
        let message = self.scrub(&shorten(&message, MAX_MESSAGE_CHARS));
        if code == Some(TWILIO_UNSUBSCRIBED) {
            return SendError::Unsubscribed;
        }
        // A code that condemns the number or the campaign is final whatever
        // the HTTP status: retrying it would only be refused again.
        let permanent = code.is_some_and(|c| CarrierError::of(&c.to_string()).is_permanent());
        let transient =
            !permanent && (matches!(status.as_u16(), 408 | 429) || status.is_server_error());
        if transient {
            SendError::Unavailable {
                message: format!("HTTP {}: {message}", status.as_u16()),
                retry_after: None,
            }
        } else {
            // Other 4xx, and oddities such as an unfollowed redirect:
            // sending the same request again would meet the same answer.
            SendError::Rejected { code, message }
        }
    }

    fn scrub(&self, text: &str) -> String {
        redact(text, Some(self.settings.auth_token.expose_secret()))
    }
}

#[async_trait::async_trait]
impl SmsSender for TwilioSender {
    #[tracing::instrument(name = "sms.send", skip_all, fields(provider = "twilio"))]
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, SendError> {
        let started = Instant::now();
        let result = self.send_with_retries(sms).await;
        let outcome = match &result {
            Ok(_) => "sent",
            Err(SendError::Unsubscribed) => "unsubscribed",
            Err(SendError::Rejected { .. }) => "rejected",
            Err(SendError::Unavailable { .. }) => "unavailable",
        };
        metrics::counter!("sms_outbound_requests_total", "outcome" => outcome).increment(1);
        metrics::histogram!("sms_outbound_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match &result {
            Ok(sent) => tracing::info!(
                message_sid = %sent.provider_message_id,
                status = %sent.status,
                "sms handed to twilio"
            ),
            Err(err) => tracing::warn!(error = %err, "sms not handed to twilio"),
        }
        result
    }

    fn name(&self) -> &'static str {
        "twilio"
    }
}

/// One failed attempt, with what the server asked us to wait.
struct Failure {
    error: SendError,
    retry_after: Option<Duration>,
}

impl Failure {
    /// The error the caller sees once retries are spent: an outage keeps
    /// Twilio's full `Retry-After` (uncapped), so the durable queue, not
    /// this worker, does the waiting.
    fn into_error(self) -> SendError {
        match self.error {
            SendError::Unavailable { message, .. } => SendError::Unavailable {
                message,
                retry_after: self.retry_after,
            },
            other => other,
        }
    }
}

/// The fields of Twilio's Message resource that matter here.
#[derive(Deserialize)]
struct CreatedMessage {
    sid: Option<String>,
    status: Option<String>,
}

/// Twilio's error body: `{"code", "message", "more_info", "status"}`.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

/// Reads a 2xx answer. One without a sid is reported as rejected, not
/// unavailable: Twilio has most likely taken the message, and a retry
/// could send it twice.
fn parse_created(body: &str) -> Result<SentSms, SendError> {
    let unreadable = || SendError::Rejected {
        code: None,
        message: format!(
            "Twilio accepted the request but its answer has no message sid: {}",
            shorten(body.trim(), MAX_MESSAGE_CHARS)
        ),
    };
    let created: CreatedMessage = serde_json::from_str(body).map_err(|_| unreadable())?;
    let sid = created
        .sid
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(unreadable)?;
    Ok(SentSms {
        provider_message_id: sid,
        // A status we do not know yet is at least queued: callbacks move it on.
        status: created
            .status
            .and_then(|s| s.parse().ok())
            .unwrap_or(MessageStatus::Queued),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(token: &str) -> TwilioSender {
        TwilioSender::new(
            TwilioSettings {
                api_base: "http://127.0.0.1:9".into(),
                account_sid: "AC123".into(),
                auth_token: SecretString::from(token.to_owned()),
                from: TwilioFrom::Number("+15005550006".into()),
                status_callback: None,
                retry_base_delay: Duration::from_millis(1),
                max_retries: 0,
                timeout: Duration::from_secs(1),
            },
            reqwest::Client::new(),
        )
    }

    #[test]
    fn statuses_and_codes_map_to_the_policy() {
        let s = sender("tok");
        let body =
            |code: i64| format!(r#"{{"code":{code},"message":"m","more_info":"x","status":400}}"#);
        assert!(matches!(
            s.classify(StatusCode::BAD_REQUEST, &body(21610)),
            SendError::Unsubscribed
        ));
        assert!(matches!(
            s.classify(StatusCode::BAD_REQUEST, &body(21211)),
            SendError::Rejected {
                code: Some(21211),
                ..
            }
        ));
        let campaign = r#"{"code":30007,"message":"filtered","status":503}"#;
        assert!(
            !s.classify(StatusCode::SERVICE_UNAVAILABLE, campaign)
                .is_retryable()
        );
        for code in [408, 429, 500, 502, 503] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(s.classify(status, "").is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 302] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(!s.classify(status, "<html>").is_retryable(), "{code}");
        }
    }

    #[test]
    fn echoed_tokens_are_scrubbed_and_long_bodies_shortened() {
        let s = sender("sekrit-token");
        let err = s.classify(
            StatusCode::UNAUTHORIZED,
            r#"{"code":20003,"message":"bad token sekrit-token"}"#,
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("sekrit-token"), "{shown}");
        let long = "é".repeat(5_000);
        let err = s.classify(StatusCode::BAD_REQUEST, &long);
        assert!(err.to_string().chars().count() < MAX_MESSAGE_CHARS + 50);
    }

    #[test]
    fn created_answers_without_a_sid_are_not_retried() {
        assert!(matches!(
            parse_created("not json"),
            Err(SendError::Rejected { .. })
        ));
        assert!(matches!(
            parse_created(r#"{"sid":"","status":"queued"}"#),
            Err(SendError::Rejected { .. })
        ));
        let sent = parse_created(r#"{"sid":"SM1","status":"accepted","error_code":null}"#).unwrap();
        assert_eq!(sent.provider_message_id, "SM1");
        assert_eq!(sent.status, MessageStatus::Accepted);
    }

    #[test]
    fn from_config_needs_credentials_and_a_sender() {
        let mut config = TwilioConfig {
            api_base: "https://api.twilio.com".into(),
            ..Default::default()
        };
        assert!(matches!(
            TwilioSettings::from_config(&config, "https://n.example"),
            Ok(None)
        ));
        config.account_sid = Some("AC1".into());
        config.auth_token = Some(SecretString::from("t".to_owned()));
        assert!(TwilioSettings::from_config(&config, "https://n.example").is_err());
        config.from_number = Some("+15145550100".into());
        let settings = TwilioSettings::from_config(&config, "https://n.example/")
            .unwrap()
            .unwrap();
        assert_eq!(settings.from, TwilioFrom::Number("+15145550100".into()));
        assert_eq!(
            settings.status_callback.as_deref(),
            Some("https://n.example/twilio/status")
        );
        config.messaging_service_sid = Some("MG1".into());
        let settings = TwilioSettings::from_config(&config, "https://n.example")
            .unwrap()
            .unwrap();
        assert_eq!(settings.from, TwilioFrom::MessagingService("MG1".into()));
        assert_eq!(settings.max_retries, DEFAULT_MAX_RETRIES);
    }
}
