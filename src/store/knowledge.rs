//! The person's knowledge base: sources, documents and their chunks (see
//! migration 0015). Writes keep a chunk's embedding when its text is
//! unchanged (same content hash), so an edit re-embeds only what changed.
//! Ingestion runs live in [`super::knowledge_runs`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Locale, StoreError};
use crate::db::UserTx;

/// What kind of place documents come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Notes the person texted ("note: …").
    Notes,
    Notion,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Notes => "notes",
            SourceKind::Notion => "notion",
        }
    }
}

/// A source of documents, found or created.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnowledgeSource {
    pub id: Uuid,
    pub kind: String,
    pub external_id: String,
    pub checkpoint: Option<DateTime<Utc>>,
    /// When a complete listing of its pages last ran (unshared pages removed).
    pub listed_at: Option<DateTime<Utc>>,
}

impl KnowledgeSource {
    /// The person's source of this kind and external id, created if new.
    pub async fn ensure(
        tx: &mut UserTx,
        kind: SourceKind,
        external_id: &str,
        title: &str,
    ) -> Result<KnowledgeSource, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into knowledge_sources (user_id, kind, external_id, title) values ($1, $2, $3, $4) \
             on conflict (user_id, kind, external_id) do update set title = excluded.title \
             returning id, kind, external_id, checkpoint, listed_at",
        )
        .bind(user)
        .bind(kind.as_str())
        .bind(external_id)
        .bind(title)
        .fetch_one(tx.conn())
        .await?)
    }

    /// The person's sources of a kind.
    pub async fn of_kind(
        tx: &mut UserTx,
        kind: SourceKind,
    ) -> Result<Vec<KnowledgeSource>, StoreError> {
        Ok(sqlx::query_as(
            "select id, kind, external_id, checkpoint, listed_at from knowledge_sources \
             where user_id = $1 and kind = $2 order by created_at",
        )
        .bind(tx.uuid())
        .bind(kind.as_str())
        .fetch_all(tx.conn())
        .await?)
    }

    /// Moves the incremental-sync checkpoint forward (never back).
    pub async fn advance_checkpoint(
        tx: &mut UserTx,
        source: Uuid,
        to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "update knowledge_sources set checkpoint = greatest(coalesce(checkpoint, $3), $3) \
             where user_id = $1 and id = $2",
        )
        .bind(tx.uuid())
        .bind(source)
        .bind(to)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Records that a complete listing of the source's pages just ran.
    pub async fn mark_listed(tx: &mut UserTx, source: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "update knowledge_sources set listed_at = now() where user_id = $1 and id = $2",
        )
        .bind(tx.uuid())
        .bind(source)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Forgets the checkpoint, so the next sync reads everything again.
    pub async fn reset_checkpoint(tx: &mut UserTx, source: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "update knowledge_sources set checkpoint = null where user_id = $1 and id = $2",
        )
        .bind(tx.uuid())
        .bind(source)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// A document as ingestion sees it, before it is stored.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub external_id: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub last_edited: Option<DateTime<Utc>>,
    pub content_hash: &'a str,
    pub language: Locale,
}

/// A chunk of a document, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    pub heading_path: String,
    pub body: String,
    pub content_hash: String,
}

/// What storing a document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stored {
    pub document: Uuid,
    /// False when the document's content hash had not changed: nothing written.
    pub changed: bool,
    pub chunks_written: u32,
    /// Chunks whose text was already there: their embedding was kept.
    pub chunks_kept: u32,
}

/// A chunk that has no embedding yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChunkText {
    pub id: Uuid,
    pub heading_path: String,
    pub body: String,
}

/// One passage found by full-text search, with where it comes from.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Passage {
    pub chunk_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub url: Option<String>,
    pub source: String,
    pub heading_path: String,
    pub body: String,
}

/// A chunk's stored embedding, for exact similarity in Rust.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEmbedding {
    pub chunk_id: Uuid,
    pub embedding: Vec<f32>,
}

const PASSAGE_COLUMNS: &str = "c.id as chunk_id, d.id as document_id, d.title, d.url, \
     s.kind as source, c.heading_path, c.body";

/// Stores a document and its chunks in one go. An unchanged content hash
/// writes nothing; otherwise the chunks are replaced, each keeping the
/// embedding of an old chunk with the same text. Idempotent: storing the
/// same document twice leaves one copy.
pub async fn store_document(
    tx: &mut UserTx,
    source: Uuid,
    doc: &NewDocument<'_>,
    chunks: &[NewChunk],
) -> Result<Stored, StoreError> {
    let user = tx.uuid();
    let existing: Option<(Uuid, String)> = sqlx::query_as(
        "select id, content_hash from knowledge_documents \
         where user_id = $1 and source_id = $2 and external_id = $3 for update",
    )
    .bind(user)
    .bind(source)
    .bind(doc.external_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((id, hash)) = &existing
        && hash == doc.content_hash
    {
        return Ok(Stored {
            document: *id,
            ..Stored::default()
        });
    }
    let id: Uuid = sqlx::query_scalar(
        "insert into knowledge_documents \
           (user_id, source_id, external_id, title, url, last_edited, content_hash, language) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         on conflict (source_id, external_id) do update set \
           title = excluded.title, url = excluded.url, last_edited = excluded.last_edited, \
           content_hash = excluded.content_hash, language = excluded.language, \
           version = knowledge_documents.version + 1, updated_at = now() \
         returning id",
    )
    .bind(user)
    .bind(source)
    .bind(doc.external_id)
    .bind(doc.title)
    .bind(doc.url)
    .bind(doc.last_edited)
    .bind(doc.content_hash)
    .bind(doc.language.as_str())
    .fetch_one(tx.conn())
    .await?;
    // Old embeddings by chunk text, so an unchanged paragraph is not sent
    // to the embedding model again.
    let old: Vec<(String, Option<Vec<f32>>, Option<String>)> = sqlx::query_as(
        "delete from knowledge_chunks where user_id = $1 and document_id = $2 \
         returning content_hash, embedding, embed_model",
    )
    .bind(user)
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let mut kept: HashMap<String, (Option<Vec<f32>>, Option<String>)> = HashMap::new();
    for (hash, embedding, model) in old {
        kept.insert(hash, (embedding, model));
    }
    let mut stored = Stored {
        document: id,
        changed: true,
        ..Stored::default()
    };
    for (position, chunk) in chunks.iter().enumerate() {
        let (embedding, model) = match kept.get(&chunk.content_hash) {
            Some(found) => {
                stored.chunks_kept += 1;
                found.clone()
            }
            None => {
                stored.chunks_written += 1;
                (None, None)
            }
        };
        sqlx::query(
            "insert into knowledge_chunks \
               (user_id, document_id, position, heading_path, body, content_hash, language, embedding, embed_model) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(user)
        .bind(id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(&chunk.heading_path)
        .bind(&chunk.body)
        .bind(&chunk.content_hash)
        .bind(doc.language.as_str())
        .bind(embedding)
        .bind(model)
        .execute(tx.conn())
        .await?;
    }
    Ok(stored)
}

/// Removes a document (and its chunks) that its source no longer has.
pub async fn remove_document(
    tx: &mut UserTx,
    source: Uuid,
    external_id: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "delete from knowledge_documents where user_id = $1 and source_id = $2 and external_id = $3",
    )
    .bind(tx.uuid())
    .bind(source)
    .bind(external_id)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// Removes the source's documents (and chunks) whose external id a
/// complete listing of the source did not contain: pages unshared or
/// deleted since. Returns how many went.
pub async fn remove_unlisted(
    tx: &mut UserTx,
    source: Uuid,
    listed: &[String],
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "delete from knowledge_documents \
         where user_id = $1 and source_id = $2 and external_id <> all($3)",
    )
    .bind(tx.uuid())
    .bind(source)
    .bind(listed)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Chunks still waiting for an embedding, oldest first.
pub async fn chunks_to_embed(tx: &mut UserTx, limit: i64) -> Result<Vec<ChunkText>, StoreError> {
    Ok(sqlx::query_as(
        "select id, heading_path, body from knowledge_chunks \
         where user_id = $1 and embedding is null order by created_at, position limit $2",
    )
    .bind(tx.uuid())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Records a chunk's embedding and the model (alias@version) that made it.
pub async fn set_embedding(
    tx: &mut UserTx,
    chunk: Uuid,
    embedding: &[f32],
    model: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update knowledge_chunks set embedding = $3, embed_model = $4 where user_id = $1 and id = $2",
    )
    .bind(tx.uuid())
    .bind(chunk)
    .bind(embedding)
    .bind(model)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Full-text candidates for `query`, best first: any of its words may
/// match (a question rarely repeats a note word for word), each chunk
/// matched with its own language's configuration.
pub async fn full_text(
    tx: &mut UserTx,
    query: &str,
    limit: i64,
) -> Result<Vec<Passage>, StoreError> {
    let words: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    // websearch_to_tsquery reads "a or b" as a disjunction and never fails
    // on what a person types.
    let any = words.join(" or ");
    // Rank chunks alone first, then join the few best to their documents:
    // joining every match before the limit made the planner's guess (on
    // tables just filled, before ANALYZE) cost seconds at 5,000 pages.
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PASSAGE_COLUMNS} from ( \
           select c.*, ts_rank_cd(c.search, case c.language when 'fr' then qf else qe end, 1) as rank \
             from knowledge_chunks c, \
                  websearch_to_tsquery('english', $2) qe, websearch_to_tsquery('french', $2) qf \
            where c.user_id = $1 and c.search @@ (case c.language when 'fr' then qf else qe end) \
            order by rank desc, c.created_at desc limit $3) c \
           join knowledge_documents d on d.id = c.document_id and d.user_id = c.user_id \
           join knowledge_sources s on s.id = d.source_id and s.user_id = d.user_id \
         order by c.rank desc, c.created_at desc"
    )))
    .bind(tx.uuid())
    .bind(any)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Every embedded chunk of the person made by `model`: their corpus is
/// small, so similarity is computed exactly in Rust.
pub async fn embeddings(tx: &mut UserTx, model: &str) -> Result<Vec<StoredEmbedding>, StoreError> {
    Ok(sqlx::query_as(
        "select id as chunk_id, embedding from knowledge_chunks \
         where user_id = $1 and embed_model = $2",
    )
    .bind(tx.uuid())
    .bind(model)
    .fetch_all(tx.conn())
    .await?)
}

/// The passages of these chunks (for vector hits full text did not find).
pub async fn passages(tx: &mut UserTx, chunks: &[Uuid]) -> Result<Vec<Passage>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PASSAGE_COLUMNS} from knowledge_chunks c \
           join knowledge_documents d on d.id = c.document_id and d.user_id = c.user_id \
           join knowledge_sources s on s.id = d.source_id and s.user_id = d.user_id \
         where c.user_id = $1 and c.id = any($2)"
    )))
    .bind(tx.uuid())
    .bind(chunks)
    .fetch_all(tx.conn())
    .await?)
}

/// How much the person has, for status lines.
#[derive(Debug, Clone, Copy, Default, Serialize, sqlx::FromRow)]
pub struct KnowledgeCounts {
    pub documents: i64,
    pub chunks: i64,
    pub embedded: i64,
}

pub async fn counts(tx: &mut UserTx) -> Result<KnowledgeCounts, StoreError> {
    Ok(sqlx::query_as(
        "select (select count(*) from knowledge_documents where user_id = $1) as documents, \
                count(*) as chunks, count(embedding) as embedded \
         from knowledge_chunks where user_id = $1",
    )
    .bind(tx.uuid())
    .fetch_one(tx.conn())
    .await?)
}
