//! Provider API clients: calendars (Google Calendar v3, Microsoft Graph
//! v1.0 `calendarView`), mail (Gmail v1, Graph mail), web search (Brave, Wikipedia) and YouTube search.
//!
//! Why here and not in `oauth/`: `oauth` owns tokens (vault, refresh,
//! revoke) and knows nothing of what they open; these clients speak each
//! API's wire format and ask `oauth` for a token per call. The agent's
//! tools call in here; nothing here reaches up into the agent.
//!
//! Every call goes through [`client`]: the provider's circuit breaker (the
//! one `oauth` keeps per provider, shared with its token endpoint), a
//! timeout, one forced refresh on a 401 (then a clear error), `Retry-After`
//! on a 429, one retry of an idempotent read on a 5xx, a capped body, and
//! the metrics `integration_requests_total{provider,outcome}` and
//! `integration_request_duration_seconds{provider}`. No database
//! transaction is held while a provider is called: `oauth` reads the token
//! in a short transaction of its own and releases it first.
//!
//! What comes back is our own serde types for the parts we use; the
//! agent's tools wrap anything written by others (event titles and
//! descriptions, web results) as untrusted data before a model sees it.

pub mod calendar;
pub mod client;
mod gmail;
mod google_calendar;
pub mod mail;
mod microsoft_calendar;
mod microsoft_mail;
mod mime;
mod notion;
pub mod web_search;
pub mod youtube;

use std::sync::Arc;
use std::time::Duration;

use crate::config::IntegrationsConfig;
use crate::http_client::breaker::{BreakerSettings, ProviderBreaker};
use crate::oauth::{OAuthService, Provider};

pub use client::IntegrationError;

/// Everything the integration tools need; cheap to clone.
#[derive(Clone)]
pub struct Integrations {
    /// Tokens and each OAuth provider's breaker; `None`: OAuth is not set
    /// up here, so only the keyless web search works.
    oauth: Option<OAuthService>,
    config: Arc<IntegrationsConfig>,
    http: reqwest::Client,
    /// Web search providers have no OAuth; their breakers live here.
    brave: ProviderBreaker,
    wikipedia: ProviderBreaker,
    youtube: ProviderBreaker,
    /// How long to wait for a 429's `Retry-After` before giving up.
    max_retry_wait: Duration,
}

impl std::fmt::Debug for Integrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrations")
            .field("oauth", &self.oauth.is_some())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Integrations {
    pub fn new(
        oauth: Option<OAuthService>,
        config: IntegrationsConfig,
        http: reqwest::Client,
    ) -> Self {
        Self::with_breaker_settings(oauth, config, http, &BreakerSettings::default())
    }

    /// As [`Integrations::new`], with the web search breakers' settings
    /// (the OAuth providers' breakers are the `OAuthService`'s own).
    pub fn with_breaker_settings(
        oauth: Option<OAuthService>,
        config: IntegrationsConfig,
        http: reqwest::Client,
        settings: &BreakerSettings,
    ) -> Self {
        Integrations {
            oauth,
            config: Arc::new(config),
            http,
            brave: ProviderBreaker::new(crate::oauth::BREAKER_GAUGE, "brave", settings),
            wikipedia: ProviderBreaker::new(crate::oauth::BREAKER_GAUGE, "wikipedia", settings),
            youtube: ProviderBreaker::new(crate::oauth::BREAKER_GAUGE, "youtube", settings),
            max_retry_wait: Duration::from_secs(2),
        }
    }

    pub fn config(&self) -> &IntegrationsConfig {
        &self.config
    }

    /// The OAuth service, when set up.
    pub fn oauth(&self) -> Option<&OAuthService> {
        self.oauth.as_ref()
    }

    /// Whether `provider`'s breaker is open (calls fail fast).
    pub fn is_open(&self, provider: Provider) -> bool {
        self.oauth
            .as_ref()
            .is_some_and(|o| o.breaker(provider).is_open())
    }
}
