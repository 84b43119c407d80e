//! One way for all providers: a 401 forces one refresh then fails clearly,
//! a 429's `Retry-After` is honoured, a hung provider is cut by the
//! timeout, and a provider answering 503 opens its breaker within 10 calls
//! while every turn still ends with a reply; the breaker closes after
//! recovery. Web search falls back from Brave to Wikipedia.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use nudge::agent::runner::TurnEnd;
use nudge::http_client::breaker::BreakerSettings;
use nudge::oauth::Provider;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::integrations::{agent, connect, integrations, oauth, quick_breakers, received};
use common::scripted_llm::{ScriptedLlm, Step};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap()
}

const EVENTS: &str = "/calendar/v3/calendars/primary/events";

fn empty_events() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"kind": "calendar#events", "items": []}))
}

fn unauthorized() -> ResponseTemplate {
    // Google's documented 401 body.
    ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
        "message": "Request had invalid authentication credentials.",
        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError"}],
        "status": "UNAUTHENTICATED"}}))
}

fn fresh_token(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"access_token": token, "expires_in": 3599,
        "scope": "https://www.googleapis.com/auth/calendar.events", "token_type": "Bearer"}))
}

#[tokio::test]
async fn a_401_forces_one_refresh_and_a_second_401_fails_clearly() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550221").await;
    let bob = common::create_user(&db, "Bob", "+15145550222").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(fresh_token("ya29.fresh"))
        .mount(&server)
        .await;
    // Ann: the old token is refused, the fresh one works.
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .and(header("authorization", "Bearer ya29.fresh"))
        .respond_with(empty_events())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .and(header("authorization", "Bearer ya29.revoked"))
        .respond_with(unauthorized())
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.revoked").await;
    let integrations = integrations(Some(oauth.clone()), &server, None, &breakers);
    let tz = chrono_tz::America::Montreal;
    let (from, to) = (now(), now() + chrono::Duration::hours(2));
    let events = integrations
        .calendar_events(ann, Provider::Google, tz, from, to)
        .await
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(received(&server, "POST", "/google/token").await.len(), 1);
    assert_eq!(received(&server, "GET", EVENTS).await.len(), 2);

    // Bob: even the fresh token is refused (say, the API was disabled):
    // exactly one more refresh, one more try, then a clear error.
    connect(&db, &oauth, bob, Provider::Google, "ya29.revoked").await;
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(fresh_token("ya29.also-refused"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(unauthorized())
        .mount(&server)
        .await;
    let err = integrations
        .calendar_events(bob, Provider::Google, tz, from, to)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Google Calendar refused Nudge's access even with a fresh token"
    );
    assert_eq!(received(&server, "GET", EVENTS).await.len(), 2);
    assert_eq!(received(&server, "POST", "/google/token").await.len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_once_and_a_hung_provider_is_cut() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550223").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(
                    json!({"error": {"code": 429, "message": "Rate Limit Exceeded",
                    "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}]}}),
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(empty_events())
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.ann").await;
    let integrations = integrations(Some(oauth), &server, None, &breakers);
    let tz = chrono_tz::America::Montreal;
    let range = (now(), now() + chrono::Duration::hours(2));
    let events = integrations
        .calendar_events(ann, Provider::Google, tz, range.0, range.1)
        .await
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(received(&server, "GET", EVENTS).await.len(), 2);

    // A provider that never answers: the call is cut by the timeout and
    // the person still gets a reply.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(empty_events().set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![("calendar_events", json!({}))]),
        Step::Text("I couldn't reach your calendar just now.".into()),
    ]));
    let agent = agent(&db, llm.clone(), integrations, now());
    let out = agent.handle_text(ann, "what's on today").await.unwrap();
    assert_eq!(out.reply, "I couldn't reach your calendar just now.");
    let seen = serde_json::to_string(&llm.request(1).messages).unwrap();
    assert!(seen.contains("no answer in time"), "{seen}");
}

#[tokio::test]
async fn a_failing_provider_opens_its_breaker_within_10_calls_and_closes_after_recovery() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550224").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"error": {"code": 503,
            "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})),
        )
        .mount(&server)
        .await;
    // Open long enough that the "still open" turn below surely falls in
    // it, even on a loaded machine; short enough to wait for recovery.
    let breakers = BreakerSettings {
        open_for: Duration::from_secs(3),
        ..BreakerSettings::default()
    };
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.ann").await;
    let integrations = integrations(Some(oauth), &server, None, &breakers);
    let llm = Arc::new(ScriptedLlm::new(vec![]).with_fallback(|| Step::Text("unused".into())));
    let agent = agent(&db, llm.clone(), integrations.clone(), now());

    let mut turns = 0;
    let mut durations = Vec::new();
    while !integrations.is_open(Provider::Google) {
        turns += 1;
        assert!(turns <= 10, "the breaker did not open within 10 turns");
        llm.push(Step::Calls(vec![("calendar_events", json!({}))]));
        llm.push(Step::Text(
            "Your calendar isn't answering right now.".into(),
        ));
        let started = Instant::now();
        let out = agent.handle_text(ann, "what's on today").await.unwrap();
        durations.push(started.elapsed());
        assert_eq!(out.reply, "Your calendar isn't answering right now.");
    }
    let calls = received(&server, "GET", EVENTS).await.len();
    assert!(
        calls <= 10,
        "{calls} calls reached the provider before the breaker opened"
    );
    // Open: turns still end with a reply, and the provider is not called.
    llm.push(Step::Calls(vec![("calendar_events", json!({}))]));
    llm.push(Step::Text("Still down.".into()));
    let out = agent.handle_text(ann, "what's on today").await.unwrap();
    assert_eq!(out.end, TurnEnd::Answered);
    assert_eq!(received(&server, "GET", EVENTS).await.len(), calls);
    durations.sort();
    eprintln!("turn durations while failing: {durations:?}");

    // Recovery: once the open period is over, one probe succeeds and closes it.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(EVENTS))
        .respond_with(empty_events())
        .mount(&server)
        .await;
    let tz = chrono_tz::America::Montreal;
    let range = (now(), now() + chrono::Duration::hours(2));
    let mut recovered = false;
    for _ in 0..100 {
        if integrations
            .calendar_events(ann, Provider::Google, tz, range.0, range.1)
            .await
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the breaker never let a probe through");
    assert!(!integrations.is_open(Provider::Google));
}

#[tokio::test]
async fn web_search_uses_brave_then_falls_back_to_wikipedia() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550225").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/brave/res/v1/web/search"))
        .and(query_param("q", "pharmacy opening hours"))
        .and(header("x-subscription-token", "brave-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"type": "search",
            "query": {"original": "pharmacy opening hours"},
            "web": {"type": "search", "results": [
                {"title": "Pharmacie <strong>Jean</strong>", "url": "https://pharma.example/hours",
                 "description": "Open <strong>9 am</strong> to 9 pm", "type": "search_result"}]}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/brave/res/v1/web/search"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wiki-en/w/rest.php/v1/search/page"))
        .and(query_param("limit", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"pages": [
            {"id": 38930, "key": "Marie_Curie", "title": "Marie Curie",
             "excerpt": "<span class=\"searchmatch\">Marie</span> Curie was a physicist",
             "description": "Polish-French physicist and chemist (1867–1934)", "thumbnail": null}]})))
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "web_search",
            json!({"query": "pharmacy opening hours"}),
        )]),
        Step::Text("Open 9 to 9.".into()),
        Step::Calls(vec![("web_search", json!({"query": "marie curie"}))]),
        Step::Text("A physicist.".into()),
    ]));
    let agent = agent(
        &db,
        llm.clone(),
        integrations(None, &server, Some("brave-key"), &breakers),
        now(),
    );
    agent
        .handle_text(ann, "what time does the pharmacy close?")
        .await
        .unwrap();
    let first = serde_json::to_string(&llm.request(1).messages.last()).unwrap();
    assert!(
        first.contains("Pharmacie Jean") && first.contains("untrusted_data"),
        "{first}"
    );
    agent.handle_text(ann, "who was marie curie").await.unwrap();
    let second = serde_json::to_string(&llm.request(3).messages.last()).unwrap();
    assert!(
        second.contains("wiki/Marie_Curie") && second.contains("Wikipedia"),
        "{second}"
    );
}

#[tokio::test]
async fn an_expired_refresh_token_asks_to_reconnect_and_never_calls_the_api() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550226").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/google/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "Token has been expired or revoked."})))
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.expired").await;
    // The access token has expired: the next call must refresh first.
    sqlx::query("update oauth_tokens set expires_at = now() - interval '1 hour'")
        .execute(&db.owner)
        .await
        .unwrap();
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![("calendar_events", json!({}))]),
        Step::Text("Your Google Calendar needs reconnecting.".into()),
        Step::Calls(vec![("calendar_events", json!({}))]),
        Step::Text("Still needs reconnecting.".into()),
    ]));
    let agent = agent(
        &db,
        llm.clone(),
        integrations(Some(oauth), &server, None, &breakers),
        now(),
    );
    for _ in 0..2 {
        agent.handle_text(ann, "what's on today").await.unwrap();
    }
    let seen = serde_json::to_string(&llm.request(1).messages.last()).unwrap();
    assert!(
        seen.contains("needs to be reconnected") && seen.contains("connect_integration"),
        "{seen}"
    );
    assert!(received(&server, "GET", EVENTS).await.is_empty());
    // One refresh attempt, one text with a fresh link, however often asked.
    assert_eq!(received(&server, "POST", "/google/token").await.len(), 1);
    let texts: i64 = sqlx::query_scalar(
        "select count(*) from messages where direction = 'outbound' and body like '%stopped working%'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(texts, 1);
}

#[tokio::test]
async fn youtube_search_asks_for_the_length_and_answers_title_channel_link() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550227").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/youtube/v3/search"))
        .and(query_param("part", "snippet"))
        .and(query_param("type", "video"))
        .and(query_param("q", "yoga"))
        .and(query_param("videoDuration", "medium"))
        .and(query_param("key", "yt-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtube#searchListResponse", "regionCode": "CA",
            "pageInfo": {"totalResults": 1000000, "resultsPerPage": 3},
            "items": [{"kind": "youtube#searchResult", "etag": "x",
                "id": {"kind": "youtube#video", "videoId": "v1d3o"},
                "snippet": {"publishedAt": "2024-01-01T00:00:00Z", "channelId": "c1",
                    "title": "10 Min Morning Yoga &amp; Stretch", "description": "Start your day",
                    "channelTitle": "Yoga With Ann", "liveBroadcastContent": "none"}}]})))
        .expect(1)
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "youtube_search",
            json!({"query": "yoga", "minutes": 10}),
        )]),
        Step::Text("Try: 10 Min Morning Yoga.".into()),
    ]));
    let agent = agent(
        &db,
        llm.clone(),
        integrations(None, &server, Some("brave-key"), &breakers),
        now(),
    );
    agent
        .handle_text(ann, "find me a 10-minute yoga video")
        .await
        .unwrap();
    let inner = nudge::agent::tools::untrusted::unwrapped(&match &llm
        .request(1)
        .messages
        .last()
        .unwrap()
        .parts[0]
    {
        nudge::agent::llm::Part::FunctionResponse(r) => r.response.clone(),
        other => panic!("{other:?}"),
    });
    assert_eq!(
        inner["confirmation"],
        "10 Min Morning Yoga & Stretch (Yoga With Ann) https://www.youtube.com/watch?v=v1d3o"
    );
}
