//! The single-use parts of connecting an account: connect links (by
//! `jti`) and OAuth states (PKCE verifier sealed, bound to the browser and
//! provider, 10 minutes). Each is taken once, by its own person.
//!
//! Every query names its person (`where user_id = $1`, bound from the
//! [`UserTx`]) on top of row-level security.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use super::integrations::SealedBytes;
use crate::db::UserTx;

/// Records a connect link's `jti` (single use, expires with the link).
pub async fn record_link(
    tx: &mut UserTx,
    jti: Uuid,
    provider: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into oauth_connect_links (jti, user_id, provider, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(jti)
    .bind(tx.uuid())
    .bind(provider)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// True when a connect link is recorded for this person and provider and
/// is neither spent nor expired (showing its page does not spend it: link
/// previews in messaging apps open links too).
pub async fn link_usable(tx: &mut UserTx, jti: Uuid, provider: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from oauth_connect_links where user_id = $1 and jti = $2 \
             and provider = $3 and used_at is null and expires_at > now())",
    )
    .bind(tx.uuid())
    .bind(jti)
    .bind(provider)
    .fetch_one(tx.conn())
    .await?)
}

/// Spends a connect link: true exactly once, for an unexpired link of this
/// person and provider.
pub async fn use_link(tx: &mut UserTx, jti: Uuid, provider: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "update oauth_connect_links set used_at = now() \
         where user_id = $1 and jti = $2 and provider = $3 and used_at is null and expires_at > now()",
    )
    .bind(tx.uuid())
    .bind(jti)
    .bind(provider)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// Records an export link's `jti` (single use, expires with the link).
pub async fn record_export_link(
    tx: &mut UserTx,
    jti: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into oauth_connect_links (jti, user_id, purpose, expires_at) values ($1, $2, 'export', $3)",
    )
    .bind(jti)
    .bind(tx.uuid())
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// True when an export link of this person is neither spent nor expired
/// (its page spends nothing: link previews open links too).
pub async fn export_link_usable(tx: &mut UserTx, jti: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from oauth_connect_links where user_id = $1 and jti = $2 \
             and purpose = 'export' and used_at is null and expires_at > now())",
    )
    .bind(tx.uuid())
    .bind(jti)
    .fetch_one(tx.conn())
    .await?)
}

/// Spends an export link: true exactly once, for an unexpired link of this person.
pub async fn use_export_link(tx: &mut UserTx, jti: Uuid) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "update oauth_connect_links set used_at = now() \
         where user_id = $1 and jti = $2 and purpose = 'export' and used_at is null and expires_at > now()",
    )
    .bind(tx.uuid())
    .bind(jti)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// A new authorization request's server-side state.
#[derive(Debug)]
pub struct NewState<'a> {
    /// SHA-256 (hex) of the `state` parameter; the value itself is not kept.
    pub state_hash: &'a str,
    pub provider: &'a str,
    pub verifier: &'a SealedBytes,
    pub key_id: i32,
    pub scopes: &'a [String],
    /// SHA-256 (hex) of the browser cookie.
    pub browser_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_state(tx: &mut UserTx, s: &NewState<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "insert into oauth_states (state_hash, user_id, provider, pkce_verifier_ciphertext, \
             pkce_verifier_nonce, key_id, scopes, browser_hash, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.state_hash)
    .bind(tx.uuid())
    .bind(s.provider)
    .bind(&s.verifier.ciphertext)
    .bind(&s.verifier.nonce)
    .bind(s.key_id)
    .bind(s.scopes)
    .bind(s.browser_hash)
    .bind(s.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A state spent by its callback.
#[derive(Debug)]
pub struct TakenState {
    pub verifier: SealedBytes,
    pub key_id: i32,
    pub scopes: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct StateRow {
    pkce_verifier_ciphertext: Vec<u8>,
    pkce_verifier_nonce: Vec<u8>,
    key_id: i32,
    scopes: Vec<String>,
}

/// Spends a state: returned exactly once, for this person, provider and
/// browser, before it expires. A second callback with it gets `None`.
pub async fn take_state(
    tx: &mut UserTx,
    state_hash: &str,
    provider: &str,
    browser_hash: &str,
) -> Result<Option<TakenState>, StoreError> {
    let row: Option<StateRow> = sqlx::query_as(
        "update oauth_states set used_at = now() \
         where user_id = $1 and state_hash = $2 and provider = $3 and browser_hash = $4 \
           and used_at is null and expires_at > now() \
         returning pkce_verifier_ciphertext, pkce_verifier_nonce, key_id, scopes",
    )
    .bind(tx.uuid())
    .bind(state_hash)
    .bind(provider)
    .bind(browser_hash)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| TakenState {
        verifier: SealedBytes {
            nonce: r.pkce_verifier_nonce,
            ciphertext: r.pkce_verifier_ciphertext,
        },
        key_id: r.key_id,
        scopes: r.scopes,
    }))
}
