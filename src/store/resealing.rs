//! Key rotation's reads and writes (`oauth::rotate`): the sealed tokens and
//! live PKCE verifiers not yet on the current key, and their re-sealed
//! bytes. Cross-person by nature, these run in the caller's transaction on
//! the owner connection (operators only); every statement still names the
//! row's person. Rows are locked `for update skip locked`, so two rotations
//! never re-seal the same row.

use sqlx::PgConnection;
use uuid::Uuid;

use super::integrations::SealedBytes;

/// A person's sealed tokens for one provider, as stored.
#[derive(sqlx::FromRow)]
pub struct TokenToReseal {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub key_id: i32,
    pub access_token_ciphertext: Vec<u8>,
    pub access_token_nonce: Vec<u8>,
    pub refresh_token_ciphertext: Option<Vec<u8>>,
    pub refresh_token_nonce: Option<Vec<u8>>,
}

/// Up to `limit` token rows sealed with a key other than `current`,
/// leaving out the ids in `skip` (rows that could not be opened), locked.
pub async fn tokens_not_on_key(
    conn: &mut PgConnection,
    current: i32,
    skip: &[Uuid],
    limit: i64,
) -> Result<Vec<TokenToReseal>, sqlx::Error> {
    sqlx::query_as(
        "select id, user_id, provider, key_id, access_token_ciphertext, access_token_nonce, \
             refresh_token_ciphertext, refresh_token_nonce \
         from oauth_tokens where key_id <> $1 and not (id = any($2)) \
         order by id limit $3 for update skip locked",
    )
    .bind(current)
    .bind(skip)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stores a token row's re-sealed values and their key in one statement.
pub async fn reseal_token(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    key_id: i32,
    access: &SealedBytes,
    refresh: Option<&SealedBytes>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update oauth_tokens set key_id = $3, access_token_ciphertext = $4, \
             access_token_nonce = $5, refresh_token_ciphertext = $6, refresh_token_nonce = $7 \
         where id = $1 and user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .bind(key_id)
    .bind(&access.ciphertext)
    .bind(&access.nonce)
    .bind(refresh.map(|r| &r.ciphertext))
    .bind(refresh.map(|r| &r.nonce))
    .execute(conn)
    .await?;
    Ok(())
}

/// A live OAuth state's sealed PKCE verifier, as stored.
#[derive(sqlx::FromRow)]
pub struct StateToReseal {
    pub state_hash: String,
    pub user_id: Uuid,
    pub provider: String,
    pub key_id: i32,
    pub pkce_verifier_nonce: Vec<u8>,
    pub pkce_verifier_ciphertext: Vec<u8>,
}

/// Unused, unexpired OAuth states sealed with a key other than
/// `current`, locked (they live 10 minutes; few).
pub async fn live_states_not_on_key(
    conn: &mut PgConnection,
    current: i32,
) -> Result<Vec<StateToReseal>, sqlx::Error> {
    sqlx::query_as(
        "select state_hash, user_id, provider, key_id, pkce_verifier_nonce, pkce_verifier_ciphertext \
         from oauth_states where key_id <> $1 and used_at is null and expires_at > now() for update skip locked",
    )
    .bind(current)
    .fetch_all(conn)
    .await
}

/// Stores a state's re-sealed verifier and its key in one statement.
pub async fn reseal_state(
    conn: &mut PgConnection,
    state_hash: &str,
    user_id: Uuid,
    key_id: i32,
    verifier: &SealedBytes,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update oauth_states set key_id = $3, pkce_verifier_nonce = $4, pkce_verifier_ciphertext = $5 \
         where state_hash = $1 and user_id = $2",
    )
    .bind(state_hash)
    .bind(user_id)
    .bind(key_id)
    .bind(&verifier.nonce)
    .bind(&verifier.ciphertext)
    .execute(conn)
    .await?;
    Ok(())
}
