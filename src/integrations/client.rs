//! The authorized request every provider client goes through: a token from
//! `oauth`, the provider's breaker and timeout, one forced refresh on a
//! 401 (a second 401 is a clear [`IntegrationError::Unauthorized`]),
//! `Retry-After` on a 429 (waited once when short), one retry of a read on
//! a 5xx, a capped body, and the integration metrics.

use std::time::{Duration, Instant};

use rand::Rng;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::Integrations;
use crate::http_client::breaker::{Guarded, ProviderBreaker};
use crate::http_client::{retry_after, shorten};
use crate::oauth::Provider;
use crate::oauth::refresh::TokenError;
use crate::store::UserId;

/// No answer we need for an SMS is bigger; anything past it is cut.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Builds one request from the shared client and, for OAuth providers,
/// the access token.
pub type BuildRequest<'a> =
    &'a (dyn Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync);

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("{0} is not connected")]
    NotConnected(&'static str),
    /// The person must reconnect (their grant is dead); they were texted a link.
    #[error("{0} needs to be reconnected")]
    NeedsReauth(&'static str),
    /// 401 again after a forced refresh: the token works nowhere.
    #[error("{0} refused Nudge's access even with a fresh token")]
    Unauthorized(&'static str),
    /// 403 for a missing scope: the person can grant it with a new link.
    #[error("{0} needs more access for that")]
    MissingScope(&'static str),
    #[error("{provider} asks to slow down")]
    RateLimited {
        provider: &'static str,
        retry_after: Option<Duration>,
    },
    /// 5xx, timeout, network, or the breaker is open.
    #[error("{provider} is unavailable right now ({why})")]
    Unavailable { provider: &'static str, why: String },
    #[error("{0}: not found")]
    NotFound(&'static str),
    /// Another 4xx: the request was wrong; the provider's reason, short.
    #[error("{provider} refused the request (HTTP {status}): {message}")]
    Rejected {
        provider: &'static str,
        status: u16,
        message: String,
    },
    #[error("{0} answered with something unreadable")]
    Malformed(&'static str),
    #[error("{0}")]
    Internal(String),
}

/// The display name of an OAuth provider's APIs in errors.
pub fn label(p: Provider) -> &'static str {
    p.display_name()
}

fn token_error(p: Provider, e: TokenError) -> IntegrationError {
    match e {
        TokenError::NotConnected(_) => IntegrationError::NotConnected(label(p)),
        TokenError::NeedsReauth(_) => IntegrationError::NeedsReauth(label(p)),
        TokenError::Unavailable(why) => IntegrationError::Unavailable {
            provider: label(p),
            why,
        },
        TokenError::Internal(why) => IntegrationError::Internal(why),
    }
}

/// A provider's answer, read.
#[derive(Debug)]
pub(super) struct Raw {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Why a call counted against the provider's breaker.
#[derive(Debug)]
enum Failure {
    Server(Raw),
    Timeout,
    Network(String),
}

/// The shape of Google's and Microsoft Graph's error bodies (both carry
/// `error.message`; Google adds `errors[].reason`, Graph `error.code`).
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
    code: Option<serde_json::Value>,
    status: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorReason>,
}

#[derive(Deserialize)]
struct ErrorReason {
    reason: Option<String>,
}

impl Integrations {
    /// Calls an OAuth provider's API for `user`. `read` marks an idempotent
    /// call, retried once on a 5xx.
    pub(super) async fn authorized(
        &self,
        user: UserId,
        provider: Provider,
        read: bool,
        build: BuildRequest<'_>,
    ) -> Result<Vec<u8>, IntegrationError> {
        let name = label(provider);
        let oauth = self
            .oauth
            .as_ref()
            .ok_or(IntegrationError::NotConnected(name))?;
        let breaker = oauth.breaker(provider);
        let token = oauth
            .access_token(user, provider)
            .await
            .map_err(|e| token_error(provider, e))?;
        let mut raw = self
            .attempt(breaker, name, read, &|http| {
                build(http, token.secret.expose_secret())
            })
            .await?;
        if raw.status == 401 {
            // The token may have been revoked or rotated under us: one
            // forced refresh (single flight with every other caller), one
            // more try, then a clear failure rather than a loop.
            let fresh = oauth
                .after_unauthorized(user, provider, token.version)
                .await
                .map_err(|e| token_error(provider, e))?;
            raw = self
                .attempt(breaker, name, read, &|http| {
                    build(http, fresh.secret.expose_secret())
                })
                .await?;
            if raw.status == 401 {
                tracing::warn!(provider = name, "401 again after a forced refresh");
                return Err(IntegrationError::Unauthorized(name));
            }
        }
        answer(name, raw)
    }

    /// Calls a keyless (or API-key) provider: no OAuth, same resilience.
    pub(super) async fn plain(
        &self,
        breaker: &ProviderBreaker,
        name: &'static str,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<Vec<u8>, IntegrationError> {
        let raw = self.attempt(breaker, name, true, build).await?;
        answer(name, raw)
    }

    /// One call, plus at most one retry: after a short `Retry-After` on a
    /// 429, or after a jittered pause when a read met a 5xx.
    async fn attempt(
        &self,
        breaker: &ProviderBreaker,
        name: &'static str,
        read: bool,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<Raw, IntegrationError> {
        let first = self.send(breaker, build(&self.http)).await;
        let pause = match &first {
            Ok(raw) if raw.status == 429 => match raw.retry_after {
                Some(wait) if wait <= self.max_retry_wait => wait,
                _ => return settle(name, first),
            },
            Err(Guarded::Failed(Failure::Server(_))) if read => {
                Duration::from_millis(rand::rng().random_range(100..300))
            }
            _ => return settle(name, first),
        };
        tokio::time::sleep(pause).await;
        settle(name, self.send(breaker, build(&self.http)).await)
    }

    /// Sends once through the breaker, with the timeout; records metrics.
    async fn send(
        &self,
        breaker: &ProviderBreaker,
        request: reqwest::RequestBuilder,
    ) -> Result<Raw, Guarded<Failure>> {
        let started = Instant::now();
        let request = request.timeout(self.config.timeout);
        let result = breaker
            .call(async move {
                let response = request.send().await.map_err(failure)?;
                let status = response.status().as_u16();
                let retry_after = retry_after(response.headers());
                let body = read_capped(response).await.map_err(failure)?;
                let raw = Raw {
                    status,
                    retry_after,
                    body,
                };
                // 5xx counts against the provider; every other answer was
                // given on purpose.
                if status >= 500 {
                    Err(Failure::Server(raw))
                } else {
                    Ok(raw)
                }
            })
            .await;
        let outcome = match &result {
            Ok(raw) => match raw.status {
                200..=299 => "ok",
                401 => "unauthorized",
                429 => "rate_limited",
                _ => "client_error",
            },
            Err(Guarded::Open) => "circuit_open",
            Err(Guarded::Failed(Failure::Server(_))) => "server_error",
            Err(Guarded::Failed(Failure::Timeout)) => "timeout",
            Err(Guarded::Failed(Failure::Network(_))) => "network",
        };
        metrics::counter!("integration_requests_total", "provider" => breaker.provider().to_string(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("integration_request_duration_seconds", "provider" => breaker.provider().to_string())
            .record(started.elapsed().as_secs_f64());
        result
    }
}

fn failure(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else {
        // Without the URL: a query string may carry what the person searched.
        Failure::Network(crate::http_client::error_chain(&e.without_url()))
    }
}

/// The body, cut at [`MAX_BODY_BYTES`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY_BYTES {
            break;
        }
    }
    Ok(body)
}

/// A breaker's verdict as our error.
fn settle(
    name: &'static str,
    sent: Result<Raw, Guarded<Failure>>,
) -> Result<Raw, IntegrationError> {
    match sent {
        Ok(raw) => Ok(raw),
        Err(Guarded::Open) => Err(IntegrationError::Unavailable {
            provider: name,
            why: "failing repeatedly; paused for a while".into(),
        }),
        Err(Guarded::Failed(Failure::Server(raw))) => Err(IntegrationError::Unavailable {
            provider: name,
            why: format!("HTTP {}", raw.status),
        }),
        Err(Guarded::Failed(Failure::Timeout)) => Err(IntegrationError::Unavailable {
            provider: name,
            why: "no answer in time".into(),
        }),
        Err(Guarded::Failed(Failure::Network(why))) => Err(IntegrationError::Unavailable {
            provider: name,
            why: shorten(&why, 120),
        }),
    }
}

/// A final answer as the body or our error.
fn answer(name: &'static str, raw: Raw) -> Result<Vec<u8>, IntegrationError> {
    if (200..300).contains(&raw.status) {
        return Ok(raw.body);
    }
    let detail = serde_json::from_slice::<ErrorBody>(&raw.body)
        .ok()
        .and_then(|b| b.error);
    let reasons: Vec<String> = detail
        .iter()
        .flat_map(|d| {
            d.errors
                .iter()
                .filter_map(|e| e.reason.clone())
                .chain(d.status.clone())
                .chain(d.code.as_ref().and_then(|c| c.as_str().map(str::to_owned)))
        })
        .collect();
    let scope = reasons.iter().any(|r| {
        matches!(
            r.as_str(),
            "insufficientPermissions" | "ACCESS_TOKEN_SCOPE_INSUFFICIENT" | "ErrorAccessDenied"
        )
    });
    match raw.status {
        401 => Err(IntegrationError::Unauthorized(name)),
        403 if scope => Err(IntegrationError::MissingScope(name)),
        404 | 410 => Err(IntegrationError::NotFound(name)),
        429 => Err(IntegrationError::RateLimited {
            provider: name,
            retry_after: raw.retry_after,
        }),
        status => Err(IntegrationError::Rejected {
            provider: name,
            status,
            message: shorten(
                detail
                    .and_then(|d| d.message)
                    .as_deref()
                    .unwrap_or("no reason given"),
                160,
            ),
        }),
    }
}

/// Parses a provider's JSON into our type.
pub(super) fn parse<T: serde::de::DeserializeOwned>(
    name: &'static str,
    body: &[u8],
) -> Result<T, IntegrationError> {
    serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(provider = name, error = %e, "unreadable provider answer");
        IntegrationError::Malformed(name)
    })
}
