//! Per-person OAuth: the token vault, the providers, the connect flow
//! (signed links, PKCE and server-side state) and token exchange.
//!
//! Tokens exist in plaintext only in memory, as [`secrecy::SecretString`];
//! what reaches PostgreSQL is sealed by [`vault::Vault`] and bound to its
//! person, provider and key.

pub mod exchange;
pub mod flow;
pub mod links;
pub mod pkce;
pub mod providers;
pub mod refresh;
pub mod revoke;
pub mod rotate;
pub mod vault;

use std::sync::Arc;

use sqlx::PgPool;

pub use flow::{CallbackParams, FlowError};
pub use providers::{Access, Provider};
pub use vault::{Purpose, Sealed, Vault, VaultError};

use crate::config::{Config, OAuthConfig};
use crate::http_client::breaker::{BreakerSettings, ProviderBreaker};

/// Everything the connect flow needs; cheap to clone. Present only when
/// both `TOKEN_ENCRYPTION_KEYS` and `CONNECT_LINK_KEYS` are set.
#[derive(Clone)]
pub struct OAuthService {
    config: Arc<OAuthConfig>,
    public_base_url: String,
    /// `Secure` on the binding cookie when we are served over HTTPS.
    secure_cookies: bool,
    vault: Vault,
    links: links::ConnectLinks,
    http: reqwest::Client,
    /// Application-role pool: every query runs in the person's `UserTx`.
    db: PgPool,
    /// One breaker per provider, shared by its token endpoint and its APIs
    /// (`integrations`): a provider that keeps failing is not called until
    /// a probe succeeds. Clones share the breakers' state.
    breakers: Arc<Breakers>,
}

/// Each provider's circuit breaker.
struct Breakers {
    google: ProviderBreaker,
    microsoft: ProviderBreaker,
    notion: ProviderBreaker,
}

impl Breakers {
    fn new(settings: &BreakerSettings) -> Self {
        let b = |p: Provider| ProviderBreaker::new(BREAKER_GAUGE, p.as_str(), settings);
        Breakers {
            google: b(Provider::Google),
            microsoft: b(Provider::Microsoft),
            notion: b(Provider::Notion),
        }
    }
}

/// The state gauge of every integration provider's breaker.
pub const BREAKER_GAUGE: &str = "integration_circuit_breaker_state";

impl std::fmt::Debug for OAuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthService")
            .field("vault", &self.vault)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl OAuthService {
    /// `Ok(None)` when OAuth is not set up (no keys); an error when the
    /// keys are set but invalid.
    pub fn from_config(
        config: &Config,
        db: PgPool,
        http: reqwest::Client,
    ) -> Result<Option<Self>, String> {
        let (Some(token_keys), Some(link_keys)) = (
            &config.token_encryption_keys,
            &config.oauth.connect_link_keys,
        ) else {
            return Ok(None);
        };
        let vault = Vault::from_config(token_keys).map_err(|e| e.to_string())?;
        let links = links::ConnectLinks::from_config(link_keys)?;
        Ok(Some(Self {
            config: Arc::new(config.oauth.clone()),
            public_base_url: config.public_base_url.trim_end_matches('/').to_owned(),
            secure_cookies: config.public_base_url.starts_with("https://"),
            vault,
            links,
            http,
            db,
            breakers: Arc::new(Breakers::new(&BreakerSettings::default())),
        }))
    }

    /// Replaces every provider's breaker (tests: a short open period).
    pub fn with_breaker_settings(mut self, settings: &BreakerSettings) -> Self {
        self.breakers = Arc::new(Breakers::new(settings));
        self
    }

    /// `provider`'s circuit breaker.
    pub fn breaker(&self, provider: Provider) -> &ProviderBreaker {
        match provider {
            Provider::Google => &self.breakers.google,
            Provider::Microsoft => &self.breakers.microsoft,
            Provider::Notion => &self.breakers.notion,
        }
    }

    /// The HTTP client shared by the token calls and the provider APIs.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }
}
