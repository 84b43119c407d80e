//! Fresh tokens, single flight. Any caller that needs a token asks
//! [`OAuthService::access_token`]; a token that expires within 15 minutes
//! (or that the provider just refused with a 401) is refreshed first, by
//! exactly one caller across every process: the one that takes the row's
//! refresh lease (`store::integrations::take_refresh_lease`). The others
//! wait for the new version and use it.
//!
//! `invalid_grant` means the refresh token is dead: the integration becomes
//! `needs_reauth`, the provider is not called again, and the person gets
//! one text (a fresh connect link; outside quiet hours) — not one per attempt.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, Utc};
use rand::Rng;
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::exchange::{self, ExchangeError, Grant};
use super::flow::expires_soon;
use super::vault::{Purpose, Sealed};
use super::{OAuthService, Provider};
use crate::db::UserTx;
use crate::db::queue::{self, DeliverSmsJob, JobOptions};
use crate::http_client::breaker::Guarded;
use crate::store::integrations::{self, SealedBytes, TokenState};
use crate::store::{Actor, Locale, SmsMessage, StoreError, User, UserId, cross_user, record_audit};

/// How long one refresh may hold the lease before another caller may try.
const LEASE: Duration = Duration::from_secs(30);
/// How long a caller waits for someone else's refresh.
const WAIT: Duration = Duration::from_secs(20);

/// An access token and the version of the row it came from (pass the
/// version back to [`OAuthService::after_unauthorized`] on a 401).
#[derive(Debug)]
pub struct AccessToken {
    pub secret: SecretString,
    pub version: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0} is not connected")]
    NotConnected(Provider),
    #[error("{0} needs to be reconnected")]
    NeedsReauth(Provider),
    /// Temporary (provider down, 429, lease not released in time): retry later.
    #[error("token refresh unavailable: {0}")]
    Unavailable(String),
    #[error("token error: {0}")]
    Internal(String),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Internal(crate::db::redact(&e).to_string())
    }
}

impl OAuthService {
    /// A usable access token, refreshed first when it expires within 15 minutes.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn access_token(
        &self,
        user: UserId,
        provider: Provider,
    ) -> Result<AccessToken, TokenError> {
        self.fresh(user, provider, None).await
    }

    /// The provider answered 401 to the token of `version`: refresh once
    /// (unless someone already has) and return the new token.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn after_unauthorized(
        &self,
        user: UserId,
        provider: Provider,
        version: DateTime<Utc>,
    ) -> Result<AccessToken, TokenError> {
        self.fresh(user, provider, Some(version)).await
    }

    async fn fresh(
        &self,
        user: UserId,
        provider: Provider,
        stale: Option<DateTime<Utc>>,
    ) -> Result<AccessToken, TokenError> {
        let holder = Uuid::new_v4().to_string();
        let deadline = Instant::now() + WAIT;
        loop {
            let mut tx = UserTx::begin(&self.db, user).await?;
            let row = integrations::token_state(&mut tx, provider.as_str()).await?;
            let Some(row) = row else {
                tx.commit().await?;
                return Err(TokenError::NotConnected(provider));
            };
            if row.status == "needs_reauth" {
                tx.commit().await?;
                return Err(TokenError::NeedsReauth(provider));
            }
            let needs =
                expires_soon(row.tokens.expires_at, Utc::now()) || stale == Some(row.version);
            if !needs {
                tx.commit().await?;
                return Ok(AccessToken {
                    secret: self.open(
                        user,
                        provider,
                        Purpose::AccessToken,
                        &row.tokens.key_id,
                        &row.tokens.access,
                    )?,
                    version: row.version,
                });
            }
            let took = integrations::take_refresh_lease(
                &mut tx,
                provider.as_str(),
                &holder,
                row.version,
                LEASE.as_secs_f64(),
            )
            .await?;
            tx.commit().await?;
            if took {
                return self.refresh_now(user, provider, &holder, row).await;
            }
            if Instant::now() > deadline {
                return Err(TokenError::Unavailable(
                    "another refresh is still running".into(),
                ));
            }
            let pause = rand::rng().random_range(40..120);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    fn open(
        &self,
        user: UserId,
        provider: Provider,
        purpose: Purpose,
        key_id: &i32,
        bytes: &SealedBytes,
    ) -> Result<SecretString, TokenError> {
        let key_id =
            u32::try_from(*key_id).map_err(|_| TokenError::Internal("bad key id".into()))?;
        self.vault
            .open(
                user.0,
                provider,
                purpose,
                &Sealed {
                    key_id,
                    nonce: bytes.nonce.clone(),
                    ciphertext: bytes.ciphertext.clone(),
                },
            )
            .map_err(|e| TokenError::Internal(e.to_string()))
    }

    /// We hold the lease: call the token endpoint once and store the answer.
    async fn refresh_now(
        &self,
        user: UserId,
        provider: Provider,
        holder: &str,
        row: TokenState,
    ) -> Result<AccessToken, TokenError> {
        let refresh = match &row.tokens.refresh {
            Some(r) => self.open(user, provider, Purpose::RefreshToken, &row.tokens.key_id, r)?,
            None => {
                return self
                    .lost_access(user, provider, holder, "no_refresh_token")
                    .await;
            }
        };
        // Behind the provider's breaker: only "unavailable" counts against
        // it; a refused grant is the provider answering on purpose.
        let this = self.clone();
        let token = refresh.clone();
        let guarded = self
            .breaker(provider)
            .call(async move {
                let grant = Grant::Refresh {
                    refresh_token: &token,
                };
                match exchange::request_tokens(
                    &this.http,
                    &this.config,
                    provider,
                    grant,
                    Utc::now(),
                )
                .await
                {
                    Err(ExchangeError::Unavailable(why)) => Err(ExchangeError::Unavailable(why)),
                    answered => Ok(answered),
                }
            })
            .await;
        let answer = match guarded {
            Ok(answered) => answered,
            Err(Guarded::Failed(e)) => Err(e),
            Err(Guarded::Open) => Err(ExchangeError::Unavailable(format!(
                "{} circuit breaker is open",
                provider.as_str()
            ))),
        };
        match answer {
            Ok(mut set) => {
                // Microsoft and Notion rotate refresh tokens: keep the newest;
                // Google sends none on refresh, so the old one stays (sealed
                // again with the current key, so the row has one key id).
                if set.refresh_token.is_none() {
                    set.refresh_token = Some(refresh);
                }
                let sealed = self
                    .seal_tokens(user.0, provider, &set)
                    .map_err(|e| TokenError::Internal(e.to_string()))?;
                let mut tx = UserTx::begin(&self.db, user).await?;
                let version =
                    integrations::save_refreshed(&mut tx, provider.as_str(), holder, &sealed)
                        .await?;
                tx.commit().await?;
                metrics::counter!("oauth_refresh_total", "provider" => provider.as_str(), "outcome" => "ok")
                    .increment(1);
                let version = version
                    .ok_or_else(|| TokenError::Unavailable("refresh lease expired".into()))?;
                Ok(AccessToken {
                    secret: set.access_token,
                    version,
                })
            }
            Err(e) if e.is_invalid_grant() => {
                self.lost_access(user, provider, holder, "invalid_grant")
                    .await
            }
            Err(e) => {
                let code = match &e {
                    ExchangeError::Refused { code, .. } => code.clone(),
                    ExchangeError::Unavailable(_) => "unavailable".into(),
                    ExchangeError::Malformed => "malformed_response".into(),
                    ExchangeError::NotConfigured(_) => "not_configured".into(),
                };
                let mut tx = UserTx::begin(&self.db, user).await?;
                integrations::release_refresh_lease(&mut tx, provider.as_str(), holder, &code)
                    .await?;
                record_audit(
                    tx.conn(),
                    Some(user),
                    Actor::System,
                    "oauth.refresh_failed",
                    json!({ "provider": provider.as_str(), "error": code }),
                )
                .await?;
                tx.commit().await?;
                metrics::counter!("oauth_refresh_total", "provider" => provider.as_str(), "outcome" => "error")
                    .increment(1);
                Err(TokenError::Unavailable(e.to_string()))
            }
        }
    }

    /// The refresh token is dead: `needs_reauth`, and one text.
    async fn lost_access(
        &self,
        user: UserId,
        provider: Provider,
        holder: &str,
        why: &str,
    ) -> Result<AccessToken, TokenError> {
        let mut tx = UserTx::begin(&self.db, user).await?;
        let first =
            integrations::mark_needs_reauth(&mut tx, provider.as_str(), holder, why).await?;
        if first {
            record_audit(
                tx.conn(),
                Some(user),
                Actor::System,
                "oauth.needs_reauth",
                json!({ "provider": provider.as_str(), "error": why }),
            )
            .await?;
            let person = User::current(&mut tx).await?;
            let fr = person.locale() == Locale::Fr;
            let now = Utc::now();
            let quiet_until = quiet_hours_end(&person, now);
            let name = provider.display_name();
            // A link lives 15 minutes: one sent after quiet hours would be
            // dead on arrival, so that text asks for a new one instead.
            let body = match (quiet_until, fr) {
                (None, false) => format!(
                    "{name} stopped working with Nudge. Reconnect here: {}",
                    self.connect_link(&mut tx, provider)
                        .await
                        .map_err(|e| TokenError::Internal(e.to_string()))?
                ),
                (None, true) => format!(
                    "{name} ne fonctionne plus avec Nudge. Reconnectez-le ici : {}",
                    self.connect_link(&mut tx, provider)
                        .await
                        .map_err(|e| TokenError::Internal(e.to_string()))?
                ),
                (Some(_), false) => format!(
                    "{name} stopped working with Nudge. Text \"connect {}\" for a link to reconnect it.",
                    provider.as_str()
                ),
                (Some(_), true) => format!(
                    "{name} ne fonctionne plus avec Nudge. Écrivez « connecte {} » pour recevoir un lien.",
                    provider.as_str()
                ),
            };
            let key = format!(
                "oauth-reauth:{}:{}",
                provider.as_str(),
                now.timestamp_millis()
            );
            let message = SmsMessage::insert_outbound(&mut tx, &body, &key, None).await?;
            queue::enqueue(
                tx.conn(),
                &DeliverSmsJob {
                    user_id: user.0,
                    message_id: message.id,
                },
                JobOptions {
                    run_at: quiet_until.map(std::time::SystemTime::from),
                    ..JobOptions::default()
                },
            )
            .await
            .map_err(|e| TokenError::Internal(e.to_string()))?;
        }
        tx.commit().await?;
        metrics::counter!("oauth_refresh_total", "provider" => provider.as_str(), "outcome" => "needs_reauth")
            .increment(1);
        tracing::warn!(
            provider = provider.as_str(),
            first,
            "integration needs reauthorisation"
        );
        Err(TokenError::NeedsReauth(provider))
    }

    /// For the scheduled job: refresh when the token expires within 15
    /// minutes; nothing when it is fresh, gone or waiting for the person.
    pub async fn refresh_if_expiring(
        &self,
        user: UserId,
        provider: Provider,
    ) -> Result<(), TokenError> {
        match self.access_token(user, provider).await {
            Ok(_) | Err(TokenError::NotConnected(_)) | Err(TokenError::NeedsReauth(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// When `now` falls in the person's quiet hours, the moment they end.
fn quiet_hours_end(person: &User, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (Some(start), Some(end)) = (person.quiet_hours_start, person.quiet_hours_end) else {
        return None;
    };
    let tz = person.tz();
    let local = now.with_timezone(&tz);
    let t: NaiveTime = local.time();
    let quiet = if start <= end {
        t >= start && t < end
    } else {
        t >= start || t < end
    };
    if !quiet {
        return None;
    }
    let mut day = local.date_naive();
    if t >= end {
        day = day.succ_opt()?;
    }
    day.and_time(end)
        .and_local_timezone(tz)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

/// Tokens expiring within this window are refreshed ahead of time.
pub const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(15);
/// At most this many refresh jobs per scheduling pass.
const SCHEDULE_BATCH: i32 = 500;

/// Enqueues a refresh job for every connected token expiring within
/// [`REFRESH_AHEAD`] (cross-user, through one `SECURITY DEFINER` function
/// that returns ids only). A token enqueued twice is refreshed once: the
/// second job finds it fresh.
#[tracing::instrument(name = "job.schedule_refreshes", skip_all)]
pub async fn schedule_refreshes(pool: &sqlx::PgPool) -> Result<usize, TokenError> {
    let ahead = Duration::from_secs(REFRESH_AHEAD.num_seconds().unsigned_abs());
    let due = cross_user::expiring_tokens(pool, ahead, SCHEDULE_BATCH).await?;
    let mut tx = pool.begin().await?;
    for (user_id, provider) in &due {
        queue::enqueue(
            &mut tx,
            &queue::RefreshTokenJob {
                user_id: *user_id,
                provider: provider.clone(),
            },
            JobOptions::default(),
        )
        .await
        .map_err(|e| TokenError::Internal(e.to_string()))?;
    }
    tx.commit().await?;
    if !due.is_empty() {
        tracing::info!(count = due.len(), "token refreshes scheduled");
    }
    Ok(due.len())
}
