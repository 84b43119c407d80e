//! Disconnecting: the provider's revoke endpoint is called where one
//! exists (Google, Notion), then the sealed tokens are deleted. Revocation
//! is best effort — a provider that is down must not keep a person
//! connected against their wish — and its outcome is audited.

use secrecy::ExposeSecret;
use serde_json::json;

use super::exchange::TOKEN_CALL_TIMEOUT;
use super::vault::{Purpose, Sealed};
use super::{OAuthService, Provider};
use crate::db::UserTx;
use crate::store::integrations::{self, SealedTokens};
use crate::store::{Actor, StoreError, record_audit};

/// What happened at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    Revoked,
    /// The provider has no revoke endpoint (Microsoft).
    NotSupported,
    /// The call failed; the tokens are deleted anyway.
    Failed,
}

impl OAuthService {
    /// Asks the provider to revoke the tokens (refresh token preferred: it
    /// revokes the whole grant at Google). No transaction is held.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn revoke(
        &self,
        user: uuid::Uuid,
        provider: Provider,
        tokens: &SealedTokens,
    ) -> Revocation {
        let app = provider.app(&self.config);
        let Some(url) = &app.revoke_url else {
            return Revocation::NotSupported;
        };
        let (purpose, bytes) = match &tokens.refresh {
            Some(r) => (Purpose::RefreshToken, r),
            None => (Purpose::AccessToken, &tokens.access),
        };
        let Ok(key_id) = u32::try_from(tokens.key_id) else {
            return Revocation::Failed;
        };
        let Ok(token) = self.vault.open(
            user,
            provider,
            purpose,
            &Sealed {
                key_id,
                nonce: bytes.nonce.clone(),
                ciphertext: bytes.ciphertext.clone(),
            },
        ) else {
            return Revocation::Failed;
        };
        let request = match provider {
            Provider::Notion => {
                let (Some(id), Some(secret)) = (&app.client_id, &app.client_secret) else {
                    return Revocation::Failed;
                };
                self.http
                    .post(url)
                    .basic_auth(id, Some(secret.expose_secret()))
                    .header("Notion-Version", &self.config.notion_version)
                    .json(&json!({ "token": token.expose_secret() }))
            }
            _ => self
                .http
                .post(url)
                .form(&[("token", token.expose_secret())]),
        };
        match request.timeout(TOKEN_CALL_TIMEOUT).send().await {
            Ok(r) if r.status().is_success() => Revocation::Revoked,
            // Already revoked or expired at the provider: nothing left to revoke.
            Ok(r) if r.status().as_u16() == 400 => Revocation::Revoked,
            Ok(r) => {
                tracing::warn!(status = r.status().as_u16(), "revocation refused");
                Revocation::Failed
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "revocation failed");
                Revocation::Failed
            }
        }
    }

    /// The whole disconnect for a caller with a pool of its own scope:
    /// read the tokens, revoke (no transaction open), delete and audit.
    /// `None` when nothing was connected.
    pub async fn disconnect(
        &self,
        begin: impl AsyncFn() -> Result<UserTx, StoreError>,
        provider: Provider,
        actor: Actor,
    ) -> Result<Option<Revocation>, StoreError> {
        let mut tx = begin().await?;
        let user = tx.user_id();
        let tokens = integrations::token_state(&mut tx, provider.as_str()).await?;
        let known = integrations::get(&mut tx, provider.as_str()).await?;
        tx.commit().await?;
        if known.is_none_or(|i| i.status == "disconnected") {
            return Ok(None);
        }
        let revocation = match &tokens {
            Some(t) => self.revoke(user.0, provider, &t.tokens).await,
            None => Revocation::NotSupported,
        };
        let mut tx = begin().await?;
        integrations::disconnect(&mut tx, provider.as_str()).await?;
        record_audit(
            tx.conn(),
            Some(user),
            actor,
            "oauth.disconnect",
            json!({ "provider": provider.as_str(), "revocation": revocation }),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(revocation))
    }
}
