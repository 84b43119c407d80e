//! The knowledge base without Notion: texted notes through the offline
//! planner and the tools, answers that name their source (or say nothing
//! was found), embeddings through both provider wire formats, hybrid
//! retrieval (the query embedded with no transaction open, full text when
//! the embedder is down), and unchanged chunks never re-embedded.

mod common;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use common::TestDb;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget};
use nudge::db::UserTx;
use nudge::http_client::breaker::BreakerSettings;
use nudge::knowledge::embed::{Embedder, GeminiEmbedder, OpenAiEmbedder, Purpose};
use nudge::knowledge::indexer::embed_pending;
use nudge::knowledge::online::{QueryEmbedder, find};
use nudge::knowledge::{QueryVector, save_note, search};
use nudge::store::UserId;

fn now() -> DateTime<Utc> {
    "2026-11-21T15:00:00Z".parse().unwrap()
}

fn agent(db: &TestDb) -> Agent {
    Agent::new(
        db.app.clone(),
        Arc::new(OfflinePlanner::new()),
        Arc::new(ToolRegistry::builtin()),
        TurnBudget::default(),
    )
    .with_clock(now)
}

async fn count(db: &TestDb, sql: &str, user: UserId) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(user.0)
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn texted_notes_are_kept_and_answered_with_their_source() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let agent = agent(&db);

    let saved = agent
        .handle_text(ana, "note: the wifi at mum's is Blue42")
        .await
        .unwrap();
    assert_eq!(saved.reply, "Saved to your notes.");
    // Léa writes in French: her answers are in French.
    let lea = common::create_user(&db, "Léa", "+15145550103").await;
    sqlx::query("update users set locale = 'fr' where id = $1")
        .bind(lea.0)
        .execute(&db.owner)
        .await
        .unwrap();
    let fr = agent
        .handle_text(lea, "note : le code du portail chez Julie est 4512")
        .await
        .unwrap();
    assert_eq!(fr.reply, "C'est dans tes notes.");
    assert_eq!(
        count(&db, "select count(*) from knowledge_documents d join knowledge_sources s on s.id = d.source_id where d.user_id = $1 and s.kind = 'notes'", ana).await,
        1
    );
    assert_eq!(
        count(&db, "select count(*) from memories where user_id = $1", ana).await,
        0,
        "a note is not a memory fact"
    );

    let asked = agent
        .handle_text(ana, "what do my notes say about the wifi?")
        .await
        .unwrap();
    assert!(asked.reply.contains("Blue42"), "{}", asked.reply);
    assert!(
        asked
            .reply
            .contains("your note 'the wifi at mum's is Blue42'"),
        "{}",
        asked.reply
    );

    let plain = agent
        .handle_text(ana, "what's the wifi at mum's")
        .await
        .unwrap();
    assert!(plain.reply.contains("Blue42"), "{}", plain.reply);

    let french = agent
        .handle_text(lea, "cherche dans mes notes le code du portail")
        .await
        .unwrap();
    assert!(french.reply.contains("4512"), "{}", french.reply);
    assert!(
        french
            .reply
            .starts_with("D'après ta note « le code du portail"),
        "{}",
        french.reply
    );

    let missing = agent
        .handle_text(ana, "what do my notes say about the dentist")
        .await
        .unwrap();
    assert_eq!(missing.reply, "I didn't find that in your notes.");
    let manque = agent
        .handle_text(lea, "cherche dans mes notes le vaccin du chat")
        .await
        .unwrap();
    assert_eq!(manque.reply, "Je n'ai pas trouvé ça dans tes notes.");
}

#[tokio::test]
async fn another_persons_notes_are_never_found() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let bob = common::create_user(&db, "Bob", "+15145550102").await;
    let agent = agent(&db);
    agent
        .handle_text(bob, "note: the wifi at the cottage is Red77")
        .await
        .unwrap();
    let asked = agent
        .handle_text(ana, "what do my notes say about the wifi")
        .await
        .unwrap();
    assert_eq!(asked.reply, "I didn't find that in your notes.");
    let mut tx = UserTx::begin(&db.app, ana).await.unwrap();
    assert!(
        search(&mut tx, "wifi cottage Red77", None, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An OpenAI-compatible embeddings server with fixture vectors by topic:
/// cars, networks, anything else. Counts the texts it embedded.
struct TopicVectors(Arc<Mutex<Vec<String>>>);

fn topic(text: &str) -> Vec<f32> {
    let t = text.to_lowercase();
    if ["car", "automobile", "voiture", "parked"]
        .iter()
        .any(|w| t.contains(w))
    {
        vec![1.0, 0.0, 0.0]
    } else if ["wifi", "internet", "router"].iter().any(|w| t.contains(w)) {
        vec![0.0, 1.0, 0.0]
    } else {
        vec![0.0, 0.0, 1.0]
    }
}

impl Respond for TopicVectors {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let inputs: Vec<String> = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        self.0.lock().unwrap().extend(inputs.iter().cloned());
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": topic(t)}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
    }
}

#[tokio::test]
async fn hybrid_retrieval_finds_what_full_text_cannot_and_reembeds_only_new_text() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", "Bearer local-key"))
        .respond_with(TopicVectors(seen.clone()))
        .mount(&server)
        .await;
    let embedder = OpenAiEmbedder::new(
        reqwest::Client::new(),
        &server.uri(),
        Some(SecretString::from("local-key")),
        "all-minilm",
    );

    car_and_wifi_notes(&db, ana).await;
    assert_eq!(embed_pending(&db.app, ana, &embedder).await.unwrap(), 2);
    assert_eq!(
        embed_pending(&db.app, ana, &embedder).await.unwrap(),
        0,
        "nothing left to embed"
    );

    let query = "where did I leave the car";
    let mut tx = UserTx::begin(&db.app, ana).await.unwrap();
    assert!(
        search(&mut tx, query, None, 3)
            .await
            .unwrap()
            .iter()
            .all(|p| !p.body.contains("automobile")),
        "full text alone misses it"
    );
    let vector = embedder
        .embed(&[query.to_string()], Purpose::Query)
        .await
        .unwrap()
        .remove(0);
    let found = search(
        &mut tx,
        query,
        Some(QueryVector {
            values: &vector,
            model: embedder.model(),
        }),
        3,
    )
    .await
    .unwrap();
    assert!(found[0].body.contains("level 3"), "{found:?}");
    tx.commit().await.unwrap();

    // The same note again is the same document; an edited document keeps
    // the vectors of its unchanged chunks.
    let mut tx = UserTx::begin(&db.app, ana).await.unwrap();
    let again = save_note(&mut tx, "The automobile is on level 3, spot 42", None)
        .await
        .unwrap();
    assert!(!again.changed);
    let source = nudge::store::knowledge::KnowledgeSource::ensure(
        &mut tx,
        nudge::store::knowledge::SourceKind::Notes,
        "notes",
        "Notes",
    )
    .await
    .unwrap();
    let chunks = |b: &str| {
        nudge::knowledge::chunk::chunk("Car", &format!("# Where\nlevel 3\n# Ticket\n{b}"))
    };
    let (h1, h2) = ("1".repeat(64), "2".repeat(64));
    let first = nudge::store::knowledge::store_document(
        &mut tx,
        source.id,
        &car_doc(&h1),
        &chunks("paid until 5pm"),
    )
    .await
    .unwrap();
    assert_eq!((first.chunks_written, first.chunks_kept), (2, 0));
    tx.commit().await.unwrap();
    let before = seen.lock().unwrap().len();
    assert_eq!(embed_pending(&db.app, ana, &embedder).await.unwrap(), 2);
    let mut tx = UserTx::begin(&db.app, ana).await.unwrap();
    let second = nudge::store::knowledge::store_document(
        &mut tx,
        source.id,
        &car_doc(&h2),
        &chunks("paid until 7pm"),
    )
    .await
    .unwrap();
    assert_eq!((second.chunks_written, second.chunks_kept), (1, 1));
    tx.commit().await.unwrap();
    assert_eq!(
        embed_pending(&db.app, ana, &embedder).await.unwrap(),
        1,
        "only the changed chunk"
    );
    let sent = seen.lock().unwrap()[before..].to_vec();
    assert_eq!(sent.len(), 3);
    assert!(sent[2].contains("7pm"), "{sent:?}");
}

/// Two notes whose words a question about cars or wifi may not share.
async fn car_and_wifi_notes(db: &TestDb, user: UserId) {
    let mut tx = UserTx::begin(&db.app, user).await.unwrap();
    save_note(&mut tx, "The automobile is on level 3, spot 42", None)
        .await
        .unwrap();
    save_note(&mut tx, "The internet password is Blue42", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn car_doc(hash: &str) -> nudge::store::knowledge::NewDocument<'_> {
    nudge::store::knowledge::NewDocument {
        external_id: "car-doc",
        title: "Car",
        url: None,
        last_edited: None,
        content_hash: hash,
        language: nudge::store::Locale::En,
    }
}

#[tokio::test]
async fn gemini_embeddings_speak_batch_embed_contents() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-embedding-001:batchEmbedContents"))
        .and(header("x-goog-api-key", "g-key"))
        .and(body_partial_json(json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "wifi is Blue42"}]}, "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 768},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "car on level 3"}]}, "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 768}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-embedding-001:batchEmbedContents",
        ))
        .and(body_partial_json(
            json!({"requests": [{"taskType": "RETRIEVAL_QUERY"}]}),
        ))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    let gemini = GeminiEmbedder::new(
        reqwest::Client::new(),
        &server.uri(),
        SecretString::from("g-key"),
        "gemini-embedding-001",
        768,
    );
    assert_eq!(gemini.model(), "gemini:gemini-embedding-001@768");
    let vectors = gemini
        .embed(
            &["wifi is Blue42".into(), "car on level 3".into()],
            Purpose::Document,
        )
        .await
        .unwrap();
    assert_eq!(vectors, vec![vec![0.1, 0.2], vec![0.3, 0.4]]);
    let limited = gemini
        .embed(&["q".into()], Purpose::Query)
        .await
        .unwrap_err();
    assert!(
        matches!(limited, nudge::knowledge::embed::EmbedError::Status { status: 429, retry_after: Some(d) } if d.as_secs() == 7),
        "{limited:?}"
    );
    assert!(!format!("{limited:?}").contains("g-key"));
}

/// Delegates to an embedder, and records how many transactions of the
/// test database are open while the model is called.
struct Watching {
    inner: OpenAiEmbedder,
    owner: sqlx::PgPool,
    open: Arc<Mutex<Vec<i64>>>,
}

#[async_trait::async_trait]
impl Embedder for Watching {
    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn embed(
        &self,
        texts: &[String],
        purpose: Purpose,
    ) -> Result<Vec<Vec<f32>>, nudge::knowledge::embed::EmbedError> {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and state like 'idle in transaction%' and pid <> pg_backend_pid()",
        )
        .fetch_one(&self.owner)
        .await
        .unwrap();
        self.open.lock().unwrap().push(open);
        self.inner.embed(texts, purpose).await
    }
}

fn query_embedder(server: &MockServer, db: &TestDb, open: &Arc<Mutex<Vec<i64>>>) -> QueryEmbedder {
    let inner = OpenAiEmbedder::new(reqwest::Client::new(), &server.uri(), None, "all-minilm");
    QueryEmbedder::new(
        Arc::new(Watching {
            inner,
            owner: db.owner.clone(),
            open: open.clone(),
        }),
        &BreakerSettings::default(),
    )
}

#[tokio::test]
async fn the_online_path_embeds_the_query_with_no_transaction_open_and_falls_back_to_full_text() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(TopicVectors(Arc::default()))
        .mount(&server)
        .await;
    car_and_wifi_notes(&db, ana).await;
    let documents = OpenAiEmbedder::new(reqwest::Client::new(), &server.uri(), None, "all-minilm");
    assert_eq!(embed_pending(&db.app, ana, &documents).await.unwrap(), 2);

    // Through the tool, as the offline planner calls it: hybrid finds the
    // car that full text cannot, and the model is called with nothing open.
    let open = Arc::new(Mutex::new(Vec::new()));
    let hybrid = Agent::new(
        db.app.clone(),
        Arc::new(OfflinePlanner::new()),
        Arc::new(ToolRegistry::builtin().with_knowledge(Some(query_embedder(&server, &db, &open)))),
        TurnBudget::default(),
    )
    .with_clock(now);
    let asked = "what do my notes say about where I parked the car";
    let reply = hybrid.handle_text(ana, asked).await.unwrap().reply;
    assert!(reply.contains("level 3"), "{reply}");
    assert_eq!(
        *open.lock().unwrap(),
        vec![0],
        "no transaction open while embedding"
    );
    let full_text_only = agent(&db).handle_text(ana, asked).await.unwrap().reply;
    assert_eq!(full_text_only, "I didn't find that in your notes.");

    // The embedder down: full text alone, and the answer still comes.
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let down_open = Arc::new(Mutex::new(Vec::new()));
    let degraded = query_embedder(&down, &db, &down_open);
    let found = find(&db.app, ana, Some(&degraded), "internet password", 3)
        .await
        .unwrap();
    assert_eq!(found.mode, "full_text");
    assert!(found.passages[0].body.contains("Blue42"));
    let found = find(
        &db.app,
        ana,
        Some(&query_embedder(&server, &db, &open)),
        "car",
        3,
    )
    .await
    .unwrap();
    assert_eq!(found.mode, "hybrid");
    assert!(found.passages[0].body.contains("level 3"));
    // Without an embedder: full text, said so.
    let found = find(&db.app, ana, None, "internet password", 3)
        .await
        .unwrap();
    assert_eq!(found.mode, "full_text");
}
