//! Notion ingestion against a fake Notion speaking the public wire format
//! (tests/common/notion.rs): incremental sync counted in requests, only
//! changed chunks re-embedded, archived pages removed, 429 honoured, a
//! killed sync resumed without duplicates, nested and paginated blocks,
//! inline databases, and two people with the same page titles kept apart
//! through the tool and the admin command.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use secrecy::SecretString;
use serde_json::{Value, json};

use common::TestDb;
use common::notion::{
    Workspace, add_page, block, client, edit_page, queue, rich, scalar, start, t0, workspace,
};
use nudge::db::UserTx;
use nudge::knowledge::notion::{Ended, NotionClient, sync};
use nudge::store::{RunCounts, UserId};

async fn run_sync(db: &TestDb, user: UserId, server: &wiremock::MockServer) -> RunCounts {
    let run = queue(db, user).await;
    match sync(&db.app, user, run.source_id, run.id, &client(server))
        .await
        .unwrap()
    {
        Ended::Ready(counts) => counts,
        Ended::Canceled => panic!("canceled"),
    }
}

fn take_requests(w: &Arc<Mutex<Workspace>>) -> Vec<String> {
    std::mem::take(&mut w.lock().unwrap().requests)
}

#[tokio::test]
async fn an_edit_to_three_pages_of_300_fetches_and_reembeds_only_those() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let w = workspace(300);
    w.lock().unwrap().throttle_next = 1;
    let server = start(w.clone()).await;

    let first = run_sync(&db, ana, &server).await;
    let requests = take_requests(&w);
    // 1 throttled + 3 search pages of 100 + one children list per page.
    assert_eq!(requests.len(), 1 + 3 + 300, "{:?}", &requests[..5]);
    assert_eq!(
        (first.pages_seen, first.pages_changed, first.chunks_written),
        (300, 300, 600)
    );
    assert_eq!(first.requests, 300, "page requests are counted on the run");
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_chunks where user_id = $1",
            ana
        )
        .await,
        600
    );
    // Every chunk gets an embedding (fixture vectors), as an embedder would.
    sqlx::query("update knowledge_chunks set embedding = '{1,0}', embed_model = 'fixture' where user_id = $1")
        .bind(ana.0)
        .execute(&db.owner)
        .await
        .unwrap();

    {
        let mut w = w.lock().unwrap();
        for (i, id) in ["page-0007", "page-0150", "page-0299"].iter().enumerate() {
            edit_page(
                &mut w,
                id,
                &format!("beta text edited {i}"),
                t0() + TimeDelta::days(2) + TimeDelta::minutes(i as i64),
            );
        }
    }
    let second = run_sync(&db, ana, &server).await;
    let requests = take_requests(&w);
    let children: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("/children"))
        .collect();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.ends_with("/v1/search"))
            .count(),
        1,
        "{requests:?}"
    );
    assert_eq!(children.len(), 3, "{requests:?}");
    assert!(children.iter().any(|r| r.contains("page-0150")));
    assert_eq!(
        (
            second.pages_seen,
            second.pages_changed,
            second.chunks_written,
            second.chunks_skipped
        ),
        (3, 3, 3, 3)
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_chunks where user_id = $1 and embedding is null",
            ana
        )
        .await,
        3,
        "only changed chunks need embedding"
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_chunks where user_id = $1",
            ana
        )
        .await,
        600
    );

    // Nothing changed: one search request, nothing fetched.
    let third = run_sync(&db, ana, &server).await;
    assert_eq!(take_requests(&w).len(), 1);
    assert_eq!(third.pages_seen, 0);

    // An archived page is removed with its chunks.
    {
        let mut w = w.lock().unwrap();
        let p = w.pages.iter_mut().find(|p| p.id == "page-0042").unwrap();
        p.archived = true;
        p.edited = t0() + TimeDelta::days(3);
    }
    run_sync(&db, ana, &server).await;
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_documents where user_id = $1",
            ana
        )
        .await,
        299
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_chunks where user_id = $1",
            ana
        )
        .await,
        598
    );
    let status = scalar(
        &db,
        "select count(*) from knowledge_runs where user_id = $1 and status = 'ready'",
        ana,
    )
    .await;
    assert_eq!(status, 4);
}

#[tokio::test]
async fn a_sync_killed_midway_resumes_with_no_duplicate_chunks() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let w = workspace(60);
    w.lock().unwrap().delay = Some(Duration::from_millis(20));
    let server = start(w.clone()).await;
    let run = queue(&db, ana).await;

    let pool = db.app.clone();
    let uri = server.uri();
    let (source, run_id) = (run.source_id, run.id);
    let worker = tokio::spawn(async move {
        let client = NotionClient::new(
            reqwest::Client::new(),
            &uri,
            "2022-06-28",
            SecretString::from("secret_token"),
            1000.0,
        );
        sync(&pool, ana, source, run_id, &client).await
    });
    // Kill the "worker" once some pages, not all, are written.
    loop {
        let written = scalar(
            &db,
            "select count(*) from knowledge_documents where user_id = $1",
            ana,
        )
        .await;
        if written >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    worker.abort();
    let _ = worker.await;
    let partial = scalar(
        &db,
        "select count(*) from knowledge_documents where user_id = $1",
        ana,
    )
    .await;
    assert!(partial < 60, "killed before the end ({partial})");
    let live = scalar(
        &db,
        "select count(*) from knowledge_runs where user_id = $1 and status = 'running'",
        ana,
    )
    .await;
    assert_eq!(live, 1, "the run is still live for the retry");

    // The job's retry resumes the same run.
    let ended = sync(&db.app, ana, source, run_id, &client(&server))
        .await
        .unwrap();
    let Ended::Ready(counts) = ended else {
        panic!("{ended:?}")
    };
    assert_eq!(
        counts.pages_changed, 60,
        "each page written once over both attempts"
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_documents where user_id = $1",
            ana
        )
        .await,
        60
    );
    assert_eq!(
        scalar(
            &db,
            "select count(*) from knowledge_chunks where user_id = $1",
            ana
        )
        .await,
        120
    );
    let dupes = scalar(
        &db,
        "select count(*) from (select document_id, content_hash from knowledge_chunks where user_id = $1 \
         group by 1, 2 having count(*) > 1) d",
        ana,
    )
    .await;
    assert_eq!(dupes, 0);
}

#[tokio::test]
async fn nested_paginated_blocks_databases_and_a_5000_block_page() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let mut w = Workspace::default();
    w.pages.push(common::notion::FakePage {
        id: "doctor".into(),
        title: "Doctor visits".into(),
        edited: t0(),
        archived: false,
    });
    w.children.insert(
        "doctor".into(),
        vec![
            block("d-h", "heading_2", "Dose", false),
            block("d-list", "bulleted_list_item", "Medication", true),
            block("d-db", "child_database", "", false),
            json!({"object": "block", "id": "d-code", "type": "code", "has_children": false, "code": {"rich_text": rich("let dose = 50;"), "language": "rust"}}),
        ],
    );
    w.children.insert(
        "d-list".into(),
        vec![block(
            "d-nested",
            "bulleted_list_item",
            "50 mg in the morning",
            false,
        )],
    );
    let mut db_block = w.children["doctor"][2].clone();
    db_block["child_database"] = json!({"title": "Appointments"});
    w.children.get_mut("doctor").unwrap()[2] = db_block;
    let row = |title: &str, when: &str| {
        json!({
            "object": "page", "id": format!("row-{title}"), "last_edited_time": "2026-11-01T10:00:00.000Z", "archived": false,
            "url": "https://www.notion.so/row", "parent": {"type": "database_id", "database_id": "d-db"},
            "properties": {"Name": {"type": "title", "title": rich(title)}, "When": {"type": "date", "date": {"start": when}}}
        })
    };
    w.rows.insert(
        "d-db".into(),
        vec![
            row("Dermatologist", "2026-12-03"),
            row("Dentist", "2027-01-15"),
        ],
    );
    w.pages.push(common::notion::FakePage {
        id: "big".into(),
        title: "Journal".into(),
        edited: t0(),
        archived: false,
    });
    let big: Vec<Value> = (0..5000)
        .map(|i| {
            block(
                &format!("b{i}"),
                "paragraph",
                &format!("entry {i} of the journal"),
                false,
            )
        })
        .collect();
    w.children.insert("big".into(), big);
    w.page_size = 100;
    let w = Arc::new(Mutex::new(w));
    let server = start(w.clone()).await;

    let counts = run_sync(&db, ana, &server).await;
    assert_eq!((counts.pages_seen, counts.pages_failed), (2, 0));
    let requests = take_requests(&w);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.contains("/v1/blocks/big/children"))
            .count(),
        50,
        "5,000 blocks in pages of 100"
    );
    assert!(
        requests
            .iter()
            .any(|r| r == "POST /v1/databases/d-db/query"),
        "{requests:?}"
    );

    let mut tx = UserTx::begin(&db.app, ana).await.unwrap();
    let found = nudge::knowledge::search(&mut tx, "morning dose", None, 3)
        .await
        .unwrap();
    assert_eq!(found[0].title, "Doctor visits");
    assert!(
        found[0].body.contains("- 50 mg in the morning"),
        "{:?}",
        found[0].body
    );
    assert!(
        found[0].body.contains("Dentist (When: 2027-01-15)"),
        "{:?}",
        found[0].body
    );
    assert!(found[0].body.contains("let dose = 50;"));
    assert_eq!(
        found[0].url.as_deref(),
        Some("https://www.notion.so/doctor")
    );
    let journal = nudge::knowledge::search(&mut tx, "entry 4999", None, 1)
        .await
        .unwrap();
    assert_eq!(journal[0].title, "Journal");
    tx.commit().await.unwrap();
    let chunks = scalar(&db, "select count(*) from knowledge_chunks c join knowledge_documents d on d.id = c.document_id where c.user_id = $1 and d.title = 'Journal'", ana).await;
    assert!(
        chunks > 50,
        "a 5,000-block page is many bounded chunks ({chunks})"
    );
}

#[tokio::test]
async fn two_people_with_the_same_titles_never_see_each_other() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let bob = common::create_user(&db, "Bob", "+15145550102").await;
    let mut wa = Workspace::default();
    add_page(
        &mut wa,
        "a-1",
        "Wifi",
        "the router is in the hall",
        "the wifi password is Blue42",
        t0(),
    );
    let mut wb = Workspace::default();
    add_page(
        &mut wb,
        "b-1",
        "Wifi",
        "the router is in the attic",
        "the wifi password is Red77",
        t0(),
    );
    let (wa, wb) = (Arc::new(Mutex::new(wa)), Arc::new(Mutex::new(wb)));
    let (sa, sb) = (start(wa).await, start(wb).await);
    run_sync(&db, ana, &sa).await;
    run_sync(&db, bob, &sb).await;

    // Through the tool, as the agent calls it.
    let agent = nudge::agent::Agent::new(
        db.app.clone(),
        Arc::new(nudge::agent::llm::offline::OfflinePlanner::new()),
        Arc::new(nudge::agent::tools::ToolRegistry::builtin()),
        nudge::agent::TurnBudget::default(),
    );
    let a = agent
        .handle_text(ana, "what do my notes say about the wifi password")
        .await
        .unwrap();
    assert!(
        a.reply.contains("Blue42") && !a.reply.contains("Red77"),
        "{}",
        a.reply
    );
    assert!(a.reply.starts_with("From 'Wifi' (Notion):"), "{}", a.reply);
    let b = agent
        .handle_text(bob, "what do my notes say about the wifi password")
        .await
        .unwrap();
    assert!(
        b.reply.contains("Red77") && !b.reply.contains("Blue42"),
        "{}",
        b.reply
    );

    // Through the admin command, in each person's scope.
    let out = common::admin(
        &db,
        &[
            "--json",
            "knowledge",
            "search",
            &ana.to_string(),
            "wifi password",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Blue42") && !text.contains("Red77"), "{text}");
    let out = common::admin(&db, &["--json", "knowledge", "status", &bob.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["documents"], 1);
    assert_eq!(status["runs"][0]["status"], "ready");
    assert_eq!(status["runs"][0]["pages_changed"], 1);

    // A sync queued from the CLI is a run and a job, once.
    let out = common::admin(&db, &["--json", "knowledge", "sync", &ana.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = common::admin(&db, &["--json", "knowledge", "reindex", &ana.to_string()]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["new"], false, "joins the queued run");
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = 'notion_sync' and convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $1")
        .bind(ana.to_string())
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(jobs, 2, "one per queued run: the first sync and the CLI's");
}
