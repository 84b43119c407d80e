//! The online path: full text (per-language configuration) and, when the
//! person's chunks carry embeddings of the query's model, exact cosine
//! similarity in Rust, fused by reciprocal rank fusion. Each stage is a
//! span and a `knowledge_query_duration_seconds{stage}` sample.
//!
//! Exact search reads every embedded chunk of the person: fine at a few
//! hundred pages, too slow at 5,000 (bench/knowledge: p50 1.9 s in the dev
//! profile); from a few thousand chunks, pgvector's HNSW index on the same
//! column (or scoring in SQL) is the path.

use std::collections::HashMap;
use std::time::Instant;

use tracing::Instrument;
use uuid::Uuid;

use super::embed::cosine;
use crate::db::UserTx;
use crate::store::StoreError;
use crate::store::knowledge::{self, Passage};

/// Candidates each retriever contributes before fusion.
const CANDIDATES: usize = 30;
/// The usual RRF constant: damps the head of each list.
const RRF_K: f32 = 60.0;

/// A query's embedding and the model that made it.
pub struct QueryVector<'a> {
    pub values: &'a [f32],
    pub model: &'a str,
}

fn observe(stage: &'static str, since: Instant) {
    metrics::histogram!("knowledge_query_duration_seconds", "stage" => stage)
        .record(since.elapsed().as_secs_f64());
}

/// The person's best passages for `query`, best first.
pub async fn search(
    tx: &mut UserTx,
    query: &str,
    vector: Option<QueryVector<'_>>,
    limit: usize,
) -> Result<Vec<Passage>, StoreError> {
    let started = Instant::now();
    let text_hits = knowledge::full_text(tx, query, CANDIDATES as i64)
        .instrument(tracing::info_span!(
            "knowledge.retrieve",
            kind = "full_text"
        ))
        .await?;
    let Some(vector) = vector else {
        observe("retrieve", started);
        return Ok(text_hits.into_iter().take(limit).collect());
    };
    let stored = knowledge::embeddings(tx, vector.model)
        .instrument(tracing::info_span!("knowledge.retrieve", kind = "vector"))
        .await?;
    let mut scored: Vec<(Uuid, f32)> = stored
        .iter()
        .map(|e| (e.chunk_id, cosine(vector.values, &e.embedding)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(CANDIDATES);
    // Full text and vectors together are the retrieve stage.
    observe("retrieve", started);

    let started = Instant::now();
    let span = tracing::info_span!(
        "knowledge.fuse",
        text = text_hits.len(),
        vector = scored.len()
    );
    let _entered = span.enter();
    let vector_ids: Vec<Uuid> = scored.iter().map(|(id, _)| *id).collect();
    let text_ids: Vec<Uuid> = text_hits.iter().map(|p| p.chunk_id).collect();
    let order = fuse(&[&text_ids, &vector_ids], limit);
    drop(_entered);
    let mut by_id: HashMap<Uuid, Passage> =
        text_hits.into_iter().map(|p| (p.chunk_id, p)).collect();
    let missing: Vec<Uuid> = order
        .iter()
        .filter(|id| !by_id.contains_key(id))
        .copied()
        .collect();
    if !missing.is_empty() {
        for p in knowledge::passages(tx, &missing).await? {
            by_id.insert(p.chunk_id, p);
        }
    }
    observe("fuse", started);
    Ok(order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect())
}

/// Reciprocal rank fusion of ranked lists: the top `limit` ids by
/// Σ 1/(k + rank), ties kept in first-list order.
pub fn fuse(lists: &[&[Uuid]], limit: usize) -> Vec<Uuid> {
    let mut score: HashMap<Uuid, f32> = HashMap::new();
    let mut first_seen: Vec<Uuid> = Vec::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let entry = score.entry(*id).or_insert_with(|| {
                first_seen.push(*id);
                0.0
            });
            *entry += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut ids = first_seen;
    ids.sort_by(|a, b| score[b].total_cmp(&score[a]));
    ids.truncate(limit);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let c = Uuid::from_u128(3);
        // b is second in both lists; a and c are first in only one.
        let fused = fuse(&[&[a, b], &[c, b]], 3);
        assert_eq!(fused[0], b);
        assert_eq!(fused.len(), 3);
        assert_eq!(fuse(&[&[a, b, c]], 2), vec![a, b]);
    }
}
