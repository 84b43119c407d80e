//! A fake Notion speaking the public API's wire format: `POST /v1/search`
//! (sorted by `last_edited_time`, cursors), `GET /v1/blocks/{id}/children`
//! (nested blocks, `has_more`/`next_cursor`), `POST /v1/databases/{id}/query`,
//! `429` with `Retry-After`, `401` for a token it does not accept, archived
//! pages, rich text with annotations.
//! Every request is counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

#[derive(Clone, Debug)]
pub struct FakePage {
    pub id: String,
    pub title: String,
    pub edited: DateTime<Utc>,
    pub archived: bool,
}

#[derive(Default)]
pub struct Workspace {
    pub pages: Vec<FakePage>,
    /// Children of a page or block, in order.
    pub children: HashMap<String, Vec<Value>>,
    /// Rows of an inline database.
    pub rows: HashMap<String, Vec<Value>>,
    /// Requests seen: "METHOD /path".
    pub requests: Vec<String>,
    /// The next n requests are answered 429 with `Retry-After: 1`.
    pub throttle_next: usize,
    pub delay: Option<Duration>,
    pub page_size: usize,
    /// When set, only `Bearer <this>` is accepted; any other token gets
    /// Notion's 401 (`unauthorized`).
    pub accept_token: Option<String>,
}

pub fn rich(text: &str) -> Value {
    json!([{
        "type": "text",
        "text": {"content": text, "link": null},
        "annotations": {"bold": true, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": text,
        "href": null
    }])
}

pub fn block(id: &str, kind: &str, text: &str, has_children: bool) -> Value {
    json!({
        "object": "block", "id": id, "type": kind, "has_children": has_children, "archived": false, "in_trash": false,
        kind: {"rich_text": rich(text), "color": "default"}
    })
}

pub fn page_json(p: &FakePage) -> Value {
    json!({
        "object": "page", "id": p.id,
        "created_time": "2026-01-01T00:00:00.000Z",
        "last_edited_time": p.edited.to_rfc3339_opts(SecondsFormat::Millis, true),
        "archived": p.archived, "in_trash": p.archived,
        "url": format!("https://www.notion.so/{}", p.id.replace('-', "")),
        "parent": {"type": "workspace", "workspace": true},
        "properties": {"title": {"id": "title", "type": "title", "title": rich(&p.title)}}
    })
}

fn list(results: &[Value], start: usize, size: usize) -> Value {
    let end = (start + size).min(results.len());
    let more = end < results.len();
    json!({
        "object": "list", "results": &results[start.min(end)..end],
        "next_cursor": if more { Value::String(end.to_string()) } else { Value::Null },
        "has_more": more, "type": "block", "block": {}
    })
}

pub struct FakeNotion(pub Arc<Mutex<Workspace>>);

impl Respond for FakeNotion {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut w = self.0.lock().unwrap();
        let path = req.url.path().to_string();
        w.requests.push(format!("{} {path}", req.method));
        let delay = w.delay.unwrap_or_default();
        if req.headers.get("notion-version").is_none() || req.headers.get("authorization").is_none()
        {
            return ResponseTemplate::new(400).set_body_json(json!({"object": "error", "status": 400, "code": "missing_version", "message": "Notion-Version header failed validation"}));
        }
        if let Some(token) = &w.accept_token {
            let sent = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if sent != Some(format!("Bearer {token}").as_str()) {
                return ResponseTemplate::new(401).set_body_json(json!({"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}));
            }
        }
        if w.throttle_next > 0 {
            w.throttle_next -= 1;
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"object": "error", "status": 429, "code": "rate_limited", "message": "You have been rate limited."}));
        }
        let size = if w.page_size == 0 { 100 } else { w.page_size };
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
        let start = body["start_cursor"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                req.url
                    .query_pairs()
                    .find(|(k, _)| k == "start_cursor")
                    .map(|(_, v)| v.to_string())
            })
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(0);
        let answer = if path == "/v1/search" {
            assert_eq!(body["sort"]["timestamp"], "last_edited_time");
            let mut pages = w.pages.clone();
            pages.sort_by_key(|p| std::cmp::Reverse(p.edited));
            let results: Vec<Value> = pages.iter().map(page_json).collect();
            list(&results, start, size)
        } else if let Some(id) = path
            .strip_prefix("/v1/blocks/")
            .and_then(|p| p.strip_suffix("/children"))
        {
            list(
                w.children.get(id).map(Vec::as_slice).unwrap_or(&[]),
                start,
                size,
            )
        } else if let Some(id) = path
            .strip_prefix("/v1/databases/")
            .and_then(|p| p.strip_suffix("/query"))
        {
            list(
                w.rows.get(id).map(Vec::as_slice).unwrap_or(&[]),
                start,
                size,
            )
        } else {
            return ResponseTemplate::new(404);
        };
        ResponseTemplate::new(200)
            .set_body_json(answer)
            .set_delay(delay)
    }
}

/// Starts the fake over `workspace`.
pub async fn start(workspace: Arc<Mutex<Workspace>>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(FakeNotion(workspace))
        .mount(&server)
        .await;
    server
}

/// A page with two sections (so an edit to one leaves the other's chunk
/// as it was), and its blocks.
pub fn add_page(w: &mut Workspace, id: &str, title: &str, a: &str, b: &str, edited: DateTime<Utc>) {
    w.pages.push(FakePage {
        id: id.into(),
        title: title.into(),
        edited,
        archived: false,
    });
    w.children.insert(
        id.into(),
        vec![
            block(&format!("{id}-h1"), "heading_1", "Section A", false),
            block(&format!("{id}-p1"), "paragraph", a, false),
            block(&format!("{id}-h2"), "heading_1", "Section B", false),
            block(&format!("{id}-p2"), "paragraph", b, false),
        ],
    );
}

/// Edits section B of a page and bumps its last edit.
pub fn edit_page(w: &mut Workspace, id: &str, b: &str, edited: DateTime<Utc>) {
    w.pages.iter_mut().find(|p| p.id == id).unwrap().edited = edited;
    let blocks = w.children.get_mut(id).unwrap();
    blocks[3] = block(&format!("{id}-p2"), "paragraph", b, false);
}

/// The fake workspace's first edit time.
pub fn t0() -> DateTime<Utc> {
    "2026-11-01T10:00:00Z".parse().unwrap()
}

/// `pages` pages "Page i", one a minute from [`t0`].
pub fn workspace(pages: usize) -> Arc<Mutex<Workspace>> {
    let mut w = Workspace::default();
    for i in 0..pages {
        add_page(
            &mut w,
            &format!("page-{i:04}"),
            &format!("Page {i}"),
            &format!("alpha text number {i}"),
            &format!("beta text number {i}"),
            t0() + chrono::TimeDelta::minutes(i as i64),
        );
    }
    Arc::new(Mutex::new(w))
}

/// A client with a bare token, fast for tests (production paces at 3/s).
pub fn client(server: &MockServer) -> nudge::knowledge::notion::NotionClient {
    nudge::knowledge::notion::NotionClient::new(
        reqwest::Client::new(),
        &server.uri(),
        "2022-06-28",
        secrecy::SecretString::from("secret_token"),
        1000.0,
    )
}

/// Queues a run the way the tool and the admin command do.
pub async fn queue(db: &super::TestDb, user: nudge::store::UserId) -> nudge::store::KnowledgeRun {
    let mut tx = nudge::db::UserTx::begin(&db.app, user).await.unwrap();
    let (run, _) = nudge::knowledge::notion::request_sync(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    run
}

/// A number read by the owner with `$1` bound to `user`.
pub async fn scalar(db: &super::TestDb, sql: &str, user: nudge::store::UserId) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(user.0)
        .fetch_one(&db.owner)
        .await
        .unwrap()
}
