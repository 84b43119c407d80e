//! Embedding the chunks that have none yet, in batches. No transaction is
//! held across the provider call: texts are read, the connection released,
//! the model called, and the vectors written in a new transaction.

use sqlx::PgPool;

use super::embed::{EmbedError, Embedder, Purpose};
use crate::db::{UserId, UserTx};
use crate::store::StoreError;
use crate::store::knowledge::{chunks_to_embed, set_embedding};

/// Texts per provider call (Gemini accepts up to 100 per batch).
const BATCH: i64 = 64;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

impl From<sqlx::Error> for IndexError {
    fn from(e: sqlx::Error) -> Self {
        IndexError::Store(StoreError::Database(e))
    }
}

/// Embeds every chunk of the person still without an embedding; returns
/// how many were embedded. Unchanged chunks kept their vectors when their
/// document was rewritten, so only new text reaches the model.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn embed_pending(
    pool: &PgPool,
    user: UserId,
    embedder: &dyn Embedder,
) -> Result<u64, IndexError> {
    let mut done = 0u64;
    loop {
        let mut tx = UserTx::begin(pool, user).await?;
        let batch = chunks_to_embed(&mut tx, BATCH).await?;
        tx.commit().await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let texts: Vec<String> = batch
            .iter()
            .map(|c| format!("{}\n{}", c.heading_path, c.body))
            .collect();
        let vectors = embedder.embed(&texts, Purpose::Document).await?;
        let mut tx = UserTx::begin(pool, user).await?;
        for (chunk, vector) in batch.iter().zip(&vectors) {
            set_embedding(&mut tx, chunk.id, vector, embedder.model()).await?;
        }
        tx.commit().await?;
        done += batch.len() as u64;
    }
}
