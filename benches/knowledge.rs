//! Retrieval benchmark over a synthetic Notion workspace (bench/knowledge):
//! 60 facts in English and French, each with a near-duplicate page, filler
//! journal pages up to 300, ingested through the real sync against the
//! fake Notion; 10 fact pages then change and a second sync runs. Each of
//! the 60 questions has a known source page: recall@3 and MRR@10 for full
//! text alone and hybrid, and search latency p50/p95 for a person with 300
//! pages and with 5,000 pages.
//!
//! `cargo bench --bench knowledge` (PostgreSQL as for the tests), or
//! `bench/knowledge/run.sh`. Hybrid uses fixture vectors (feature hashing
//! of words and character trigrams, 256 dimensions, computed locally):
//! no sentence-embedding model runs on this machine, so hybrid numbers
//! measure the fusion path and its cost, not a semantic model's gain.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;

use common::TestDb;
use common::notion::{Workspace, add_page, block, start};
use nudge::db::UserTx;
use nudge::knowledge::embed::{EmbedError, Embedder, Purpose};
use nudge::knowledge::notion::{NotionClient, request_sync, sync};
use nudge::knowledge::{QueryVector, search};
use nudge::store::UserId;

const FACTS: &str = include_str!("../bench/knowledge/facts.tsv");

struct Fact {
    title: String,
    body: String,
    dup_title: String,
    dup_body: String,
    question: String,
}

fn facts() -> Vec<Fact> {
    FACTS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Fact {
                title: f[1].into(),
                body: f[2].into(),
                dup_title: f[3].into(),
                dup_body: f[4].into(),
                question: f[5].into(),
            }
        })
        .collect()
}

/// A deterministic filler sentence: everyday journal lines that share
/// words with the facts (wifi, doctor, car, code…), as real notes do.
fn filler(i: usize) -> (String, String) {
    const EN: &[&str] = &[
        "Called mum about the weekend, she wants help with the garden.",
        "Long day at work, the office wifi kept dropping during calls.",
        "Took the car to get washed, then groceries: milk, eggs, bread.",
        "The doctor's office called to move the appointment, no answer yet.",
        "Read two chapters before bed, felt calmer than usual.",
        "Meeting notes: budget review next quarter, Sam presents.",
        "Forgot the code for the bike lock again, reset it.",
        "Idea: batch cooking on Sundays to save time in the week.",
    ];
    const FR: &[&str] = &[
        "Appelé maman pour le week-end, elle veut de l'aide au jardin.",
        "Longue journée au bureau, le wifi coupait pendant les appels.",
        "Fait laver l'auto, puis l'épicerie : lait, œufs, pain.",
        "Le cabinet du médecin a appelé pour déplacer le rendez-vous.",
        "Lu deux chapitres avant de dormir, plus calme que d'habitude.",
        "Notes de réunion : revue du budget au prochain trimestre.",
        "Oublié le code du cadenas du vélo, il faut le changer.",
        "Idée : cuisiner en lot le dimanche pour gagner du temps.",
    ];
    let pool = if i.is_multiple_of(2) { EN } else { FR };
    let a = pool[i % pool.len()];
    let b = pool[(i * 7 + 3) % pool.len()];
    (format!("Journal {}", i + 1), format!("{a} {b} Entry {i}."))
}

fn t0() -> DateTime<Utc> {
    "2026-10-01T08:00:00Z".parse().unwrap()
}

/// The synthetic workspace of `pages` pages (≥ 120): facts, their near
/// duplicates, filler.
fn workspace(pages: usize) -> Workspace {
    let mut w = Workspace::default();
    let mut n = 0usize;
    let add = |w: &mut Workspace, n: &mut usize, title: &str, body: &str| {
        let id = format!("p{:05}", *n);
        add_page(
            w,
            &id,
            title,
            body,
            "",
            t0() + TimeDelta::minutes(*n as i64),
        );
        // One section is enough here: drop the empty second paragraph.
        w.children.get_mut(&id).unwrap().truncate(2);
        w.children.get_mut(&id).unwrap()[0] = block(&format!("{id}-h1"), "heading_1", title, false);
        *n += 1;
    };
    for f in facts() {
        add(&mut w, &mut n, &f.title, &f.body);
        add(&mut w, &mut n, &f.dup_title, &f.dup_body);
    }
    let mut i = 0;
    while n < pages {
        let (t, b) = filler(i);
        add(&mut w, &mut n, &t, &b);
        i += 1;
    }
    w
}

/// Feature hashing of words and character trigrams: fixture vectors.
struct HashingEmbedder;

fn hash_vector(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 256];
    let lower = text.to_lowercase();
    let mut add = |s: &str, w: f32| {
        let h = s
            .bytes()
            .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
        v[(h % 256) as usize] += w;
    };
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
    {
        add(word, 1.0);
        let chars: Vec<char> = word.chars().collect();
        for t in chars.windows(3) {
            add(&t.iter().collect::<String>(), 0.3);
        }
    }
    v
}

#[async_trait::async_trait]
impl Embedder for HashingEmbedder {
    fn model(&self) -> &str {
        "fixture:hashing@256"
    }
    async fn embed(&self, texts: &[String], _p: Purpose) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| hash_vector(t)).collect())
    }
}

async fn sync_once(db: &TestDb, user: UserId, server: &wiremock::MockServer) {
    let mut tx = UserTx::begin(&db.app, user).await.unwrap();
    let (run, _) = request_sync(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let client = NotionClient::new(
        reqwest::Client::new(),
        &server.uri(),
        "2022-06-28",
        SecretString::from("t"),
        1000.0,
    );
    sync(&db.app, user, run.source_id, run.id, &client)
        .await
        .unwrap();
}

/// recall@3, MRR@10 over the questions.
async fn quality(db: &TestDb, user: UserId, hybrid: bool, diverse: bool) -> (f64, f64) {
    let (mut hits, mut rr) = (0usize, 0f64);
    let facts = facts();
    for f in &facts {
        let mut tx = UserTx::begin(&db.app, user).await.unwrap();
        let vector = hash_vector(&f.question);
        let q = hybrid.then(|| QueryVector {
            values: &vector,
            model: HashingEmbedder.model(),
        });
        let found = search(&mut tx, &f.question, q, 10).await.unwrap();
        tx.commit().await.unwrap();
        let found = if diverse {
            nudge::knowledge::mmr::mmr(found, 10, nudge::knowledge::mmr::LAMBDA)
        } else {
            found
        };
        let mut titles: Vec<&str> = Vec::new();
        for p in &found {
            if !titles.contains(&p.title.as_str()) {
                titles.push(&p.title);
            }
        }
        if let Some(rank) = titles.iter().position(|t| *t == f.title) {
            hits += usize::from(rank < 3);
            rr += 1.0 / (rank as f64 + 1.0);
        }
    }
    (hits as f64 / facts.len() as f64, rr / facts.len() as f64)
}

async fn latency(db: &TestDb, user: UserId, hybrid: bool) -> (f64, f64) {
    let mut samples = Vec::new();
    for _ in 0..2 {
        for f in facts() {
            let vector = hash_vector(&f.question);
            let started = Instant::now();
            let mut tx = UserTx::begin(&db.app, user).await.unwrap();
            let q = hybrid.then(|| QueryVector {
                values: &vector,
                model: HashingEmbedder.model(),
            });
            search(&mut tx, &f.question, q, 3).await.unwrap();
            tx.commit().await.unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.95))
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = TestDb::new().await;
        let small = common::create_user(&db, "Three hundred", "+15145550101").await;
        let large = common::create_user(&db, "Five thousand", "+15145550102").await;

        let w = Arc::new(Mutex::new(workspace(300)));
        let server = start(w.clone()).await;
        sync_once(&db, small, &server).await;
        // Ten fact pages change between syncs: the answer moves with them.
        {
            let mut w = w.lock().unwrap();
            for k in 0..10 {
                let id = format!("p{:05}", k * 12);
                w.pages.iter_mut().find(|p| p.id == id).unwrap().edited = t0() + TimeDelta::days(5);
                let blocks = w.children.get_mut(&id).unwrap();
                let text = blocks[1]["paragraph"]["rich_text"][0]["plain_text"]
                    .as_str()
                    .unwrap()
                    .to_string();
                blocks[1] = block(
                    &format!("{id}-p1"),
                    "paragraph",
                    &format!("{text} (updated)"),
                    false,
                );
            }
            w.requests.clear();
        }
        sync_once(&db, small, &server).await;
        let second_sync_requests = w.lock().unwrap().requests.len();
        println!(
            "knowledge retrieval, {} questions (EN+FR), source page known",
            facts().len()
        );
        println!(
            "  second sync after 10 of 300 pages changed: {second_sync_requests} requests to Notion"
        );
        nudge::knowledge::indexer::embed_pending(&db.app, small, &HashingEmbedder)
            .await
            .unwrap();
        let ft = quality(&db, small, false, false).await;
        println!(
            "  300 pages   full text: recall@3 {:.3}  MRR {:.3}",
            ft.0, ft.1
        );
        let hy = quality(&db, small, true, false).await;
        println!(
            "  300 pages   hybrid (fixture hashing vectors): recall@3 {:.3}  MRR {:.3}",
            hy.0, hy.1
        );
        for (hybrid, name) in [(false, "full text"), (true, "hybrid")] {
            let (recall, mrr) = quality(&db, small, hybrid, true).await;
            println!(
                "  300 pages   {name} + MMR (λ {}): recall@3 {recall:.3}  MRR {mrr:.3}",
                nudge::knowledge::mmr::LAMBDA
            );
        }
        let (p50, p95) = latency(&db, small, false).await;
        println!("  300 pages full-text search latency: p50 {p50:.1} ms  p95 {p95:.1} ms");
        let (p50, p95) = latency(&db, small, true).await;
        println!("  300 pages hybrid search latency:    p50 {p50:.1} ms  p95 {p95:.1} ms");

        let big = Arc::new(Mutex::new(workspace(5000)));
        let big_server = start(big.clone()).await;
        let started = Instant::now();
        sync_once(&db, large, &big_server).await;
        let ingest_5000 = started.elapsed().as_secs_f64();
        println!("  5,000-page first sync (fake Notion, 1000 req/s): {ingest_5000:.1} s");
        nudge::knowledge::indexer::embed_pending(&db.app, large, &HashingEmbedder)
            .await
            .unwrap();
        let ft_big = quality(&db, large, false, false).await;
        println!(
            "  5,000 pages full text: recall@3 {:.3}  MRR {:.3}",
            ft_big.0, ft_big.1
        );
        let (p50, p95) = latency(&db, large, false).await;
        println!("  5,000 pages full-text search latency: p50 {p50:.1} ms  p95 {p95:.1} ms");
        let (p50, p95) = latency(&db, large, true).await;
        println!("  5,000 pages hybrid search latency:    p50 {p50:.1} ms  p95 {p95:.1} ms");
    });
}
