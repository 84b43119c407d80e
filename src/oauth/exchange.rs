//! Calls to a provider's token endpoint: the authorization-code exchange
//! (with the PKCE verifier) and the refresh. Google and Microsoft take a
//! form with the client credentials; Notion takes JSON with HTTP Basic and
//! a `Notion-Version` header.
//!
//! Responses are parsed into [`TokenSet`], whose tokens are secrets; an
//! error carries the provider's `error` code (`invalid_grant`, …) and the
//! HTTP status, never a body that might echo a token.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::Provider;
use crate::config::{OAuthConfig, ProviderApp};

/// Each token call gets this long, connection included.
pub const TOKEN_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Tokens as a provider returned them.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Granted scopes, when the provider says.
    pub scopes: Option<Vec<String>>,
    /// A name for the account (Notion's workspace), when the provider says.
    pub account: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The provider refused the grant (`invalid_grant`, `invalid_request`…).
    #[error("provider refused the request: {code} (HTTP {status})")]
    Refused { status: u16, code: String },
    /// Temporary: 429, 5xx, timeout or network.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// 2xx with a body we cannot read.
    #[error("provider answered with an unreadable token response")]
    Malformed,
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}

impl ExchangeError {
    /// The refresh token is dead (revoked, expired, password changed).
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, ExchangeError::Refused { code, .. } if code == "invalid_grant")
    }
}

#[derive(Deserialize)]
struct RawTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    scope: Option<String>,
    workspace_name: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: Option<String>,
}

/// A grant to send to the token endpoint.
pub enum Grant<'a> {
    Code {
        code: &'a str,
        verifier: &'a SecretString,
        redirect_uri: &'a str,
    },
    Refresh {
        refresh_token: &'a SecretString,
    },
}

/// Sends `grant` to `provider`'s token endpoint.
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn request_tokens(
    http: &reqwest::Client,
    config: &OAuthConfig,
    provider: Provider,
    grant: Grant<'_>,
    now: DateTime<Utc>,
) -> Result<TokenSet, ExchangeError> {
    let app = provider.app(config);
    let (Some(client_id), Some(secret)) = (&app.client_id, &app.client_secret) else {
        return Err(ExchangeError::NotConfigured(provider.as_str()));
    };
    let request = match provider {
        Provider::Notion => notion_request(http, config, app, client_id, secret, &grant),
        Provider::Google | Provider::Microsoft => {
            let mut form: Vec<(&str, &str)> = vec![
                ("client_id", client_id),
                ("client_secret", secret.expose_secret()),
            ];
            match &grant {
                Grant::Code {
                    code,
                    verifier,
                    redirect_uri,
                } => form.extend([
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier.expose_secret()),
                ]),
                Grant::Refresh { refresh_token } => form.extend([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose_secret()),
                ]),
            }
            http.post(&app.token_url).form(&form)
        }
    };
    let response = request
        .header("Accept", "application/json")
        .timeout(TOKEN_CALL_TIMEOUT)
        .send()
        .await
        // The error's text names the URL, not the form: no secret in it.
        .map_err(|e| ExchangeError::Unavailable(e.without_url().to_string()))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| ExchangeError::Unavailable(e.without_url().to_string()))?;
    if status.is_success() {
        let raw: RawTokens = serde_json::from_slice(&body).map_err(|_| ExchangeError::Malformed)?;
        if raw.access_token.is_empty() {
            return Err(ExchangeError::Malformed);
        }
        return Ok(TokenSet {
            access_token: SecretString::from(raw.access_token),
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            expires_at: raw
                .expires_in
                .filter(|s| *s > 0)
                .map(|s| now + chrono::Duration::seconds(s.min(366 * 86_400))),
            scopes: raw.scope.map(|s| {
                s.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            account: raw.workspace_name.map(|n| n.chars().take(100).collect()),
        });
    }
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(ExchangeError::Unavailable(format!(
            "HTTP {}",
            status.as_u16()
        )));
    }
    let code = serde_json::from_slice::<RawError>(&body)
        .ok()
        .and_then(|e| e.error)
        .filter(|c| c.len() <= 64 && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or_else(|| "unknown_error".into());
    Err(ExchangeError::Refused {
        status: status.as_u16(),
        code,
    })
}

fn notion_request(
    http: &reqwest::Client,
    config: &OAuthConfig,
    app: &ProviderApp,
    client_id: &str,
    secret: &SecretString,
    grant: &Grant<'_>,
) -> reqwest::RequestBuilder {
    let body = match grant {
        Grant::Code {
            code,
            verifier,
            redirect_uri,
        } => serde_json::json!({
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier.expose_secret(),
        }),
        Grant::Refresh { refresh_token } => serde_json::json!({
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
        }),
    };
    http.post(&app.token_url)
        .basic_auth(client_id, Some(secret.expose_secret()))
        .header("Notion-Version", &config.notion_version)
        .json(&body)
}
