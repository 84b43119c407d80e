//! Key rotation: re-seal every token and PKCE verifier with the current key
//! (the highest id of `TOKEN_ENCRYPTION_KEYS`), in batches. Each row changes
//! in one statement (ciphertexts and key id together) and a batch commits as
//! a whole, so the rotation can be killed at any point and run again: rows
//! already on the current key are skipped, none is wrapped twice, none lost.
//!
//! Cross-person by nature, it runs on the owner connection (operators only);
//! its statements (`store::resealing`) still name each row's person.

use sqlx::PgPool;
use uuid::Uuid;

use super::Provider;
use super::vault::{Purpose, Sealed, Vault, VaultError};
use crate::store::integrations::SealedBytes;
use crate::store::resealing;

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

/// The stored form of a sealed value (its key id is stored beside it).
fn bytes(sealed: Sealed) -> SealedBytes {
    SealedBytes {
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
    }
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
        let rows = resealing::tokens_not_on_key(&mut tx, current, &skip, batch).await?;
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
            resealing::reseal_token(
                &mut tx,
                row.id,
                row.user_id,
                current,
                &bytes(access),
                refresh.map(bytes).as_ref(),
            )
            .await?;
            done.tokens += 1;
        }
        tx.commit().await?;
        after_batch(done);
    }
    done.states = rotate_states(owner, vault, current).await?;
    Ok(done)
}

/// Live PKCE verifiers too (they live 10 minutes; few).
async fn rotate_states(owner: &PgPool, vault: &Vault, current: i32) -> Result<u64, RotateError> {
    let mut tx = owner.begin().await?;
    let rows = resealing::live_states_not_on_key(&mut tx, current).await?;
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
        resealing::reseal_state(&mut tx, &hash, user, current, &bytes(sealed)).await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}
