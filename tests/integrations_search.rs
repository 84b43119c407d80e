//! Web and YouTube searches asked for in so many words, through the
//! offline planner (no model at all) against local servers speaking
//! Brave Search, Wikipedia's REST search and YouTube Data v3: what query
//! left for the provider, and what the person received.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use nudge::agent::llm::offline::OfflinePlanner;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::integrations::{agent, integrations, quick_breakers, received};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap()
}

/// The offline planner with every integration tool, providers on `server`.
fn offline_agent(db: &TestDb, server: &MockServer, brave_key: Option<&str>) -> nudge::agent::Agent {
    agent(
        db,
        Arc::new(OfflinePlanner::new()),
        integrations(None, server, brave_key, &quick_breakers()),
        now(),
    )
}

fn query_of(request: &wiremock::Request, name: &str) -> String {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_offline_planner_searches_the_web_in_both_languages() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550241").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/brave/res/v1/web/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"type": "search",
            "web": {"type": "search", "results": [
                {"title": "Pharmacie <strong>Jean</strong>", "url": "https://pharma.example/hours",
                 "description": "Open <strong>9 am</strong> to 9 pm", "type": "search_result"}]}})),
        )
        .mount(&server)
        .await;
    let agent = offline_agent(&db, &server, Some("brave-key"));

    let en = agent
        .handle_text(ann, "what time does the pharmacy close?")
        .await
        .unwrap();
    assert!(
        en.reply.contains("Pharmacie Jean") && en.reply.contains("https://pharma.example/hours"),
        "{}",
        en.reply
    );
    let fr = agent
        .handle_text(ann, "cherche sur internet horaires piscine Rosemont")
        .await
        .unwrap();
    assert!(fr.reply.contains("Open 9 am to 9 pm"), "{}", fr.reply);

    let asked: Vec<String> = received(&server, "GET", "/brave/res/v1/web/search")
        .await
        .iter()
        .map(|r| query_of(r, "q"))
        .collect();
    assert_eq!(
        asked,
        [
            "what time does the pharmacy close",
            "horaires piscine Rosemont"
        ]
    );
}

#[tokio::test]
async fn without_a_brave_key_wikipedia_answers_and_notes_never_leave() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550242").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/wiki-en/w/rest.php/v1/search/page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"pages": [
            {"id": 38930, "key": "Marie_Curie", "title": "Marie Curie",
             "excerpt": "<span class=\"searchmatch\">Marie</span> Curie was a physicist",
             "description": "Polish-French physicist and chemist (1867–1934)", "thumbnail": null}]})))
        .mount(&server)
        .await;
    let agent = offline_agent(&db, &server, None);
    let reply = agent
        .handle_text(ann, "search the web for Marie Curie")
        .await
        .unwrap();
    assert!(reply.reply.contains("Marie Curie"), "{}", reply.reply);
    let asked = received(&server, "GET", "/wiki-en/w/rest.php/v1/search/page").await;
    assert_eq!(asked.len(), 1);
    assert_eq!(query_of(&asked[0], "q"), "Marie Curie");

    // The person's own notes are not a web search: nothing leaves.
    agent
        .handle_text(ann, "search my notes for the wifi")
        .await
        .unwrap();
    let everything = server.received_requests().await.unwrap_or_default();
    assert_eq!(everything.len(), 1, "{everything:?}");
}

#[tokio::test]
async fn the_offline_planner_finds_a_video_of_the_asked_length_in_both_languages() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550243").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/youtube/v3/search"))
        .and(query_param("type", "video"))
        .and(query_param("key", "yt-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtube#searchListResponse",
            "pageInfo": {"totalResults": 1000000, "resultsPerPage": 3},
            "items": [{"kind": "youtube#searchResult", "etag": "x",
                "id": {"kind": "youtube#video", "videoId": "v1d3o"},
                "snippet": {"publishedAt": "2024-01-01T00:00:00Z", "channelId": "c1",
                    "title": "10 Min Morning Yoga &amp; Stretch", "description": "Start your day",
                    "channelTitle": "Yoga With Ann", "liveBroadcastContent": "none"}}]})))
        .mount(&server)
        .await;
    // A Brave key also turns on YouTube in the test configuration.
    let agent = offline_agent(&db, &server, Some("brave-key"));
    let en = agent
        .handle_text(ann, "find me a 10-minute yoga video")
        .await
        .unwrap();
    assert!(
        en.reply.contains("10 Min Morning Yoga & Stretch")
            && en.reply.contains("Yoga With Ann")
            && en.reply.contains("v1d3o"),
        "{}",
        en.reply
    );
    let fr = agent
        .handle_text(ann, "trouve-moi une vidéo de méditation de 30 minutes")
        .await
        .unwrap();
    assert!(fr.reply.contains("Yoga With Ann"), "{}", fr.reply);

    let asked: Vec<(String, String)> = received(&server, "GET", "/youtube/v3/search")
        .await
        .iter()
        .map(|r| (query_of(r, "q"), query_of(r, "videoDuration")))
        .collect();
    assert_eq!(
        asked,
        [
            ("yoga".to_string(), "medium".to_string()),
            ("méditation".to_string(), "long".to_string()),
        ]
    );
}
