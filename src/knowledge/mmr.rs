//! Maximal marginal relevance: re-ranks retrieved passages so the few the
//! answer quotes are not near-copies of each other (a page and its
//! duplicate, the same paragraph twice). Similarity is the overlap of the
//! passages' words (Jaccard), so it works with full text alone too.

use std::collections::HashSet;

use crate::store::knowledge::Passage;

/// Weight of relevance against novelty (1.0: plain ranking).
pub const LAMBDA: f32 = 0.7;

fn words(p: &Passage) -> HashSet<String> {
    p.body
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f32 / union as f32
}

/// Half the words shared is what two passages on one topic share by
/// chance (the place, the person): no penalty below it, full at a copy.
fn near_copy(jaccard: f32) -> f32 {
    ((jaccard - 0.5) / 0.5).max(0.0)
}

/// The best `limit` of `ranked` (best first) by
/// λ·relevance − (1−λ)·max similarity to those already chosen, where
/// relevance falls linearly with the rank and similarity counts only
/// beyond half the words shared.
pub fn mmr(ranked: Vec<Passage>, limit: usize, lambda: f32) -> Vec<Passage> {
    let n = ranked.len().max(1) as f32;
    let sets: Vec<HashSet<String>> = ranked.iter().map(words).collect();
    let mut left: Vec<usize> = (0..ranked.len()).collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < limit && !left.is_empty() {
        let score = |i: usize| {
            let relevance = 1.0 - i as f32 / n;
            let overlap = chosen
                .iter()
                .map(|&c| near_copy(jaccard(&sets[i], &sets[c])))
                .fold(0.0f32, f32::max);
            lambda * relevance - (1.0 - lambda) * overlap
        };
        let (at, _) = left
            .iter()
            .enumerate()
            .max_by(|a, b| score(*a.1).total_cmp(&score(*b.1)).then(b.1.cmp(a.1)))
            .expect("left is not empty");
        chosen.push(left.remove(at));
    }
    let mut slots: Vec<Option<Passage>> = ranked.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn passage(n: u128, body: &str) -> Passage {
        Passage {
            chunk_id: Uuid::from_u128(n),
            document_id: Uuid::from_u128(n),
            title: format!("t{n}"),
            url: None,
            source: "notes".into(),
            heading_path: String::new(),
            body: body.into(),
        }
    }

    #[test]
    fn a_near_copy_gives_way_to_something_new() {
        // A pool of ten, as the online path ranks them.
        let mut ranked = vec![
            passage(1, "the wifi at mum's is Blue42"),
            passage(2, "the wifi at mum's is Blue42 now"),
            passage(3, "the gate code at mum's is 4512"),
        ];
        ranked.extend((4..=10).map(|n| passage(n, &format!("filler {n}"))));
        let ids = |found: Vec<Passage>| -> Vec<u128> {
            found.iter().map(|p| p.chunk_id.as_u128()).collect()
        };
        assert_eq!(ids(mmr(ranked.clone(), 2, LAMBDA)), vec![1, 3]);
        // λ = 1: the ranking as it was.
        assert_eq!(ids(mmr(ranked, 3, 1.0)), vec![1, 2, 3]);
    }
}
