//! A person's connected accounts: integrations, their sealed tokens, the
//! single-use OAuth states and connect links. Everything here is already
//! sealed by the caller (`oauth::vault`); this module never sees a token.
//!
//! Every query names its person (`where user_id = $1`, bound from the
//! [`UserTx`]) on top of row-level security.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;

// The single-use states and links, in a file of their own; their paths
// stay here for the OAuth flow.
pub use super::oauth_states::{
    NewState, TakenState, export_link_usable, insert_state, link_usable, record_export_link,
    record_link, take_state, use_export_link, use_link,
};
use crate::db::UserTx;

/// An integration as operators and the agent see it (no token).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Integration {
    pub provider: String,
    pub status: String,
    pub scopes: Vec<String>,
    pub external_account: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub reauth_notified_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Key that sealed the tokens (`None`: no tokens stored).
    pub key_id: Option<i32>,
}

/// One sealed value as stored (nonce and ciphertext with its tag).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedBytes {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedBytes({} bytes)", self.ciphertext.len())
    }
}

/// A person's sealed tokens for one provider; `key_id` sealed both.
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub key_id: i32,
    pub access: SealedBytes,
    pub refresh: Option<SealedBytes>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    key_id: i32,
    access_token_ciphertext: Vec<u8>,
    access_token_nonce: Vec<u8>,
    refresh_token_ciphertext: Option<Vec<u8>>,
    refresh_token_nonce: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for SealedTokens {
    fn from(r: TokenRow) -> Self {
        SealedTokens {
            key_id: r.key_id,
            access: SealedBytes {
                nonce: r.access_token_nonce,
                ciphertext: r.access_token_ciphertext,
            },
            refresh: match (r.refresh_token_ciphertext, r.refresh_token_nonce) {
                (Some(ciphertext), Some(nonce)) => Some(SealedBytes { nonce, ciphertext }),
                _ => None,
            },
            expires_at: r.expires_at,
        }
    }
}

const INTEGRATION_COLUMNS: &str = "i.provider, i.status, i.scopes, i.external_account, \
     i.connected_at, i.updated_at, i.last_refresh_at, i.last_error, i.reauth_notified_at, \
     t.expires_at, t.key_id";

/// Stores a fresh connection: the integration becomes `connected` with
/// these scopes (a reconnect clears its error and reauth flag) and its
/// tokens are replaced.
pub async fn save_connected(
    tx: &mut UserTx,
    provider: &str,
    scopes: &[String],
    external_account: Option<&str>,
    tokens: &SealedTokens,
) -> Result<(), StoreError> {
    let user = tx.uuid();
    let integration: Uuid = sqlx::query_scalar(
        "insert into oauth_integrations (user_id, provider, status, scopes, external_account) \
         values ($1, $2, 'connected', $3, $4) \
         on conflict (user_id, provider) do update set status = 'connected', \
             scopes = excluded.scopes, external_account = excluded.external_account, \
             connected_at = now(), updated_at = now(), last_error = null, \
             reauth_notified_at = null \
         returning id",
    )
    .bind(user)
    .bind(provider)
    .bind(scopes)
    .bind(external_account)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "insert into oauth_tokens (user_id, integration_id, provider, key_id, \
             access_token_ciphertext, access_token_nonce, refresh_token_ciphertext, \
             refresh_token_nonce, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (integration_id) do update set key_id = excluded.key_id, \
             access_token_ciphertext = excluded.access_token_ciphertext, \
             access_token_nonce = excluded.access_token_nonce, \
             refresh_token_ciphertext = excluded.refresh_token_ciphertext, \
             refresh_token_nonce = excluded.refresh_token_nonce, \
             expires_at = excluded.expires_at, updated_at = now(), \
             refresh_holder = null, refresh_lease_until = null \
         where oauth_tokens.user_id = $1",
    )
    .bind(user)
    .bind(integration)
    .bind(provider)
    .bind(tokens.key_id)
    .bind(&tokens.access.ciphertext)
    .bind(&tokens.access.nonce)
    .bind(tokens.refresh.as_ref().map(|r| &r.ciphertext))
    .bind(tokens.refresh.as_ref().map(|r| &r.nonce))
    .bind(tokens.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every integration of this person, by provider.
pub async fn list(tx: &mut UserTx) -> Result<Vec<Integration>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INTEGRATION_COLUMNS} from oauth_integrations i \
         left join oauth_tokens t on t.integration_id = i.id and t.user_id = $1 \
         where i.user_id = $1 order by i.provider"
    )))
    .bind(tx.uuid())
    .fetch_all(tx.conn())
    .await?)
}

/// One integration, if this person has it.
pub async fn get(tx: &mut UserTx, provider: &str) -> Result<Option<Integration>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {INTEGRATION_COLUMNS} from oauth_integrations i \
         left join oauth_tokens t on t.integration_id = i.id and t.user_id = $1 \
         where i.user_id = $1 and i.provider = $2"
    )))
    .bind(tx.uuid())
    .bind(provider)
    .fetch_optional(tx.conn())
    .await?)
}

/// The sealed tokens of a connected integration (`None`: not connected).
pub async fn tokens(tx: &mut UserTx, provider: &str) -> Result<Option<SealedTokens>, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(
        "select t.key_id, t.access_token_ciphertext, t.access_token_nonce, \
             t.refresh_token_ciphertext, t.refresh_token_nonce, t.expires_at \
         from oauth_tokens t join oauth_integrations i on i.id = t.integration_id \
         where t.user_id = $1 and i.user_id = $1 and t.provider = $2 and i.status = 'connected'",
    )
    .bind(tx.uuid())
    .bind(provider)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(SealedTokens::from))
}

/// Deletes the tokens and marks the integration `disconnected`; false when
/// there was nothing to disconnect.
pub async fn disconnect(tx: &mut UserTx, provider: &str) -> Result<bool, StoreError> {
    let user = tx.uuid();
    sqlx::query("delete from oauth_tokens where user_id = $1 and provider = $2")
        .bind(user)
        .bind(provider)
        .execute(tx.conn())
        .await?;
    let changed = sqlx::query(
        "update oauth_integrations set status = 'disconnected', updated_at = now() \
         where user_id = $1 and provider = $2 and status <> 'disconnected'",
    )
    .bind(user)
    .bind(provider)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// What a caller needs to decide whether to refresh: the sealed tokens,
/// their version (`updated_at`) and the integration's status.
#[derive(Debug)]
pub struct TokenState {
    pub tokens: SealedTokens,
    pub version: DateTime<Utc>,
    pub status: String,
}

#[derive(sqlx::FromRow)]
struct TokenStateRow {
    #[sqlx(flatten)]
    tokens: TokenRow,
    updated_at: DateTime<Utc>,
    status: String,
}

/// The tokens of this person's integration with `provider`, whatever its
/// status (`None`: never connected, or disconnected).
pub async fn token_state(
    tx: &mut UserTx,
    provider: &str,
) -> Result<Option<TokenState>, StoreError> {
    let row: Option<TokenStateRow> = sqlx::query_as(
        "select t.key_id, t.access_token_ciphertext, t.access_token_nonce, \
             t.refresh_token_ciphertext, t.refresh_token_nonce, t.expires_at, t.updated_at, i.status \
         from oauth_tokens t join oauth_integrations i on i.id = t.integration_id \
         where t.user_id = $1 and i.user_id = $1 and t.provider = $2",
    )
    .bind(tx.uuid())
    .bind(provider)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| TokenState {
        tokens: r.tokens.into(),
        version: r.updated_at,
        status: r.status,
    }))
}

/// Takes the refresh lease of a token row still at `version`, unless
/// someone else holds a live one: true for exactly one caller at a time,
/// across every process. The lease is a row, not a lock held over the
/// provider call, so no connection waits on the network.
pub async fn take_refresh_lease(
    tx: &mut UserTx,
    provider: &str,
    holder: &str,
    version: DateTime<Utc>,
    lease_seconds: f64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "update oauth_tokens set refresh_holder = $3, \
             refresh_lease_until = now() + make_interval(secs => $5) \
         where user_id = $1 and provider = $2 and updated_at = $4 \
           and (refresh_lease_until is null or refresh_lease_until < now()) \
           and exists (select 1 from oauth_integrations i where i.id = integration_id \
                       and i.user_id = $1 and i.status = 'connected')",
    )
    .bind(tx.uuid())
    .bind(provider)
    .bind(holder)
    .bind(version)
    .bind(lease_seconds)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// Stores refreshed tokens if `holder` still holds the lease; releases it.
pub async fn save_refreshed(
    tx: &mut UserTx,
    provider: &str,
    holder: &str,
    tokens: &SealedTokens,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let user = tx.uuid();
    let version: Option<DateTime<Utc>> = sqlx::query_scalar(
        "update oauth_tokens set key_id = $4, access_token_ciphertext = $5, access_token_nonce = $6, \
             refresh_token_ciphertext = $7, refresh_token_nonce = $8, expires_at = $9, \
             updated_at = clock_timestamp(), refresh_holder = null, refresh_lease_until = null \
         where user_id = $1 and provider = $2 and refresh_holder = $3 \
         returning updated_at",
    )
    .bind(user)
    .bind(provider)
    .bind(holder)
    .bind(tokens.key_id)
    .bind(&tokens.access.ciphertext)
    .bind(&tokens.access.nonce)
    .bind(tokens.refresh.as_ref().map(|r| &r.ciphertext))
    .bind(tokens.refresh.as_ref().map(|r| &r.nonce))
    .bind(tokens.expires_at)
    .fetch_optional(tx.conn())
    .await?;
    if version.is_some() {
        sqlx::query(
            "update oauth_integrations set last_refresh_at = now(), last_error = null, updated_at = now() \
             where user_id = $1 and provider = $2",
        )
        .bind(user)
        .bind(provider)
        .execute(tx.conn())
        .await?;
    }
    Ok(version)
}

/// Gives the lease back after a failed refresh and records why (a short
/// code such as `invalid_request` or `unavailable`, never a body).
pub async fn release_refresh_lease(
    tx: &mut UserTx,
    provider: &str,
    holder: &str,
    error: &str,
) -> Result<(), StoreError> {
    let user = tx.uuid();
    sqlx::query(
        "update oauth_tokens set refresh_holder = null, refresh_lease_until = null \
         where user_id = $1 and provider = $2 and refresh_holder = $3",
    )
    .bind(user)
    .bind(provider)
    .bind(holder)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update oauth_integrations set last_error = left($3, 300), updated_at = now() \
         where user_id = $1 and provider = $2",
    )
    .bind(user)
    .bind(provider)
    .bind(error)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks the integration `needs_reauth` (its refresh token is dead) and
/// claims the one reconnect text: true only the first time since the last
/// connection.
pub async fn mark_needs_reauth(
    tx: &mut UserTx,
    provider: &str,
    holder: &str,
    error: &str,
) -> Result<bool, StoreError> {
    let user = tx.uuid();
    // A new version too: a caller that read the row before this commit
    // cannot take a lease on it and call the provider again.
    sqlx::query(
        "update oauth_tokens set refresh_holder = null, refresh_lease_until = null, \
             updated_at = clock_timestamp() \
         where user_id = $1 and provider = $2 and refresh_holder = $3",
    )
    .bind(user)
    .bind(provider)
    .bind(holder)
    .execute(tx.conn())
    .await?;
    let first: Option<Uuid> = sqlx::query_scalar(
        "update oauth_integrations set status = 'needs_reauth', last_error = left($3, 300), \
             updated_at = now(), reauth_notified_at = coalesce(reauth_notified_at, now()) \
         where user_id = $1 and provider = $2 and status in ('connected', 'needs_reauth') \
         returning case when reauth_notified_at = now() then id end",
    )
    .bind(user)
    .bind(provider)
    .bind(error)
    .fetch_optional(tx.conn())
    .await?
    .flatten();
    Ok(first.is_some())
}
