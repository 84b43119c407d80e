//! Integration test peers: one wiremock server standing in for Google's
//! and Microsoft's token endpoints and APIs (each under its documented
//! path), Brave and Wikipedia; a person connected to a provider with
//! sealed tokens; an agent wired to them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use wiremock::MockServer;

use super::TestDb;
use super::oauth::{LINK_KEYS, TOKEN_KEYS_ONE};
use nudge::agent::Agent;
use nudge::agent::llm::LlmClient;
use nudge::agent::runner::TurnBudget;
use nudge::agent::tools::ToolRegistry;
use nudge::config::IntegrationsConfig;
use nudge::db::UserTx;
use nudge::http_client::breaker::BreakerSettings;
use nudge::integrations::Integrations;
use nudge::oauth::{OAuthService, Provider, Purpose};
use nudge::store::UserId;
use nudge::store::integrations::{self, SealedBytes, SealedTokens};

/// Breakers that reopen quickly, so recovery tests need not wait 30 s.
pub fn quick_breakers() -> BreakerSettings {
    BreakerSettings {
        open_for: Duration::from_millis(300),
        ..BreakerSettings::default()
    }
}

/// OAuth with Google and Microsoft registered, their token endpoints on `server`.
pub fn oauth(db: &TestDb, server: &MockServer, breakers: &BreakerSettings) -> OAuthService {
    let mut config = db.config();
    config.public_base_url = "https://nudge.example".into();
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    for (app, name) in [
        (&mut config.oauth.google, "google"),
        (&mut config.oauth.microsoft, "microsoft"),
    ] {
        app.client_id = Some(format!("{name}-client"));
        app.client_secret = Some(SecretString::from(format!("{name}-secret")));
        app.token_url = format!("{}/{name}/token", server.uri());
    }
    OAuthService::from_config(&config, db.app.clone(), reqwest::Client::new())
        .unwrap()
        .unwrap()
        .with_breaker_settings(breakers)
}

/// Every provider API on `server`: Google Calendar under `/calendar/v3`,
/// Graph under `/v1.0`, Brave under `/brave`, Wikipedia under `/wiki-{lang}`,
/// YouTube under `/youtube/v3`. With a Brave key, YouTube has one too.
pub fn config(server: &MockServer, brave_key: Option<&str>) -> IntegrationsConfig {
    IntegrationsConfig {
        google_calendar_url: format!("{}/calendar/v3", server.uri()),
        microsoft_graph_url: format!("{}/v1.0", server.uri()),
        gmail_url: format!("{}/gmail/v1", server.uri()),
        brave_api_key: brave_key.map(|k| SecretString::from(k.to_owned())),
        brave_search_url: format!("{}/brave/res/v1/web/search", server.uri()),
        wikipedia_url: format!("{}/wiki-{{lang}}", server.uri()),
        youtube_api_key: brave_key.map(|_| SecretString::from("yt-key")),
        youtube_url: format!("{}/youtube/v3", server.uri()),
        timeout: Duration::from_millis(800),
    }
}

pub fn integrations(
    oauth: Option<OAuthService>,
    server: &MockServer,
    brave_key: Option<&str>,
    breakers: &BreakerSettings,
) -> Integrations {
    Integrations::with_breaker_settings(
        oauth,
        config(server, brave_key),
        reqwest::Client::new(),
        breakers,
    )
}

/// `user` connected to `provider` with this access token (and a refresh
/// token), as the OAuth callback would leave them.
pub async fn connect(
    db: &TestDb,
    oauth: &OAuthService,
    user: UserId,
    provider: Provider,
    access: &str,
) {
    connect_with_scopes(db, oauth, user, provider, access, &[]).await;
}

/// As [`connect`], with these scopes recorded as granted (mail tools are
/// offered only once the provider's mail scopes are).
pub async fn connect_with_scopes(
    db: &TestDb,
    oauth: &OAuthService,
    user: UserId,
    provider: Provider,
    access: &str,
    scopes: &[String],
) {
    let seal = |purpose, v: &str| {
        let s = oauth
            .vault()
            .seal(user.0, provider, purpose, &SecretString::from(v.to_owned()))
            .unwrap();
        SealedBytes {
            nonce: s.nonce,
            ciphertext: s.ciphertext,
        }
    };
    let mut tx = UserTx::begin(&db.app, user).await.unwrap();
    integrations::save_connected(
        &mut tx,
        provider.as_str(),
        scopes,
        None,
        &SealedTokens {
            key_id: 1,
            access: seal(Purpose::AccessToken, access),
            refresh: Some(seal(Purpose::RefreshToken, "refresh-token-1")),
            expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// An agent over `llm` with every integration tool, its clock at `now`.
pub fn agent(
    db: &TestDb,
    llm: Arc<dyn LlmClient>,
    integrations: Integrations,
    now: DateTime<Utc>,
) -> Agent {
    Agent::new(
        db.app.clone(),
        llm,
        Arc::new(ToolRegistry::with_providers(integrations)),
        TurnBudget::default(),
    )
    .with_clock(move || now)
}

/// The requests `server` received on `path` with `method`.
pub async fn received(server: &MockServer, method: &str, path: &str) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .collect()
}
