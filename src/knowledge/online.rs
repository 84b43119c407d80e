//! The online answer path, as the tool, the offline planner and the admin
//! command run it: embed the query (when an embedding provider is
//! configured) with NO transaction open, then one short transaction in
//! the person's scope to search and fuse. An embedder that fails, is slow
//! or whose breaker is open never fails the answer: the search falls back
//! to full text and says so in the log and in
//! `knowledge_query_fallback_total{reason}`. The passages returned are
//! diversified by MMR (`knowledge::mmr`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tracing::Instrument;

use super::embed::{EmbedError, Embedder, Purpose};
use super::mmr::{LAMBDA, mmr};
use super::search::{QueryVector, search};
use crate::db::{UserId, UserTx};
use crate::http_client::breaker::{BreakerSettings, Guarded, ProviderBreaker};
use crate::store::StoreError;
use crate::store::knowledge::Passage;

/// The longest a query embedding may take: the tool has 5 s in all, and
/// full text alone is a fine answer.
const EMBED_TIMEOUT: Duration = Duration::from_millis(1500);
/// Passages MMR chooses from.
const MMR_POOL: usize = 10;
/// The state gauge of the query embedder's breaker.
pub const BREAKER_GAUGE: &str = "knowledge_embedder_circuit_breaker_state";

/// The configured embedder behind its breaker, for queries.
#[derive(Clone)]
pub struct QueryEmbedder {
    embedder: Arc<dyn Embedder>,
    breaker: ProviderBreaker,
}

impl QueryEmbedder {
    pub fn new(embedder: Arc<dyn Embedder>, settings: &BreakerSettings) -> Self {
        QueryEmbedder {
            breaker: ProviderBreaker::new(BREAKER_GAUGE, "embeddings", settings),
            embedder,
        }
    }

    /// `None` when no embedding provider is configured.
    pub fn from_config(config: &crate::config::Config, http: reqwest::Client) -> Option<Self> {
        super::embed::from_config(config, http)
            .map(|e| QueryEmbedder::new(e, &BreakerSettings::default()))
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// The query's vector, or why there is none (a metric label).
    async fn embed(&self, query: &str) -> Result<Vec<f32>, &'static str> {
        let embedder = self.embedder.clone();
        let texts = vec![query.to_string()];
        let call = async move {
            match tokio::time::timeout(EMBED_TIMEOUT, embedder.embed(&texts, Purpose::Query)).await
            {
                Ok(result) => result.map_err(Some),
                Err(_) => Err(None),
            }
        };
        match self.breaker.call(call).await {
            Ok(mut vectors) => vectors.pop().ok_or("malformed"),
            Err(Guarded::Open) => Err("breaker_open"),
            Err(Guarded::Failed(None)) => Err("timeout"),
            Err(Guarded::Failed(Some(e))) => Err(match e {
                EmbedError::Unreachable => "unreachable",
                EmbedError::Status { .. } => "status",
                EmbedError::Malformed(_) => "malformed",
            }),
        }
    }
}

/// What a search found, and how.
pub struct Found {
    pub passages: Vec<Passage>,
    /// `hybrid` (full text fused with vectors) or `full_text`.
    pub mode: &'static str,
}

/// The query's vector when an embedder is configured and answers in
/// time; `None` (full text alone) otherwise. Call it with no transaction
/// open.
pub async fn embed_query(embedder: Option<&QueryEmbedder>, query: &str) -> Option<Vec<f32>> {
    let embedder = embedder?;
    let started = Instant::now();
    let embedded = embedder
        .embed(query)
        .instrument(tracing::info_span!(
            "knowledge.model",
            kind = "query_embedding"
        ))
        .await;
    metrics::histogram!("knowledge_query_duration_seconds", "stage" => "model")
        .record(started.elapsed().as_secs_f64());
    embedded
        .inspect_err(|reason| {
            tracing::warn!(reason, "query embedding failed; full text alone");
            metrics::counter!("knowledge_query_fallback_total", "reason" => *reason).increment(1);
        })
        .ok()
}

/// Searches in the person's (short) transaction with the vector
/// [`embed_query`] made, if any.
pub async fn search_in(
    tx: &mut UserTx,
    embedder: Option<&QueryEmbedder>,
    vector: Option<&[f32]>,
    query: &str,
    limit: usize,
) -> Result<Found, StoreError> {
    let query_vector = match (vector, embedder) {
        (Some(values), Some(e)) => Some(QueryVector {
            values,
            model: e.embedder.model(),
        }),
        _ => None,
    };
    let mode = if query_vector.is_some() {
        "hybrid"
    } else {
        "full_text"
    };
    metrics::counter!("knowledge_queries_total", "mode" => mode).increment(1);
    // A few more than asked, so MMR can swap a near-copy for something
    // new; the best passage (the one quoted) always stays first.
    let ranked = search(tx, query, query_vector, limit.max(MMR_POOL)).await?;
    let passages = mmr(ranked, limit, LAMBDA);
    Ok(Found { passages, mode })
}

/// The person's best passages for `query`, best first: the embedding
/// first with no transaction open, then one short transaction.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn find(
    pool: &PgPool,
    user: UserId,
    embedder: Option<&QueryEmbedder>,
    query: &str,
    limit: usize,
) -> Result<Found, StoreError> {
    let vector = embed_query(embedder, query).await;
    let mut tx = UserTx::begin(pool, user).await?;
    let found = search_in(&mut tx, embedder, vector.as_deref(), query, limit).await?;
    tx.commit().await?;
    tracing::debug!(
        mode = found.mode,
        passages = found.passages.len(),
        "knowledge search"
    );
    Ok(found)
}
