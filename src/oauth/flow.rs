//! The connect flow (RFC 9700: authorization code, PKCE S256, single-use
//! server-side state, one redirect URI per provider).
//!
//! 1. `GET /connect/<token>` — [`OAuthService::consent`] checks the texted
//!    link and says what will be shared; it spends nothing (link previews
//!    open links too).
//! 2. `POST /connect/<token>` — [`OAuthService::begin`] spends the link,
//!    stores the state (PKCE verifier sealed, 10 minutes, bound to a cookie
//!    set on this browser) and redirects to the provider.
//! 3. `GET /oauth/<provider>/callback` — [`OAuthService::callback`] spends
//!    the state, exchanges the code, seals and stores the tokens, audits and
//!    texts the confirmation, all in one transaction.
//!
//! Every refusal is a [`FlowError`] with a 4xx status and stores nothing
//! (a state is spent even when what follows fails, so it cannot be retried).

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::exchange::{self, ExchangeError, Grant};
use super::pkce::{random_token, s256_challenge, sha256_hex};
use super::vault::{Purpose, Sealed};
use super::{OAuthService, Provider};
use crate::db::UserTx;
use crate::db::queue::{self, DeliverSmsJob, JobOptions};
use crate::store::integrations::{self, NewState, SealedBytes, SealedTokens};
use crate::store::{Actor, Locale, SmsMessage, StoreError, User, UserId, record_audit};

/// How long a started authorization may take.
pub const STATE_LIFETIME: Duration = Duration::minutes(10);
/// The cookie binding a state to the browser that pressed "Connect".
pub const COOKIE_NAME: &str = "nudge_oauth";

/// Why a step was refused. Each maps to a status and a page; none names a
/// token, a code or a state.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("unknown provider")]
    UnknownProvider,
    #[error("{0} is not set up on this server")]
    NotConfigured(Provider),
    #[error("connect link expired")]
    LinkExpired,
    #[error("connect link already used")]
    LinkUsed,
    #[error("connect link is not valid")]
    LinkInvalid,
    /// Unknown, spent, expired, other person's, other provider's or other
    /// browser's state, or one whose verifier does not open.
    #[error("authorization state is not valid")]
    StateInvalid,
    #[error("the person declined")]
    Denied,
    #[error("authorization response from the wrong issuer")]
    IssuerMismatch,
    #[error("token exchange refused: {0}")]
    Exchange(ExchangeError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl FlowError {
    /// The HTTP status of its page: 4xx for everything the browser or the
    /// provider's answer caused; 502 when the provider is unreachable.
    pub fn status(&self) -> u16 {
        match self {
            FlowError::UnknownProvider | FlowError::NotConfigured(_) => 404,
            FlowError::LinkExpired | FlowError::LinkUsed => 410,
            FlowError::LinkInvalid | FlowError::StateInvalid | FlowError::IssuerMismatch => 400,
            FlowError::Denied => 403,
            FlowError::Exchange(ExchangeError::Unavailable(_)) => 502,
            FlowError::Exchange(_) => 400,
            FlowError::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for FlowError {
    fn from(e: StoreError) -> Self {
        FlowError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for FlowError {
    fn from(e: sqlx::Error) -> Self {
        FlowError::Internal(crate::db::redact(&e).to_string())
    }
}

/// What the consent page shows.
#[derive(Debug)]
pub struct Consent {
    pub provider: Provider,
    /// Mail asked for on top of the calendar.
    pub access: super::Access,
    pub locale: Locale,
}

/// Where the browser goes next, and the cookie it must carry back.
#[derive(Debug)]
pub struct Begun {
    pub authorize_url: String,
    pub set_cookie: String,
}

/// A stored connection.
#[derive(Debug)]
pub struct Connected {
    pub provider: Provider,
    pub locale: Locale,
    /// Clears the binding cookie.
    pub clear_cookie: String,
}

/// The query of a callback, as received.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub iss: Option<String>,
}

impl OAuthService {
    /// A fresh connect link for this person (the jti is recorded in `tx`).
    pub async fn connect_link(
        &self,
        tx: &mut UserTx,
        provider: Provider,
    ) -> Result<String, FlowError> {
        self.connect_link_for(tx, provider, super::Access::Calendar)
            .await
    }

    /// A fresh link asking for `access` (mail: the mail scopes on top of
    /// what was granted — incremental consent, never a silent widening).
    pub async fn connect_link_for(
        &self,
        tx: &mut UserTx,
        provider: Provider,
        access: super::Access,
    ) -> Result<String, FlowError> {
        if !provider.app(&self.config).is_configured() {
            return Err(FlowError::NotConfigured(provider));
        }
        let (token, claims) = self
            .links
            .sign_with(tx.uuid(), provider, access, Utc::now());
        integrations::record_link(tx, claims.jti, provider.as_str(), claims.expires_at).await?;
        Ok(format!("{}/connect/{token}", self.public_base_url))
    }

    /// Step 1: the link is valid and unspent; nothing changes.
    #[tracing::instrument(skip_all)]
    pub async fn consent(&self, token: &str) -> Result<Consent, FlowError> {
        let claims = self.check_link(token)?;
        let mut tx = UserTx::begin(&self.db, UserId(claims.user)).await?;
        if !integrations::link_usable(&mut tx, claims.jti, claims.provider.as_str()).await? {
            return Err(FlowError::LinkUsed);
        }
        let locale = User::current(&mut tx).await?.locale();
        tx.commit().await?;
        Ok(Consent {
            provider: claims.provider,
            access: claims.access,
            locale,
        })
    }

    /// Step 2: spends the link, stores the state, returns the redirect.
    #[tracing::instrument(skip_all)]
    pub async fn begin(&self, token: &str) -> Result<Begun, FlowError> {
        let claims = self.check_link(token)?;
        let provider = claims.provider;
        let user = claims.user;
        let state = random_token();
        let verifier = SecretString::from(random_token());
        let browser = random_token();
        let cookie_value = format!("{}.{browser}", user.simple());
        let sealed = self
            .vault
            .seal(user, provider, Purpose::PkceVerifier, &verifier)
            .map_err(|e| FlowError::Internal(e.to_string()))?;
        let scopes = provider.scopes_for(claims.access);

        let mut tx = UserTx::begin(&self.db, UserId(user)).await?;
        if !integrations::use_link(&mut tx, claims.jti, provider.as_str()).await? {
            return Err(FlowError::LinkUsed);
        }
        integrations::insert_state(
            &mut tx,
            &NewState {
                state_hash: &sha256_hex(&state),
                provider: provider.as_str(),
                verifier: &SealedBytes {
                    nonce: sealed.nonce,
                    ciphertext: sealed.ciphertext,
                },
                key_id: sealed.key_id as i32,
                scopes: &scopes,
                browser_hash: &sha256_hex(&cookie_value),
                expires_at: Utc::now() + STATE_LIFETIME,
            },
        )
        .await?;
        tx.commit().await?;

        let app = provider.app(&self.config);
        let mut url = url::Url::parse(&app.authorize_url)
            .map_err(|_| FlowError::Internal("authorize URL is not a URL".into()))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", app.client_id.as_deref().unwrap_or_default())
                .append_pair("redirect_uri", &self.redirect_uri(provider))
                .append_pair("state", &state)
                .append_pair(
                    "code_challenge",
                    &s256_challenge(secrecy::ExposeSecret::expose_secret(&verifier)),
                )
                .append_pair("code_challenge_method", "S256");
            if !scopes.is_empty() {
                q.append_pair("scope", &scopes.join(" "));
            }
            for (k, v) in provider.authorize_extras() {
                q.append_pair(k, v);
            }
        }
        Ok(Begun {
            authorize_url: url.into(),
            set_cookie: self.cookie(provider, &cookie_value, STATE_LIFETIME.num_seconds()),
        })
    }

    /// Step 3: the provider sent the browser back.
    #[tracing::instrument(skip_all, fields(provider = provider_name))]
    pub async fn callback(
        &self,
        provider_name: &str,
        params: &CallbackParams,
        cookie_header: Option<&str>,
    ) -> Result<Connected, FlowError> {
        let provider: Provider = provider_name
            .parse()
            .ok()
            .filter(|p: &Provider| p.as_str() == provider_name)
            .ok_or(FlowError::UnknownProvider)?;
        if !provider.app(&self.config).is_configured() {
            return Err(FlowError::NotConfigured(provider));
        }
        let cookie_value = cookie_header
            .and_then(|h| find_cookie(h, COOKIE_NAME))
            .ok_or(FlowError::StateInvalid)?;
        let user = cookie_value
            .split_once('.')
            .and_then(|(u, _)| Uuid::try_parse(u).ok())
            .ok_or(FlowError::StateInvalid)?;
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or(FlowError::StateInvalid)?;

        // Spend the state first, in its own commit: whatever follows, it
        // cannot be used again.
        let mut tx = UserTx::begin(&self.db, UserId(user)).await?;
        let taken = integrations::take_state(
            &mut tx,
            &sha256_hex(state),
            provider.as_str(),
            &sha256_hex(cookie_value),
        )
        .await?
        .ok_or(FlowError::StateInvalid)?;
        tx.commit().await?;

        let verifier = self
            .vault
            .open(
                user,
                provider,
                Purpose::PkceVerifier,
                &Sealed {
                    key_id: u32::try_from(taken.key_id).map_err(|_| FlowError::StateInvalid)?,
                    nonce: taken.verifier.nonce,
                    ciphertext: taken.verifier.ciphertext,
                },
            )
            .map_err(|_| FlowError::StateInvalid)?;
        if params.error.is_some() {
            return Err(FlowError::Denied);
        }
        if let (Some(expected), Some(got)) = (&provider.app(&self.config).issuer, &params.iss)
            && expected.trim_end_matches('/') != got.trim_end_matches('/')
        {
            return Err(FlowError::IssuerMismatch);
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or(FlowError::StateInvalid)?;

        let now = Utc::now();
        let tokens = exchange::request_tokens(
            &self.http,
            &self.config,
            provider,
            Grant::Code {
                code,
                verifier: &verifier,
                redirect_uri: &self.redirect_uri(provider),
            },
            now,
        )
        .await
        .map_err(FlowError::Exchange)?;
        let scopes = tokens.scopes.clone().unwrap_or(taken.scopes);
        let sealed = self.seal_tokens(user, provider, &tokens)?;

        let mut tx = UserTx::begin(&self.db, UserId(user)).await?;
        integrations::save_connected(
            &mut tx,
            provider.as_str(),
            &scopes,
            tokens.account.as_deref(),
            &sealed,
        )
        .await?;
        record_audit(
            tx.conn(),
            Some(UserId(user)),
            Actor::User,
            "oauth.connect",
            json!({ "provider": provider.as_str(), "scopes": scopes }),
        )
        .await?;
        let locale = User::current(&mut tx).await?.locale();
        let granted: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let text = match provider.grants_mail(&granted) {
            true => provider.mail_connected_sms(locale == Locale::Fr),
            false => provider.connected_sms(locale == Locale::Fr),
        };
        let key = format!("oauth-connected:{}", sha256_hex(state));
        let message = SmsMessage::insert_outbound(&mut tx, text, &key, None).await?;
        queue::enqueue(
            tx.conn(),
            &DeliverSmsJob {
                user_id: user,
                message_id: message.id,
            },
            JobOptions::default(),
        )
        .await
        .map_err(|e| FlowError::Internal(e.to_string()))?;
        tx.commit().await?;
        tracing::info!(provider = provider.as_str(), "integration connected");
        Ok(Connected {
            provider,
            locale,
            clear_cookie: self.cookie(provider, "", 0),
        })
    }

    /// Seals a provider's answer for this person and provider.
    pub(crate) fn seal_tokens(
        &self,
        user: Uuid,
        provider: Provider,
        tokens: &exchange::TokenSet,
    ) -> Result<SealedTokens, FlowError> {
        let seal = |purpose, value: &SecretString| {
            self.vault
                .seal(user, provider, purpose, value)
                .map_err(|e| FlowError::Internal(e.to_string()))
        };
        let access = seal(Purpose::AccessToken, &tokens.access_token)?;
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|t| seal(Purpose::RefreshToken, t))
            .transpose()?;
        Ok(SealedTokens {
            key_id: access.key_id as i32,
            access: SealedBytes {
                nonce: access.nonce,
                ciphertext: access.ciphertext,
            },
            refresh: refresh.map(|r| SealedBytes {
                nonce: r.nonce,
                ciphertext: r.ciphertext,
            }),
            expires_at: tokens.expires_at,
        })
    }

    fn check_link(&self, token: &str) -> Result<super::links::LinkClaims, FlowError> {
        let claims = self.links.verify(token, Utc::now()).map_err(|e| match e {
            super::links::LinkError::Expired => FlowError::LinkExpired,
            super::links::LinkError::Invalid => FlowError::LinkInvalid,
        })?;
        if !claims.provider.app(&self.config).is_configured() {
            return Err(FlowError::NotConfigured(claims.provider));
        }
        Ok(claims)
    }

    /// The one redirect URI of a provider (the mix-up defence).
    pub fn redirect_uri(&self, provider: Provider) -> String {
        format!(
            "{}/oauth/{}/callback",
            self.public_base_url,
            provider.as_str()
        )
    }

    fn cookie(&self, provider: Provider, value: &str, max_age: i64) -> String {
        format!(
            "{COOKIE_NAME}={value}; Path=/oauth/{}/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
            provider.as_str(),
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }
}

/// The value of cookie `name` in a `Cookie` header.
fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty() && v.len() <= 200).then_some(v)
    })
}

/// For the refresh job: when a token needs refreshing.
pub fn expires_soon(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now + Duration::minutes(15))
}
