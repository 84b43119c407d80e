//! Key rotation: re-seal every token and PKCE verifier with the current key
//! (the highest id of `TOKEN_ENCRYPTION_KEYS`), in batches. Each row changes
//! in one statement (ciphertexts and key id together) and a batch commits as
//! a whole, so the rotation can be killed at any point and run again: rows
//! already on the current key are skipped, none is wrapped twice, none lost.
//!
//! Cross-person by nature, it runs on the owner connection (operators only)
//! and every statement still names the row's person.

use sqlx::PgPool;
use uuid::Uuid;

use super::Provider;
use super::vault::{Purpose, Sealed, Vault, VaultError};

/// How one rotation went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rotated {
    pub tokens: u64,
    pub states: u64,
    /// Rows sealed with a key no longer listed: left as they are (they
    /// fail closed) and counted so the operator sees them.
    pub unreadable: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("{}", crate::db::redact(.0))]
    Database(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    provider: String,
    key_id: i32,
    access_token_ciphertext: Vec<u8>,
    access_token_nonce: Vec<u8>,
    refresh_token_ciphertext: Option<Vec<u8>>,
    refresh_token_nonce: Option<Vec<u8>>,
}

fn reseal(
    vault: &Vault,
    user: Uuid,
    provider: Provider,
    purpose: Purpose,
    key_id: i32,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
) -> Result<Sealed, VaultError> {
    let sealed = Sealed {
        key_id: u32::try_from(key_id).map_err(|_| VaultError::UnknownKey(0))?,
        nonce,
        ciphertext,
    };
    Ok(vault
        .reseal(user, provider, purpose, &sealed)?
        .unwrap_or(sealed))
}

/// Rotates everything not yet on the current key, `batch` rows per commit.
/// `after_batch` is called after each commit (progress, tests).
pub async fn rotate_all(
    owner: &PgPool,
    vault: &Vault,
    batch: i64,
    mut after_batch: impl FnMut(Rotated),
) -> Result<Rotated, RotateError> {
    let current = vault.current_key_id() as i32;
    let mut done = Rotated::default();
    // Rows that cannot be opened are skipped by id so the loop ends.
    let mut skip: Vec<Uuid> = Vec::new();
    loop {
        let mut tx = owner.begin().await?;
        let rows: Vec<TokenRow> = sqlx::query_as(
            "select id, user_id, provider, key_id, access_token_ciphertext, access_token_nonce, \
                 refresh_token_ciphertext, refresh_token_nonce \
             from oauth_tokens where key_id <> $1 and not (id = any($2)) \
             order by id limit $3 for update skip locked",
        )
        .bind(current)
        .bind(&skip)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            break;
        }
        for row in rows {
            let Ok(provider) = row.provider.parse::<Provider>() else {
                skip.push(row.id);
                done.unreadable += 1;
                continue;
            };
            let access = reseal(
                vault,
                row.user_id,
                provider,
                Purpose::AccessToken,
                row.key_id,
                row.access_token_nonce,
                row.access_token_ciphertext,
            );
            let refresh = match (row.refresh_token_nonce, row.refresh_token_ciphertext) {
                (Some(n), Some(c)) => Some(reseal(
                    vault,
                    row.user_id,
                    provider,
                    Purpose::RefreshToken,
                    row.key_id,
                    n,
                    c,
                )),
                _ => None,
            };
            let (Ok(access), Ok(refresh)) = (access, refresh.transpose()) else {
                skip.push(row.id);
                done.unreadable += 1;
                continue;
            };
            sqlx::query(
                "update oauth_tokens set key_id = $3, access_token_ciphertext = $4, \
                     access_token_nonce = $5, refresh_token_ciphertext = $6, refresh_token_nonce = $7 \
                 where id = $1 and user_id = $2",
            )
            .bind(row.id)
            .bind(row.user_id)
            .bind(current)
            .bind(&access.ciphertext)
            .bind(&access.nonce)
            .bind(refresh.as_ref().map(|r| &r.ciphertext))
            .bind(refresh.as_ref().map(|r| &r.nonce))
            .execute(&mut *tx)
            .await?;
            done.tokens += 1;
        }
        tx.commit().await?;
        after_batch(done);
    }
    done.states = rotate_states(owner, vault, current).await?;
    Ok(done)
}

#[derive(sqlx::FromRow)]
struct StateRow {
    state_hash: String,
    user_id: Uuid,
    provider: String,
    key_id: i32,
    pkce_verifier_nonce: Vec<u8>,
    pkce_verifier_ciphertext: Vec<u8>,
}

/// Live PKCE verifiers too (they live 10 minutes; few).
async fn rotate_states(owner: &PgPool, vault: &Vault, current: i32) -> Result<u64, RotateError> {
    let mut tx = owner.begin().await?;
    let rows: Vec<StateRow> = sqlx::query_as(
        "select state_hash, user_id, provider, key_id, pkce_verifier_nonce, pkce_verifier_ciphertext \
         from oauth_states where key_id <> $1 and used_at is null and expires_at > now() for update skip locked",
    )
    .bind(current)
    .fetch_all(&mut *tx)
    .await?;
    let mut n = 0;
    for row in rows {
        let (hash, user) = (row.state_hash, row.user_id);
        let Ok(provider) = row.provider.parse::<Provider>() else {
            continue;
        };
        let Ok(sealed) = reseal(
            vault,
            user,
            provider,
            Purpose::PkceVerifier,
            row.key_id,
            row.pkce_verifier_nonce,
            row.pkce_verifier_ciphertext,
        ) else {
            continue;
        };
        sqlx::query(
            "update oauth_states set key_id = $3, pkce_verifier_nonce = $4, pkce_verifier_ciphertext = $5 \
             where state_hash = $1 and user_id = $2",
        )
        .bind(hash)
        .bind(user)
        .bind(current)
        .bind(&sealed.nonce)
        .bind(&sealed.ciphertext)
        .execute(&mut *tx)
        .await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}
