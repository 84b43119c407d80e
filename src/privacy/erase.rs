//! What an erase must reach outside the person's rows, done before they
//! go: their OAuth grants, revoked at each provider (the sealed tokens are
//! read first, the provider called with no transaction open), and their
//! Redis keys (rate-limit counters and flags named by their id or one of
//! their numbers). Both are best effort and reported: a provider that is
//! down must not keep a person from being erased, and Redis keys expire
//! on their own within minutes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cache::{Redis, glob_escape};
use crate::db::UserTx;
use crate::oauth::revoke::Revocation;
use crate::oauth::{OAuthService, Provider};
use crate::store::integrations::{self, SealedTokens};
use crate::store::{PhoneRecord, StoreError, UserId};

/// What of the person lives outside their rows, read in their scope.
pub struct Outside {
    pub user: UserId,
    pub phones: Vec<String>,
    tokens: Vec<(Provider, SealedTokens)>,
}

impl std::fmt::Debug for Outside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outside")
            .field("user", &self.user)
            .field("phones", &self.phones.len())
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

impl Outside {
    /// Reads the person's numbers and sealed tokens in `tx` (commit or
    /// roll it back before [`Forgetter::forget`]: no transaction is held
    /// over a provider call).
    pub async fn read(tx: &mut UserTx) -> Result<Self, StoreError> {
        let phones = PhoneRecord::list(tx)
            .await?
            .into_iter()
            .map(|p| p.e164)
            .collect();
        let mut tokens = Vec::new();
        for integration in integrations::list(tx).await? {
            let Ok(provider) = integration.provider.parse::<Provider>() else {
                continue;
            };
            if let Some(t) = integrations::tokens(tx, provider.as_str()).await? {
                tokens.push((provider, t));
            }
        }
        Ok(Self {
            user: tx.user_id(),
            phones,
            tokens,
        })
    }
}

/// What [`Forgetter::forget`] did, for the audit entry (no personal data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Forgotten {
    /// Per provider: `revoked`, `not_supported`, `failed`, or
    /// `not_configured` (no OAuth keys here, so the tokens cannot be opened).
    pub revoked: BTreeMap<String, String>,
    /// Redis keys deleted; `None` when Redis is not configured or did not answer.
    pub redis_keys: Option<u64>,
}

/// Revokes grants and deletes Redis keys.
#[derive(Clone, Debug)]
pub struct Forgetter {
    pub oauth: Option<OAuthService>,
    pub redis: Option<Redis>,
    /// `REDIS_KEY_PREFIX`: every key Nudge writes starts with it.
    pub redis_key_prefix: String,
}

impl Forgetter {
    pub async fn forget(&self, outside: &Outside) -> Forgotten {
        let mut forgotten = Forgotten::default();
        for (provider, tokens) in &outside.tokens {
            let outcome = match &self.oauth {
                Some(oauth) => match oauth.revoke(outside.user.0, *provider, tokens).await {
                    Revocation::Revoked => "revoked",
                    Revocation::NotSupported => "not_supported",
                    Revocation::Failed => "failed",
                },
                None => "not_configured",
            };
            forgotten
                .revoked
                .insert(provider.as_str().to_string(), outcome.to_string());
        }
        if let Some(redis) = &self.redis {
            forgotten.redis_keys = self.forget_keys(redis, outside).await;
        }
        forgotten
    }

    /// Every key under our prefix naming the person's id or a number of
    /// theirs (`…limit:gcra:in:user:<id>`, `…limit:gcra:in:phone:<e164>`,
    /// `…limit:once:slow:user:<id>`, and any added later in that shape).
    async fn forget_keys(&self, redis: &Redis, outside: &Outside) -> Option<u64> {
        let prefix = glob_escape(&self.redis_key_prefix);
        let mut needles = vec![outside.user.to_string()];
        needles.extend(outside.phones.iter().cloned());
        let mut deleted = 0;
        for needle in needles {
            let pattern = format!("{prefix}*{}*", glob_escape(&needle));
            match redis.delete_matching(&pattern).await {
                Ok(n) => deleted += n,
                Err(e) => {
                    tracing::warn!(error = %e, "redis keys of an erased person not deleted; they expire on their own");
                    return None;
                }
            }
        }
        Some(deleted)
    }
}
